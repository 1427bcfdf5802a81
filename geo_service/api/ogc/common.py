"""What every OGC API route answers with: the document in the format asked (``f``, else the Accept header), its
weak ETag, the cache headers, and what the OpenAPI document says of the answers.

A document is built as Python data and serialised once (``geo_service.ogc.documents.dumps``); a page is one of
the French templates. Refusals are not answered here: a route raises, and the one handler of
``geo_service.api.errors`` answers (``OgcRoute``: the OGC exception JSON, or the French page for a browser).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Path, Request, Response
from fastapi.responses import HTMLResponse

from geo_service.api.deps import current_snapshot
from geo_service.api.errors import ErrorDetail
from geo_service.api.http import public_base
from geo_service.api.limits import costly_slot
from geo_service.api.templates import TEMPLATES, security_headers
from geo_service.ogc import documents
from geo_service.ogc.collections import SPECS, CollectionSpec, is_built
from geo_service.ogc.html import french_value
from geo_service.ogc.params import Query, read_format
from geo_service.ogc.tiles import TMS_ID
from geo_service.parameters import CoverageParams

# --- what the OpenAPI document says of the answers ------------------------------------------------------------

Responses = dict[int | str, dict[str, Any]]


def _refusal(text: str) -> dict[str, Any]:
    return {"model": ErrorDetail, "description": text, "content": {"text/html": {}}}


BAD_REQUEST: Responses = {
    400: _refusal(
        "an unknown query parameter, or one whose value cannot be read (named in the answer; for filter, the "
        "position and what was expected there, or the property)"
    )
}
NOT_FOUND: Responses = {404: _refusal("an unknown collection, feature, tile matrix set or tile")}
TOO_BUSY: Responses = {
    429: _refusal("coverage parameters not computed before, and too much such work at once (Retry-After)")
}
NOT_MODIFIED: Responses = {304: {"description": "unchanged (If-None-Match)"}}


def ok(*media_types: str) -> Responses:
    return {200: {"content": {media: {"schema": {"type": "object"}} for media in media_types}}}


COLLECTION_ID = Annotated[
    str, Path(alias="collectionId", description=f"one of {', '.join(SPECS)}", examples=["communes"])
]
TMS_PATH = Annotated[str, Path(alias="tileMatrixSetId", examples=[TMS_ID])]

# --- answering ---------------------------------------------------------------------------------------------------


def query_of(request: Request) -> Query:
    return Query(request.query_params.multi_items())


def accept_of(request: Request) -> str | None:
    return request.headers.get("accept")


def base_and_format(request: Request, allowed: tuple[str, ...] = ("json", "html")) -> tuple[str, str]:
    """For the documents that select nothing: ``f`` read strictly, any parameter they do not define ignored
    (GDAL sends its connection string's query everywhere: see ``geo_service.ogc.params``)."""
    return public_base(request), read_format(query_of(request), accept_of(request), allowed=allowed)


def cache_headers(request: Request, etag: str | None = None) -> dict[str, str]:
    headers = {"Vary": "Accept", "Cache-Control": request.app.state.settings.cache_control}
    if etag is not None:
        headers["ETag"] = etag
    return headers


def send(request: Request, body: str | bytes, media_type: str, etag: str, **extra: str) -> Response:
    return Response(body, media_type=media_type, headers={**cache_headers(request, etag), **extra})


def send_json(request: Request, document: Any, media_type: str, *key: object, **extra: str) -> Response:
    """``document`` serialised once, tagged by the data's version, the public base, its media type and ``key``
    (what else selects it)."""
    etag = documents.etag(current_snapshot(request).data.version, public_base(request), media_type, *key)
    return send(request, documents.dumps(document), media_type, etag, **extra)


def page(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A French page of the OGC API: one of the ``ogc_*.html`` templates, with the base URL, the French writing of
    values and the collections' specs at hand."""
    settings = request.app.state.settings
    body = TEMPLATES.get_template(template).render(
        base=public_base(request), value=french_value, specs=SPECS, **context
    )
    return HTMLResponse(body, headers={**security_headers(settings, body), **cache_headers(request)})


async def computed(
    request: Request,
    spec: CollectionSpec,
    params: CoverageParams | None,
    work: Callable[[], Response],
    costly: bool = False,
) -> Response:
    """``work`` run in a worker thread; when it must first build a coverage table under parameters other than
    the defaults (costly, and each new set is a new computation), or is ``costly`` itself (a large page), it
    holds a place for costly work while it runs, as the coverage routes do (a 429 when there is none)."""
    if not costly and (params is None or is_built(current_snapshot(request).data, spec.id, params)):
        return await to_thread.run_sync(work)
    async with costly_slot(request):
        return await to_thread.run_sync(work)
