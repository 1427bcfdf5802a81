"""Anonymous exhaustion, replayed: floods of costly or hostile requests while /healthz is polled.

Usage: python bench/redteam.py [--baseline /tmp/before] [--scenario all|pictures|opportunities|abandoned|items|
       headers|slow] [--clients 40] [--seconds 15] [--boundaries DIR]

Starts `geo-service serve` (this tree, then --baseline's: e.g. `git worktree add /tmp/before <commit>`, run with this
venv) on a free loopback port with a new SQLite store, on the région's boundaries or on --boundaries (e.g. a
national build: `geo-service build-boundaries --region all --keep-gaps --out DIR`). Each scenario runs for
--seconds with --clients attackers while one thread asks /healthz every 50 ms from another loopback address
(127.0.0.1; attackers use 127.0.0.2, as an attacker is another address than the visitors) and the server's resident
memory is sampled:

* pictures: PNG pictures of every EPCI and département in turn, and the coverage under a random max_km;
* opportunities: rankings of communes under the worst parameters allowed (max_km just below the pair bound);
* abandoned: picture requests whose clients give up after 0.5 s; then, once they have left, the server's CPU time
  over 5 s (work still going on for nobody) and a new visitor's picture time;
* items: OGC API items pages of 10 000 communes, reprojected to Lambert-93;
* headers: 64 MB headers sent on --clients connections;
* slow: --slow connections (default 5 000) that send the start of a request head and nothing more.

Prints per tree and scenario: the attackers' answers by status, /healthz p50/p99/max, peak RSS. The goals (issue
26): /healthz p50 <= 100 ms and p99 <= 1 s, peak RSS <= 1 GB (région) or 1.5 GB (France), no work 5 s after the
clients left, a new visitor's picture <= 2 s after a flood.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from backends import resident_mb
from tiles import free_port, percentile

REPO = Path(__file__).resolve().parent.parent
ATTACKER = "127.0.0.2"  # an address of the loopback range other than the visitors'
SCENARIOS = ("pictures", "opportunities", "abandoned", "items", "headers", "slow")


def start(tree: Path, port: int, boundaries: Path | None) -> subprocess.Popen:
    store = Path(tempfile.mkdtemp(prefix="geo-redteam-")) / "projects.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(tree), "GEO_SERVICE_DATABASE_URL": f"sqlite:///{store}"}
    if boundaries is not None:
        env["GEO_SERVICE_BOUNDARIES_DIR"] = str(boundaries)
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
        cwd=tree,
        env={**env, "GEO_SERVICE_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server of {tree} exited with {server.returncode}") from None
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the server of {tree} did not start")


def finish(server: subprocess.Popen) -> float:
    """SIGTERM, then how long the process took to end (killed after 60 s)."""
    began = time.monotonic()
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    return time.monotonic() - began


def get(url: str, timeout: float = 60, source: str = ATTACKER) -> int:
    """One GET on its own connection from ``source``; 0 when nothing came back in time."""
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    try:
        with socket.create_connection((name, int(port)), timeout=timeout, source_address=(source, 0)) as sock:
            sock.sendall(f"GET /{rest} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
                if len(answer) > 16 and not answer.startswith(b"HTTP/1.1 200"):
                    break
            return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    except (OSError, ValueError, IndexError):
        return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def flood(base: str, clients: int, seconds: float, one: Callable[[random.Random, int], int]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    turn = iter(range(10**9))

    def attacker() -> None:
        rng = random.Random()
        while time.monotonic() < stop:
            with lock:
                n = next(turn)
            status = one(rng, n)
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=attacker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def header_bomb(port: int, _rng: random.Random, _n: int) -> int:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(ATTACKER, 0)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
            try:
                for _ in range(1024):  # 64 MB
                    sock.sendall(b"a" * 65536)
                sock.sendall(b"\r\n\r\n")
            except OSError:
                pass
            answer = sock.recv(64)
            return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    except (OSError, ValueError, IndexError):
        return 0


def slow_connections(port: int, count: int, seconds: float) -> Counter[int]:
    """``count`` connections that send the start of a head and nothing more, held for ``seconds``."""
    held, statuses = [], Counter()
    for _ in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(ATTACKER, 0))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(sock)
        except OSError:
            statuses["refused at connect"] += 1
    time.sleep(seconds)
    for sock in held:
        sock.settimeout(0.01)
        try:
            answer = sock.recv(64)
            statuses[int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else "closed"] += 1
        except TimeoutError:
            statuses["still open"] += 1
        except (OSError, ValueError, IndexError):
            statuses["closed"] += 1
        sock.close()
    return statuses


def attack(tree: Path, scenario: str, args: argparse.Namespace) -> dict:
    port = free_port()
    server = start(tree, port, args.boundaries)
    base = f"http://127.0.0.1:{port}"
    result: dict = {}
    try:
        territories = [
            f"{level}/{item['code']}"
            for level in ("epci", "departement")
            for item in json.load(urllib.request.urlopen(f"{base}/api/v1/territories/{level}"))["items"]
        ]
        health: list[float] = []
        rss: list[float] = [resident_mb(server.pid)]
        watching = threading.Event()

        def watch() -> None:
            while not watching.is_set():
                began = time.perf_counter()
                status = get(f"{base}/healthz", timeout=30, source="127.0.0.1")
                health.append((time.perf_counter() - began) * 1000 if status == 200 else 30_000.0)
                rss.append(resident_mb(server.pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            if scenario == "pictures":

                def one(rng: random.Random, n: int) -> int:
                    if n % 2 == 0:
                        return get(f"{base}/api/v1/maps/{territories[(n // 2) % len(territories)]}.png")
                    return get(f"{base}/api/v1/coverage/communes?max_km={rng.uniform(0, 50):.3f}")

                result["statuses"] = flood(base, args.clients, args.seconds, one)
            elif scenario == "opportunities":
                km = args.max_km

                def one(rng: random.Random, n: int) -> int:
                    # a new parameter set each time, just below the worst: nothing is ever cached
                    return get(
                        f"{base}/api/v1/coverage/opportunities?level=commune&k=20&max_km={km - rng.random():.4f}"
                    )

                result["statuses"] = flood(base, args.clients, args.seconds, one)
            elif scenario == "abandoned":

                def one(rng: random.Random, n: int) -> int:
                    url = f"{base}/api/v1/maps/{territories[n % len(territories)]}.png?max_km={rng.uniform(5, 50):.3f}"
                    return get(url, timeout=0.5)

                result["statuses"] = flood(base, args.clients, args.seconds, one)
                left = cpu_seconds(server.pid)
                time.sleep(5)
                result["cpu_after_s"] = cpu_seconds(server.pid) - left
                began = time.perf_counter()
                status = get(f"{base}/api/v1/maps/epci/200035442.png?max_km=7.77", timeout=120, source="127.0.0.1")
                result["visitor_s"] = (time.perf_counter() - began, status)
            elif scenario == "items":

                def one(rng: random.Random, n: int) -> int:
                    offset = rng.randrange(0, 3000)
                    return get(f"{base}/collections/communes/items?limit=10000&offset={offset}&crs=EPSG:2154")

                result["statuses"] = flood(base, args.clients, args.seconds, one)
            elif scenario == "headers":
                result["statuses"] = flood(base, args.clients, args.seconds, lambda rng, n: header_bomb(port, rng, n))
            elif scenario == "slow":
                result["statuses"] = slow_connections(port, args.slow, args.seconds)
        finally:
            watching.set()
            watcher.join()
        rss.append(resident_mb(server.pid))
        result |= {"health": health, "rss": max(rss)}
    finally:
        result["sigterm_s"] = finish(server)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="another checkout to attack the same way, first")
    parser.add_argument("--scenario", choices=("all", *SCENARIOS), default="all")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--slow", type=int, default=5000, help="connections of the slow scenario")
    parser.add_argument("--max-km", type=float, default=30.0, help="the opportunities flood's max_km")
    parser.add_argument("--boundaries", type=Path, help="boundaries to serve (default: the région's)")
    args = parser.parse_args()
    trees = ({"baseline": args.baseline.resolve()} if args.baseline else {}) | {"this tree": REPO}
    where = args.boundaries or "the région"
    scenarios = SCENARIOS if args.scenario == "all" else (args.scenario,)
    for scenario in scenarios:
        print(f"{scenario}: {args.clients} clients for {args.seconds:.0f} s on {where}, /healthz every 50 ms")
        for name, tree in trees.items():
            result = attack(tree, scenario, args)
            health = result["health"] or [30_000.0]
            extra = ""
            if "cpu_after_s" in result:
                seconds, status = result["visitor_s"]
                extra = (
                    f"  CPU 5 s after they left {result['cpu_after_s']:.1f} s  new visitor {seconds:.2f} s ({status})"
                )
            print(
                f"  {name:<10} answers {dict(result['statuses'])}  /healthz p50 {statistics.median(health):7.1f} ms "
                f"p99 {percentile(health, 99):8.1f} ms  max {max(health):8.1f} ms  peak RSS {result['rss']:6.0f} MB  "
                f"SIGTERM {result['sigterm_s']:.1f} s{extra}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
