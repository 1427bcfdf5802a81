"""Simulations and opportunity rankings on the région and on all of France, side by side in one run.

Usage: python bench/planning.py [--national-dir /tmp/geo-service-france] [--repeats 7]

The national boundaries are built once into --national-dir (see bench/coverage.py) and reused. The projects are
those of Hauts-de-France, so outside it nearly every rural commune is a zone blanche: the national ranking is the
worst case (the most zone-blanche communes to count around every candidate).

Printed per data set, as the median of --repeats runs (milliseconds): a simulation of one EPCI-wide action and of
five actions (EPCIs) on the default parameters (whose figures the server computes at each write, so they are at
hand), the same simulation on parameters not computed yet (figures included), and a k=5 ranking of EPCIs and of
communes, default parameters and ``distance_to=territory``. Goals (issue 18): simulation < 100 ms on the région,
ranking k=5 < 2 s on the région.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from coverage import ensure_national

from geo_service import planning
from geo_service.coverage import Coverage
from geo_service.parameters import CoverageParams
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import load_geocoder
from geo_service.settings import REPO_DATA_DIR, Settings
from geo_service.territories import Boundaries


def median_ms(repeats: int, work) -> float:
    times = []
    for run in range(repeats):
        started = time.perf_counter()
        work(run)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(data_dir: Path, repeats: int) -> dict[str, float]:
    boundaries = Boundaries.load(Settings(data_dir=data_dir).boundaries_dir)
    geocoder = load_geocoder(Settings(), boundaries)
    projects = ProjectCatalogue.load(REPO_DATA_DIR / "projects", boundaries, geocoder)
    coverage = Coverage(boundaries, projects)
    default = CoverageParams()
    coverage.figures(default)  # as the server: the default figures are computed at each write
    # the EPCIs with the most people in zones blanches around them: the actions people would try first
    epcis = [c.code for c in planning.opportunities(coverage, boundaries, default, "epci", k=5).best]
    one = [planning.resolve(planning.ActionSpec(territories=(f"epci:{epcis[0]}",)), boundaries, geocoder)]
    five = [planning.resolve(planning.ActionSpec(territories=(f"epci:{c}",)), boundaries, geocoder) for c in epcis]
    fresh = iter(CoverageParams(max_km=10 + 0.01 * (n + 1)) for n in range(10 * repeats))
    return {
        "communes": len(coverage.communes),
        "zones_blanches": int(coverage.figures(default)["zone_blanche"].sum()),
        "simulate 1 EPCI": median_ms(repeats, lambda _: planning.simulate(coverage, default, one)),
        "simulate 5 EPCI": median_ms(repeats, lambda _: planning.simulate(coverage, default, five)),
        "simulate 1 EPCI, another max_km": median_ms(repeats, lambda _: planning.simulate(coverage, next(fresh), one)),
        "rank k=5 EPCI": median_ms(repeats, lambda _: planning.opportunities(coverage, boundaries, default, "epci")),
        "rank k=5 communes": median_ms(
            repeats, lambda _: planning.opportunities(coverage, boundaries, default, "commune")
        ),
        "rank k=5 communes, to outlines": median_ms(
            repeats,
            lambda _: planning.opportunities(coverage, boundaries, CoverageParams(distance_to="territory"), "commune"),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--national-dir", type=Path, default=Path("/tmp/geo-service-france"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    results = {
        "région 32": measure(REPO_DATA_DIR, args.repeats),
        "France": measure(ensure_national(args.national_dir), args.repeats),
    }
    names = list(results)
    print("| measure | " + " | ".join(names) + " | France / région |")
    print("|---|" + "---:|" * (len(names) + 1))
    for key in results[names[0]]:
        values = [results[name][key] for name in names]
        cells = [f"{v:,.0f}" if key in ("communes", "zones_blanches") else f"{v:,.1f} ms" for v in values]
        ratio = values[1] / values[0] if values[0] else float("nan")
        print(f"| {key} | " + " | ".join(cells) + f" | {ratio:,.1f}× |")


if __name__ == "__main__":
    main()
