"""Anonymous exhaustion, replayed: many costly requests at once while /healthz is polled.

Usage: python bench/redteam.py [--baseline /tmp/before] [--clients 40] [--seconds 20]

Starts `geo-service serve` (this tree, then --baseline's: e.g. `git worktree add /tmp/before <commit>`, run with
this venv) on a free loopback port with a new SQLite store. Then, for --seconds, --clients threads each send, one
after the other, the requests no cache absorbs: a PNG picture of a territory (every EPCI and département in turn, so
each is new), and the coverage of the communes with a random max_km. Meanwhile one thread asks /healthz every 50 ms
and the server's resident memory is sampled. Prints, per tree: the costly answers by status (200, 429...), /healthz
p50/p99/max, and the peak RSS. The goals (issue: hardening): /healthz p50 <= 100 ms, RSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from backends import resident_mb
from tiles import free_port, percentile

REPO = Path(__file__).resolve().parent.parent


def start(tree: Path, port: int) -> subprocess.Popen:
    store = Path(tempfile.mkdtemp(prefix="geo-redteam-")) / "projects.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(tree), "GEO_SERVICE_DATABASE_URL": f"sqlite:///{store}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
        cwd=tree,
        env={**env, "GEO_SERVICE_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server of {tree} exited with {server.returncode}") from None
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"the server of {tree} did not start")


def get(url: str, timeout: float = 60) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # no answer in time, or the connection refused


def attack(tree: Path, clients: int, seconds: float) -> dict:
    port = free_port()
    server = start(tree, port)
    base = f"http://127.0.0.1:{port}"
    try:
        territories = [
            f"{level}/{item['code']}"
            for level in ("epci", "departement")
            for item in json.load(urllib.request.urlopen(f"{base}/api/v1/territories/{level}"))["items"]
        ]
        statuses: Counter[int] = Counter()
        health: list[float] = []
        rss: list[float] = [resident_mb(server.pid)]
        stop = time.monotonic() + seconds
        lock = threading.Lock()
        turn = iter(range(10**9))

        def costly() -> None:
            rng = random.Random()
            while time.monotonic() < stop:
                with lock:
                    n = next(turn)
                if n % 2 == 0:
                    url = f"{base}/api/v1/maps/{territories[(n // 2) % len(territories)]}.png"
                else:
                    url = f"{base}/api/v1/coverage/communes?max_km={rng.uniform(0, 50):.3f}"
                status = get(url)
                with lock:
                    statuses[status] += 1

        def watch() -> None:
            while time.monotonic() < stop:
                began = time.perf_counter()
                status = get(f"{base}/healthz", timeout=30)
                health.append((time.perf_counter() - began) * 1000 if status == 200 else 30_000.0)
                rss.append(resident_mb(server.pid))
                time.sleep(0.05)

        threads = [threading.Thread(target=costly) for _ in range(clients)] + [threading.Thread(target=watch)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rss.append(resident_mb(server.pid))
    finally:
        server.terminate()
        server.wait()
    return {"statuses": dict(sorted(statuses.items())), "health": health, "rss": max(rss)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="another checkout to attack the same way, first")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    trees = ({"baseline": args.baseline.resolve()} if args.baseline else {}) | {"this tree": REPO}
    print(f"{args.clients} clients sending costly requests for {args.seconds:.0f} s, /healthz polled every 50 ms")
    for name, tree in trees.items():
        result = attack(tree, args.clients, args.seconds)
        health = result["health"]
        print(
            f"  {name:<10} costly answers {result['statuses']}  /healthz p50 {statistics.median(health):7.1f} ms  "
            f"p99 {percentile(health, 99):8.1f} ms  max {max(health):8.1f} ms ({len(health)} polls)  "
            f"peak RSS {result['rss']:6.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
