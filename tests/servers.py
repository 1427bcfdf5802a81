"""Real `geo-service serve` processes for the tests that need them (killed servers, several workers)."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, timeout_s: float = 15.0) -> T:
    """Poll ``condition`` until it returns something true, and return that; fail after ``timeout_s`` seconds.
    For what arrives in its own time (a notification, a periodic check): a fixed sleep either waits too long or,
    on a loaded machine, not long enough."""
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout_s} s: {what}")
        time.sleep(0.05)
    return result


PORTS = range(20000, 32000)  # below the kernel's ephemeral range (32768+), where clients' own ports come from


def free_port() -> int:
    """A loopback port no one listens on, below 32768: a port from the ephemeral range (what binding port 0 gives)
    may be taken meanwhile by any client connection of the machine, a loaded CI's included."""
    for _ in range(200):
        port = random.choice(PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {PORTS}")


def serve(port: int, env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen:
    """Start the service on 127.0.0.1:PORT with these GEO_SERVICE_* variables; returns once it answers."""
    output = subprocess.DEVNULL if log is None else log.open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), *args],
        env={**os.environ, "GEO_SERVICE_LOG_LEVEL": "warning", **env},
        stdout=output,
        stderr=output,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"the server on port {port} did not start" + (f"; see {log}" if log else ""))


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def call(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection: (status, headers, body), errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
