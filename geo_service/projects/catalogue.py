"""Load the curated project records, derive what the map needs, and answer queries over them.

Loading the files is all-or-nothing: a record that does not validate, names an unknown territory, or resolves to
no commune stops the load with a message naming the file and the problem, so a broken file never seeds half a
catalogue. Rebuilding from the store after a write is lenient: a record that no longer builds (a manual
territory gone after ``load-boundaries``...) is set aside with its error (``broken``), never blocking the others.
A rebuild re-derives only the records whose content changed: the others are taken from the previous catalogue.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import shapely
import yaml
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from geo_service.errors import DataError, InvalidInputError, NotFoundError
from geo_service.geocoding import Geocoder
from geo_service.geocoding.text import normalize
from geo_service.projects.derive import (
    ACTION_TYPES,
    AXES,
    derive_action_types,
    derive_axes,
    derive_mobile,
    parse_indicator,
    read_reach,
)
from geo_service.projects.models import (
    FIRST_CALL_YEAR,
    LAST_CALL_YEAR,
    STATUS_WORDS,
    STATUSES,
    GeocodingOut,
    IndicatorOut,
    PointOut,
    Project,
    ProjectRecord,
    TerritoryOut,
    describe_validation_error,
)
from geo_service.territories import Boundaries

GRID = 1e-6


def project_scope(levels: list[str]) -> str:
    """'region' if any territory is the région, else 'departement' if any is a département, else 'local'."""
    if "region" in levels:
        return "region"
    if "departement" in levels:
        return "departement"
    return "local"


@dataclass(frozen=True)
class ProjectFilters:
    departement: str | None = None
    epci: str | None = None
    commune: str | None = None
    axe: int | None = None
    type: str | None = None
    q: str | None = None
    year: int | None = None  # funded by the call of that year
    status: str | None = None  # planned, active, ended, or 'unknown' (no status given)
    to_check: bool | None = None  # True: only those « à vérifier »; False: only the others


STATUS_FILTERS = (*STATUSES, "unknown")


def selected(project: Project, year: int | None, status: str | None) -> bool:
    """Whether the project belongs to the selection by funding year and status ('unknown': no status given).
    A record that gives no year is in no year's selection: unknown is never read as any year."""
    if year is not None and year not in project.funding_years:
        return False
    return status is None or (project.status or "unknown") == status


def check_selection(year: int | None, status: str | None) -> None:
    if year is not None and not FIRST_CALL_YEAR <= year <= LAST_CALL_YEAR:
        raise InvalidInputError(
            f"year={year}: expected a year of a call for projects ({FIRST_CALL_YEAR}-{LAST_CALL_YEAR})"
        )
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidInputError(f"status={status!r}: expected one of {', '.join(STATUS_FILTERS)}")


def end_of(record: ProjectRecord) -> tuple[date | None, str | None]:
    """The action's end date and where it comes from: given by a person, or derived as 31 December of the last
    year of its duration counted from its first funding year (funded by the 2024 call for 2 years: 2025-12-31),
    since the calls fund actions from the year they are granted; unknown when either is missing."""
    if record.end_date is not None:
        return record.end_date, "given"
    if record.funding_years and record.duration_years:
        return date(record.funding_years[0] + record.duration_years - 1, 12, 31), "derived"
    return None, None


def to_check(record: ProjectRecord, end: date | None, today: date) -> list[str]:
    """Why a person should look at this record again, as of ``today``, in French: the reasons are shown as they
    are on the pages and the editing space (« à vérifier »), like the coverage's reasons."""
    reasons = []
    words = STATUS_WORDS.get(record.status, "")
    if end is not None and end < today and record.status in ("active", "planned"):
        reasons.append(f"statut « {words} » alors que l'action a pris fin le {end.strftime('%d/%m/%Y')}")
    if record.status == "ended" and end is not None and end > today and record.end_date is not None:
        reasons.append(
            f"statut « {words} » alors que la date de fin indiquée, le {end.strftime('%d/%m/%Y')}, est à venir"
        )
    return reasons


def read_records(folder: Path) -> list[tuple[Path, ProjectRecord]]:
    records = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text("utf-8"))
            records.append((path, ProjectRecord.model_validate(raw)))
        except yaml.YAMLError as exc:
            raise DataError(f"{path.name}: not valid YAML: {exc}") from exc
        except ValidationError as exc:
            raise DataError(f"{path.name}: {describe_validation_error(exc)}") from exc
    ids = [record.id for _, record in records]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DataError(f"project ids used twice in {folder}: {', '.join(duplicates)}")
    return records


def _territories(
    record: ProjectRecord, geocoder: Geocoder, boundaries: Boundaries, context: str
) -> tuple[list[TerritoryOut], GeocodingOut]:
    result = geocoder.geocode(record.place_text, context=context)
    geocoding = GeocodingOut(unresolved=result.unresolved, notes=result.notes)
    if not record.curation.territories:
        return [
            TerritoryOut(
                level=u.level, code=u.code, name=u.name, source="geocoder", confidence=u.confidence, matched=u.matched
            )
            for u in result.units
        ], geocoding
    manual = []
    for chosen in record.curation.territories:
        if chosen.code not in boundaries.level(chosen.level).index:
            raise DataError(f"project {record.id}: no {chosen.level} {chosen.code!r} in the boundaries")
        manual.append(
            TerritoryOut(
                level=chosen.level,
                code=chosen.code,
                name=boundaries.name_of(chosen.level, chosen.code),
                source="manual",
                note=chosen.note,
            )
        )
    return manual, geocoding


@lru_cache(maxsize=4)
def _parents_of(boundaries: Boundaries) -> dict[str, tuple[str, str]]:
    """Commune code -> (département, EPCI): the same for every catalogue of these boundaries."""
    communes = boundaries.level("commune")
    return {
        code: (dep, epci)
        for code, dep, epci in zip(communes["code"], communes["departement"], communes["epci"], strict=True)
    }


def _search_text(project: Project) -> str:
    texts = [project.name, project.organisation, project.place_text, *project.actions, *project.beneficiaries]
    return normalize(" ".join([*texts, *project.partners, *project.objectives]))


@dataclass(frozen=True)
class Derived:
    """What the project's words (or the curation) say about what it does."""

    axes: list[int]
    axes_source: str
    axes_note: str | None
    action_types: list[str]
    mobile: bool
    reach: str
    reach_source: str
    reach_note: str | None
    to_classify: str | None
    derivation: dict[str, list[str]]


def _derivation(record: ProjectRecord) -> Derived:
    doing = [record.name, *record.actions, *record.objectives]
    # A project whose intervention place is PAT territories works inside PATs (axis 2), so the place text counts too.
    axes = derive_axes([*doing, *record.beneficiaries, record.place_text], record.partners)
    types = derive_action_types(doing)
    mobile = derive_mobile(doing)
    reading = read_reach([record.name, *record.actions])
    reach, reach_words = reading.reach, reading.words
    derivation = {f"axe {axis}": words for axis, words in axes.items()} | types
    if mobile:
        derivation["mobile"] = mobile
    derivation["reach"] = reach_words
    curation = record.curation
    return Derived(
        axes=sorted(set(curation.axes.values)) if curation.axes else sorted(axes),
        axes_source="manual" if curation.axes else "derived",
        axes_note=curation.axes.note if curation.axes else None,
        action_types=[slug for slug in ACTION_TYPES if slug in types],
        mobile=bool(mobile),
        reach=curation.reach.value if curation.reach else reach,
        reach_source="manual" if curation.reach else "derived",
        reach_note=curation.reach.note if curation.reach else None,
        # a reach no direct-access rule recognised is a default, for a person to decide (curation.reach)
        to_classify=reading.why if reading.to_classify and not curation.reach else None,
        derivation=derivation,
    )


class ProjectCatalogue:
    """Every project, its intervention area, and indexes for the API's filters."""

    def __init__(
        self,
        projects: list[Project],
        areas: dict[str, BaseGeometry],
        boundaries: Boundaries,
        version: str,
        *,
        digests: dict[str, str] | None = None,
        versions: dict[str, int] | None = None,
        broken: dict[str, str] | None = None,
        search_text: dict[str, str] | None = None,
        fragments: dict[tuple[str, str], bytes] | None = None,
        previous: ProjectCatalogue | None = None,
        dumped: dict[str, tuple[ProjectRecord, bytes, str]] | None = None,
    ) -> None:
        """``previous``: a catalogue of the same boundaries, whose tables that depend on them only are shared.
        ``dumped``: each record with its JSON and that JSON's digest (what the next catalogue compares)."""
        self.projects = {p.id: p for p in projects}
        self.areas = areas
        self.version = version
        self.digests = digests or {}  # project id -> hash of its record's content
        self.versions = versions or {}  # project id -> its version in the store (the resource's ETag)
        self.broken = broken or {}  # project id -> why its record no longer builds (set aside, not served)
        self._boundaries = boundaries
        self.answers: dict[object, bytes] = {}  # serialized API answers of this catalogue, by query
        # serialized Features by (project id, geometry), handed on to the next catalogue for unchanged projects
        self.fragments: dict[tuple[str, str], bytes] = fragments or {}
        self._parents = previous._parents if previous is not None else _parents_of(boundaries)
        self._dumped = dumped or {}
        known = search_text or {}
        self._search_text = {p.id: known.get(p.id) or _search_text(p) for p in projects}

    @classmethod
    def load(cls, folder: Path, boundaries: Boundaries, geocoder: Geocoder) -> ProjectCatalogue:
        return cls.from_records([record for _, record in read_records(folder)], boundaries, geocoder)

    @classmethod
    def from_records(
        cls,
        records: list[ProjectRecord],
        boundaries: Boundaries,
        geocoder: Geocoder,
        *,
        previous: ProjectCatalogue | None = None,
        versions: dict[str, int] | None = None,
        lenient: bool = False,
    ) -> ProjectCatalogue:
        """The catalogue of these records; its version hashes their content, so any edit changes it.

        ``previous``: a catalogue on the same boundaries, whose projects are reused where the record's content is
        the same (geocoding and areas are the costly part). ``lenient``: set aside the records that do not build
        instead of failing."""
        digest = hashlib.sha256()
        projects, areas, digests, broken, search_text, fragments = [], {}, {}, {}, {}, {}
        reusable = previous is not None and previous._boundaries is boundaries
        # the store hands the same record objects back while they are unchanged: their JSON is made once
        known, dumped = previous._dumped if previous is not None else {}, {}
        for record in records:
            hit = known.get(record.id)
            if hit is not None and hit[0] is record:
                content, own = hit[1], hit[2]
            else:
                content = record.model_dump_json().encode()
                own = hashlib.sha256(content).hexdigest()
            dumped[record.id] = (record, content, own)
            digest.update(content + b"\0")
            if (
                reusable
                and previous.digests.get(record.id) == own
                and record.id in previous.projects
                # a day later, an action may have run past its end: then it is built again, flag and all
                and previous.projects[record.id].to_check == to_check(record, end_of(record)[0], date.today())
            ):
                project, area = previous.projects[record.id], previous.areas[record.id]
                search_text[record.id] = previous._search_text[record.id]
                for kind in ("point", "area"):
                    if (record.id, kind) in previous.fragments:
                        fragments[(record.id, kind)] = previous.fragments[(record.id, kind)]
            else:
                try:
                    project, area = build_project(record, boundaries, geocoder)
                except DataError as exc:
                    if not lenient:
                        raise
                    broken[record.id] = str(exc)
                    continue
            projects.append(project)
            areas[project.id] = area
            digests[project.id] = own
        return cls(
            projects,
            areas,
            boundaries,
            digest.hexdigest()[:16],
            digests=digests,
            versions=versions,
            broken=broken,
            search_text=search_text,
            fragments=fragments,
            previous=previous if reusable else None,
            dumped=dumped,
        )

    def subset(self, ids: list[str]) -> ProjectCatalogue:
        """A catalogue of only these projects (a selection by year or status), sharing what they were built with."""
        kept = [self.projects[i] for i in ids]
        return ProjectCatalogue(
            kept,
            {i: self.areas[i] for i in ids},
            self._boundaries,
            hashlib.sha256(f"{self.version}:{','.join(ids)}".encode()).hexdigest()[:16],
            digests={i: self.digests[i] for i in ids if i in self.digests},
            versions={i: self.versions[i] for i in ids if i in self.versions},
            search_text={i: self._search_text[i] for i in ids},
            previous=self,
        )

    @property
    def records(self) -> list[ProjectRecord]:
        """The records this catalogue was made from, in their order, those set aside included: what an export
        writes, consistent with the projects served (read in the same store transaction)."""
        return [record for record, _, _ in self._dumped.values()]

    def fragment(self, project_id: str, geometry: str, make: Callable[[], bytes]) -> bytes:
        found = self.fragments.get((project_id, geometry))
        if found is None:
            found = self.fragments[(project_id, geometry)] = make()
        return found

    def get(self, project_id: str) -> Project:
        project = self.projects.get(project_id)
        if project is None:
            raise NotFoundError(f"no project with id {project_id!r}")
        return project

    def search(self, filters: ProjectFilters) -> list[Project]:
        self._check(filters)
        words = normalize(filters.q).split() if filters.q else []
        return [
            p
            for p in self.projects.values()
            if (filters.axe is None or filters.axe in p.axes)
            and (filters.type is None or filters.type in p.action_types)
            and (filters.commune is None or filters.commune in p.communes)
            and (filters.departement is None or any(self._parents[c][0] == filters.departement for c in p.communes))
            and (filters.epci is None or any(self._parents[c][1] == filters.epci for c in p.communes))
            and all(word in self._search_text[p.id] for word in words)
            and selected(p, filters.year, filters.status)
            and (filters.to_check is None or bool(p.to_check) == filters.to_check)
        ]

    def _check(self, filters: ProjectFilters) -> None:
        for level in ("departement", "epci", "commune"):
            code = getattr(filters, level)
            if code is not None:
                self._boundaries.require(level, code, parameter=level)
        if filters.axe is not None and filters.axe not in AXES:
            raise InvalidInputError(f"axe={filters.axe}: the programme has axes {', '.join(map(str, AXES))}")
        if filters.type is not None and filters.type not in ACTION_TYPES:
            raise InvalidInputError(f"type={filters.type!r}: expected one of {', '.join(ACTION_TYPES)}")
        check_selection(filters.year, filters.status)


BUILT_CACHE_SIZE = 256
# per geocoder (so per boundaries and alias table), the projects built lately, by their record's content
_built: weakref.WeakKeyDictionary[Geocoder, OrderedDict[tuple[str, str], tuple[Project, BaseGeometry]]] = (
    weakref.WeakKeyDictionary()
)
_built_lock = threading.Lock()


def build_project(record: ProjectRecord, boundaries: Boundaries, geocoder: Geocoder) -> tuple[Project, BaseGeometry]:
    """The served project and its intervention area, built once per record content (geocoding is the costly
    part): a write checks the record by building it, and the rebuild that follows takes the same result."""
    today = date.today()  # what is « à vérifier » depends on the day: a new day builds the record again
    key = (boundaries.version, hashlib.sha256(record.model_dump_json().encode()).hexdigest(), today)
    with _built_lock:
        cache = _built.setdefault(geocoder, OrderedDict())
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
    built = _build_project(record, boundaries, geocoder, today)
    with _built_lock:
        cache[key] = built
        while len(cache) > BUILT_CACHE_SIZE:
            cache.popitem(last=False)
    return built


def _build_project(
    record: ProjectRecord, boundaries: Boundaries, geocoder: Geocoder, today: date
) -> tuple[Project, BaseGeometry]:
    """The served project (territories, communes, point, derived fields) and its intervention area."""
    context = " ".join([*record.indicators, *record.beneficiaries])
    territories, geocoding = _territories(record, geocoder, boundaries, context)
    if not territories:
        raise DataError(
            f"project {record.id}: nothing in {record.place_text!r} resolves to a territory and no "
            "manual territories are given (curation.territories)"
        )
    communes: set[str] = set()
    for territory in territories:
        covered = geocoder.gazetteer.units[territory.level, territory.code].communes
        territory.communes = len(covered)
        communes |= covered
    area = shapely.union_all([boundaries.level(t.level).geometry[t.code] for t in territories], grid_size=GRID)
    derived = _derivation(record)
    end, end_source = end_of(record)
    return Project(
        id=record.id,
        organisation=record.organisation,
        name=record.name,
        duration_years=record.duration_years,
        funding_years=record.funding_years,
        amount_eur=record.amount_eur,
        status=record.status,
        end_date=end,
        end_date_source=end_source,
        website=record.website,
        contact=record.contact,
        last_checked=record.last_checked,
        to_check=to_check(record, end, today),
        place_text=record.place_text,
        actions=record.actions,
        beneficiaries=record.beneficiaries,
        indicators=[IndicatorOut(**vars(parse_indicator(text))) for text in record.indicators],
        partners=record.partners,
        objectives=record.objectives,
        axes=derived.axes,
        axes_source=derived.axes_source,
        axes_note=derived.axes_note,
        action_types=derived.action_types,
        mobile=derived.mobile,
        reach=derived.reach,
        reach_source=derived.reach_source,
        reach_note=derived.reach_note,
        to_classify=derived.to_classify,
        scope=project_scope([t.level for t in territories]),
        territories=territories,
        communes=sorted(communes),
        point=_point(record, boundaries, area),
        geocoding=geocoding,
        derivation=derived.derivation,
    ), area


def _point(record: ProjectRecord, boundaries: Boundaries, area: BaseGeometry) -> PointOut:
    code = record.curation.organisation_commune
    if code is not None:
        communes = boundaries.level("commune")
        if code not in communes.index:
            raise DataError(f"project {record.id}: organisation_commune {code!r} is not a commune here")
        lon, lat = communes.at[code, "townhall"]
        return PointOut(lon=lon, lat=lat, source="organisation_townhall", commune=code)
    inside = area.point_on_surface()
    return PointOut(lon=round(inside.x, 6), lat=round(inside.y, 6), source="area_point")
