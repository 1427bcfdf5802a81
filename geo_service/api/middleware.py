"""Cross-cutting HTTP concerns: one log line per request, CORS for read-only use, gzip for JSON and GeoJSON."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def add_middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(GZipMiddleware, minimum_size=1024, exclude_content_types=ALREADY_COMPRESSED)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD"],
        allow_headers=["If-None-Match"],
        expose_headers=["ETag"],
    )
    app.add_middleware(RequestLog)
