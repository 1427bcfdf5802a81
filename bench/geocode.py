"""Geocoder throughput on a fixed list of place texts, on one core.

Usage: python bench/geocode.py [--seconds 5] [--plot bench/geocode.png] [--before /tmp/before]

Prints queries per second for the whole list and per kind of query (brochure places, other places, misspellings,
names in use, nothing to find), so a slowdown in one path shows, and the search box's suggestion latency (p50, p99).
The list is fixed: runs are comparable over time. ``--before DIR`` measures a checkout of an earlier commit in the
same run (``git worktree add /tmp/before HEAD``), with the same queries, and prints both side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
    "names in use": [
        "Lomme",
        "Hellemmes",
        "Saint-Pol-sur-Mer",
        "Méricourt-sur-Somme",
        "Le Touquet",
        "Boulogne",
        "Bruay",
        "Berck-sur-Mer",
        "Grand Calais",
        "CAPSO",
        "Senlis (62)",
        "Estrées dans le Nord",
    ],
    "nothing to find": ["Participation & Fraternit", "Paris", "xyzzy", "quartiers prioritaires"],
}
# What people type in a search box, letter by letter or with a slip: every prefix of these is one suggestion query.
TYPED = ["abbevile", "CC Ternois", "st quentin", "Hellemmes", "le touquet", "Communauté urbaine d'Arras", "62140"]
SUGGEST_GOAL_MS = 20.0


GOAL = 5_000


def rate(geocoder, queries: list[str], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for query in queries:
            geocoder.geocode(query)
        done += len(queries)
    return done / (time.perf_counter() - started)


def suggest_latency(gazetteer, repeats: int = 20) -> tuple[float, float]:
    """p50 and p99 in milliseconds of one suggestion query, over every prefix of ``TYPED``."""
    queries = [text[:n] for text in TYPED for n in range(1, len(text) + 1)]
    gazetteer.suggest("warm")  # the index is built on first use
    times = []
    for _ in range(repeats):
        for query in queries:
            started = time.perf_counter()
            gazetteer.suggest(query)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]


def measure(seconds: float, repeats: int) -> dict:
    settings = Settings()
    geocoder = load_geocoder(settings, Boundaries.load(settings.boundaries_dir))
    every = [q for group in QUERIES.values() for q in group]
    rate(geocoder, every, 0.5)  # warm caches (folding is memoised)
    overall = statistics.median(rate(geocoder, every, seconds) for _ in range(repeats))
    per_kind = {kind: rate(geocoder, queries, seconds / 2) for kind, queries in QUERIES.items()}
    p50, p99 = suggest_latency(geocoder.gazetteer)
    return {"all": overall, "per_kind": per_kind, "suggest_p50_ms": p50, "suggest_p99_ms": p99}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of the whole list (median kept)")
    parser.add_argument("--plot", help="write a bar chart of queries/s per kind to this PNG (needs matplotlib)")
    parser.add_argument("--before", type=Path, help="a checkout of an earlier commit to measure in the same run")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # used for --before
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is stated
    if args.json:
        print(json.dumps(measure(args.seconds, args.repeats)))
        return
    before = None
    if args.before is not None:
        # this script, with the earlier checkout's geo_service (and its data) first on the path
        env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
        env.pop("GEO_SERVICE_DATA_DIR", None)
        command = [sys.executable, __file__, "--json", "--seconds", str(args.seconds), "--repeats", str(args.repeats)]
        done = subprocess.run(command, env=env, cwd=args.before, capture_output=True, text=True, check=True)
        before = json.loads(done.stdout.strip().splitlines()[-1])
    now = measure(args.seconds, args.repeats)
    overall, per_kind = now["all"], now["per_kind"]
    every = [q for group in QUERIES.values() for q in group]
    print(f"geocoder, one core, {len(every)} fixed queries, median of {args.repeats} x {args.seconds:g} s")
    was = (lambda v: f"   before {v:10,.0f}") if before else (lambda v: "")
    print(f"  all queries      {overall:10,.0f} queries/s{was(before['all'] if before else 0)}   (goal: {GOAL:,})")
    for kind, value in per_kind.items():
        previous = was(before["per_kind"][kind]) if before else ""
        print(f"  {kind:<16} {value:10,.0f} queries/s{previous}   ({len(QUERIES[kind])} queries)")
    line = f"  suggestions      p50 {now['suggest_p50_ms']:.2f} ms, p99 {now['suggest_p99_ms']:.2f} ms"
    if before:
        line += f"   before p50 {before['suggest_p50_ms']:.2f} ms, p99 {before['suggest_p99_ms']:.2f} ms"
    print(f"{line}   (goal: p99 <= {SUGGEST_GOAL_MS:g} ms)")
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
