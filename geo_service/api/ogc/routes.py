"""The OGC API's router: the documents that stand alone (landing page, API definition, conformance, the list of
collections, the tile matrix sets), and the collection and tile routes the factories register (``factory``), in
the order the OpenAPI document lists them."""

from __future__ import annotations

import weakref
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from geo_service.api.deps import current_snapshot
from geo_service.api.errors import OgcRoute
from geo_service.api.ogc.common import (
    BAD_REQUEST,
    NOT_FOUND,
    NOT_MODIFIED,
    TMS_PATH,
    base_and_format,
    ok,
    page,
    send_json,
)
from geo_service.api.ogc.factory import add_collection_routes, add_tile_routes, declared
from geo_service.api.ogc.parameters import KINDS, FormatParameters, JsonParameters, kind_of, openapi_parameters
from geo_service.api.ogc.tiles import MAP, VECTOR
from geo_service.ogc import documents
from geo_service.ogc.collections import SPECS, table
from geo_service.ogc.documents import HTML, JSON, OPENAPI_JSON
from geo_service.ogc.openapi30 import openapi_30
from geo_service.ogc.tiles import check_tile_matrix_set, tile_matrix_set, tile_matrix_sets

router = APIRouter(tags=["ogc-api"], route_class=OgcRoute)
FORMAT = declared(*openapi_parameters(FormatParameters))
JSON_ONLY = declared(*openapi_parameters(JsonParameters))


@router.get(
    "/",
    summary="OGC API landing page (HTML for browsers, JSON otherwise)",
    response_class=Response,
    responses={**ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=FORMAT,
)
def landing(request: Request) -> Response:
    base, fmt = base_and_format(request)
    document = documents.landing(base, fmt)
    if fmt == "html":
        return page(request, "ogc_accueil.html", title=documents.TITLE, doc=document)
    return send_json(request, document, JSON, "landing", fmt)


@router.get(
    "/api",
    summary="The API definition in OpenAPI 3.0 (f=html: the interactive documentation)",
    response_class=Response,
    responses={**ok(OPENAPI_JSON), 303: {"description": "f=html: to /docs"}, **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=FORMAT,
)
def api_definition(request: Request) -> Response:
    base, fmt = base_and_format(request)
    if fmt == "html":
        return RedirectResponse(f"{base}docs", status_code=303)
    converted = _openapi_30(request.app)
    generic = converted["paths"]["/collections/{collectionId}/items"]["get"]
    generic_item = converted["paths"]["/collections/{collectionId}/items/{featureId}"]["get"]
    # each collection's kind's own parameters, as the generic operation lists them (converted to 3.0)
    listed = {p.get("name"): p for p in generic.get("parameters", [])}
    own = {name: [listed[n] for n in kind_of(spec).parameter_names if n in listed] for name, spec in SPECS.items()}
    paths = {**converted["paths"], **documents.collection_item_paths(generic, generic_item, _all_tables(request), own)}
    document = {**converted, "paths": paths, "servers": [{"url": base.rstrip("/") or "/"}]}
    return send_json(request, document, OPENAPI_JSON, "api")


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
    responses={**ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=FORMAT,
)
def conformance(request: Request) -> Response:
    base, fmt = base_and_format(request)
    document = documents.conformance(base, fmt)
    if fmt == "html":
        return page(request, "ogc_conformite.html", title="Conformité aux standards OGC", doc=document)
    return send_json(request, document, JSON, "conformance", fmt)


def _all_tables(request: Request) -> dict[str, Any]:
    data = current_snapshot(request).data
    return {name: table(data, name) for name in SPECS}


@router.get(
    "/collections",
    summary="The feature collections (one per map layer)",
    response_class=Response,
    responses={**ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=FORMAT,
)
def collections(request: Request) -> Response:
    base, fmt = base_and_format(request)
    document = documents.collections(base, _all_tables(request), fmt)
    if fmt == "html":
        return page(request, "ogc_collections.html", title="Collections de données", doc=document)
    return send_json(request, document, JSON, "collections", fmt)


add_collection_routes(router, KINDS)


@router.get(
    "/tileMatrixSets",
    summary="The tile matrix sets the tiles use (WebMercatorQuad)",
    response_class=Response,
    responses={**ok(JSON), **NOT_MODIFIED, **BAD_REQUEST},
    openapi_extra=JSON_ONLY,
)
def matrix_sets(request: Request) -> Response:
    base, _ = base_and_format(request, allowed=("json",))
    return send_json(request, tile_matrix_sets(base), JSON, "tileMatrixSets")


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    summary="The WebMercatorQuad tile matrix set (OGC 2D Tile Matrix Set 2.0, JSON)",
    response_class=Response,
    responses={**ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
    openapi_extra=JSON_ONLY,
)
def matrix_set(request: Request, tms: TMS_PATH) -> Response:
    check_tile_matrix_set(tms)
    base_and_format(request, allowed=("json",))
    return send_json(request, tile_matrix_set(), JSON, "tileMatrixSet")


add_tile_routes(router, VECTOR)
add_tile_routes(router, MAP)
