"""Cross-cutting HTTP concerns: one log line per request, HEAD everywhere, CORS for read-only use, gzip for JSON and
GeoJSON."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware, GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.api.http import etag_matches
from geo_service.errors import DataError
from geo_service.ogc.params import quality_values
from geo_service.projects.spreadsheet_import import MAX_FILE_BYTES
from geo_service.settings import Settings

logger = logging.getLogger("geo_service")
# Tiles handle their own compression (MVT is gzipped once, when encoded; PNG does not shrink).
ALREADY_COMPRESSED = ("application/vnd.mapbox-vector-tile", "image/png")


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header accepts gzip (RFC 9110 §12.5.3): named with a quality above zero, or
    covered by ``*`` when gzip is not named; ``gzip;q=0`` refuses it."""
    if not header:
        return False
    if ";" not in header:  # no quality given (what browsers and most clients send): is gzip, or anything, named?
        codings = {part.strip().lower() for part in header.split(",")}
        return bool(codings & {"gzip", "x-gzip", "*"})
    named: float | None = None
    anything: float | None = None
    for coding, quality in quality_values(header):
        if coding in ("gzip", "x-gzip"):
            named = quality if named is None else max(named, quality)
        elif coding == "*":
            anything = quality
    if named is not None:
        return named > 0
    return anything is not None and anything > 0


class Compression(GZipMiddleware):
    """Starlette's gzip, chosen by a reading of Accept-Encoding that honours ``q=0`` (Starlette looks for the
    word "gzip" anywhere in the header, so ``gzip;q=0`` got gzip). Either way an answer whose encoding could
    differ says ``Vary: Accept-Encoding`` (Starlette's responders add it to bodies above the minimum size)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"accept-encoding"), "")
        responder: ASGIApp
        if accepts_gzip(header):
            responder = GZipResponder(
                self.app, self.minimum_size, compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size, exclude_content_types=self.exclude_content_types,
            )  # fmt: skip
        else:
            responder = IdentityResponder(self.app, self.minimum_size, exclude_content_types=self.exclude_content_types)

        async def once_each(message: Message) -> None:
            # a route that chose its encoding says Vary itself; Starlette then adds the same word again
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                words = [w.strip() for k, v in headers if k.lower() == b"vary" for w in v.decode("latin-1").split(",")]
                if len(words) > 1:
                    kept = list(dict.fromkeys(w for w in words if w))
                    others = [(k, v) for k, v in headers if k.lower() != b"vary"]
                    message = {**message, "headers": [*others, (b"vary", ", ".join(kept).encode("latin-1"))]}
            await send(message)

        await responder(scope, receive, once_each)


async def send_json(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """A whole JSON answer ``{"detail": ...}`` from a middleware, before any route ran."""
    body = json.dumps({"detail": detail}).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


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
    """413 for a request body over the limit, whether it declares its length or streams it (chunked).

    The body is read here, up to the limit, before the application sees it: an error raised while the
    application reads would reach FastAPI's body parsing, which answers any failure there with a 400."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: dict[tuple[str, str], tuple[int, str]] | None = None
    ) -> None:
        """``larger``: (method, path) -> (limit, French refusal) for the routes that take files (imports)."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, refusal = self.larger.get((scope["method"], scope["path"]), (self.max_bytes, None))
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and (len(declared) > 12 or int(declared) > max_bytes):
            await self._refuse(send, refusal)
            return
        if declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body (GET, HEAD...)
            return
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: let the application see it
            received += len(message.get("body", b""))
            if received > max_bytes:
                await self._refuse(send, refusal)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, refusal: str | None = None) -> None:
        await send_json(send, 413, refusal or f"request body over {self.max_bytes // 1024} KB")


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
            if publisher is not None and time.monotonic() >= self._next_check:
                store, data = publisher.store, publisher.current.data
                self._next_check = time.monotonic() + store.watch_interval_s
                if store.changed_since(data.revision):
                    try:
                        await run_in_threadpool(publisher.publish, only_if_changed_elsewhere=True)
                    except DataError as exc:  # the database is out of reach: answer with what is loaded
                        logger.warning("could not rebuild after another process's write: %s", exc)
        await self.app(scope, receive, send)


READ_METHODS = ("GET", "HEAD")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
READ_HEADERS = ("If-None-Match", "If-Modified-Since", "Range")
WRITE_HEADERS = ("Authorization", "Content-Type", "If-Match")
EXPOSED_HEADERS = "ETag, Location, Content-Range, Accept-Ranges"


class Cors:
    """Cross-origin access as the documentation says: any configured reading origin (all by default) may GET and
    HEAD; writing from a browser page (with a token) is for the origins in GEO_SERVICE_WRITE_ORIGINS only, none by
    default, so a page elsewhere cannot drive a logged-in editor's browser into a write."""

    def __init__(self, app: ASGIApp, read_origins: list[str], write_origins: list[str]) -> None:
        self.app = app
        self.read_any = "*" in read_origins
        self.read_origins = set(read_origins)
        self.write_origins = set(write_origins)

    def _allowed(self, origin: str, method: str) -> bool:
        if method in READ_METHODS:
            return self.read_any or origin in self.read_origins or origin in self.write_origins
        return origin in self.write_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not origin:
            await self.app(scope, receive, send)
            return
        requested = headers.get(b"access-control-request-method", b"").decode("latin-1").upper()
        if scope["method"] == "OPTIONS" and requested:
            await self._preflight(origin, requested, send)
            return
        allowed = self._allowed(origin, scope["method"])

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed:
                extra = [*self._origin_headers(origin), (b"access-control-expose-headers", EXPOSED_HEADERS.encode())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_cors)

    def _origin_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        if self.read_any and origin not in self.write_origins:
            return [(b"access-control-allow-origin", b"*")]
        return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]

    async def _preflight(self, origin: str, method: str, send: Send) -> None:
        if not self._allowed(origin, method):
            reason = "writes" if method in WRITE_METHODS else "requests"
            await send_json(send, 403, f"cross-origin {reason} are not allowed from this origin")
            return
        writes = origin in self.write_origins
        methods = READ_METHODS + WRITE_METHODS if writes else READ_METHODS
        allowed_headers = READ_HEADERS + WRITE_HEADERS if writes else READ_HEADERS
        headers = [
            *self._origin_headers(origin),
            (b"access-control-allow-methods", ", ".join(methods).encode()),
            (b"access-control-allow-headers", ", ".join(allowed_headers).encode()),
            (b"access-control-max-age", b"600"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def host_name(header: str) -> str | None:
    """The host name of a Host header value (lower case, IPv6 without brackets), or None if it is not one."""
    try:
        parts = urlsplit("//" + header)
        name, _ = parts.hostname, parts.port  # .port refuses a port that is not a number
    except ValueError:
        return None
    if not name or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    if header.startswith("["):
        return name if all(c in "0123456789abcdef:." for c in name) else None
    return name if all(LABEL.fullmatch(label) for label in name.split(".")) else None


class TrustedHosts:
    """400 for a Host header that is not a host name (the service builds URLs from it when no public URL is
    set), or not one of the hosts configured (GEO_SERVICE_ALLOWED_HOSTS, or the public URL's)."""

    def __init__(self, app: ASGIApp, hosts: list[str]) -> None:
        self.app = app
        self.hosts = None if "*" in hosts else set(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = [value for key, value in scope["headers"] if key == b"host"]
        if len(hosts) > 1:  # checked on one, URLs built from another: refused (RFC 9112 §3.2)
            await send_json(send, 400, f"{len(hosts)} Host headers: send one")
            return
        header = hosts[0].decode("latin-1") if hosts else ""
        name = host_name(header) if header or self.hosts is not None else ""  # no Host (HTTP/1.0): any host
        if name is None or (self.hosts is not None and name not in self.hosts):
            shown = re.sub(r"[^A-Za-z0-9.:\[\]-]", "?", header[:100])  # what was sent, without its markup
            await send_json(send, 400, f"Host {shown!r} is not served here")
            return
        await self.app(scope, receive, send)


MAX_BUFFERED = 64 * 2**20  # bodies up to this size get an ETag and byte ranges (every answer here is smaller)
RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")  # one range; longer numbers are beyond any body here


class ConditionalAndRanges:
    """HTTP as GDAL, QGIS, browsers and caches expect it (RFC 9110), for every successful GET answer with a body:

    - a strong ETag when the route set none: a digest of the bytes sent, so each encoding (gzip or identity)
      has its own (this sits outside the gzip middleware);
    - ``If-None-Match`` with weak comparison, lists and ``*`` (§13.1.2): 304;
    - ``Range: bytes=a-b`` (one range; §14): 206 with Content-Range, 416 when it starts past the end;
      ``If-Range`` with another ETag sends the whole body; ``Accept-Ranges: bytes`` says ranges are served.
      GDAL reads remote GeoJSON and CSV only from servers that answer ranges.
    HEAD gets the same headers (the HEAD middleware runs the GET through this one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False
        asked = scope["headers"]

        async def hold(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                if message["status"] not in (200, 204):
                    passing = True
                    await send(message)
                return
            chunks.append(message.get("body", b""))
            if sum(len(c) for c in chunks) > MAX_BUFFERED:  # too large to hold: sent as it comes
                passing = True
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                return
            if not message.get("more_body", False):
                await self._answer(asked, start, b"".join(chunks), send)

        # conditions are decided here, on the representation actually sent (gzip or not): a route checking
        # If-None-Match itself would compare it with the tag of its content, whatever the encoding
        without = [(k, v) for k, v in asked if k.lower() != b"if-none-match"]
        await self.app({**scope, "headers": without}, receive, hold)

    async def _answer(self, asked: list[tuple[bytes, bytes]], start: Message, body: bytes, send: Send) -> None:
        request = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in asked}
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"), None)
        encoding = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-encoding"), None)
        if etag is not None and encoding and etag.endswith('"'):
            # the route's tag names the content; a strong tag names the bytes: one per encoding (§8.8.3)
            etag = f'{etag[:-1]}-{encoding}"'
            headers = [(k, v) for k, v in headers if k.lower() != b"etag"] + [(b"etag", etag.encode("latin-1"))]
        if etag is None and body:
            etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
            headers.append((b"etag", etag.encode()))
        if etag is not None and etag_matches(request.get("if-none-match"), etag):
            kept = [
                (k, v) for k, v in headers if k.lower() in (b"etag", b"cache-control", b"vary", b"content-location")
            ]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        status, extra = start["status"], []
        wanted = request.get("range", "") if status == 200 else ""
        match = RANGE.fullmatch(wanted.strip())
        if_range = request.get("if-range")
        if match and match.groups() == ("", ""):
            match = None  # "bytes=-": no range at all, ignored
        # If-Range needs a strong validator on both sides (RFC 9110 §13.1.5): a weak one never matches
        strong = if_range is not None and not if_range.strip().startswith("W/") and not etag.startswith("W/")
        if body and match and (if_range is None or (strong and if_range.strip() == etag)):
            first, last = match.groups()
            size = len(body)
            if first == "" and last != "":  # the last N bytes
                begin, end = max(0, size - int(last)), size - 1
            else:
                begin, end = int(first or 0), min(int(last), size - 1) if last else size - 1
            if first != "" and last != "" and int(last) < int(first):
                match = None  # invalid: ignored, the whole body is sent (§14.1.1)
            elif begin >= size:
                unsatisfied = [*headers, (b"content-range", f"bytes */{size}".encode())]
                await send({"type": "http.response.start", "status": 416, "headers": unsatisfied})
                await send({"type": "http.response.body", "body": b""})
                return
            else:
                status, body = 206, body[begin : end + 1]
                extra = [(b"content-range", f"bytes {begin}-{end}/{size}".encode())]
        headers += [*extra, (b"accept-ranges", b"bytes")] if status in (200, 206) else []
        if status != 204:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# The routes that take a file: its limit, and room for the multipart envelope around it.
UPLOADS = {
    ("POST", "/api/v1/imports"): (
        MAX_FILE_BYTES + 2**20,
        f"fichier trop volumineux : un import accepte {MAX_FILE_BYTES // 2**20} Mo au plus ; coupez-le en plusieurs",
    )
}


def add_middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(StoreWatcher)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_kb * 1024, larger=UPLOADS)
    app.add_middleware(Compression, minimum_size=1024, exclude_content_types=ALREADY_COMPRESSED)
    app.add_middleware(ConditionalAndRanges)
    app.add_middleware(Cors, read_origins=settings.cors_origins, write_origins=settings.write_origins)
    app.add_middleware(HeadAsGet)
    app.add_middleware(TrustedHosts, hosts=settings.hosts())
    app.add_middleware(RequestLog)
