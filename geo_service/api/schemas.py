"""The JSON answers of the routes that build them as dicts, as pydantic models given as ``response_model``.

Each model lists the fields in the order the route writes them: FastAPI validates the route's dict against the
model and writes the model's fields in the model's order, so the answer stays the same bytes as a plain dict gave
(same names, order and values). Being the response model, each is also what the OpenAPI document says the route
answers, which the schema fuzzing (tests/api/test_schema_fuzz.py) checks every answer against.

A key the route writes that its model lacks is dropped from the answer (pydantic's default), not refused: a model
that forbade it would turn a forgotten field into a 500 for every client. The API tests that read such a field
are what notice the omission; the models here list every key the routes write today.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from geo_service.projects.models import Project

# --- coverage ---------------------------------------------------------------------------------------------------

Scope = Literal["local", "departement", "region"]


class CommuneProject(BaseModel):
    id: str
    name: str
    reach: Literal["direct", "support"]
    scope: Scope
    counted: bool = Field(description="whether these parameters count the project as reaching the commune")


class NearestProject(BaseModel):
    id: str
    name: str
    scope: Scope
    reach: Literal["direct", "support"]


class NearestReached(BaseModel):
    """The reached commune nearest to this one under the rule, and the counted actions reaching it."""

    code: str
    name: str
    distance_km: float = Field(
        description="as the rule measures it (town hall to town hall, or to its outline with distance_to=territory)"
    )
    projects: list[NearestProject] = Field(
        description="the counted actions reaching it: local ones, and département-wide ones with count_departmental"
    )


class CoveringProject(BaseModel):
    id: str
    name: str
    scope: Literal["departement", "region"]
    reach: Literal["direct", "support"]
    counted: bool = Field(description="whether these parameters count it as reaching the commune")


class CommuneCoverage(BaseModel):
    """One commune's row of the coverage (see /api/v1/coverage/communes for the rule), its EPCI and département
    named, and every project reaching it."""

    code: str
    name: str
    departement: str
    # None for a commune in no EPCI (a few islands are; none in Hauts-de-France)
    epci: str | None
    population: int
    area_km2: float
    density: float = Field(description="inhabitants per km², rounded to 0.1")
    rural: bool
    projects: list[CommuneProject]
    local_projects: int = Field(description="counted local projects reaching the commune")
    best_scope: Literal["local", "departement", "region", "none"]
    support_projects: int = Field(description="local support projects, not counted (reach=direct only, else 0)")
    distance_km: float | None = Field(
        description="to the nearest reached commune (0 when reached); null when none is reached in its zone"
    )
    zone_blanche: bool
    reason: str = Field(description="the status explained in French words")
    epci_name: str | None
    departement_name: str | None
    nearest: NearestReached | None = Field(
        description="the nearest commune reached under these parameters (the one distance_km measures, equal "
        "distances to the smaller code) and the counted actions there; null when the commune is reached itself "
        "or nothing is reached"
    )
    covering: list[CoveringProject] = Field(
        description="the département- and région-wide actions whose area includes the commune"
    )


class CoverageParamsOut(BaseModel):
    """The coverage parameters the answer was computed with (the defaults for those not given)."""

    rural_max_density: float
    max_km: float
    count_departmental: bool
    reach: Literal["direct", "all"]
    distance_to: Literal["townhall", "territory"]
    year: int | None = None
    status: Literal["planned", "active", "ended", "unknown"] | None = None


class SummaryTotals(BaseModel):
    communes: int
    population: int
    communes_zone_blanche: int
    population_zone_blanche: int
    population_reached: int
    population_reached_share: float = Field(description="population_reached / population, rounded to 4 decimals")


class SummaryItem(BaseModel):
    code: str
    name: str
    communes: int
    population: int
    communes_zone_blanche: int
    population_zone_blanche: int
    local_actions: int = Field(description="counted local projects reaching a commune of the unit")
    actions: int = Field(description="every project reaching a commune of the unit")
    population_reached: int
    population_reached_share: float


class CoverageSummary(BaseModel):
    level: Literal["epci", "departement"]
    params: CoverageParamsOut
    items: list[SummaryItem]
    totals: SummaryTotals


# --- planning (simulate, opportunities) -------------------------------------------------------------------------


class ActionIn(BaseModel):
    """A hypothetical action: territories as 'level:code', and/or a place text the geocoder reads; for a mobile
    action, the communes it stops in (INSEE codes), which are then what it reaches."""

    model_config = {"extra": "forbid"}
    territories: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default_factory=list, max_length=200, examples=[["epci:200069482"]]
    )
    place_text: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, examples=["CC du Ternois"]
    )
    reach: Literal["direct", "support"] = Field(
        default="direct", description="'direct': people get food, vouchers or a stop there; 'support': it helps others"
    )
    communes_served: list[Annotated[str, StringConstraints(max_length=10)]] = Field(
        default_factory=list, max_length=2000, description="a mobile action's stops (INSEE codes)"
    )
    label: Annotated[str, StringConstraints(max_length=200)] | None = None


class SimulationIn(BaseModel):
    model_config = {"extra": "forbid"}
    actions: list[ActionIn] = Field(min_length=1, max_length=50)


class Gain(BaseModel):
    communes: int
    population: int


class PlannedTerritory(BaseModel):
    level: str
    code: str
    name: str
    outside: Gain = Field(
        description="the communes leaving the zones blanches (and their people) that lie outside this territory: "
        "brought within max_km of the action from a neighbouring one"
    )


class PlannedActionOut(BaseModel):
    label: str
    territories: list[PlannedTerritory]
    communes: int = Field(description="how many communes the action reaches")
    scope: Scope
    reach: Literal["direct", "support"]
    mobile: bool
    counted: bool = Field(description="whether these parameters count it as reaching its communes")
    notes: list[str]


class PlanningTotals(BaseModel):
    communes_zone_blanche: int
    population_zone_blanche: int
    communes_reached: int
    population_reached: int


class LeavingCommune(BaseModel):
    code: str
    name: str
    departement: str
    epci: str | None
    population: int
    distance_km_before: float | None
    distance_km_after: float | None
    reached: bool = Field(description="reached by an action itself (else brought within max_km of one)")


class GainByTerritory(BaseModel):
    code: str
    name: str
    communes: int
    population: int


class SimulationOut(BaseModel):
    params: CoverageParamsOut
    actions: list[PlannedActionOut]
    before: PlanningTotals
    after: PlanningTotals
    gained: Gain = Field(description="communes and people leaving the zones blanches, in all")
    by_departement: list[GainByTerritory]
    by_epci: list[GainByTerritory]
    communes: list[LeavingCommune] = Field(description="the communes leaving the zones blanches")
    reached: list[str] = Field(description="the communes the actions newly reach (INSEE codes)")


class Opportunity(BaseModel):
    level: Literal["commune", "epci", "arrondissement"]
    code: str
    name: str
    population: int = Field(description="people taken out of zones blanches")
    communes: list[str] = Field(description="the zone-blanche communes taken out (INSEE codes)")
    cumulative_population: int = Field(description="in the sequence: with the steps before")
    bbox: list[float] | None = Field(description="the territory's extent (west, south, east, north), for a map")


class Opportunities(BaseModel):
    params: CoverageParamsOut
    level: Literal["commune", "epci", "arrondissement"]
    k: int
    departement: str | None
    candidates: int
    before: PlanningTotals
    best: list[Opportunity] = Field(description="the k best single actions, each counted alone")
    sequence: list[Opportunity] = Field(description="k actions, each counted after the previous ones (greedy)")
    method: str


# --- layers -----------------------------------------------------------------------------------------------------


class LayerOut(BaseModel):
    name: str
    title: str = Field(description="French, as maps show it")
    kind: Literal["polygon", "point"]
    description: str
    maxzoom: int
    tilejson: str = Field(description="TileJSON URL of the vector tiles")
    tilejson_png: str = Field(description="TileJSON URL of the raster (PNG) tiles")
    geojson: str = Field(description="URL of the layer as GeoJSON")


class LayerList(BaseModel):
    layers: list[LayerOut]


# --- projects (write) -------------------------------------------------------------------------------------------


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: tuple[float, float] = Field(description="longitude, latitude (WGS84)")


class ProjectFeature(BaseModel):
    """A project as a GeoJSON Feature at its map point, with all its fields (what a write answers)."""

    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: Project


class DeletedProject(BaseModel):
    id: str
    status: Literal["deleted"]
    restore: str = Field(description="the path that brings the project back (POST)")


class ProjectVersion(BaseModel):
    """One version of a project as the store keeps it."""

    version: int
    action: Literal["seed", "create", "update", "import", "delete", "restore"]
    record: dict[str, Any] = Field(description="the project record of this version (see the project record schema)")
    deleted: bool
    at: str = Field(description="when it was written (ISO 8601, with its UTC offset)")
    # Only with a token: absent (not null) otherwise. Not set, it is left out of the answer (the route answers
    # with response_model_exclude_unset), so the schema says an optional string, never null.
    by: str | SkipJsonSchema[None] = Field(default=None, description="the name of the token that wrote it")
    note: str | None = Field(default=None, description="why, beyond the action: an import names its file")


class ProjectHistory(BaseModel):
    id: str
    versions: list[ProjectVersion]
