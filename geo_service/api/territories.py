"""Administrative territories: list a level, or describe one unit."""

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from geo_service.api.deps import BoundariesDep
from geo_service.territories import LEVELS, check_code, check_level

router = APIRouter(prefix="/api/v1/territories", tags=["territories"])

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
