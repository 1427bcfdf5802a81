"""Cross-cutting HTTP concerns: one log line per request, HEAD everywhere, CORS for read-only use, gzip for JSON and
GeoJSON."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.errors import DataError
from geo_service.settings import Settings

logger = logging.getLogger("geo_service")
# Tiles handle their own compression (MVT is gzipped once, when encoded; PNG does not shrink).
ALREADY_COMPRESSED = ("application/vnd.mapbox-vector-tile", "image/png")


class RequestLog:
    """A plain ASGI middleware (lighter than BaseHTTPMiddleware, which matters for warm tile throughput)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "%s %s %d %.1f ms", scope["method"], scope["path"], status, (time.perf_counter() - started) * 1000
                )


class HeadAsGet:
    """HEAD on every GET route (RFC 9110 §9.3.2): the GET's status and headers, Content-Length included, no body.

    GDAL, link checkers and CMSs probe with HEAD; one middleware answers it everywhere rather than each route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class BodySizeLimit:
    """413 for a request body over the limit, whether it declares its length or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = f'{{"detail":"request body over {self.max_bytes // 1024} KB"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class StoreWatcher:
    """Before answering, look whether the store moved because of another process (a write through another
    worker, an import, a boundaries load); if so, rebuild what is served first, so that every worker answers
    with the data a client was just told about. How often to look is the store's call: PostGIS workers hear
    notifications and look on every request, SQLite is asked at most once a second."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._next_check = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            publisher = getattr(scope["app"].state, "publisher", None)
            data = publisher.current.data if publisher is not None else None
            if data is not None and data.store is not None and time.monotonic() >= self._next_check:
                self._next_check = time.monotonic() + data.store.watch_interval_s
                if data.store.changed_since(data.revision):
                    try:
                        await run_in_threadpool(publisher.publish, only_if_changed_elsewhere=True)
                    except DataError as exc:  # the database is out of reach: answer with what is loaded
                        logger.warning("could not rebuild after another process's write: %s", exc)
        await self.app(scope, receive, send)


def add_middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(StoreWatcher)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_kb * 1024)
    app.add_middleware(GZipMiddleware, minimum_size=1024, exclude_content_types=ALREADY_COMPRESSED)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["If-None-Match", "Authorization", "Content-Type"],
        expose_headers=["ETag"],
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestLog)
