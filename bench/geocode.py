"""Geocoder throughput on a fixed list of place texts, on one core.

Usage: python bench/geocode.py [--seconds 5] [--plot bench/geocode.png]

Prints queries per second for the whole list and per kind of query (brochure places, other places, misspellings,
nothing to find), so a slowdown in one path shows. The list is fixed: runs are comparable over time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from geo_service.service import load_geocoder
from geo_service.settings import Settings
from geo_service.territories import Boundaries

QUERIES: dict[str, list[str]] = {
    "brochure": [
        "Département de l'Aisne",
        "Territoire du Montreuillois",
        "Sud du département du Nord et Valenciennois",
        "Senlis et alentours",
        "Ville de Longueau",
        "Nord de la région Hauts-de-France",
        "Région Hauts-de-France",
        "Ville d'Amiens",
        "Ville de Dunkerque",
        "Communes rurales et QPV de Beauvais",
        "64 communes dans le Sud-Artois",
        "Valenciennois et Denaisis",
        "Ville du Quesnoy",
        "Nord et Pas-de-Calais",
        "Communauté de communes de l'est de la Somme et communes limitrophes de l'Aisne et de l'Oise",
        "119 communes de la Somme Sud-Ouest",
        "Territoire de 74 communes rurales sur un espace de 633km2",
        "46 communes de l'Amandinois, du Denaisis et de l'Ostrevent",
        "Communauté d'agglomération d'Hénin Carvin",
        "Les 100 communes de la communauté d'agglomération de Béthune Bruay",
        "Lille, Amiens et Senlis",
        "9 territoires labellisés projets alimentaires de territoires",
        "La région Hauts-de-France",
    ],
    "other places": [
        "Saint-Omer",
        "ST QUENTIN",
        "CC du Ternois",
        "Communauté urbaine de Dunkerque",
        "CA du Beauvaisis",
        "le Vimeu",
        "Pays de Bray",
        "arrondissement de Lens",
        "Cambrésis et Avesnois",
        "Bassin minier",
        "Compiègne, Oise",
        "Senlis (Pas-de-Calais)",
        "Ville de La Neuville-sur-Oudeuil",
        "Calaisis, Audomarois",
        "Métropole lilloise",
        "Picardie",
        "Thiérache",
        "Laon, Soissons et Château-Thierry",
    ],
    "as partners write": [
        "Amiens et communes limitrophes",
        "autour de Ham",
        "communes limitrophes de Lille",
        "62140",
        "80000 Amiens",
        "la CAPH",
        "Grand Soissons",
        "Agglo du Boulonnais",
    ],
    "misspellings": ["Abeville", "Valencienne", "Dunkerke", "Bethunne", "Monteuil-sur-Mer", "Armentière"],
    "nothing to find": ["Participation & Fraternit", "Paris", "xyzzy", "quartiers prioritaires"],
}


GOAL = 5_000


def rate(geocoder, queries: list[str], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for query in queries:
            geocoder.geocode(query)
        done += len(queries)
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of the whole list (median kept)")
    parser.add_argument("--plot", help="write a bar chart of queries/s per kind to this PNG (needs matplotlib)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is stated
    settings = Settings()
    geocoder = load_geocoder(settings, Boundaries.load(settings.boundaries_dir))
    every = [q for group in QUERIES.values() for q in group]
    rate(geocoder, every, 0.5)  # warm caches (folding is memoised)
    overall = statistics.median(rate(geocoder, every, args.seconds) for _ in range(args.repeats))
    per_kind = {kind: rate(geocoder, queries, args.seconds / 2) for kind, queries in QUERIES.items()}
    print(f"geocoder, one core, {len(every)} fixed queries, median of {args.repeats} x {args.seconds:g} s")
    print(f"  all queries      {overall:10,.0f} queries/s   (goal: {GOAL:,})")
    for kind, value in per_kind.items():
        print(f"  {kind:<16} {value:10,.0f} queries/s   ({len(QUERIES[kind])} queries)")
    if args.plot:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3))
        ax.barh(["all", *per_kind], [overall, *per_kind.values()], color="#2a6f97")
        ax.axvline(GOAL, color="#c0392b", linestyle="--", label=f"goal {GOAL:,}/s".replace(",", " "))
        ax.set_xlabel("queries per second (one core)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
