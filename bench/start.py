"""Worker start, memory and cold tiles, on the région and on all of France; optionally next to another checkout.

Usage: python bench/start.py [--national-dir /tmp/geo-service-france] [--baseline /tmp/before] [--zooms 6-12]

For each tree (this one, and --baseline: e.g. `git worktree add /tmp/before <commit>`, run with this venv) and each
data set (the committed région, the national build made once with `build-boundaries --region all --keep-gaps`),
it starts `geo-service serve` on a free loopback port with a new SQLite store and prints:
  start     seconds from process start to the first /healthz answer;
  RSS       resident memory right then (before any tile), and after the cold pass;
  cold      each tile once, right after start, on one keep-alive connection, for the communes and coverage layers:
            every tile of the data set's bbox at each zoom (at most 200 a zoom, spread evenly, as bench/tiles.py),
            plus, on France, the z6 tile over Paris (6/32/22), the heaviest there is; max and p50 per zoom.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from backends import resident_mb
from coverage import ensure_national
from tiles import CAP, Connection, free_port, percentile

from geo_service.settings import REPO_DATA_DIR
from geo_service.tiles.grid import tiles_covering

BBOXES = {"région": (1.38, 48.83, 4.26, 51.09), "France": (-5.2, 41.3, 9.6, 51.1)}
PARIS_Z6 = (6, 32, 22)
LAYERS = ("communes", "coverage")


def start(tree: Path, boundaries: Path, port: int) -> tuple[subprocess.Popen, float]:
    store = Path(tempfile.mkdtemp(prefix="geo-start-")) / "projects.sqlite3"
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "GEO_SERVICE_BOUNDARIES_DIR": str(boundaries),
        "GEO_SERVICE_DATABASE_URL": f"sqlite:///{store}",
    }
    began = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server, time.perf_counter() - began
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server of {tree} exited with {server.returncode}") from None
            time.sleep(0.05)


def tiles_of(bbox: tuple[float, float, float, float], zooms: list[int], paris: bool) -> list[tuple[int, int, int]]:
    tiles = []
    for z in zooms:
        found = [(t.x, t.y) for t in tiles_covering(*bbox, z)]
        if len(found) > CAP:
            found = [found[i * len(found) // CAP] for i in range(CAP)]
        tiles += [(z, x, y) for x, y in found]
    if paris and PARIS_Z6[0] in zooms and PARIS_Z6 not in tiles:
        tiles.append(PARIS_Z6)
    return tiles


async def cold(port: int, tiles: list[tuple[int, int, int]]) -> dict[tuple[str, int], list[float]]:
    connection = Connection("127.0.0.1", port)
    times: dict[tuple[str, int], list[float]] = {}
    for layer in LAYERS:
        for z, x, y in tiles:
            began = time.perf_counter()
            status, _ = await connection.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
            if status not in (200, 204):
                raise SystemExit(f"/tiles/{layer}/{z}/{x}/{y}.mvt answered {status}")
            times.setdefault((layer, z), []).append((time.perf_counter() - began) * 1000)
    connection.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--national-dir", type=Path, default=Path("/tmp/geo-service-france"))
    parser.add_argument("--baseline", type=Path, help="another checkout to measure the same way, first")
    parser.add_argument("--zooms", default="6-12", help="zooms of the cold pass, 'a-b' (default 6-12)")
    args = parser.parse_args()
    low, _, high = args.zooms.partition("-")
    zooms = list(range(int(low), int(high or low) + 1))
    here = Path(__file__).resolve().parents[1]
    trees = {"baseline": args.baseline.resolve()} if args.baseline else {}
    trees["this tree"] = here
    data = {"région": REPO_DATA_DIR / "boundaries", "France": ensure_national(args.national_dir) / "boundaries"}
    for set_name, boundaries in data.items():
        tiles = tiles_of(BBOXES[set_name], zooms, paris=set_name == "France")
        print(f"\n## {set_name}: {len(tiles)} tiles a layer ({', '.join(LAYERS)}), zooms {args.zooms}")
        for tree_name, tree in trees.items():
            port = free_port()
            server, seconds = start(tree, boundaries, port)
            try:
                before = resident_mb(server.pid)
                times = asyncio.run(cold(port, tiles))
                after = resident_mb(server.pid)
            finally:
                server.terminate()
                server.wait()
            print(f"\n{tree_name} ({tree}): start {seconds:.1f} s, RSS {before:.0f} MB before tiles, {after:.0f} after")
            print("| layer | " + " | ".join(f"z{z} p50 / max ms" for z in zooms) + " |")
            print("|---|" + "---:|" * len(zooms))
            for layer in LAYERS:
                cells = [
                    f"{statistics.median(times[layer, z]):.1f} / {max(times[layer, z]):.1f}"
                    if (layer, z) in times
                    else "-"
                    for z in zooms
                ]
                print(f"| {layer} | " + " | ".join(cells) + " |")
            worst = max(max(v) for v in times.values())
            p99 = percentile([t for v in times.values() for t in v], 99)
            print(f"worst cold tile {worst:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
