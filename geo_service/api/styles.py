"""Styles and legends for partners' maps: MapLibre styles and their sprite (/styles), the legend of every layer
(/api/v1/legend), QGIS style files (/styles/{layer}.qml) and a MapLibre example page (/exemples/maplibre).

All of them are made from ``geo_service.legend``, which reads the PNG renderer's styles. Handlers are coroutines:
the documents are small and built in microseconds, and a plain function would wait for a thread behind costly
work.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from geo_service.api.deps import CoverageParamsDep, current_snapshot
from geo_service.api.errors import NOT_MODIFIED, errors
from geo_service.api.http import json_response, public_base
from geo_service.errors import InvalidInputError, NotFoundError
from geo_service.legend import LEGENDS, legend_document
from geo_service.maps.policy import maplibre_policy
from geo_service.parameters import CoverageParams
from geo_service.qml import QML_KINDS, qml_document
from geo_service.sprite import sprite
from geo_service.styles import STYLES, style_document, style_list
from geo_service.tiles.layers import LAYERS

router = APIRouter(tags=["styles"])
SPRITE_NAMES = {"sprite": 1, "sprite@2x": 2}
JSON_ANSWER = {200: {"content": {"application/json": {}}}, **NOT_MODIFIED}
EXAMPLE_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "exemple_maplibre.html"


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def _coverage_query(request: Request, layer: str, params: CoverageParams) -> tuple[str, CoverageParams | None]:
    """The rule's parameters the URL gave, re-encoded as understood (none of the request's own text goes into
    a document); refused on a layer that has no rule, rather than silently ignored."""
    given = CoverageParams.given(request.query_params)
    if not given:
        return "", None
    if not LAYERS[layer].depends_on_coverage:
        raise InvalidInputError(f"{', '.join(given)}: layer {layer!r} has no coverage rule to set")
    return urlencode(params.query_pairs(given)), params


@router.get("/styles", summary="The MapLibre styles of our vector tiles", responses=JSON_ANSWER)
async def styles(request: Request) -> Response:
    document = style_list(public_base(request))
    body = repr(document).encode()
    return json_response(request, document, _etag(body))


@router.get(
    "/styles/{name}.json",
    summary="A MapLibre style (v8) of our vector tiles, or the sprite's index (sprite.json, sprite@2x.json)",
    response_class=Response,
    responses={**JSON_ANSWER, **errors(404)},
)
async def style(request: Request, name: str, params: CoverageParamsDep) -> Response:
    """`coverage` and `zones-blanches`: the classes, colours, outlines and hatching of our PNG tiles, drawn from
    the layer's TileJSON. The coverage rule's parameters (`?max_km=15`) are passed on to the TileJSON URL."""
    if name in SPRITE_NAMES:
        index = sprite(SPRITE_NAMES[name])
        return Response(
            index.json,
            media_type="application/json",
            headers={"ETag": _etag(index.json), "Cache-Control": request.app.state.settings.cache_control},
        )
    if name not in STYLES:
        raise NotFoundError(f"style {name!r}: expected one of {', '.join(STYLES)}")
    query, _ = _coverage_query(request, STYLES[name], params)
    bounds = current_snapshot(request).tiles.bounds
    document = style_document(name, public_base(request), query, bounds)
    return json_response(request, document, _etag(repr(document).encode()))


@router.get(
    "/styles/{name}.png",
    summary="The sprite of our styles: sprite.png, sprite@2x.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **NOT_MODIFIED, **errors(404)},
)
async def sprite_image(request: Request, name: str) -> Response:
    if name not in SPRITE_NAMES:
        raise NotFoundError(f"sprite image {name!r}: expected one of {', '.join(SPRITE_NAMES)}")
    sheet = sprite(SPRITE_NAMES[name])
    return Response(
        sheet.png,
        media_type="image/png",
        headers={"ETag": _etag(sheet.png), "Cache-Control": request.app.state.settings.cache_control},
    )


@router.get(
    "/styles/{name}.qml",
    summary="A QGIS style file: {layer}.qml for the features (OGC API, GeoJSON, GeoPackage), "
    "{layer}-tuiles.qml for the vector tiles",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **NOT_MODIFIED, **errors(404)},
)
async def qml(request: Request, name: str) -> Response:
    for suffix, kind in QML_KINDS.items():
        layer = name.removesuffix(suffix) if suffix else name
        if (not suffix or name.endswith(suffix)) and layer in LEGENDS:
            body = qml_document(layer, kind).encode()
            filename = f"{name}.qml"
            return Response(
                body,
                media_type="application/xml",
                headers={
                    "ETag": _etag(body),
                    "Cache-Control": request.app.state.settings.cache_control,
                    "Content-Disposition": f'inline; filename="{filename}"',
                },
            )
    raise NotFoundError(f"QGIS style {name!r}: expected a layer ({', '.join(LEGENDS)}), or a layer and '-tuiles'")


@router.get(
    "/api/v1/legend",
    summary="The legend of a map layer: its classes, French labels, colours, hatching, outlines",
    responses={**JSON_ANSWER, **errors(404)},
)
async def legend(
    request: Request,
    layer: Annotated[str, Query(description="a map layer: " + ", ".join(LEGENDS), examples=["coverage"])],
    params: CoverageParamsDep,
) -> Response:
    """What our PNG tiles and styles draw, class by class (`class`, `label` in French, `colour`, `pattern`: the
    sprite image of the hatching or null, `outline`, `when`: the fields that select the class, tested in
    `precedence` order). The coverage layers also give the rule's `parameters` (those of the URL, or the
    defaults) and the `rule` in French."""
    if layer not in LEGENDS:
        raise NotFoundError(f"layer {layer!r}: expected one of {', '.join(LEGENDS)}")
    _, given = _coverage_query(request, layer, params)
    document = legend_document(layer, given)
    return json_response(request, document, _etag(repr(document).encode()))


@router.get("/exemples/maplibre", include_in_schema=False, response_class=HTMLResponse)
async def maplibre_example(request: Request) -> HTMLResponse:
    """A MapLibre page made of our style, tiles and sprite only, to copy from."""
    document = EXAMPLE_TEMPLATE.read_text("utf-8")
    settings = request.app.state.settings
    return HTMLResponse(
        document,
        headers={
            "Content-Security-Policy": maplibre_policy(document, settings.frame_ancestors),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": settings.cache_control,
        },
    )
