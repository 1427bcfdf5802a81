"""Place names for web maps: which communes to name at a zoom, as GeoJSON points (see ``geo_service.labels``)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from geo_service.api.deps import DataDep
from geo_service.api.errors import NOT_MODIFIED
from geo_service.api.http import json_response
from geo_service.labels import MAX_ZOOM, MIN_ZOOM, place_labels
from geo_service.tiles.service import parse_bbox

router = APIRouter(prefix="/api/v1", tags=["layers"])


@router.get(
    "/labels",
    summary="Place names to show at a zoom (GeoJSON points, most important first)",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, **NOT_MODIFIED},
)
def labels(
    request: Request,
    data: DataDep,
    zoom: Annotated[int, Query(ge=0, le=22, description=f"map zoom (names are placed for {MIN_ZOOM} to {MAX_ZOOM})")],
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in WGS84", examples=["1.7,50.0,2.0,50.2"])
    ] = None,
    focus: Annotated[
        str | None, Query(max_length=5, description="a commune code whose name must show (a searched place)")
    ] = None,
) -> Response:
    """Préfectures from the lowest zoom, sous-préfectures and large towns from zoom 8, every commune from zoom 10
    as room allows: names never overlap at the zoom asked (the most important are kept). Each point is the town
    hall; `rank` says chef-lieu de région, préfecture, sous-préfecture or commune."""
    boundaries = data.boundaries
    if focus is not None:
        boundaries.require("commune", focus, parameter="focus")
    chosen = place_labels(boundaries, data.memo).within(zoom, parse_bbox(bbox) if bbox is not None else None, focus)
    document = {"type": "FeatureCollection", "zoom": zoom, "features": [label.as_feature() for label in chosen]}
    return json_response(request, document, f'"labels-{boundaries.version}"', "application/geo+json")
