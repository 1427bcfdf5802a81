"""Pydantic models: the curated record kept in ``data/projects/*.yaml`` and the project as the API serves it.

API field names are English; the brochure's French text is kept as it was written. The JSON Schema of the record
is published at ``/api/v1/schemas/project-record.json`` and committed as ``data/projects/project-record.schema.json``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

# Validation context key: the record comes from text cells (a CSV file), where every number is written as text.
TEXT_CELLS = "text_cells"


def _a_number(value: Any, info: ValidationInfo) -> Any:
    """Numbers are numbers: JSON's ``true`` or ``"3"`` for a duration is a client's mistake to name, not a value to
    guess (pydantic's lax mode reads both as numbers); text is read only from text cells (``TEXT_CELLS``)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if isinstance(value, str) and not (info.context or {}).get(TEXT_CELLS):
        raise ValueError("expected a number, got text")
    return value


Number = BeforeValidator(_a_number)
Level = Literal["commune", "epci", "arrondissement", "departement", "region"]
Reach = Literal["direct", "support"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Status = Literal["planned", "active", "ended"]
STATUSES: tuple[str, ...] = ("planned", "active", "ended")
# the words pages show for each status, and for an unknown one
STATUS_WORDS = {"planned": "prévue", "active": "en cours", "ended": "terminée", None: "non renseigné"}
# The programme's calls for projects started in 2023 (brochure, « Le programme »); a year far from it is a typo.
FIRST_CALL_YEAR, LAST_CALL_YEAR = 2020, 2100
MAX_AMOUNT_EUR = 100_000_000  # the whole national fund is 60 M€: an amount above it is a typo (a cent column...)
URL_PATTERN = r"^https?://[^\s<>\"']+$"


class ManualTerritory(BaseModel):
    """A unit a person chose for the project, replacing what the geocoder reads in ``place_text``."""

    model_config = ConfigDict(extra="forbid")
    level: Level
    code: str
    note: Text = Field(description="Why a person decided this, for the next reader.")


class ManualReach(BaseModel):
    """A person's reading of the project's reach, replacing the one derived from its actions."""

    model_config = ConfigDict(extra="forbid")
    value: Reach
    note: Text = Field(description="Why a person decided this, for the next reader.")


class ManualAxes(BaseModel):
    """The programme axes a person assigns, replacing those guessed from the project's words."""

    model_config = ConfigDict(extra="forbid")
    values: list[Annotated[int, Field(ge=1, le=4), Number]] = Field(min_length=1, max_length=4)
    note: Text = Field(description="Why a person decided this, for the next reader.")


class Curation(BaseModel):
    """What a person decided where the brochure's words are not enough."""

    model_config = ConfigDict(extra="forbid")
    organisation_commune: str | None = Field(
        default=None, description="INSEE code of the commune where the porteur is based, when known."
    )
    territories: list[ManualTerritory] = Field(default_factory=list)
    reach: ManualReach | None = Field(default=None, description="Overrides the reach derived from the actions.")
    axes: ManualAxes | None = Field(
        default=None, description="Overrides the axes guessed from the words (the brochure assigns none)."
    )


class ProjectRecord(BaseModel):
    """One funded project as the brochure describes it, plus the curation."""

    model_config = ConfigDict(extra="forbid")
    id: Slug
    organisation: Text
    name: Text
    duration_years: Annotated[int, Field(ge=1, le=10), Number] | None = Field(
        default=None, description="Duration of the action, in years."
    )
    place_text: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="The brochure's « lieu d'intervention », verbatim."
    )
    actions: list[Text] = Field(default_factory=list)
    beneficiaries: list[Text] = Field(default_factory=list)
    indicators: list[Text] = Field(default_factory=list, description="Verbatim indicator lines.")
    partners: list[Text] = Field(default_factory=list)
    objectives: list[Text] = Field(default_factory=list)
    curation: Curation = Field(default_factory=Curation)
    # The facts of the grant, all optional: unknown stays empty (pages say « non renseigné »), never invented.
    funding_years: list[Annotated[int, Field(ge=FIRST_CALL_YEAR, le=LAST_CALL_YEAR), Number]] = Field(
        default_factory=list,
        max_length=20,
        description="The years of the calls for projects that funded it (2023, 2024...), each once, in order.",
    )
    amount_eur: Annotated[float, Field(ge=0, le=MAX_AMOUNT_EUR), Number] | None = Field(
        default=None, description="Amount granted, in euros (all years together)."
    )
    status: Status | None = Field(
        default=None, description="'planned' (granted, not started), 'active' (running) or 'ended'."
    )
    end_date: date | None = Field(
        default=None,
        description="When the action ends, as known; otherwise derived from the first funding year and "
        "the duration (see the served project's end_date_source).",
    )
    website: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=URL_PATTERN)] | None = (
        Field(default=None, description="Public web page of the action (http or https).")
    )
    contact: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = Field(
        default=None, description="Public contact text (a service, an address, a phone number) as the porteur gives it."
    )
    last_checked: date | None = Field(default=None, description="When a person last checked these facts.")

    @field_validator("funding_years")
    @classmethod
    def _years_once_in_order(cls, years: list[int]) -> list[int]:
        return sorted(set(years))

    @field_validator("amount_eur")
    @classmethod
    def _cents(cls, amount: float | None) -> float | None:
        return None if amount is None else round(amount, 2)

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        """Text that can be neither stored nor shown is refused, naming where: half a UTF-16 pair (JSON's
        ``"\\ud800"``), or a NUL character (PostgreSQL keeps none in jsonb: a record SQLite took could not move
        to PostGIS; both were 500s)."""
        found = _unstorable_text(data)
        if found is not None:
            where, why = found
            raise ValueError(f"{where or 'record'}: {why}")
        return data


def _unstorable_text(value: Any, where: str = "") -> tuple[str, str] | None:
    """Where in ``value`` (a dotted path) a text cannot be stored, and why; None when all can."""
    if isinstance(value, str):
        if "\x00" in value:
            return where, "text with a NUL character (\\u0000) cannot be stored"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where, "text with a lone UTF-16 surrogate is not valid Unicode"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        if isinstance(key, str) and _unstorable_text(key) is not None:
            return where or "record", "a field name that is not storable text"
        found = _unstorable_text(child, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None


class IndicatorOut(BaseModel):
    text: str
    value: float | None
    unit: str | None
    kind: str


class TerritoryOut(BaseModel):
    level: Level
    code: str
    name: str
    source: Literal["geocoder", "manual"]
    confidence: float | None = None
    matched: str | None = None
    note: str | None = None
    communes: int = Field(default=0, description="How many communes of the loaded data this territory covers.")


class PointOut(BaseModel):
    lon: float
    lat: float
    source: Literal["organisation_townhall", "area_point"]
    commune: str | None = None


class GeocodingOut(BaseModel):
    """What the geocoder read in ``place_text`` (kept even when a person chose the territories)."""

    unresolved: list[str]
    notes: list[str]


class Project(BaseModel):
    id: str
    organisation: str
    name: str
    duration_years: int | None
    funding_years: list[int] = Field(default_factory=list, description="Years of the calls that funded it.")
    amount_eur: float | None = Field(default=None, description="Amount granted, in euros; null: not known.")
    status: Status | None = Field(default=None, description="planned, active or ended; null: not known.")
    end_date: date | None = Field(default=None, description="When it ends: given, or derived (see end_date_source).")
    end_date_source: Literal["given", "derived"] | None = Field(
        default=None,
        description="'given' by a person; 'derived': 31 December of the last year of the duration counted from the "
        "first funding year (an action funded by the 2024 call for 2 years ends on 2025-12-31); null: unknown.",
    )
    website: str | None = None
    contact: str | None = None
    last_checked: date | None = None
    to_check: list[str] = Field(
        default_factory=list,
        description="Why a person should check this record (« à vérifier » on pages), in French, e.g. an action "
        "still 'active' past its end date; empty when nothing looks wrong.",
    )
    place_text: str
    actions: list[str]
    beneficiaries: list[str]
    indicators: list[IndicatorOut]
    partners: list[str]
    objectives: list[str]
    axes: list[int]
    axes_source: Literal["derived", "manual"] = Field(
        description="'derived': guessed from the project's words (the brochure assigns no axis); 'manual': a person."
    )
    axes_note: str | None = None
    action_types: list[str]
    mobile: bool
    reach: Reach = Field(
        description="'direct': people get food, vouchers or a shop/van stop there; 'support': helps other actors "
        "(coordination, training, logistics, studies, platforms). Coverage counts direct reach by default."
    )
    reach_source: Literal["derived", "manual"]
    reach_note: str | None = Field(default=None, description="A person's reason, when reach_source is 'manual'.")
    to_classify: str | None = Field(
        default=None,
        description="« à classer »: no direct-access rule recognised the project's words, so its reach 'support' is a "
        "default, not a finding; says why, in French, until a person decides (curation.reach). Null otherwise.",
    )
    scope: Literal["local", "departement", "region"] = Field(
        description="'local' when every territory is a commune, EPCI or arrondissement; 'departement' or 'region' "
        "when it covers a whole département or the région: maps then show its area, never a point."
    )
    territories: list[TerritoryOut]
    communes: list[str]
    point: PointOut
    geocoding: GeocodingOut
    derivation: dict[str, list[str]] = Field(
        description="For each derived axis ('axe 1'...), action type, 'mobile' and 'reach': the words that gave it "
        "away."
    )


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, naming the field and the value received: 'duration_years: ... (got 'trois')'."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "record"
        received = repr(item["input"]).encode("utf-8", "backslashreplace").decode("utf-8")
        received = received if len(received) <= 80 else received[:77] + "..."
        problems.append(f"{where}: {item['msg']} (got {received})")
    return "; ".join(problems)
