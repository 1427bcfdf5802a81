"""The OGC API's query parameters as the OpenAPI document declares them, and the coverage collections' own.

Declared from models, not written as OpenAPI dictionaries: each operation's parameters are a pydantic model
(``ItemsParameters``...) whose fields carry the name (an alias where the standard's has a hyphen), type, bounds,
default and description; ``openapi_parameters`` turns one into the operation's parameter list, with the
serialisation the standard gives (``style``/``explode`` in a field's schema extra: ``bbox=1,2,3,4`` rather than
repeated names). The models only describe: the routes read the query with ``geo_service.ogc.params``, because
OGC API – Features answers an unknown or unreadable parameter with a 400 (FastAPI's validation would answer 422),
caps ``limit`` rather than refusing it, and takes any queryable as a filter.

The coverage collections take the coverage rule's parameters, read by the one model every route reads them with
(``geo_service.parameters.CoverageParams``, through ``read_coverage``), a bad one the same 422 as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from geo_service.coverage import COLUMNS
from geo_service.errors import BadRequestError
from geo_service.ogc import cql2
from geo_service.ogc.collections import CollectionSpec
from geo_service.ogc.crs import SUPPORTED
from geo_service.ogc.params import DEFAULT_LIMIT, MAX_LIMIT, Query, number_text
from geo_service.parameters import CoverageParams, field_reader

Pairs = tuple[tuple[str, str], ...]
CrsName = Literal[tuple(SUPPORTED)]  # type: ignore[valid-type]
# a comma-separated list (bbox=1,2,3,4), as the standard serialises its arrays
COMMA_SEPARATED: dict[str, Any] = {"style": "form", "explode": False}


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI query parameters a model declares, in its fields' order: each field's JSON schema (its
    ``title`` and a default of None left out), its description, and ``style``/``explode`` from its schema extra."""
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = {key: value for key, value in field_schema.items() if key != "title"}
        if field_schema.get("default", 0) is None:
            del field_schema["default"]
        description = field_schema.pop("description", "")
        serialised = {key: field_schema.pop(key) for key in ("style", "explode") if key in field_schema}
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "description": description,
                "schema": field_schema,
                **serialised,
            }
        )
    return parameters


class FormatParameters(BaseModel):
    """The documents that select nothing (landing page, conformance, collections, queryables)."""

    f: Literal["json", "html"] = Field(default=None, description="json or html (otherwise from the Accept header)")


class JsonParameters(BaseModel):
    """The documents served in JSON alone (schema, tile matrix sets, tilesets)."""

    f: Literal["json"] = Field(default=None, description="json or html (otherwise from the Accept header)")


class ItemParameters(BaseModel):
    """One feature: its format and the CRS of its geometry."""

    f: Literal["json", "geojson", "html"] = Field(
        default=None, description="json (GeoJSON) or html; geojson is read as json"
    )
    crs: CrsName = Field(default=None, description="the CRS of the geometries answered (Content-Crs says it)")


class ItemsParameters(BaseModel):
    """A page of features: OGC API – Features parts 1 (core), 2 (crs) and 3 (filter, sortby, properties)."""

    f: Literal["json", "geojson", "html"] = Field(
        default=None, description="json (GeoJSON) or html; geojson is read as json"
    )
    limit: int = Field(
        default=DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description=f"features per page (a larger value is served as {MAX_LIMIT})",
        json_schema_extra=COMMA_SEPARATED,
    )
    offset: int = Field(
        default=0,
        ge=0,
        description="position of the first feature in the matched list (the next and prev links carry it)",
    )
    bbox: list[float] = Field(
        default=None,
        min_length=4,
        max_length=6,
        description="features whose geometry meets the box minx,miny,maxx,maxy (CRS84 unless bbox-crs)",
        json_schema_extra=COMMA_SEPARATED,
    )
    bbox_crs: CrsName = Field(default=None, alias="bbox-crs", description="the CRS of bbox")
    crs: CrsName = Field(default=None, description="the CRS of the geometries answered (Content-Crs says it)")
    datetime: str = Field(
        default=None, description="RFC 3339 instant or interval; these features have no time, so it keeps every one"
    )
    filter: str = Field(
        default=None,
        max_length=cql2.MAX_LENGTH,
        description=(
            f"a CQL2 expression (text, or JSON with filter-lang=cql2-json) on the fields of "
            f"/collections/{{collectionId}}/queryables: {cql2.SUPPORTED}, with 'text', numbers, TRUE and FALSE "
            f"(population > 10000 AND departement = '80'; name LIKE 'Saint-%'; S_INTERSECTS(geometry, POINT(2.3 "
            f"49.9))); at most {cql2.MAX_LENGTH} characters and {cql2.MAX_DEPTH} levels of nesting"
        ),
    )
    filter_lang: Literal[tuple(cql2.LANGUAGES)] = Field(  # type: ignore[valid-type]
        default="cql2-text",
        alias="filter-lang",
        description="the language of filter: cql2-text (the default) or cql2-json",
    )
    filter_crs: CrsName = Field(
        default=None, alias="filter-crs", description="the CRS of the geometries in filter (CRS84 by default)"
    )
    sortby: list[str] = Field(
        default=None,
        description="comma-separated queryables, each +name (ascending, the default) or -name (descending); nulls last",
        json_schema_extra=COMMA_SEPARATED,
    )
    properties: list[str] = Field(
        default=None,
        description="comma-separated properties each feature keeps (every one by default)",
        json_schema_extra=COMMA_SEPARATED,
    )
    skip_geometry: bool = Field(default=False, alias="skipGeometry", description="true: features without geometry")
    filters: dict[str, str] = Field(
        default=None,
        description="simple filters field=value on the fields of /collections/{collectionId}/queryables (AND)",
        json_schema_extra={"style": "form", "explode": True},  # each filter its own name=value
    )


# --- the coverage collections' parameters -------------------------------------------------------------------------

# Each coverage parameter's reader (its type with its bounds: its schema), default and description, from the model
# that reads them on every route (read_coverage below)
COVERAGE_READERS: dict[str, tuple[TypeAdapter[Any], Any, str]] = {
    name: (field_reader(name), field.default, field.description or name)
    for name, field in CoverageParams.model_fields.items()
}
COVERAGE_PARAMETERS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"{description} (collections coverage and zones-blanches only; default {default})",
        "schema": {**adapter.json_schema(), "default": default},
    }
    for name, (adapter, default, description) in COVERAGE_READERS.items()
]


def _coverage_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return number_text(value)
    return str(value)


def read_coverage(query: Query, spec: CollectionSpec) -> tuple[CoverageParams | None, Pairs]:
    """The coverage parameters a coverage collection is asked with (None when none is given, or for another
    collection), and those that differ from the defaults as link parameters, re-encoded. A value the coverage
    route would refuse is a 422 naming it; one given twice must say the same both times."""
    if not spec.coverage or not CoverageParams.given(query):
        return None, ()
    # given twice with two meanings: the 400 of every OGC parameter (geo_service.ogc.params)
    params = CoverageParams.from_query(query, conflict=BadRequestError)
    pairs = tuple(
        (name, _coverage_text(getattr(params, name)))
        for name, (_, default, _) in COVERAGE_READERS.items()
        if getattr(params, name) != default
    )
    return params, pairs


# --- the kinds of collection ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionKind:
    """What sets a kind of feature collection apart for its routes: the parameters its features are computed with
    besides the items' own (their OpenAPI declaration, and their reading: the parameters, None for the defaults,
    and those to keep in its links), and the fields its tables have before one is computed (so that a typo is
    refused before costly work)."""

    name: str
    parameters: tuple[dict[str, Any], ...]
    read: Callable[[Query, CollectionSpec], tuple[CoverageParams | None, Pairs]]
    known_fields: tuple[str, ...] = ()

    @property
    def parameter_names(self) -> list[str]:
        return [parameter["name"] for parameter in self.parameters]


# the boundaries, projects and areas: computed once per data snapshot, with no parameter
FEATURES = CollectionKind("features", (), lambda query, spec: (None, ()))
# the communes' coverage and the zones blanches: computed by the coverage rule, under the parameters asked
COVERAGE = CollectionKind("coverage", tuple(COVERAGE_PARAMETERS), read_coverage, tuple(COLUMNS))
KINDS = (FEATURES, COVERAGE)


def kind_of(spec: CollectionSpec) -> CollectionKind:
    return COVERAGE if spec.coverage else FEATURES
