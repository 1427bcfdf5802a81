"""The service on the embedded store and on PostGIS, side by side in one run, on the région and on all of France.

Usage: python bench/backends.py [--national-dir /tmp/geo-service-france] [--duration 10] [--concurrency 8]
                                [--postgres-url postgresql://postgres@127.0.0.1:25433/postgres] [--only France]

Set-ups, each started fresh with `geo-service serve` on a free loopback port:
  embedded     SQLite store, boundaries from the data folder (the default)
  postgis      a new PostGIS database, boundaries loaded first with `geo-service load-boundaries` (timed)
  postgis x2   the same database served by `--workers 2`
For each: seconds from process start to the first /healthz answer, resident memory of the serving processes,
then bench/tiles.py's measurement (cold: each tile once; warm: clients cycling per zoom) of the communes layer
over the data set's bounding box (z6/8/10/12, at most 200 tiles a zoom), with ratios to embedded.

Then, on the région, two servers sharing one store: how long after one acknowledges a write the other serves
it, on PostGIS (notifications) and on SQLite (looked at once a second); and what checking the revision with a
SELECT on every request would cost next to a warm tile, which is why workers LISTEN instead.
The national boundaries are built once into --national-dir (about 30 s) and reused. --postgres-url is an
administrator URL on a PostGIS cluster (default: the one scripts/postgres.sh starts); bench databases are dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
from coverage import ensure_national
from tiles import free_port, measure, start_server, tile_list

from geo_service.settings import REPO_DATA_DIR

BBOXES = {"région 32": (1.38, 48.83, 4.26, 51.09), "France": (-5.2, 41.3, 9.6, 51.1)}
TOKEN = "bench-token-for-backends"


def resident_mb(pid: int) -> float:
    """Resident memory of a process and its children (the workers), in MB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        pending += [int(child) for child in children]
    return total / 1024


class Databases:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def new(self) -> str:
        name = f"geo_bench_{len(self.created)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        self.created.append(name)
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def load_boundaries(url: str, folder: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "geo_service.cli", "load-boundaries", "--from", str(folder)],
        env={"GEO_SERVICE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def run_setup(env: dict[str, str], args: list[str], bbox, clients: int, duration: float) -> dict:
    port = free_port()
    started = time.perf_counter()
    server = start_server(port, *args, **env)
    ready_s = time.perf_counter() - started
    try:
        memory = resident_mb(server.pid)
        url = f"http://127.0.0.1:{port}/tiles/communes/{{z}}/{{x}}/{{y}}.mvt"
        tiles = asyncio.run(measure(url, tile_list(bbox), clients, duration))
    finally:
        server.terminate()
        server.wait()
    return {"ready_s": ready_s, "memory_mb": memory, "tiles": tiles}


def print_setups(name: str, results: dict[str, dict], load_s: float) -> None:
    names = list(results)
    print(f"\n## {name}: boundaries loaded into PostGIS in {load_s:.1f} s\n")
    print("| metric | " + " | ".join(names) + " | " + " | ".join(f"{n} / embedded" for n in names[1:]) + " |")
    print("|---|" + "---:|" * (2 * len(names) - 1))

    def row(label: str, values: list[float], fmt: str) -> None:
        ratios = [f"{v / values[0]:.2f}" if values[0] else "" for v in values[1:]]
        print(f"| {label} | " + " | ".join(fmt.format(v) for v in values) + " | " + " | ".join(ratios) + " |")

    row("start to first answer, s", [results[n]["ready_s"] for n in names], "{:.1f}")
    row("resident memory, MB", [results[n]["memory_mb"] for n in names], "{:,.0f}")
    for z in results[names[0]]["tiles"]:
        tiles = [results[n]["tiles"][z] for n in names]
        row(f"z{z} cold mean ms", [t["cold_mean_ms"] for t in tiles], "{:.1f}")
        row(f"z{z} cold max ms", [t["cold_max_ms"] for t in tiles], "{:.1f}")
        row(f"z{z} warm req/s", [t["rps"] for t in tiles], "{:,.0f}")
        row(f"z{z} warm p50 ms", [t["p50_ms"] for t in tiles], "{:.2f}")
        row(f"z{z} warm p99 ms", [t["p99_ms"] for t in tiles], "{:.1f}")
        errors = sum(t["errors"] for t in tiles)
        if errors:
            print(f"| z{z} errors | {errors} |")


def request(port: int, method: str, path: str, body: dict | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, headers, method=method), timeout=30
        ) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def visibility(env: dict[str, str], writes: int) -> dict[str, float]:
    """Write through one server, then ask the other until it serves the write: seconds from the ack."""
    ports = free_port(), free_port()
    servers = [start_server(port, **env) for port in ports]
    lags, acks = [], []
    try:
        for n in range(writes):
            project_id = f"visibilite-{n}"
            body = {"id": project_id, "organisation": "Bench", "name": f"Essai {n}", "place_text": "Amiens"}
            started = time.perf_counter()
            assert request(ports[0], "POST", "/api/v1/projects", body | {"duration_years": 1}) == 201
            acked = time.perf_counter()
            while request(ports[1], "GET", f"/api/v1/projects/{project_id}") != 200:
                pass
            acks.append(acked - started)
            lags.append(time.perf_counter() - acked)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    return {"write_s": statistics.median(acks), "lag_median_s": statistics.median(lags), "lag_max_s": max(lags)}


def select_cost_us(url: str, repeats: int = 2000) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            conn.execute("SELECT revision FROM data_revision").fetchone()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--national-dir", type=Path, default=Path("/tmp/geo-service-france"))
    parser.add_argument("--duration", type=float, default=10.0, help="warm seconds per zoom and set-up")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres-url", help="administrator URL (default: start scripts/postgres.sh)")
    parser.add_argument("--only", choices=list(BBOXES), help="one data set only")
    parser.add_argument("--writes", type=int, default=10, help="writes for the visibility measurement")
    args = parser.parse_args()
    admin_url = (
        args.postgres_url
        or subprocess.run(
            [str(REPO_DATA_DIR.parent / "scripts" / "postgres.sh")], check=True, capture_output=True, text=True
        ).stdout.split()[-1]
    )
    databases = Databases(admin_url)
    folders = {"région 32": REPO_DATA_DIR, "France": None}
    warm_rps: list[float] = []  # embedded, every zoom and data set: what a warm tile costs the server
    print(f"{args.concurrency} clients, {args.duration:g} s per zoom; communes layer", flush=True)
    try:
        for name, bbox in BBOXES.items():
            if args.only and name != args.only:
                continue
            data_dir = folders[name] or ensure_national(args.national_dir)
            scratch = Path(tempfile.mkdtemp(prefix="bench-store-"))
            url = databases.new()
            load_s = load_boundaries(url, data_dir / "boundaries")
            base = {"GEO_SERVICE_BOUNDARIES_DIR": str(data_dir / "boundaries"), "GEO_SERVICE_LOG_LEVEL": "warning"}
            embedded = base | {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{scratch / 'projects.sqlite3'}"}
            postgis = base | {"GEO_SERVICE_DATABASE_URL": url}
            results = {
                "embedded": run_setup(embedded, [], bbox, args.concurrency, args.duration),
                "postgis": run_setup(postgis, [], bbox, args.concurrency, args.duration),
                "postgis x2": run_setup(postgis, ["--workers", "2"], bbox, args.concurrency, args.duration),
            }
            print_setups(name, results, load_s)
            warm_rps += [figures["rps"] for figures in results["embedded"]["tiles"].values()]
        print(f"\n## a write through one server, served by another (région, {args.writes} writes)\n")
        print("| store | write acknowledged, median s | then served by the other, median s | max s |")
        print("|---|---:|---:|---:|")
        shared_postgis = databases.new()
        for label, url in (
            ("PostGIS (NOTIFY)", shared_postgis),
            ("SQLite (once a second)", f"sqlite:///{tempfile.mkdtemp(prefix='bench-store-')}/projects.sqlite3"),
        ):
            env = {
                "GEO_SERVICE_DATABASE_URL": url,
                "GEO_SERVICE_ADMIN_TOKEN": TOKEN,
                "GEO_SERVICE_LOG_LEVEL": "warning",
            }
            lag = visibility(env, args.writes)
            print(f"| {label} | {lag['write_s']:.2f} | {lag['lag_median_s']:.3f} | {lag['lag_max_s']:.3f} |")
        cost = select_cost_us(shared_postgis)
        tile_us = 1e6 / statistics.median(warm_rps)
        print(
            f"\nchecking the revision with a SELECT on loopback: median {cost:.0f} µs per request; a warm tile "
            f"costs the server 1 / (warm req/s) = {tile_us:.0f} µs: a SELECT per request would add {cost / tile_us:.0%}"
        )
    finally:
        databases.drop_all()


if __name__ == "__main__":
    main()
