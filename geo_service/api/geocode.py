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


class CandidateOut(BaseModel):
    level: str
    code: str
    name: str
    departement: str | None
    why: str  # French: how the text fits this place


class GeocodeOut(BaseModel):
    query: str
    units: list[UnitOut]
    communes: list[str]
    unresolved: list[str]
    notes: list[str]
    candidates: list[CandidateOut]  # places the text may name, when a person should choose or confirm
    to_confirm: bool  # true: the reading is a guess among candidates, or a doubtful spelling; show « à confirmer »
    question: str | None  # French, what to ask ("Senlis (60) ou Senlis (62) ?"); null when nothing is in doubt


class SuggestionOut(BaseModel):
    level: str
    code: str
    name: str
    departement: str | None
    population: int
    kind: str  # how the text matched: name, former (commune), short (form), epci_core, acronym, alias (pays), postcode
    matched: str | None  # the pays name, initials, postcode, former or full name matched, when not the unit's own
    label: str  # French, for a search box: "Amiens (80), commune"


LEVEL_LABELS = {
    "commune": "commune",
    "epci": "intercommunalité",
    "arrondissement": "arrondissement",
    "departement": "département",
    "region": "région",
}


@router.get(
    "/suggest",
    response_model=list[SuggestionOut],
    summary="Places whose name starts with the text typed, or is it within a typo (search-box suggestions)",
)
def suggest(
    geocoder: GeocoderDep,
    q: Annotated[str, Query(min_length=1, max_length=100, examples=["quesn"], description="What was typed so far")],
    limit: Annotated[int, Query(ge=1, le=20)] = 10,
) -> list[SuggestionOut]:
    """Communes, EPCI (also by initials), arrondissements, départements, pays names and postcodes, from the same
    gazetteer as the geocoder: what is suggested is what the geocoder reads, former communes and short forms
    included. Forgiving: articles and level words left out ("CC Ternois"), a typo ("abbevile"). Ranked by closeness
    (whole name, start, later word, without articles, within a typo), then the largest units and the most populous
    places."""
    out = []
    for entry in geocoder.gazetteer.suggest(q, limit):
        unit = entry.unit
        where = f" ({unit.departement})" if unit.level in ("commune", "arrondissement") and unit.departement else ""
        # the name typed when it is not the unit's own: a pays, a postcode, a former commune (Lomme for Lille)
        named_otherwise = entry.kind in ("alias", "postcode", "former", "short") and entry.alias != unit.name
        extra = f" — {entry.alias}" if named_otherwise and entry.alias else ""
        out.append(
            SuggestionOut(
                level=unit.level,
                code=unit.code,
                name=unit.name,
                departement=unit.departement,
                population=unit.population,
                kind=entry.kind,
                matched=entry.alias,
                label=f"{unit.name}{where}, {LEVEL_LABELS[unit.level]}{extra}",
            )
        )
    return out


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
    pays aliases, former communes, short forms, counts); what could not be read is in `unresolved`. When two places
    fit, or a spelling is farther than a typo from the nearest name, `to_confirm` is true, `candidates` lists them
    and `question` asks in French. Nothing resolved is still a 200."""
    if not q.strip():
        raise InvalidInputError("q is blank: give a place, e.g. 'Ville d'Amiens'")
    return GeocodeOut.model_validate(geocoder.geocode(q, context).as_dict())
