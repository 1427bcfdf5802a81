"""Tile serving benchmark: our tiles, a fixed-bytes ceiling and, optionally, a peer server, in one run.

Usage:
  python bench/tiles.py [--layer communes] [--duration 15] [--concurrency 8] [--peer URL_TEMPLATE]
                        [--json results.json] [--plot tiles.png]

It starts `geo-service serve` on a free loopback port (with the fixed-bytes route enabled), then for each target:
  cold  every tile of the list once, in order, on one keep-alive connection, right after the server started;
  warm  per zoom, --concurrency clients on keep-alive connections cycle through that zoom's tiles for
        --duration seconds; requests/s, p50 and p99 latency.
Targets: our /tiles/{layer}/{z}/{x}/{y}.mvt, the ceiling /_bench/fixed/{z}/{x}/{y} (same server and middleware,
fixed 2 KiB answer), and --peer (e.g. tipg on PostGIS started with ../shared/bench/peer-tiles, see the README).

The tile list is the peer harness's: all tiles of the bbox 1.38,48.83,4.26,51.09 at z6/8/10/12, sorted by (x, y),
a zoom with more than 200 keeping tiles[floor(i*n/200)]; its fingerprint is printed (7ca3d19b17afa0a3).
The load clients are a minimal asyncio HTTP/1.1 client, so that the client's own cost, on the same two cores,
weighs as little as possible and equally on every target. Only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlsplit

from geo_service.tiles.grid import tiles_covering

BBOX = (1.38, 48.83, 4.26, 51.09)
ZOOMS = (6, 8, 10, 12)
CAP = 200


def tile_list(bbox: tuple[float, float, float, float] = BBOX) -> dict[int, list[tuple[int, int]]]:
    out = {}
    for z in ZOOMS:
        tiles = sorted((t.x, t.y) for t in tiles_covering(*bbox, z))
        if len(tiles) > CAP:
            tiles = [tiles[(i * len(tiles)) // CAP] for i in range(CAP)]
        out[z] = tiles
    return out


def fingerprint(tiles: dict[int, list[tuple[int, int]]]) -> str:
    digest = hashlib.sha256()
    for z in sorted(tiles):
        for x, y in tiles[z]:
            digest.update(f"{z}/{x}/{y}\n".encode())
    return digest.hexdigest()[:16]


class Connection:
    """One keep-alive HTTP/1.1 connection; GET returns (status, body length)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, int]:
        return await self.request("GET", path)

    async def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        length = f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n" if body else ""
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept-Encoding: identity\r\n"
            f"{headers}{length}\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if headers.get("transfer-encoding") == "chunked":
            size = 0
            while True:
                chunk = int((await self.reader.readline()).strip(), 16)
                await self.reader.readexactly(chunk + 2)
                size += chunk
                if chunk == 0:
                    return status, size
        length = int(headers.get("content-length", "0"))
        await self.reader.readexactly(length)
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        return status, length

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] if ordered else float("nan")


async def cold(host: str, port: int, template: str, tiles: dict[int, list[tuple[int, int]]]) -> dict[int, dict]:
    connection = Connection(host, port)
    result = {}
    for z, coords in tiles.items():
        latencies, sizes, errors = [], [], 0
        for x, y in coords:
            started = time.perf_counter()
            status, size = await connection.get(template.format(z=z, x=x, y=y))
            latencies.append((time.perf_counter() - started) * 1000)
            sizes.append(size)
            errors += status not in (200, 204)
        result[z] = {
            "cold_mean_ms": statistics.mean(latencies),
            "cold_p50_ms": percentile(latencies, 50),
            "cold_max_ms": max(latencies),
            "bytes_mean": statistics.mean(sizes),
            "errors": errors,
        }
    connection.close()
    return result


async def warm(
    host: str, port: int, template: str, coords: list[tuple[int, int]], z: int, clients: int, duration: float
) -> dict:
    deadline = time.perf_counter() + duration
    latencies: list[float] = []
    errors = 0

    async def client(k: int) -> None:
        nonlocal errors
        connection = Connection(host, port)
        i = k * len(coords) // clients
        while time.perf_counter() < deadline:
            x, y = coords[i % len(coords)]
            started = time.perf_counter()
            status, _ = await connection.get(template.format(z=z, x=x, y=y))
            latencies.append((time.perf_counter() - started) * 1000)
            errors += status not in (200, 204)
            i += 1
        connection.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(k) for k in range(clients))), duration + 35)
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "requests": len(latencies),
        "errors": errors,
    }


async def measure(url: str, tiles: dict[int, list[tuple[int, int]]], clients: int, duration: float) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if socket.gethostbyname(host).split(".")[0] != "127":
        raise SystemExit(f"refusing non-loopback target {url}")
    template = url[len(f"{parts.scheme}://{parts.netloc}") :]
    result = await cold(host, port, template, tiles)
    for z, coords in tiles.items():
        result[z].update(await warm(host, port, template, coords, z, clients, duration))
    return result


def free_port() -> int:
    """A loopback port below the ephemeral range (32768+), where the clients' connections take theirs: a server
    on a port the kernel picked there may collide with the thousands of client ports a benchmark opens."""
    for port in random.sample(range(20000, 32000), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 20000-32000")


def start_server(port: int, *args: str, **env_vars: str) -> subprocess.Popen:
    env = {**os.environ, "GEO_SERVICE_BENCHMARK_ROUTES": "true", **env_vars}
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(1200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def table(results: dict[str, dict], tiles: dict[int, list[tuple[int, int]]]) -> str:
    names = list(results)
    lines = [
        "| zoom | tiles | metric | " + " | ".join(names) + " | ours / ceiling | ours / peer |",
        "|---:|---:|---|" + "---:|" * (len(names) + 2),
    ]
    metrics = [
        ("cold mean ms", "cold_mean_ms", "{:.1f}"),
        ("cold p50 ms", "cold_p50_ms", "{:.1f}"),
        ("cold max ms", "cold_max_ms", "{:.1f}"),
        ("mean bytes", "bytes_mean", "{:,.0f}"),
        ("warm req/s", "rps", "{:,.0f}"),
        ("warm p50 ms", "p50_ms", "{:.1f}"),
        ("warm p99 ms", "p99_ms", "{:.1f}"),
    ]
    for z in tiles:
        for label, key, fmt in metrics:
            cells = [fmt.format(results[n][z][key]) for n in names]
            ours = results[names[0]][z][key]
            ratios = []
            for other in ("ceiling", "peer"):
                if other in results and key in ("rps", "bytes_mean") and results[other][z][key]:
                    ratios.append(f"{ours / results[other][z][key]:.2f}")
                else:
                    ratios.append("")
            if "ceiling" not in results or key == "bytes_mean":
                ratios[0] = ""
            lines.append(
                f"| {z} | {len(tiles[z])} | {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |"
            )
    return "\n".join(lines)


VSICURL_READER = """
import sys, time
import pyogrio
pyogrio.set_gdal_config_options({"CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".geojson", "GDAL_HTTP_TIMEOUT": "600"})
started = time.perf_counter()
frame = pyogrio.read_dataframe("/vsicurl/" + sys.argv[1])
print(f"{time.perf_counter() - started:.3f} {len(frame)}")
"""


def vsicurl_read(url: str) -> tuple[float, int]:
    """Seconds for GDAL (pyogrio's) to read a remote GeoJSON through /vsicurl/ (HEAD, then range requests), in
    a process of its own so that no GDAL cache is shared between reads; and the features it read."""
    done = subprocess.run([sys.executable, "-c", VSICURL_READER, url], capture_output=True, text=True, check=True)
    seconds, count = done.stdout.split()
    return float(seconds), int(count)


def layer_geojson_bench(before: str, layer: str, reads: int) -> dict[str, list[float]]:
    """The /vsicurl/ read of /api/v1/layers/{layer}.geojson from this tree and from ``before`` (a git worktree
    of an earlier commit, e.g. `git worktree add /tmp/before HEAD~1`), each served in turn on its own port, in
    the same run; ``reads`` reads each (the first one pays for building the document where it is kept)."""
    results: dict[str, list[float]] = {}
    for label, tree in (("before", before), ("after", os.getcwd())):
        port = free_port()
        folder = tempfile.mkdtemp(prefix="bench-layers-")
        server = subprocess.Popen(
            [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
            cwd=tree,
            env={**os.environ, "PYTHONPATH": tree, "GEO_SERVICE_DATABASE_URL": f"sqlite:///{folder}/p.sqlite3"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(1200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            url = f"http://127.0.0.1:{port}/api/v1/layers/{layer}.geojson"
            times = []
            for _ in range(reads):
                seconds, count = vsicurl_read(url)
                times.append(seconds)
            results[label] = times
            print(f"{label:>6}: {count} features; /vsicurl/ read " + ", ".join(f"{t:.2f} s" for t in times), flush=True)
        finally:
            server.terminate()
            server.wait()
    best_before, best_after = min(results["before"]), min(results["after"])
    ratio_first = results["before"][0] / results["after"][0]
    print(f"speed-up (best of {reads}): {best_before / best_after:.1f}x; first read {ratio_first:.1f}x")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", default="communes")
    parser.add_argument("--duration", type=float, default=15.0, help="warm seconds per zoom and target")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--peer", help="peer tile URL template, e.g. http://127.0.0.1:8081/.../{z}/{x}/{y}")
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument(
        "--geojson-before", metavar="TREE", help="only compare GDAL's /vsicurl/ read of the layer's GeoJSON with TREE's"
    )
    parser.add_argument("--reads", type=int, default=3, help="/vsicurl/ reads per server (with --geojson-before)")
    args = parser.parse_args()
    if args.geojson_before:
        figures = layer_geojson_bench(args.geojson_before, args.layer, args.reads)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"layer": args.layer, "vsicurl_seconds": figures}, fh, indent=2)
        return
    tiles = tile_list()
    print(
        f"tile list fingerprint {fingerprint(tiles)}; {sum(map(len, tiles.values()))} tiles; "
        f"{args.concurrency} clients, {args.duration:g} s per zoom; {os.cpu_count()} cores",
        flush=True,
    )
    port = free_port()
    server = start_server(port)
    try:
        base = f"http://127.0.0.1:{port}"
        results = {
            "ours": asyncio.run(
                measure(f"{base}/tiles/{args.layer}/{{z}}/{{x}}/{{y}}.mvt", tiles, args.concurrency, args.duration)
            )
        }
        results["ceiling"] = asyncio.run(
            measure(f"{base}/_bench/fixed/{{z}}/{{x}}/{{y}}", tiles, args.concurrency, args.duration)
        )
    finally:
        server.terminate()
        server.wait()
    if args.peer:
        results["peer"] = asyncio.run(measure(args.peer, tiles, args.concurrency, args.duration))
    print(table(results, tiles))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"fingerprint": fingerprint(tiles), "layer": args.layer, "results": results}, fh, indent=2)


if __name__ == "__main__":
    main()
