"""The parameters shared by every way of asking the service: the coverage rule (which communes count as reached
and which are zones blanches) and the selection of projects it counts.

One definition: ``CoverageParams`` is a pydantic model whose fields carry their type, default, bounds and
descriptions (English for the API and the command line, French in ``description_fr`` for people). Everything else
is read from it: the API's one dependency (``geo_service.api.deps.coverage_params``, which lists each parameter in
OpenAPI from these fields), the tiles, styles, pictures, pages and OGC collections (``from_query``), the command
line's options (``geo_service.cli``) and the prose stating the rule's defaults (``geo_service.legend``). So a value
refused here is refused everywhere with the same message, and a default changed here changes everywhere.

Decisions:

* Built in Python (``CoverageParams(max_km=15)``) the model is strict: a number must be a number (``True`` or
  ``"10"`` for ``max_km`` is refused), so that a caller's mistake is not silently read. A request's text is read by
  ``from_query`` the way FastAPI reads query parameters (pydantic's lax mode: ``"1e2"``, ``" 20"``; booleans as
  ``true/false/1/0/yes/no/on/off``), so every route accepts and refuses the same texts.
* A refusal is an ``InvalidInputError`` (422) naming the parameter and the value received, never pydantic's
  ``ValidationError``: the web layer maps the service's errors to statuses, and its table of French sentences
  (``geo_service.api.errors.FRENCH``) knows these messages.
* A parameter given twice must say the same both times (``max_km=20&max_km=20.0`` is one value; ``max_km=20&
  max_km=30`` is refused rather than one silently chosen).
* Frozen and hashable: the parameters are the key of the computed coverage, layers and pictures, and
  ``params == CoverageParams()`` says "the defaults", computed at each write and always at hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, Literal, Protocol, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from geo_service.errors import GeoServiceError, InvalidInputError
from geo_service.projects.catalogue import STATUS_FILTERS
from geo_service.projects.models import FIRST_CALL_YEAR, LAST_CALL_YEAR

# The rule's bounds, the same on every route, tile and command: a zone blanche is about access without a car, and
# 200 km is already across a whole région; Paris, the densest commune, has about 20 000 people per km².
MAX_KM = 200.0
MAX_RURAL_DENSITY = 100_000.0
Reach = Literal["direct", "all"]
DistanceTarget = Literal["townhall", "territory"]
StatusFilter = Literal[STATUS_FILTERS]  # the projects' statuses, and 'unknown' for none given
REACH_MODES: tuple[str, ...] = get_args(Reach)
DISTANCE_TARGETS: tuple[str, ...] = get_args(DistanceTarget)


def _french(text: str) -> dict[str, Any]:
    """A field's description in French, for what people read (kept in the model's JSON schema)."""
    return {"description_fr": text}


class MultiQuery(Protocol):
    """A query string's parameters with their repeats: Starlette's ``QueryParams``, ``geo_service.ogc.params.Query``."""

    def getlist(self, key: str) -> list[str]: ...


class CoverageParams(BaseModel):
    """The coverage rule's parameters and the selection of projects it counts (see ``geo_service.coverage``)."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    rural_max_density: float = Field(
        default=150.0,
        gt=0,
        le=MAX_RURAL_DENSITY,
        allow_inf_nan=False,
        description="a commune is rural below this density (inhabitants per km²)",
        json_schema_extra=_french("une commune est rurale sous cette densité (habitants par km²)"),
    )
    max_km: float = Field(
        default=10.0,
        ge=0,
        le=MAX_KM,
        allow_inf_nan=False,
        description="a rural commune farther than this from a reached one is a zone blanche",
        json_schema_extra=_french(
            "une commune rurale plus loin que cette distance (km) d'une commune atteinte est en zone blanche"
        ),
    )
    count_departmental: bool = Field(
        default=False,
        description="count département-wide actions as reaching their communes",
        json_schema_extra=_french("compter les actions départementales comme atteignant leurs communes"),
    )
    reach: Reach = Field(
        default="direct",
        description="which projects reach their communes: 'direct' food access only, or 'all' (support too)",
        json_schema_extra=_french(
            "les actions qui atteignent leurs communes : « direct », l'accès à l'aide alimentaire seul, ou « all », "
            "l'appui aux acteurs compris"
        ),
    )
    distance_to: DistanceTarget = Field(
        default="townhall",
        description="distance to the nearest reached commune's town hall, or to its outline",
        json_schema_extra=_french("distance à la mairie de la commune atteinte la plus proche, ou à sa limite"),
    )
    # Which projects count: those funded by the call of ``year`` and/or of ``status`` ('unknown': none given), so
    # that an officer compares the coverage of 2023 with 2025, or of the actions running today. None: all.
    year: int | None = Field(
        default=None,
        ge=FIRST_CALL_YEAR,
        le=LAST_CALL_YEAR,
        description="count only the projects funded by the call of this year (a record without years is in none)",
        json_schema_extra=_french("ne compter que les projets financés par l'appel à projets de cette année"),
    )
    status: StatusFilter | None = Field(
        default=None,
        description="count only the projects of this status ('unknown': none given)",
        json_schema_extra=_french("ne compter que les projets de ce statut (« unknown » : non renseigné)"),
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise InvalidInputError(_refusal(exc)) from None

    @property
    def selects(self) -> bool:
        return self.year is not None or self.status is not None

    def unselected(self) -> CoverageParams:
        """The same rule over every project (what a selection's own coverage is asked)."""
        return self.replace(year=None, status=None)

    def replace(self, **changes: Any) -> CoverageParams:
        """These parameters with some changed, checked as any others (``dataclasses.replace`` for this model)."""
        return type(self)(**{**self.model_dump(), **changes})

    @classmethod
    def from_query(
        cls, query: Mapping[str, str] | MultiQuery, *, conflict: type[GeoServiceError] = InvalidInputError
    ) -> CoverageParams:
        """The parameters a request's query gives as text (the defaults for those it does not give), read as
        FastAPI reads query parameters. A value refused is an ``InvalidInputError`` naming it; one given several
        times with different meanings raises ``conflict`` (the OGC API answers those with a 400)."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            texts = _texts(query, name)
            read = [_read(name, text) for text in texts]
            if len(set(read)) > 1:
                raise conflict(f"{name} is given {len(texts)} times with different values: give it once")
            if read:
                values[name] = read[0]
        return cls(**values)

    @classmethod
    def given(cls, query: Iterable[str]) -> list[str]:
        """The parameters a query names, in the model's order (tile and style URLs carry only those)."""
        names = set(query)
        return [name for name in cls.model_fields if name in names]

    def query_pairs(self, names: Iterable[str]) -> list[tuple[str, str]]:
        """``names`` with their values as a query string says them, re-encoded from what was understood (none of
        a request's own text goes into the URLs the service writes)."""
        return [(name, query_text(getattr(self, name))) for name in names]

    @classmethod
    def field_schema(cls, name: str) -> dict[str, Any]:
        """The JSON schema of a field's values, bounds included (without its default or descriptions)."""
        return field_reader(name).json_schema()

    @classmethod
    def choices(cls, name: str) -> tuple[str, ...] | None:
        """The values a field takes when it is a choice among words (``reach``: direct, all), else None."""
        kinds = [cls.model_fields[name].annotation]
        while kinds:
            kind = kinds.pop()
            if get_origin(kind) is Literal:
                return get_args(kind)
            kinds.extend(get_args(kind))
        return None

    @classmethod
    def description_fr(cls, name: str) -> str:
        extra = cls.model_fields[name].json_schema_extra
        return extra["description_fr"] if isinstance(extra, dict) else ""


def query_text(value: object) -> str:
    """A parameter's value as a query string says it: true/false, 12.5, 2024, direct."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return format(value, "g") if isinstance(value, float) else str(value)


@cache
def field_reader(name: str) -> TypeAdapter[Any]:
    """A field's type with its bounds, reading text as FastAPI reads a query parameter (pydantic's lax mode);
    its ``json_schema()`` is the field's, bounds included."""
    field = CoverageParams.model_fields[name]
    kind = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    return TypeAdapter(kind, config=ConfigDict(strict=False))


def _read(name: str, text: str) -> Any:
    try:
        return field_reader(name).validate_python(text)
    except ValidationError as exc:
        raise InvalidInputError(_refusal(exc, name)) from None


def _texts(query: Mapping[str, str] | MultiQuery, name: str) -> list[str]:
    getlist = getattr(query, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = query.get(name)  # type: ignore[union-attr]
    return [] if value is None else [value]


def _shown(value: object) -> str:
    """The value received, as a refusal names it: a number as a number (given as text too), anything else quoted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return repr(value)
        return value.strip()
    return repr(value)


def _bound(name: str, kind: type[Ge | Gt | Le]) -> float:
    """A bound of a field, as its definition gives it (so that the message follows a bound changed there)."""
    metadata = CoverageParams.model_fields[name].metadata
    return next(getattr(item, kind.__name__.lower()) for item in metadata if isinstance(item, kind))


def _refusal(exc: ValidationError, field: str | None = None) -> str:
    """pydantic's first problem as the service's sentence for that parameter (``field``, or the one the problem
    names), naming it and the value received: the sentences ``geo_service.api.errors.FRENCH`` translates."""
    error = exc.errors()[0]
    name = field or (str(error["loc"][0]) if error["loc"] else "")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        return f"{name}: no such coverage parameter (expected one of {', '.join(CoverageParams.model_fields)})"
    shown = _shown(value)
    if name == "max_km":
        return f"max_km must be between {_bound(name, Ge):g} and {_bound(name, Le):g}, got {shown}"
    if name == "rural_max_density":
        return f"rural_max_density must be above {_bound(name, Gt):g} and at most {_bound(name, Le):g}, got {shown}"
    if name == "count_departmental":
        return f"count_departmental must be true or false, got {value!r}"
    if name == "year":
        return f"year={shown}: expected a year of a call for projects ({FIRST_CALL_YEAR}-{LAST_CALL_YEAR})"
    if name == "status":
        return f"status={value!r}: expected one of {', '.join(STATUS_FILTERS)}"
    choices = CoverageParams.choices(name)
    if choices is not None:
        return f"{name} must be one of {', '.join(choices)}, got {value!r}"
    return f"{name}={shown}: {error['msg']}"  # no field is left to this: a field added later still names itself
