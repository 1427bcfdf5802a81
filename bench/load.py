"""Mixed load on loopback: readers of tiles and projects while writers edit projects, for a bounded time.

Usage: python bench/load.py [--readers 8] [--writers 2] [--duration 30]

Starts `geo-service serve` on a free port with a temporary store and a write token, then runs the readers
(each cycling through communes and coverage tiles and /api/v1/projects) and the writers (each creating then
patching its own projects) for --duration seconds. Prints requests, errors, req/s and p50/p99 per kind; exits 1
if any request failed (anything but 2xx, 204 and 304).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tiles import Connection, free_port, percentile, start_server, tile_list

TOKEN = "charge-token-for-bench"
PLACES = ["Ville d'Amiens", "CC du Ternois", "Lille, Amiens et Senlis", "CC des 7 Vallées", "Ville de Laon", "62140"]


async def reader(host: str, port: int, paths: list[str], deadline: float, k: int, out: dict) -> None:
    connection = Connection(host, port)
    i = k * 7
    while time.perf_counter() < deadline:
        path = paths[i % len(paths)]
        started = time.perf_counter()
        status, _ = await connection.get(path)
        kind = "projects" if path.startswith("/api") else "tiles"
        out.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        if status not in (200, 204, 304):
            out.setdefault("errors", []).append(f"{status} {path}")
        i += 1
    connection.close()


async def writer(host: str, port: int, deadline: float, k: int, out: dict) -> None:
    connection = Connection(host, port)
    auth = f"Authorization: Bearer {TOKEN}\r\n"
    n = 0
    while time.perf_counter() < deadline:
        # direct food access (an épicerie), so that a new place changes the coverage and its tiles
        project = {
            "id": f"charge-{k}-{n}",
            "organisation": "Test de charge",
            "name": f"Épicerie solidaire {k}-{n}",
            "duration_years": 1,
            "place_text": PLACES[(n * 2 + k) % len(PLACES)],
            "actions": ["Ouverture d'une épicerie solidaire"],
        }
        for method, path, body in [
            ("POST", "/api/v1/projects", project),
            ("PATCH", f"/api/v1/projects/{project['id']}", {"duration_years": 2}),
        ]:
            started = time.perf_counter()
            status, _ = await connection.request(method, path, json.dumps(body).encode(), auth)
            out.setdefault("writes", []).append((time.perf_counter() - started) * 1000)
            if status not in (200, 201):
                out.setdefault("errors", []).append(f"{status} {method} {path}")
        n += 1
    connection.close()


async def run(host: str, port: int, readers: int, writers: int, duration: float) -> tuple[dict, float]:
    tiles = tile_list()
    paths = [
        f"/tiles/{layer}/{z}/{x}/{y}.mvt" for z in (8, 10) for x, y in tiles[z] for layer in ("communes", "coverage")
    ] + ["/api/v1/projects", "/api/v1/projects?departement=80"]
    out: dict = {}
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(
        *(reader(host, port, paths, deadline, k, out) for k in range(readers)),
        *(writer(host, port, deadline, k, out) for k in range(writers)),
    )
    return out, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(
            port,
            GEO_SERVICE_DATABASE_URL=f"sqlite:///{Path(folder) / 'charge.sqlite3'}",
            GEO_SERVICE_ADMIN_TOKEN=TOKEN,
            GEO_SERVICE_LOG_LEVEL="warning",
        )
        try:
            out, elapsed = asyncio.run(run("127.0.0.1", port, args.readers, args.writers, args.duration))
        finally:
            server.terminate()
            server.wait()
    print(f"{args.readers} readers, {args.writers} writers, {elapsed:.1f} s on loopback")
    for kind in ("tiles", "projects", "writes"):
        values = out.get(kind, [])
        if values:
            print(
                f"  {kind:<9} {len(values):>7} requests {len(values) / elapsed:>8.1f}/s  "
                f"p50 {statistics.median(values):6.1f} ms  p99 {percentile(values, 99):7.1f} ms"
            )
    errors = out.get("errors", [])
    print(f"  errors    {len(errors)}" + (f": {errors[:5]}" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
