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
  CPU       next to each time, what the server spent on a CPU for it (all its threads, from the kernel's
            schedstat) and how long it waited for one: on a machine shared with other work, a tile's wall time
            may be mostly waiting, which the CPU time leaves out (the start's CPU seconds likewise).
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


def server_cpu(pid: int) -> tuple[float, float]:
    """Milliseconds the process's threads have run on a CPU, and waited runnable for one, so far."""
    run = wait = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that has just ended
        run, wait = run + int(fields[0]), wait + int(fields[1])
    return run / 1e6, wait / 1e6


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


Times = dict[tuple[str, int], list[tuple[float, float, float, str]]]  # (wall, CPU, waiting ms, tile) by layer, zoom


async def cold(port: int, pid: int, tiles: list[tuple[int, int, int]]) -> Times:
    connection = Connection("127.0.0.1", port)
    times: Times = {}
    for layer in LAYERS:
        for z, x, y in tiles:
            cpu, wait = server_cpu(pid)
            began = time.perf_counter()
            status, _ = await connection.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
            wall = (time.perf_counter() - began) * 1000
            if status not in (200, 204):
                raise SystemExit(f"/tiles/{layer}/{z}/{x}/{y}.mvt answered {status}")
            cpu_after, wait_after = server_cpu(pid)
            entry = (wall, cpu_after - cpu, wait_after - wait, f"{layer} {z}/{x}/{y}")
            times.setdefault((layer, z), []).append(entry)
    connection.close()
    return times


def _cell(entries: list[tuple[float, float, float, str]]) -> str:
    """p50 / max of the wall times, then of the CPU times."""
    wall, cpu = [e[0] for e in entries], [e[1] for e in entries]
    return f"{statistics.median(wall):.1f} / {max(wall):.1f} ({statistics.median(cpu):.1f} / {max(cpu):.1f})"


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
                start_cpu = server_cpu(server.pid)[0] / 1000
                before = resident_mb(server.pid)
                times = asyncio.run(cold(port, server.pid, tiles))
                after = resident_mb(server.pid)
            finally:
                server.terminate()
                server.wait()
            print(
                f"\n{tree_name} ({tree}): start {seconds:.1f} s (CPU {start_cpu:.1f} s), RSS {before:.0f} MB before "
                f"tiles, {after:.0f} after"
            )
            print("| layer | " + " | ".join(f"z{z} p50 / max ms (CPU)" for z in zooms) + " |")
            print("|---|" + "---:|" * len(zooms))
            for layer in LAYERS:
                cells = [_cell(times[layer, z]) if (layer, z) in times else "-" for z in zooms]
                print(f"| {layer} | " + " | ".join(cells) + " |")
            every = [e for v in times.values() for e in v]
            worst, busiest = max(every), max(every, key=lambda e: e[1])
            p99 = percentile([e[0] for e in every], 99)
            print(
                f"worst cold tile {worst[0]:.1f} ms ({worst[3]}: CPU {worst[1]:.1f} ms, waited {worst[2]:.1f} ms for "
                f"a CPU), p99 {p99:.1f} ms; most CPU {busiest[1]:.1f} ms ({busiest[3]}, {busiest[0]:.1f} ms)"
            )


if __name__ == "__main__":
    main()
