"""HTTP limits at the edge of the process (geo_service.server), on a real `geo-service serve` and raw sockets, as an
attacker sends them: oversized or too many headers, heads and bodies that never finish, too many connections from
one address, two Host headers; and SIGTERM that ends the process within its grace period."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, serve, stop, wait_for

pytestmark = pytest.mark.slow  # a real server, and timeouts waited out (see MARKERS in tests/conftest.py)

LIMITS = {
    "GEO_SERVICE_EDGE_MAX_HEADER_KB": "8",
    "GEO_SERVICE_EDGE_MAX_HEADERS": "20",
    "GEO_SERVICE_EDGE_HEADER_TIMEOUT_S": "1",
    "GEO_SERVICE_EDGE_BODY_TIMEOUT_S": "1",
    "GEO_SERVICE_EDGE_CONNECTIONS_PER_ADDRESS": "6",
    "GEO_SERVICE_EDGE_KEEP_ALIVE_S": "60",
}


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("edge")
    number = free_port()
    server = serve(number, {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite3'}", **LIMITS})
    try:
        yield number
    finally:
        stop(server)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.settimeout(30)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 30 s pass)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def _request(path: str = "/healthz", *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def test_ordinary_requests_pass(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(_request("/healthz", "Connection: close"))
        assert _status(_answer(sock)) == 200


def test_a_huge_header_is_refused_before_it_is_read(port: int) -> None:
    """64 MB were read and answered 200; now the head stops at 8 KB here: 431, the rest is never read."""
    with _connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent, answer = 0, b""
        try:
            while sent < 64 * 2**20:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:  # the server closed the connection: what it said is waiting to be read
            pass
        answer = _answer(sock)
    assert _status(answer) == 431 and b"8 KB" in answer
    assert sent < 8 * 2**20, f"the server read {sent} bytes of one header before refusing"


def test_too_many_header_fields_are_refused(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(_request("/healthz", *(f"X-Field-{n}: {n}" for n in range(30))))
        answer = _answer(sock)
    assert _status(answer) == 431 and b"20 header fields" in answer


def test_a_head_that_never_finishes_is_timed_out(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        answer = _answer(sock)  # the server closes it (1 s here), not the client
    assert _status(answer) == 408


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    with _connect(port) as sock:
        assert _status(_answer(sock)) == 408


def test_a_body_that_never_finishes_is_timed_out(port: int) -> None:
    with _connect(port) as sock:
        head = "POST /api/v1/coverage/simulate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        sock.sendall((head + "Content-Length: 1000\r\n\r\n").encode() + b'{"actions": [')
        answer = _answer(sock)
    assert _status(answer) in (408, 0)  # 408, or closed once the application had started to answer
    with _connect(port) as sock:  # the server is still there for others
        sock.sendall(_request("/healthz", "Connection: close"))
        assert _status(_answer(sock)) == 200


def test_connections_per_address_are_bounded(port: int) -> None:
    held = []
    try:
        for _ in range(6):  # each one answered once and kept alive: counted, whatever the kernel's order
            sock = _connect(port)
            sock.sendall(_request("/healthz"))
            wait_for(lambda sock=sock: sock.recv(65536).startswith(b"HTTP/1.1 200"), "a kept-alive answer")
            held.append(sock)
        with _connect(port) as extra:
            answer = _answer(extra)
        assert _status(answer) == 503 and b"too many connections" in answer
    finally:
        for sock in held:
            sock.close()

    # once they are closed, the address may connect again
    def answered() -> bool:
        with _connect(port) as sock:
            sock.sendall(_request("/healthz", "Connection: close"))
            return _status(_answer(sock)) == 200

    wait_for(answered, "a new connection once the others closed")


def test_two_host_headers_are_refused(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(_request("/healthz", "Host: evil.example", "Connection: close"))
        answer = _answer(sock)
    assert _status(answer) == 400 and b"2 Host headers" in answer


def test_sigterm_ends_the_process_within_its_grace_period(tmp_path: Path) -> None:
    number = free_port()
    env = {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}", **LIMITS}
    server = serve(number, env | {"GEO_SERVICE_EDGE_GRACEFUL_SHUTDOWN_S": "2"})
    idle = _connect(number)  # a client that holds a connection and sends nothing does not keep it alive
    try:
        began = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError("the server ignored SIGTERM for 60 s") from None
        # uvicorn finishes its shutdown, then ends by the signal it received (exit status -SIGTERM), as asked
        assert server.returncode in (0, -signal.SIGTERM), server.returncode
        assert time.monotonic() - began < 60
    finally:
        idle.close()
        if server.poll() is None:
            server.kill()
