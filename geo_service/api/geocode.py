"""Free-text place -> administrative units and communes."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from geo_service.api.deps import GeocoderDep
from geo_service.errors import InvalidInputError
from geo_service.geocoding.geocoder import MAX_QUERY_LENGTH

router = APIRouter(prefix="/api/v1/geocode", tags=["geocode"])


class UnitOut(BaseModel):
    level: str
    code: str
    name: str
    confidence: float
    matched: str


class GeocodeOut(BaseModel):
    query: str
    units: list[UnitOut]
    communes: list[str]
    unresolved: list[str]
    notes: list[str]


@router.get("", response_model=GeocodeOut, summary="Resolve a place text to units and communes")
def geocode(
    geocoder: GeocoderDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            examples=["64 communes dans le Sud-Artois"],
            description="The place, as people write it",
        ),
    ],
    context: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Nearby text that helps with homonyms",
            examples=["39% de taux de pauvreté à Creil"],
        ),
    ] = None,
) -> GeocodeOut:
    """Each unit says which words matched and how sure the reading is; `notes` explain every choice (homonyms,
    pays aliases, counts); what could not be read is in `unresolved`. Nothing resolved is still a 200."""
    if not q.strip():
        raise InvalidInputError("q is blank: give a place, e.g. 'Ville d'Amiens'")
    return GeocodeOut.model_validate(geocoder.geocode(q, context).as_dict())
