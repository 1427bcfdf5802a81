"""Administrative territories: list a level, or describe one unit."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from geo_service.api.deps import BoundariesDep, current_snapshot
from geo_service.api.errors import NOT_MODIFIED, errors
from geo_service.api.http import json_response
from geo_service.territories import LEVELS, check_code, check_level

# every route names a level, and an unknown one is a 404
router = APIRouter(prefix="/api/v1/territories", tags=["territories"], responses=errors(404))

LevelPath = Annotated[str, Path(description=f"One of: {', '.join(LEVELS)}", examples=["epci"])]
CodePath = Annotated[str, Path(description="INSEE code (SIREN for an EPCI)", examples=["200035442"])]


class TerritorySummary(BaseModel):
    code: str
    name: str
    population: int


class TerritoryList(BaseModel):
    level: str
    count: int
    items: list[TerritorySummary]


class ParentRef(BaseModel):
    code: str
    name: str


class TerritoryDetail(BaseModel):
    level: str
    code: str
    name: str
    population: int
    area_km2: float | None
    bbox: tuple[float, float, float, float] | None
    parents: dict[str, ParentRef]
    children_level: str | None
    children_count: int


class TerritoryAt(BaseModel):
    level: str
    code: str | None
    name: str | None


@router.get("/at", response_model=TerritoryAt, summary="The unit containing a point (e.g. a map click)")
def territory_at(
    boundaries: BoundariesDep,
    lon: Annotated[float, Query(ge=-180, le=180, examples=[2.3])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[49.9])],
    level: Annotated[str, Query(description=f"One of: {', '.join(LEVELS)}")] = "commune",
) -> TerritoryAt:
    """`code` and `name` are null when no unit of the loaded data contains the point."""
    code = boundaries.at(check_level(level), lon, lat)
    return TerritoryAt(level=level, code=code, name=None if code is None else boundaries.name_of(level, code))


@router.get("/{level}", response_model=TerritoryList, summary="All units of a level")
def list_territories(level: LevelPath, boundaries: BoundariesDep) -> TerritoryList:
    frame = boundaries.level(check_level(level))
    items = [
        TerritorySummary(code=code, name=name, population=int(population))
        for code, name, population in zip(frame["code"], frame["name"], frame["population"], strict=True)
    ]
    return TerritoryList(level=level, count=len(items), items=items)


@router.get("/{level}/{code}", response_model=TerritoryDetail, summary="One unit, with its parents and bbox")
def get_territory(level: LevelPath, code: CodePath, boundaries: BoundariesDep) -> TerritoryDetail:
    """Unknown level or code: 404; a code that cannot be one of this level (e.g. `8002` for a commune): 422."""
    territory = boundaries.get(check_level(level), check_code(level, code))
    return TerritoryDetail.model_validate(territory, from_attributes=True)


@router.get(
    "/{level}/{code}/outline.geojson",
    summary="One unit's outline (GeoJSON Feature), simplified for a zoom",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, **NOT_MODIFIED},
)
def territory_outline(
    request: Request,
    level: LevelPath,
    code: CodePath,
    boundaries: BoundariesDep,
    zoom: Annotated[int | None, Query(ge=0, le=22, description="simplify as the map layer is at this zoom")] = None,
) -> Response:
    """To draw a territory found by a search or opened on a map: the same simplification as the tiles."""
    boundaries.get(check_level(level), check_code(level, code))
    feature = current_snapshot(request).tiles.outline(level, code, zoom)
    return json_response(request, feature, f'"{boundaries.version}-{level}-{code}-{zoom}"', "application/geo+json")
