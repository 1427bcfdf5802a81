"""HTTP limits at the edge of the process: what uvicorn does not bound by itself, bounded before any request reaches
the application.

Uvicorn's fast parser (httptools) keeps a request's head in memory however long it is and waits for it however slowly
it comes: one 64 MB header was answered 200, forty of them took 1.8 GB, and 20 000 clients that never finished
their headers locked everyone out. ``GuardedHttpProtocol`` is uvicorn's own protocol with these limits (settings
``GEO_SERVICE_EDGE_*``, defaults in ``geo_service.settings``):

* the request head (request line and headers) is at most ``max_header_kb`` and ``max_headers`` lines: beyond, 431
  and the connection closes, before the rest is read;
* the head must arrive within ``header_timeout_s`` of the connection (or, on a kept-alive connection, of the read
  that brought its first part), the body within ``body_timeout_s`` of the head: beyond, 408 (or a plain close once
  the application answers) — a client that trickles bytes holds nothing for long. A head that arrives in one read,
  as nearly all do, costs no timer;
* at most ``connections_per_address`` connections from one address per worker process: beyond, 503 at once. Behind
  a reverse proxy every connection comes from the proxy: raise it there, or let the proxy count (``deploy/``);
* idle kept-alive connections close after ``timeout_keep_alive_s`` (uvicorn's own setting), concurrent connections
  and tasks are capped by ``limit_concurrency`` (uvicorn: 503 beyond), and SIGTERM stops waiting for in-flight
  requests after ``graceful_shutdown_s``.

Duplicate ``Host`` headers are refused by ``api.middleware.TrustedHosts``. Everything here runs on the event loop,
per connection, with a handful of counters: nothing that grows with what a client sends.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from geo_service.settings import Settings, get_settings

HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True)
class EdgeLimits:
    max_header_bytes: int
    max_headers: int
    header_timeout_s: float
    body_timeout_s: float
    connections_per_address: int

    @classmethod
    def of(cls, settings: Settings) -> EdgeLimits:
        return cls(
            max_header_bytes=settings.edge_max_header_kb * 1024,
            max_headers=settings.edge_max_headers,
            header_timeout_s=settings.edge_header_timeout_s,
            body_timeout_s=settings.edge_body_timeout_s,
            connections_per_address=settings.edge_connections_per_address,
        )


# Connections open per client address in this worker process (the event loop's thread only touches it).
_open: Counter[str] = Counter()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The options ``geo-service serve`` gives uvicorn, besides the app, host, port and workers."""
    return {
        "http": GuardedHttpProtocol,
        "limit_concurrency": settings.edge_limit_concurrency or None,
        "timeout_keep_alive": settings.edge_keep_alive_s,
        "timeout_graceful_shutdown": settings.edge_graceful_shutdown_s,
    }


class GuardedHttpProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, with the limits of this module's docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # read in each worker process from its environment, as the app's settings are
        self.limits = EdgeLimits.of(get_settings())
        self._address: str | None = None
        self._in_head = True
        self._head_bytes = 0
        self._head_lines = 0
        self._tail = b""  # the last bytes of the head seen, to find its end across two reads
        self._timer: asyncio.TimerHandle | None = None

    # -- connection ---------------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else "unknown"
        if _open[address] >= self.limits.connections_per_address > 0:
            self._refuse(503, "too many connections from this address")
            return
        _open[address] += 1
        self._address = address
        self._arm(self.limits.header_timeout_s, 408, "request head not received in time")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._address is not None:
            _open[self._address] -= 1
            if _open[self._address] <= 0:
                del _open[self._address]
            self._address = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head and not self._within_head_limits(data):
            return
        super().data_received(data)
        # a head that did not come whole in this read has the rest of its time to arrive; one that did (nearly
        # every request) costs no timer at all
        if self._in_head and self._timer is None and not self.transport.is_closing():
            self._arm(self.limits.header_timeout_s, 408, "request head not received in time")

    # -- one request's head and body ------------------------------------------------------------------------------

    def _within_head_limits(self, data: bytes) -> bool:
        """Count the head's bytes and lines up to its end (the rest of ``data`` is body, or the next request);
        refuse with 431 once over a limit."""
        seen = self._tail + data
        end = seen.find(HEAD_END)
        head = data if end < 0 else data[: max(0, end + len(HEAD_END) - len(self._tail))]
        self._head_bytes += len(head)
        self._head_lines += head.count(b"\n")
        self._tail = seen[-(len(HEAD_END) - 1) :] if end < 0 else b""
        if self._head_bytes > self.limits.max_header_bytes:
            self._refuse(431, f"request head over {self.limits.max_header_bytes // 1024} KB")
            return False
        if self._head_lines > self.limits.max_headers + 1:  # + the request line
            self._refuse(431, f"more than {self.limits.max_headers} header fields")
            return False
        return True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        if self._has_body():
            self._arm(self.limits.body_timeout_s, 408, "request body not received in time")
        super().on_headers_complete()

    def _has_body(self) -> bool:
        """Whether the request announces a body (a length above zero, or chunks): only then is there one to wait
        for (a GET has none, and arms no timer)."""
        for name, value in self.headers:
            if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b"")):
                return True
        return False

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
        # the next request on this connection starts a new head
        self._in_head, self._head_bytes, self._head_lines, self._tail = True, 0, 0, b""

    # -- refusals --------------------------------------------------------------------------------------------------

    def _arm(self, seconds: float, status: int, reason: str) -> None:
        self._disarm()
        if seconds > 0:
            self._timer = self.loop.call_later(seconds, self._expired, status, reason)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, status: int, reason: str) -> None:
        self._timer = None
        if self.cycle is not None and not self.cycle.response_complete and self.cycle.response_started:
            self.transport.close()  # the application is answering: nothing more can be said in HTTP
            return
        self._refuse(status, reason)

    def _refuse(self, status: int, reason: str) -> None:
        """A short plain-text answer and the connection closed: the application never sees the request."""
        self._disarm()
        if self.transport.is_closing():
            return
        phrase = {408: "Request Timeout", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}[status]
        body = reason.encode("ascii")
        self.transport.write(
            f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n".encode("ascii")
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode("ascii")
            + body
        )
        self.transport.close()
        if self.cycle is not None:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
