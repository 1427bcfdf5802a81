"""Time to compute coverage for the région, and for all of France, side by side in one run.

Usage: python bench/coverage.py [--national-dir /tmp/geo-service-france] [--repeats 5]

The national boundaries are built once into --national-dir (``geo-service build-boundaries --region all``, about
30 s, reusing the pinned sources cache) and reused on later runs. The 28 projects stay those of Hauts-de-France:
the work that grows is per commune (classes, distances, reasons), which is what is measured.

Printed per data set: communes, time to prepare (index projects by commune, project town halls) and to compute
one parameter set cold (nothing cached), as the median of --repeats runs with distinct parameters.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from geo_service.coverage import Coverage
from geo_service.parameters import CoverageParams
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import load_geocoder
from geo_service.settings import REPO_DATA_DIR, Settings
from geo_service.territories import Boundaries


def measure(data_dir: Path, repeats: int) -> dict[str, float]:
    settings = Settings(data_dir=data_dir)
    started = time.perf_counter()
    boundaries = Boundaries.load(settings.boundaries_dir)
    load_s = time.perf_counter() - started
    geocoder = load_geocoder(Settings(), boundaries)
    projects = ProjectCatalogue.load(REPO_DATA_DIR / "projects", boundaries, geocoder)
    prepare, compute, zones = [], [], []  # the first run uses the default parameters, as the API does
    for run in range(repeats):
        started = time.perf_counter()
        coverage = Coverage(boundaries, projects)
        prepared = time.perf_counter()
        frame = coverage.compute(CoverageParams(rural_max_density=150 + run, max_km=10 + run))
        done = time.perf_counter()
        prepare.append(prepared - started)
        compute.append(done - prepared)
        zones.append(int(frame["zone_blanche"].sum()))
    return {
        "communes": len(frame),
        "zones_blanches": zones[0],
        "load_s": load_s,
        "prepare_s": statistics.median(prepare),
        "compute_s": statistics.median(compute),
    }


def ensure_national(folder: Path) -> Path:
    if not (folder / "boundaries" / "manifest.json").is_file():
        print(f"building national boundaries into {folder} (once)...", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "geo_service.cli",
                "build-boundaries",
                "--region",
                "all",
                "--keep-gaps",  # France has gaps no commune nouvelle can take: kept as holes (see the README)
                "--out",
                str(folder / "boundaries"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--national-dir", type=Path, default=Path("/tmp/geo-service-france"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = {
        "région 32": measure(REPO_DATA_DIR, args.repeats),
        "France": measure(ensure_national(args.national_dir), args.repeats),
    }
    print(f"coverage, median of {args.repeats} runs (goals: région < 1 s, France < 15 s)")
    print(
        f"{'data':<10} {'communes':>9} {'zones bl.':>9} {'load s':>8} {'prepare s':>10} {'compute s':>10} "
        f"{'total s':>8}"
    )
    for name, r in results.items():
        total = r["prepare_s"] + r["compute_s"]
        print(
            f"{name:<10} {r['communes']:>9,} {r['zones_blanches']:>9,} {r['load_s']:>8.2f} {r['prepare_s']:>10.3f} "
            f"{r['compute_s']:>10.3f} {total:>8.3f}"
        )
    ratio = (results["France"]["prepare_s"] + results["France"]["compute_s"]) / (
        results["région 32"]["prepare_s"] + results["région 32"]["compute_s"]
    )
    print(f"France / région: {ratio:.1f}x the time for {results['France']['communes'] / 3782:.1f}x the communes")


if __name__ == "__main__":
    main()
