"""Vector and raster tiles, TileJSON, and per-zoom GeoJSON of every map layer.

The coverage layers take the coverage rule's parameters (``?max_km=15``), read by the API's one reader
(``geo_service.api.deps.coverage_params``) and refused as on every route. A tile URL stays short: the tile's key
holds parameters only when the URL names any (the defaults otherwise), and only for a layer that depends on them.
"""

from __future__ import annotations

import hashlib
import re
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Query, Request, Response

from geo_service.api.coverage import PlainParamsDep
from geo_service.api.deps import current_snapshot
from geo_service.api.errors import NOT_MODIFIED, errors
from geo_service.api.http import json_response, public_base
from geo_service.api.limits import costly_slot
from geo_service.api.middleware import accepts_gzip
from geo_service.api.schemas import LayerList
from geo_service.errors import InvalidInputError, NotFoundError
from geo_service.parameters import CoverageParams
from geo_service.tiles.grid import Tile
from geo_service.tiles.layers import LAYERS, check_layer
from geo_service.tiles.service import TileRequest, TileService, parse_bbox

router = APIRouter(tags=["tiles"])
TILE_NAME = re.compile(r"(\d{1,10})(@2x)?\.(mvt|pbf|png)")  # ten digits: beyond any zoom's grid already
MEDIA_TYPES = {"mvt": "application/vnd.mapbox-vector-tile", "png": "image/png"}
IMMUTABLE = "public, max-age=31536000, immutable"
# Tiles to encode wait for one of a few threads: on a few cores more would only share the interpreter's lock
# with the event loop and with the thread publishing a write, and slow both (cached tiles never wait here).
RENDER_LIMITER = CapacityLimiter(2)


def _service(request: Request) -> TileService:
    return current_snapshot(request).tiles


def _params(request: Request, layer: str, params: CoverageParams) -> CoverageParams | None:
    """The parameters for a coverage layer, when the URL names any (None: the defaults, and a short key)."""
    if not LAYERS[layer].depends_on_coverage or not CoverageParams.given(request.query_params):
        return None
    return params


@router.get(
    "/tiles/{layer}/{z}/{x}/{name}",
    summary="A tile: {y}.mvt (vector), {y}.png or {y}@2x.png (raster)",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPES["mvt"]: {}, "image/png": {}}},
        204: {"description": "no feature in this tile"},
        **NOT_MODIFIED,
        **errors(404, 429),  # 429: a coverage layer under parameters not drawn before
    },
)
async def tile(request: Request, layer: str, z: int, x: int, name: str, params: PlainParamsDep) -> Response:
    """WebMercatorQuad XYZ tiles. Out of the grid or beyond the layer's maxzoom: 404. A tile with no feature
    answers 204 with no body. ETag follows the data version; gzip (MVT) when the client accepts it."""
    match = TILE_NAME.fullmatch(name)
    check_layer(layer)
    if match is None:
        raise NotFoundError(f"tile name {name!r}: expected {{y}}.mvt, {{y}}.png or {{y}}@2x.png")
    y, retina, extension = match.groups()
    fmt: Literal["mvt", "png"] = "png" if extension == "png" else "mvt"
    if retina and fmt != "png":
        raise NotFoundError("@2x is for PNG tiles")
    key = TileRequest(layer, Tile(z, x, int(y)), fmt, 2 if retina else 1, _params(request, layer, params))
    service = _service(request)
    encoded = service.cached(key)
    if encoded is None and key.params is not None and not service.layers.ready(layer, key.params):
        # coverage layers under parameters not asked for before: costly, so waits for a place (api.limits)
        async with costly_slot(request):
            encoded = await to_thread.run_sync(service.render, key, limiter=RENDER_LIMITER)
    elif encoded is None:
        encoded = await to_thread.run_sync(service.render, key, limiter=RENDER_LIMITER)
    # ?v= naming the layer's current version: that URL will never serve other bytes, so caches may keep it
    versioned = request.query_params.get("v") == service.layer_version(layer, key.params)
    cache_control = IMMUTABLE if versioned else request.app.state.settings.cache_control
    headers = {"ETag": encoded.etag, "Cache-Control": cache_control}  # If-None-Match: the middleware's
    if not encoded.body:
        return Response(status_code=204, headers=headers)
    if encoded.gzipped is not None:
        # the same URL answers gzip or identity by Accept-Encoding: a shared cache must key on it, identity
        # answers included (an immutable one would otherwise be served to a client that cannot read gzip)
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.headers.get("accept-encoding")):
            headers["Content-Encoding"] = "gzip"
            return Response(encoded.gzipped, media_type=MEDIA_TYPES[fmt], headers=headers)
    return Response(encoded.body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/tiles/{layer}.json",
    summary="TileJSON 3.0 of a layer (format=png for raster tiles)",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **NOT_MODIFIED, **errors(404)},
)
async def tilejson(
    request: Request,
    layer: str,
    coverage: PlainParamsDep,
    format: Literal["mvt", "png"] = "mvt",
    scale: Annotated[int, Query(ge=1, le=2, description="2: the @2x PNG tiles (512 pixels for 256)")] = 1,
) -> Response:
    """Tile URLs carry the layer's version (`?v=`): such tiles are served `immutable` for a year. The TileJSON
    itself follows the configured Cache-Control (revalidate), so a client learns of a new version at once. Under
    coverage parameters not asked for before, naming that version builds the layer: costly work (api.limits)."""
    if scale == 2 and format != "png":
        raise InvalidInputError("scale=2 is for PNG tiles (format=png)")
    check_layer(layer)
    params = _params(request, layer, coverage)
    service = _service(request)
    work = partial(_tilejson, request, service, layer, format, scale, params)
    if params is None or service.layers.ready(layer, params):
        return await to_thread.run_sync(work)
    async with costly_slot(request):
        return await to_thread.run_sync(work, limiter=RENDER_LIMITER)


def _tilejson(
    request: Request, service: TileService, layer: str, format: str, scale: int, params: CoverageParams | None
) -> Response:
    # the parameters as understood, re-encoded: nothing of the request's own text goes into the URLs
    query = "" if params is None else urlencode(params.query_pairs(CoverageParams.given(request.query_params)))
    document = service.tilejson(layer, public_base(request), format, query, params, scale)
    digest = hashlib.sha1(query.encode()).hexdigest()[:8]
    etag = f'"{service.layer_version(layer, params)}-{format}-{scale}-{digest}"'
    return json_response(request, document, etag)


@router.get("/api/v1/layers", response_model=LayerList, summary="The map layers, with their TileJSON URLs")
def layers(request: Request) -> dict[str, Any]:
    base = public_base(request)
    return {
        "layers": [
            {
                "name": info.name,
                "title": info.title,
                "kind": info.kind,
                "description": info.description,
                "maxzoom": info.maxzoom,
                "tilejson": f"{base}tiles/{info.name}.json",
                "tilejson_png": f"{base}tiles/{info.name}.json?format=png",
                "geojson": f"{base}api/v1/layers/{info.name}.geojson",
            }
            for info in LAYERS.values()
        ]
    }


@router.get(
    "/api/v1/layers/{layer}.geojson",
    summary="A layer as GeoJSON, simplified for a zoom",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, **NOT_MODIFIED, **errors(404, 429)},
)
async def layer_geojson(
    request: Request,
    layer: str,
    params: PlainParamsDep,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in WGS84", examples=["2.2,49.8,2.4,50.0"])
    ] = None,
    zoom: Annotated[
        int | None, Query(ge=0, le=22, description="simplification of this zoom (default: from bbox)")
    ] = None,
    properties: Annotated[str | None, Query(description="comma-separated subset of the layer's fields")] = None,
) -> Response:
    """Neighbours share their borders at every zoom (the layer is simplified as a whole). A bbox covering more
    than 256 tiles of the zoom asked is refused with 422.

    Each document is built once per layer version and parameters and kept in the snapshot's tile service (a
    bounded LRU): a repeated request, and each range request of a client reading the file piecewise (GDAL's
    /vsicurl/), costs a slice of bytes already made. Only a document not kept is costly work (a place held)."""
    check_layer(layer)
    service = _service(request)
    box = parse_bbox(bbox) if bbox is not None else None
    wanted = [p.strip() for p in properties.split(",") if p.strip()] if properties else None
    plain = None if params == CoverageParams() or not LAYERS[layer].depends_on_coverage else params
    document = service.cached_geojson(service.geojson_key(layer, box, zoom, wanted, plain))
    if document is None:
        async with costly_slot(request):
            document = await to_thread.run_sync(service.geojson_document, layer, box, zoom, wanted, plain)
    headers = {"ETag": document.etag, "Cache-Control": request.app.state.settings.cache_control}
    headers["Vary"] = "Accept-Encoding"
    if accepts_gzip(request.headers.get("accept-encoding")):
        gzipped = document.gzipped() if document.has_gzip else await to_thread.run_sync(document.gzipped)
        headers["Content-Encoding"] = "gzip"
        return Response(gzipped, media_type="application/geo+json", headers=headers)
    return Response(document.body, media_type="application/geo+json", headers=headers)
