"""The factories that register the OGC API's collection routes and tile routes on a router.

In the manner of tipg's and titiler's endpoint factories: the routes are written once, and what differs between
the kinds they serve is data handed to the factory. ``add_collection_routes`` registers a feature collection's
five routes (metadata, queryables, schema, items, one item) for the kinds of collection it is given
(``parameters.CollectionKind``: plain features, and the coverage collections computed under the coverage rule's
parameters); each route finds its collection's kind, and the OpenAPI document declares each kind's parameters
(as "collections ... only", and on each collection's own items path in ``/api``). ``add_tile_routes`` registers
the three routes of one kind of tile (``tiles.TileKind``: vector or map): tilesets, tileset and tile.

Every route is an ``OgcRoute`` (see ``geo_service.api.errors``): its refusals are the OGC exception JSON, or the
French page for a browser. Operation names (and so OpenAPI's operationIds) stay those of the routes the
factories replaced: ``items``, ``vector_tile``...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from geo_service.api.errors import ErrorDetail
from geo_service.api.ogc import features, tiles
from geo_service.api.ogc.common import (
    BAD_REQUEST,
    COLLECTION_ID,
    NOT_FOUND,
    NOT_MODIFIED,
    TMS_PATH,
    TOO_BUSY,
    Responses,
    ok,
)
from geo_service.api.ogc.parameters import (
    CollectionKind,
    FormatParameters,
    ItemParameters,
    ItemsParameters,
    JsonParameters,
    kind_of,
    openapi_parameters,
)
from geo_service.api.ogc.tiles import TileKind
from geo_service.ogc.collections import check_collection
from geo_service.ogc.documents import GEOJSON, HTML, JSON, SCHEMA_JSON


def declared(*parameters: dict[str, Any]) -> dict[str, Any]:
    """An operation's ``openapi_extra``: its query parameters, declared rather than read by FastAPI."""
    return {"parameters": list(parameters)}


def add_collection_routes(router: APIRouter, kinds: Sequence[CollectionKind]) -> None:
    """A feature collection's routes, for collections of any of ``kinds``."""
    own = [parameter for kind in kinds for parameter in kind.parameters]  # each kind's, said to be its own

    @router.get(
        "/collections/{collectionId}",
        summary="One collection's metadata: extent, CRS, links to its items, queryables and tiles",
        response_class=Response,
        responses={**ok(JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
        openapi_extra=declared(*openapi_parameters(FormatParameters)),
    )
    async def collection(request: Request, collection_id: COLLECTION_ID) -> Response:
        """A coverage collection's extent and links follow the coverage parameters it is asked with."""
        spec = check_collection(collection_id)
        return await features.collection(request, spec, kind_of(spec))

    @router.get(
        "/collections/{collectionId}/queryables",
        summary="The fields a simple filter (?field=value) or a CQL2 filter may name, as a JSON Schema",
        response_class=Response,
        responses={**ok(SCHEMA_JSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
        openapi_extra=declared(*openapi_parameters(FormatParameters)),
    )
    def queryables(request: Request, collection_id: COLLECTION_ID) -> Response:
        return features.queryables(request, check_collection(collection_id))

    @router.get(
        "/collections/{collectionId}/schema",
        summary="The features' schema (OGC API – Features Part 5): every property with its type, values and role",
        response_class=Response,
        responses={**ok(SCHEMA_JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
        openapi_extra=declared(*openapi_parameters(JsonParameters)),
    )
    def feature_schema(request: Request, collection_id: COLLECTION_ID) -> Response:
        return features.feature_schema(request, check_collection(collection_id))

    @router.get(
        "/collections/{collectionId}/items",
        summary="A collection's features: bbox, simple filters, CQL2 filter, limit and offset paging, crs",
        response_class=Response,
        responses={**ok(GEOJSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND, **TOO_BUSY},
        openapi_extra=declared(*openapi_parameters(ItemsParameters), *own),
    )
    async def items(request: Request, collection_id: COLLECTION_ID) -> Response:
        """Full-detail geometries, in CRS84 unless ``crs`` names another; ``numberMatched`` counts every feature the
        bbox and filters select, ``next``/``prev`` links page through them (keeping every parameter)."""
        spec = check_collection(collection_id)
        return await features.items(request, spec, kind_of(spec))

    @router.get(
        # :path, so that an id holding an encoded slash (%2F) still reaches this route and is answered as an
        # unknown feature, in the format asked, rather than as the router's bare 404
        "/collections/{collectionId}/items/{featureId:path}",
        summary="One feature (id: INSEE or SIREN code, or project id)",
        response_class=Response,
        responses={**ok(GEOJSON, HTML), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND, **TOO_BUSY},
        openapi_extra=declared(*openapi_parameters(ItemParameters), *own),
    )
    async def item(
        request: Request,
        collection_id: COLLECTION_ID,
        feature_id: Annotated[str, Path(alias="featureId", examples=["80021"])],
    ) -> Response:
        spec = check_collection(collection_id)
        return await features.item(request, spec, kind_of(spec), feature_id)


TILE_RESPONSES: Responses = {
    204: {"description": "no feature in this tile"},
    **NOT_MODIFIED,
    **BAD_REQUEST,
    **NOT_FOUND,
    429: {"model": ErrorDetail, "description": "a coverage layer under parameters not drawn before, too much at once"},
}
MATRIX = Annotated[str, Path(alias="tileMatrix", examples=["10"])]
ROW = Annotated[str, Path(alias="tileRow", examples=["348"])]
COL = Annotated[str, Path(alias="tileCol", examples=["518"])]


def add_tile_routes(router: APIRouter, kind: TileKind) -> None:
    """The three routes of one kind of tile, under ``/collections/{collectionId}{kind.path}``."""
    base = f"/collections/{{collectionId}}{kind.path}"
    json_only = declared(*openapi_parameters(JsonParameters))

    def tilesets(request: Request, collection_id: COLLECTION_ID) -> Response:
        return tiles.tilesets_document(request, collection_id, kind)

    def tileset(request: Request, collection_id: COLLECTION_ID, tms: TMS_PATH) -> Response:
        return tiles.tileset_document(request, collection_id, tms, kind)

    async def tile(
        request: Request, collection_id: COLLECTION_ID, tms: TMS_PATH, matrix: MATRIX, row: ROW, col: COL
    ) -> Response:
        return await tiles.tile(request, collection_id, tms, matrix, row, col, kind)

    router.add_api_route(
        base, tilesets, methods=["GET"], name=f"{kind.name}_tilesets", summary=kind.tilesets_summary,
        response_class=Response, responses={**ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND},
        openapi_extra=json_only,
    )  # fmt: skip
    router.add_api_route(
        f"{base}/{{tileMatrixSetId}}", tileset, methods=["GET"], name=f"{kind.name}_tileset",
        summary=kind.tileset_summary, response_class=Response,
        responses={**ok(JSON), **NOT_MODIFIED, **BAD_REQUEST, **NOT_FOUND}, openapi_extra=json_only,
    )  # fmt: skip
    router.add_api_route(
        f"{base}/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", tile, methods=["GET"],
        name=f"{kind.name}_tile", summary=kind.tile_summary, response_class=Response,
        responses={200: {"content": {kind.media_type: {}}}, **TILE_RESPONSES},
    )  # fmt: skip
