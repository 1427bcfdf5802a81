"""HTTP details every route shares: conditional requests (RFC 9110) and JSON bodies with a validator."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response


def public_base(request: Request) -> str:
    """Where absolute URLs start (ending with '/'): the configured public URL, else what the request was sent to
    (its Host header, checked by the trusted-host middleware)."""
    return request.app.state.settings.public_url or str(request.base_url)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*``, or any listed tag equal to ``etag`` by weak comparison (``W/`` ignored)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


def json_response(request: Request, document: Any, etag: str, media_type: str = "application/json") -> Response:
    """``document`` as compact UTF-8 JSON with its ETag and the configured Cache-Control (If-None-Match is
    answered by the middleware, on the encoding sent)."""
    headers = {"ETag": etag, "Cache-Control": request.app.state.settings.cache_control}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return Response(body, media_type=media_type, headers=headers)
