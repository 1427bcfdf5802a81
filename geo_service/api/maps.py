"""Pictures of a territory for reports, drawn on the server."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from geo_service.api.deps import DataDep, current_snapshot
from geo_service.api.http import etag_matches
from geo_service.maps.picture import territory_picture
from geo_service.territories import check_code, check_level

router = APIRouter(prefix="/api/v1/maps", tags=["maps"])


@router.get(
    "/{level}/{code}.png",
    summary="A PNG map of a territory: coverage, zones blanches, projects, legend",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def territory_map(request: Request, data: DataDep, level: str, code: str) -> Response:
    """Unknown level or code: 404; malformed code: 422."""
    data.boundaries.get(check_level(level), check_code(level, code))
    etag = f'"{data.version}-map-{level}-{code}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    body = await run_in_threadpool(territory_picture, data, current_snapshot(request).tiles, level, code)
    return Response(
        body,
        media_type="image/png",
        headers={
            "ETag": etag,
            "Cache-Control": request.app.state.settings.cache_control,
            "Content-Disposition": f'inline; filename="carte-{level}-{code}.png"',
        },
    )
