"""OGC API – Features and OGC API – Tiles routes: a thin layer over ``geo_service.ogc``.

Each resource answers JSON (GeoJSON for features, JSON Schema for queryables, OpenAPI 3.0 at ``/api``) or a
French HTML page, chosen by ``f=`` or else by the Accept header (browsers get HTML; GDAL, OWSLib and curl get
JSON). ``/`` was free: it is the OGC landing page, HTML for people, JSON for clients. Query parameters are read
from the request by ``geo_service.ogc.params`` (on items, an unknown or unreadable one is a 400, as the standard
asks; the documents that select nothing ignore parameters they do not define: see that module for why); the
OpenAPI document describes them with the standard's schemas (``openapi_extra``) rather than FastAPI's
validation, which would answer 422. Links start from ``public_base`` (the configured public URL), never the Host.

The coverage collections (``coverage``, ``zones-blanches``) take the coverage rule's parameters (``max_km``...),
validated exactly as ``/api/v1/coverage`` validates them (the types and bounds are read from
``geo_service.api.coverage.coverage_params``), a bad one a 422 naming it. Under parameters other than the
defaults a table not built yet is costly work: the request holds a place (``geo_service.api.limits``) while it
is built, in a worker thread.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import re
import weakref
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_type_hints

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from geo_service.api import tiles as tile_routes
from geo_service.api.coverage import coverage_params
from geo_service.api.deps import current_snapshot
from geo_service.api.errors import ErrorDetail, printable
from geo_service.api.http import public_base
from geo_service.api.limits import costly_slot
from geo_service.api.pages import TEMPLATES, security_headers
from geo_service.coverage import COLUMNS
from geo_service.errors import BadRequestError, InvalidInputError, NotFoundError, TooBusyError
from geo_service.ogc import cql2, documents
from geo_service.ogc.collections import SPECS, CollectionSpec, check_collection, is_built, table
from geo_service.ogc.crs import CRS84, SUPPORTED, Crs, bbox_area, from_crs84
from geo_service.ogc.documents import GEOJSON, HTML, JSON, OPENAPI_JSON, SCHEMA_JSON
from geo_service.ogc.html import french_value, outline_svg
from geo_service.ogc.openapi30 import openapi_30
from geo_service.ogc.params import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Query,
    number_text,
    prefers_html,
    read_format,
    read_item_query,
    read_items_query,
)
from geo_service.ogc.tiles import (
    TMS_ID,
    Kind,
    check_tile_matrix_set,
    tile_matrix_set,
    tile_matrix_sets,
    tileset,
    tilesets,
)
from geo_service.parameters import CoverageParams
from geo_service.tiles.grid import tile_of
from geo_service.tiles.layers import LAYERS
from geo_service.tiles.service import ATTRIBUTION

router = APIRouter(tags=["ogc-api"])

# --- what the OpenAPI document says ------------------------------------------------------------------------------


def _error(text: str) -> dict[str, Any]:
    return {"model": ErrorDetail, "description": text, "content": {"text/html": {}}}


BAD_REQUEST = {
    400: _error(
        "an unknown query parameter, or one whose value cannot be read (named in the answer; for filter, the "
        "position and what was expected there, or the property)"
    )
}
NOT_FOUND = {404: _error("an unknown collection, feature, tile matrix set or tile")}
TOO_BUSY = {429: _error("coverage parameters not computed before, and too much such work at once (Retry-After)")}
NOT_MODIFIED = {304: {"description": "unchanged (If-None-Match)"}}


def _ok(*media_types: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media: {"schema": {"type": "object"}} for media in media_types}}}


def _parameter(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


F_PARAMETER = _parameter("f", "json or html (otherwise from the Accept header)", {"enum": ["json", "html"]})
CRS_NAMES = list(SUPPORTED)
ITEMS_PARAMETERS = [
    _parameter("f", "json (GeoJSON) or html; geojson is read as json", {"enum": ["json", "geojson", "html"]}),
    _parameter(
        "limit",
        f"features per page (a larger value is served as {MAX_LIMIT})",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        style="form",
        explode=False,
    ),
    _parameter(
        "offset",
        "position of the first feature in the matched list (the next and prev links carry it)",
        {"type": "integer", "minimum": 0, "default": 0},
    ),
    _parameter(
        "bbox",
        "features whose geometry meets the box minx,miny,maxx,maxy (CRS84 unless bbox-crs)",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        style="form",
        explode=False,
    ),
    _parameter("bbox-crs", "the CRS of bbox", {"type": "string", "enum": CRS_NAMES}),
    _parameter(
        "crs", "the CRS of the geometries answered (Content-Crs says it)", {"type": "string", "enum": CRS_NAMES}
    ),
    _parameter(
        "datetime",
        "RFC 3339 instant or interval; these features have no time, so it keeps every one",
        {"type": "string"},
    ),
    _parameter(
        "filter",
        f"a CQL2 expression (text, or JSON with filter-lang=cql2-json) on the fields of "
        f"/collections/{{collectionId}}/queryables: {cql2.SUPPORTED}, with 'text', numbers, TRUE and FALSE "
        f"(population > 10000 AND departement = '80'; name LIKE 'Saint-%'; S_INTERSECTS(geometry, POINT(2.3 49.9))); "
        f"at most {cql2.MAX_LENGTH} characters and {cql2.MAX_DEPTH} levels of nesting",
        {"type": "string", "maxLength": cql2.MAX_LENGTH},
    ),
    _parameter(
        "filter-lang",
        "the language of filter: cql2-text (the default) or cql2-json",
        {"type": "string", "enum": list(cql2.LANGUAGES), "default": "cql2-text"},
    ),
    _parameter(
        "filter-crs",
        "the CRS of the geometries in filter (CRS84 by default)",
        {"type": "string", "enum": CRS_NAMES},
    ),
    _parameter(
        "sortby",
        "comma-separated queryables, each +name (ascending, the default) or -name (descending); nulls last",
        {"type": "array", "items": {"type": "string"}},
        style="form",
        explode=False,
    ),
    _parameter(
        "properties",
        "comma-separated properties each feature keeps (every one by default)",
        {"type": "array", "items": {"type": "string"}},
        style="form",
        explode=False,
    ),
    _parameter("skipGeometry", "true: features without geometry", {"type": "boolean", "default": False}),
    _parameter(
        "filters",
        "simple filters field=value on the fields of /collections/{collectionId}/queryables (AND)",
        {"type": "object", "additionalProperties": {"type": "string"}},
        style="form",
        explode=True,
    ),
]


def _coverage_readers() -> dict[str, tuple[TypeAdapter[Any], Any, str]]:
    """Each coverage parameter's reader (its type with its bounds), default and description, taken from the
    coverage route's own signature, so that both routes accept and refuse the same values."""
    hints = get_type_hints(coverage_params, include_extras=True)
    readers: dict[str, tuple[TypeAdapter[Any], Any, str]] = {}
    for name, parameter in inspect.signature(coverage_params).parameters.items():
        base, *metadata = get_args(hints[name])
        info = next(m for m in metadata if isinstance(m, FieldInfo))
        kind = Annotated[base, *info.metadata] if info.metadata else base
        readers[name] = (TypeAdapter(kind), parameter.default, info.description or name)
    return readers


COVERAGE_READERS = _coverage_readers()
COVERAGE_PARAMETERS = [
    _parameter(
        name,
        f"{description} (collections coverage and zones-blanches only; default {default})",
        {**adapter.json_schema(), "default": default},
    )
    for name, (adapter, default, description) in COVERAGE_READERS.items()
]
ITEMS_PARAMETERS += COVERAGE_PARAMETERS
COLLECTION_ID = Annotated[
    str, Path(alias="collectionId", description=f"one of {', '.join(SPECS)}", examples=["communes"])
]


def _extra(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {"parameters": list(parameters)}


# --- answering -------------------------------------------------------------------------------------------------


def _query(request: Request) -> Query:
    return Query(request.query_params.multi_items())


def _accept(request: Request) -> str | None:
    return request.headers.get("accept")


def _wants_html(request: Request) -> bool:
    given = request.query_params.getlist("f")
    if given:
        return given[0].strip().lower() == "html"
    return prefers_html(_accept(request) or "")


def _headers(request: Request, etag: str | None = None) -> dict[str, str]:
    headers = {"Vary": "Accept", "Cache-Control": request.app.state.settings.cache_control}
    if etag is not None:
        headers["ETag"] = etag
    return headers


def _send(request: Request, body: str | bytes, media_type: str, etag: str, **extra: str) -> Response:
    headers = {**_headers(request, etag), **extra}
    return Response(body, media_type=media_type, headers=headers)


def _json(request: Request, document: Any, media_type: str, *key: object, **extra: str) -> Response:
    etag = documents.etag(current_snapshot(request).data.version, public_base(request), media_type, *key)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return _send(request, body, media_type, etag, **extra)


def _page(
    request: Request, template: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    settings = request.app.state.settings
    body = TEMPLATES.get_template(template).render(
        base=public_base(request), value=french_value, specs=SPECS, **context
    )
    headers = {**security_headers(settings, body), **_headers(request), **(headers or {})}
    return HTMLResponse(body, status_code=status, headers=headers)


STATUSES = ((BadRequestError, 400), (InvalidInputError, 422), (NotFoundError, 404), (TooBusyError, 429))
REFUSALS = tuple(kind for kind, _ in STATUSES)
TITLES = {400: "Demande incorrecte", 404: "Ressource introuvable", 422: "Demande incorrecte", 429: "Serveur occupé"}


def _refusal_page(request: Request, exc: Exception) -> HTMLResponse | None:
    """The French page for a refusal a browser asked for (same status), or None for a JSON client."""
    if not _wants_html(request):
        return None
    status = next(code for kind, code in STATUSES if isinstance(exc, kind))
    extra = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooBusyError) else {}
    return _page(
        request, "ogc_erreur.html", status=status, headers=extra, title=TITLES[status], code=status,
        message=printable(str(exc)),
    )  # fmt: skip


def html_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A refusal asked for by a browser is a short French page (same status); JSON clients get the usual JSON."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(*args, **kwargs)
            except REFUSALS as exc:
                page = _refusal_page(kwargs["request"], exc)
                if page is None:
                    raise
                return page

        return run

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except REFUSALS as exc:
            page = _refusal_page(kwargs["request"], exc)
            if page is None:
                raise
            return page

    return wrapper


def _base_and_format(request: Request, allowed: tuple[str, ...] = ("json", "html")) -> tuple[str, str]:
    """For the documents that select nothing: ``f`` read strictly, any parameter they do not define ignored
    (GDAL sends its connection string's query everywhere: see ``geo_service.ogc.params``)."""
    return public_base(request), read_format(_query(request), _accept(request), allowed=allowed)


Pairs = tuple[tuple[str, str], ...]


def _coverage_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return number_text(value)
    return str(value)


def read_coverage(query: Query, spec: CollectionSpec) -> tuple[CoverageParams | None, Pairs]:
    """The coverage parameters a coverage collection is asked with (None when none is given, or for another
    collection), and those that differ from the defaults as link parameters, re-encoded. A value the coverage
    route would refuse is a 422 naming it; one given twice must say the same both times."""
    if not spec.coverage:
        return None, ()
    values: dict[str, Any] = {}
    for name, (adapter, _, _) in COVERAGE_READERS.items():
        texts = query.getlist(name)
        read = []
        for text in texts:
            try:
                read.append(adapter.validate_python(text))
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                raise InvalidInputError(f"{name}={text!r}: {reason}") from None
        if len(set(read)) > 1:
            raise BadRequestError(f"{name} is given {len(texts)} times with different values: give it once")
        if read:
            values[name] = read[0]
    if not values:
        return None, ()
    params = CoverageParams(**values)
    pairs = tuple(
        (name, _coverage_text(getattr(params, name)))
        for name, (_, default, _) in COVERAGE_READERS.items()
        if getattr(params, name) != default
    )
    return params, pairs


async def _computed(
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


# --- Features ----------------------------------------------------------------------------------------------------


@router.get(
    "/",
    summary="OGC API landing page (HTML for browsers, JSON otherwise)",
    response_class=Response,
    responses={**_ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=_extra(F_PARAMETER),
)
@html_errors
def landing(request: Request) -> Response:
    base, fmt = _base_and_format(request)
    document = documents.landing(base, fmt)
    if fmt == "html":
        return _page(request, "ogc_accueil.html", title=documents.TITLE, doc=document)
    return _json(request, document, JSON, "landing", fmt)


@router.get(
    "/api",
    summary="The API definition in OpenAPI 3.0 (f=html: the interactive documentation)",
    response_class=Response,
    responses={**_ok(OPENAPI_JSON), 303: {"description": "f=html: to /docs"}, **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=_extra(F_PARAMETER),
)
@html_errors
def api_definition(request: Request) -> Response:
    base, fmt = _base_and_format(request)
    if fmt == "html":
        return RedirectResponse(f"{base}docs", status_code=303)
    converted = _openapi_30(request.app)
    generic = converted["paths"]["/collections/{collectionId}/items"]["get"]
    generic_item = converted["paths"]["/collections/{collectionId}/items/{featureId}"]["get"]
    coverage = [p for p in generic.get("parameters", []) if p.get("name") in COVERAGE_READERS]
    own = documents.collection_item_paths(generic, generic_item, _all_tables(request), coverage)
    paths = {**converted["paths"], **own}
    document = {**converted, "paths": paths, "servers": [{"url": base.rstrip("/") or "/"}]}
    return _json(request, document, OPENAPI_JSON, "api")


_converted: weakref.WeakKeyDictionary[FastAPI, dict[str, Any]] = weakref.WeakKeyDictionary()


def _openapi_30(app: FastAPI) -> dict[str, Any]:
    found = _converted.get(app)
    if found is None:
        found = _converted[app] = openapi_30(app.openapi())
    return found


@router.get(
    "/conformance",
    summary="The conformance classes this API implements",
    response_class=Response,
    responses={**_ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=_extra(F_PARAMETER),
)
@html_errors
def conformance(request: Request) -> Response:
    base, fmt = _base_and_format(request)
    document = documents.conformance(base, fmt)
    if fmt == "html":
        return _page(request, "ogc_conformite.html", title="Conformité aux standards OGC", doc=document)
    return _json(request, document, JSON, "conformance", fmt)


def _all_tables(request: Request) -> dict[str, Any]:
    data = current_snapshot(request).data
    return {name: table(data, name) for name in SPECS}


@router.get(
    "/collections",
    summary="The feature collections (one per map layer)",
    response_class=Response,
    responses={**_ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=_extra(F_PARAMETER),
)
@html_errors
def collections(request: Request) -> Response:
    base, fmt = _base_and_format(request)
    document = documents.collections(base, _all_tables(request), fmt)
    if fmt == "html":
        return _page(request, "ogc_collections.html", title="Collections de données", doc=document)
    return _json(request, document, JSON, "collections", fmt)


@router.get(
    "/collections/{collectionId}",
    summary="One collection's metadata: extent, CRS, links to its items, queryables and tiles",
    response_class=Response,
    responses={**_ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra(F_PARAMETER),
)
@html_errors
async def collection(request: Request, collection_id: COLLECTION_ID) -> Response:
    """A coverage collection's extent and links follow the coverage parameters it is asked with."""
    spec = check_collection(collection_id)
    base, fmt = _base_and_format(request)
    params, extra = read_coverage(_query(request), spec)

    def work() -> Response:
        features = table(current_snapshot(request).data, spec.id, params)
        document = documents.collection(base, spec, features, fmt, extra)
        if fmt == "html":
            return _page(
                request, "ogc_collection.html", title=spec.title, doc=document, spec=spec, table=features,
                extra=extra,
            )  # fmt: skip
        return _json(request, document, JSON, spec.id, fmt, extra)

    return await _computed(request, spec, params, work)


@router.get(
    "/collections/{collectionId}/queryables",
    summary="The fields a simple filter (?field=value) or a CQL2 filter may name, as a JSON Schema",
    response_class=Response,
    responses={**_ok(SCHEMA_JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra(F_PARAMETER),
)
@html_errors
def queryables(request: Request, collection_id: COLLECTION_ID) -> Response:
    spec = check_collection(collection_id)
    base, fmt = _base_and_format(request)
    features = table(current_snapshot(request).data, spec.id)
    document = documents.queryables(base, spec, features)
    if fmt == "html":
        return _page(request, "ogc_champs.html", title=f"{spec.title} : champs filtrables", doc=document, spec=spec)
    return _json(request, document, SCHEMA_JSON, spec.id, "queryables")


@router.get(
    "/collections/{collectionId}/schema",
    summary="The features' schema (OGC API – Features Part 5): every property with its type, values and role",
    response_class=Response,
    responses={**_ok(SCHEMA_JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra({**F_PARAMETER, "schema": {"enum": ["json"]}}),
)
@html_errors
def feature_schema(request: Request, collection_id: COLLECTION_ID) -> Response:
    spec = check_collection(collection_id)
    base, _ = _base_and_format(request, allowed=("json",))
    features = table(current_snapshot(request).data, spec.id)
    return _json(request, documents.schema(base, spec, features), SCHEMA_JSON, spec.id, "schema")


@router.get(
    "/collections/{collectionId}/items",
    summary="A collection's features: bbox, simple filters, CQL2 filter, limit and offset paging, crs",
    response_class=Response,
    responses={**_ok(GEOJSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND, **TOO_BUSY},
    openapi_extra=_extra(*ITEMS_PARAMETERS),
)
@html_errors
async def items(request: Request, collection_id: COLLECTION_ID) -> Response:
    """Full-detail geometries, in CRS84 unless ``crs`` names another; ``numberMatched`` counts every feature the
    bbox and filters select, ``next``/``prev`` links page through them (keeping every parameter)."""
    spec = check_collection(collection_id)
    query = _query(request)
    params, extra = read_coverage(query, spec)
    if params is not None:  # the rest read before any costly work: a typo must not cost a coverage computation
        read_items_query(query, _accept(request), list(COLUMNS), list(COVERAGE_READERS))
    work = lambda: _items(request, spec, query, params, extra)  # noqa: E731
    return await _computed(request, spec, params, work, costly=_large_page(query))


def _large_page(query: Query) -> bool:
    """A page of items beyond the default size, or in another CRS, is costly work (up to 10 000 full-detail
    features, reprojected): forty at once took 9 s from /healthz and a gigabyte. Read here without failing: a
    bad value is refused, with its message, by the items' own reading."""
    limits = [text.strip() for text in query.getlist("limit")]
    small = all(text.isascii() and text.isdigit() and len(text) <= 6 and int(text) <= DEFAULT_LIMIT for text in limits)
    return not small or any("CRS84" not in crs for crs in query.getlist("crs"))


def _items(request: Request, spec: CollectionSpec, raw: Query, params: CoverageParams | None, extra: Pairs) -> Response:
    data = current_snapshot(request).data
    features = table(data, spec.id, params)
    coverage_names = list(COVERAGE_READERS) if spec.coverage else []
    query = read_items_query(raw, _accept(request), list(features.fields), coverage_names)
    query = dataclasses.replace(query, extra=extra)
    areas = None if query.bbox is None else bbox_area(query.bbox, query.bbox_crs)
    rows = features.select(areas, query.filters, query.filter)
    if query.sortby:
        rows = features.sort(rows, query.sortby)
    page = rows[query.offset : query.offset + query.limit]
    base = public_base(request)
    if query.format == "html":
        document, _ = documents.items(base, spec, query, len(rows), ["" for _ in page])
        kept = list(features.fields) if query.properties is None else query.properties
        shown = [(features.ids[row], {k: features.columns[k][row] for k in kept}) for row in page.tolist()]
        return _page(
            request, "ogc_objets.html", title=spec.title, doc=document, spec=spec, table=features, shown=shown,
            query=query, filter_text=None if query.filter is None else query.filter.link_text(),
        )  # fmt: skip
    moved = query.crs.uri != CRS84 and not query.skip_geometry
    geometries = from_crs84(features.geometries[page], query.crs) if moved else None
    texts = features.feature_json(page, geometries, query.properties, query.skip_geometry)
    document, joined = documents.items(base, spec, query, len(rows), texts)
    head = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    body = f'{head[:-1]},"features":[{joined}]}}'
    etag = documents.etag(data.version, base, spec.id, query.link_parameters(fmt="json"))
    return _send(request, body, GEOJSON, etag, **{"Content-Crs": f"<{query.crs.uri}>"})


@router.get(
    # :path, so that an id holding an encoded slash (%2F) still reaches this route and is answered as an unknown
    # feature, in the format asked, rather than as the router's bare 404
    "/collections/{collectionId}/items/{featureId:path}",
    summary="One feature (id: INSEE or SIREN code, or project id)",
    response_class=Response,
    responses={**_ok(GEOJSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND, **TOO_BUSY},
    openapi_extra=_extra(ITEMS_PARAMETERS[0], ITEMS_PARAMETERS[5], *COVERAGE_PARAMETERS),
)
@html_errors
async def item(
    request: Request,
    collection_id: COLLECTION_ID,
    feature_id: Annotated[str, Path(alias="featureId", examples=["80021"])],
) -> Response:
    spec = check_collection(collection_id)
    if not feature_id:  # .../items/ (the path convertor matches nothing too): the items, as elsewhere a slash less
        query_text = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{public_base(request)}collections/{spec.id}/items{query_text}", status_code=307)
    query = _query(request)
    params, extra = read_coverage(query, spec)
    fmt, crs = read_item_query(query, _accept(request), list(COVERAGE_READERS) if spec.coverage else [])
    return await _computed(request, spec, params, lambda: _item(request, spec, feature_id, fmt, crs, params, extra))


def _item(
    request: Request,
    spec: CollectionSpec,
    feature_id: str,
    fmt: str,
    crs: Crs,
    params: CoverageParams | None,
    extra: Pairs,
) -> Response:
    data = current_snapshot(request).data
    features = table(data, spec.id, params)
    row = features.row_of(feature_id)
    if row is None:
        shown = feature_id if len(feature_id) <= 80 else f"{feature_id[:80]}…"
        raise NotFoundError(f"no feature {shown!r} in collection {spec.id!r}")
    base = public_base(request)
    links = documents.item_links(base, spec, feature_id, fmt, extra)
    if fmt == "html":
        geometry = features.geometries[row]
        return _page(
            request, "ogc_objet.html", title=f"{spec.title} : {features.properties(row).get('name', feature_id)}",
            spec=spec, feature_id=feature_id, properties=features.properties(row), links=links,
            picture=outline_svg(geometry), fields=features.fields,
        )  # fmt: skip
    geometries = None if crs.uri == CRS84 else from_crs84(features.geometries[[row]], crs)
    text = features.feature_json([row], geometries)[0]
    body = f'{text[:-1]},"links":{json.dumps(links, ensure_ascii=False, separators=(",", ":"))}}}'
    etag = documents.etag(data.version, base, spec.id, feature_id, crs.uri, extra)
    return _send(request, body, GEOJSON, etag, **{"Content-Crs": f"<{crs.uri}>"})


# --- Tiles -------------------------------------------------------------------------------------------------------


@router.get(
    "/tileMatrixSets",
    summary="The tile matrix sets the tiles use (WebMercatorQuad)",
    response_class=Response,
    responses={**_ok(JSON), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=_extra({**F_PARAMETER, "schema": {"enum": ["json"]}}),
)
@html_errors
def matrix_sets(request: Request) -> Response:
    base, _ = _base_and_format(request, allowed=("json",))
    return _json(request, tile_matrix_sets(base), JSON, "tileMatrixSets")


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    summary="The WebMercatorQuad tile matrix set (OGC 2D Tile Matrix Set 2.0, JSON)",
    response_class=Response,
    responses={**_ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra({**F_PARAMETER, "schema": {"enum": ["json"]}}),
)
@html_errors
def matrix_set(request: Request, tms: Annotated[str, Path(alias="tileMatrixSetId", examples=[TMS_ID])]) -> Response:
    check_tile_matrix_set(tms)
    _base_and_format(request, allowed=("json",))
    return _json(request, tile_matrix_set(), JSON, "tileMatrixSet")


def _tilesets(request: Request, collection_id: str, kind: Kind) -> Response:
    spec = check_collection(collection_id)
    base, _ = _base_and_format(request, allowed=("json",))
    return _json(request, tilesets(base, spec, kind), JSON, spec.id, kind, "tilesets")


def _tileset(request: Request, collection_id: str, tms: str, kind: Kind) -> Response:
    spec = check_collection(collection_id)
    check_tile_matrix_set(tms)
    base, _ = _base_and_format(request, allowed=("json",))
    snapshot = current_snapshot(request)
    version = snapshot.tiles.layer_version(spec.id)
    vector = snapshot.tiles.tilejson(spec.id, base, "mvt")["vector_layers"][0]["fields"]
    fields = _tile_fields(spec, table(snapshot.data, spec.id), vector)
    document = tileset(
        base, spec, kind, bounds=_bounds(request, spec), maxzoom=LAYERS[spec.id].maxzoom, version=version,
        fields=fields, attribution=ATTRIBUTION,
    )  # fmt: skip
    return _json(request, document, JSON, spec.id, kind, version)


def _tile_fields(spec: CollectionSpec, features: Any, vector: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each field of the vector tiles as JSON Schema: the collection's type and coded values where the
    collection has the field (an integer stays an integer), else the TileJSON type (Number, Boolean, String);
    list fields are comma-separated text in tiles too."""
    tilejson_types = {"Number": "number", "Boolean": "boolean", "String": "string"}
    fields: dict[str, dict[str, Any]] = {}
    for name, kind in vector.items():
        info = features.fields.get(name)
        if info is not None:
            entry = documents.field_schema(spec, info)
            entry.pop("title", None)
            fields[name] = entry
        else:
            fields[name] = {"type": tilejson_types.get(kind, "string")}
    return fields


def _bounds(request: Request, spec: CollectionSpec) -> tuple[float, float, float, float]:
    """The collection's CRS84 extent (the région's when it has no geometry)."""
    snapshot = current_snapshot(request)
    extent = table(snapshot.data, spec.id).extent()
    return tuple(extent) if extent is not None else snapshot.tiles.bounds  # type: ignore[return-value]


async def _tile(
    request: Request, collection_id: str, tms: str, matrix: str, row: str, col: str, kind: Kind
) -> Response:
    """A tile at the standard's path (/req/tileset/tc-op), served by the tile route itself; outside the
    tileset's limits, a 404 as /req/tileset/tc-success D asks (the /tiles routes answer 204 there)."""
    spec = check_collection(collection_id)
    check_tile_matrix_set(tms)
    if not all(re.fullmatch(r"[0-9]+", part) for part in (matrix, row, col)):
        raise BadRequestError(
            f"tile {matrix!r}/{row!r}/{col!r}: tileMatrix, tileRow and tileCol are whole numbers (0 or more)"
        )
    if max(len(matrix), len(row), len(col)) > 10:  # beyond any grid (and beyond what int() reads at 4 300 digits)
        raise NotFoundError(f"tile {matrix[:12]}…: outside the limits of {spec.id!r}")
    z, y, x = int(matrix), int(row), int(col)
    if not 0 <= z <= LAYERS[spec.id].maxzoom:
        raise NotFoundError(f"tileMatrix {z} is outside 0 to {LAYERS[spec.id].maxzoom} for {spec.id!r}")
    west, south, east, north = _bounds(request, spec)
    top_left, bottom_right = tile_of(west, north, z), tile_of(east, south, z)
    if not (top_left.x <= x <= bottom_right.x and top_left.y <= y <= bottom_right.y):
        raise NotFoundError(f"tile {z}/{y}/{x} (tileMatrix/tileRow/tileCol) is outside the limits of {spec.id!r}")
    suffix = "mvt" if kind == "vector" else "png"
    return await tile_routes.tile(request, spec.id, z, x, f"{y}.{suffix}")


TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "no feature in this tile"},
    **NOT_MODIFIED,
    **BAD_REQUEST,
    **NOT_FOUND,
    429: {"model": ErrorDetail, "description": "a coverage layer under parameters not drawn before, too much at once"},
}
TMS_PATH = Annotated[str, Path(alias="tileMatrixSetId", examples=[TMS_ID])]


@router.get(
    "/collections/{collectionId}/tiles",
    summary="A collection's vector tilesets",
    response_class=Response,
    responses={**_ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra({**F_PARAMETER, "schema": {"enum": ["json"]}}),
)
@html_errors
def vector_tilesets(request: Request, collection_id: COLLECTION_ID) -> Response:
    return _tilesets(request, collection_id, "vector")


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    summary="A vector tileset: its tile URL template (/tiles/{layer}/{z}/{x}/{y}.mvt) and limits",
    response_class=Response,
    responses={**_ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra({**F_PARAMETER, "schema": {"enum": ["json"]}}),
)
@html_errors
def vector_tileset(request: Request, collection_id: COLLECTION_ID, tms: TMS_PATH) -> Response:
    return _tileset(request, collection_id, tms, "vector")


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile (the same bytes as /tiles/{layer}/{z}/{x}/{y}.mvt)",
    response_class=Response,
    responses={200: {"content": {"application/vnd.mapbox-vector-tile": {}}}, **TILE_RESPONSES},
)
@html_errors
async def vector_tile(
    request: Request,
    collection_id: COLLECTION_ID,
    tms: TMS_PATH,
    matrix: Annotated[str, Path(alias="tileMatrix", examples=["10"])],
    row: Annotated[str, Path(alias="tileRow", examples=["348"])],
    col: Annotated[str, Path(alias="tileCol", examples=["518"])],
) -> Response:
    return await _tile(request, collection_id, tms, matrix, row, col, "vector")


@router.get(
    "/collections/{collectionId}/map/tiles",
    summary="A collection's map (PNG) tilesets",
    response_class=Response,
    responses={**_ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra({**F_PARAMETER, "schema": {"enum": ["json"]}}),
)
@html_errors
def map_tilesets(request: Request, collection_id: COLLECTION_ID) -> Response:
    return _tilesets(request, collection_id, "map")


@router.get(
    "/collections/{collectionId}/map/tiles/{tileMatrixSetId}",
    summary="A map tileset: its tile URL template (/tiles/{layer}/{z}/{x}/{y}.png) and limits",
    response_class=Response,
    responses={**_ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=_extra({**F_PARAMETER, "schema": {"enum": ["json"]}}),
)
@html_errors
def map_tileset(request: Request, collection_id: COLLECTION_ID, tms: TMS_PATH) -> Response:
    return _tileset(request, collection_id, tms, "map")


@router.get(
    "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A map tile, PNG 256 px (the same bytes as /tiles/{layer}/{z}/{x}/{y}.png)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **TILE_RESPONSES},
)
@html_errors
async def map_tile(
    request: Request,
    collection_id: COLLECTION_ID,
    tms: TMS_PATH,
    matrix: Annotated[str, Path(alias="tileMatrix", examples=["10"])],
    row: Annotated[str, Path(alias="tileRow", examples=["348"])],
    col: Annotated[str, Path(alias="tileCol", examples=["518"])],
) -> Response:
    return await _tile(request, collection_id, tms, matrix, row, col, "map")
