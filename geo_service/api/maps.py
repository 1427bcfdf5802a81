"""Pictures of a territory for reports, drawn on the server."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from geo_service.api.deps import CoverageParamsDep, current_snapshot
from geo_service.api.errors import NOT_MODIFIED, errors
from geo_service.api.limits import costly_slot
from geo_service.maps.picture import territory_picture
from geo_service.parameters import CoverageParams
from geo_service.territories import check_code, check_level
from geo_service.tiles.service import EncodedTile

router = APIRouter(prefix="/api/v1/maps", tags=["maps"])


@router.get(
    "/{level}/{code}.png",
    summary="A PNG map of a territory: coverage, zones blanches, projects, legend",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **NOT_MODIFIED, **errors(404, 429)},
)
async def territory_map(request: Request, level: str, code: str, params: CoverageParamsDep) -> Response:
    """Unknown level or code: 404; malformed code: 422. Drawn once per data version and coverage parameters
    (then kept with the tiles; `year` and `status` count only those projects); drawing is costly work, limited
    per client (429 beyond, see api.limits)."""
    snapshot = current_snapshot(request)
    data, tiles = snapshot.data, snapshot.tiles
    data.boundaries.get(check_level(level), check_code(level, code))
    rule = "" if params == CoverageParams() else "-" + hashlib.sha1(repr(params).encode()).hexdigest()[:12]
    etag = f'"{data.version}-map-{level}-{code}{rule}"'  # If-None-Match: the middleware's (api.middleware)
    key = ("picture", data.version, level, code, params)
    found = tiles.cache.get(key)
    if found is None:
        async with costly_slot(request):
            found = tiles.cache.get(key)  # drawn while this request waited its turn
            if found is None:
                body = await run_in_threadpool(territory_picture, data, tiles, level, code, params)
                found = EncodedTile(body, None, etag)
                tiles.cache.put(key, found)
    return Response(
        found.body,
        media_type="image/png",
        headers={
            "ETag": etag,
            "Cache-Control": request.app.state.settings.cache_control,
            "Content-Disposition": f'inline; filename="carte-{level}-{code}.png"',
        },
    )
