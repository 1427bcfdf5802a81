"""Load the curated project records, derive what the map needs, and answer queries over them.

Loading the files is all-or-nothing: a record that does not validate, names an unknown territory, or resolves to
no commune stops the load with a message naming the file and the problem, so a broken file never seeds half a
catalogue. Rebuilding from the store after a write is lenient: a record that no longer builds (a manual
territory gone after ``load-boundaries``...) is set aside with its error (``broken``), never blocking the others.
A rebuild re-derives only the records whose content changed: each built project is kept in the snapshot's memo
(``geo_service.memo``) under its record's content digest, the boundaries' version and the day's « à vérifier »
flag, so the catalogue after a write finds the unchanged ones there without knowing the catalogue before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import shapely
import yaml
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from geo_service.errors import DataError, InvalidInputError, NotFoundError
from geo_service.geocoding import Geocoder
from geo_service.geocoding.text import normalize
from geo_service.memo import Memo
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


def _context(record: ProjectRecord) -> str:
    """What the geocoder reads beside the place text (whom and what the action serves)."""
    return " ".join([*record.indicators, *record.beneficiaries])


def _territories(
    record: ProjectRecord, geocoder: Geocoder, boundaries: Boundaries, context: str, memo: Memo | None = None
) -> tuple[list[TerritoryOut], GeocodingOut]:
    def geocode():
        return geocoder.geocode(record.place_text, context=context)

    # a place text reads the same whatever else the record says: an edit of a name or an amount geocodes nothing
    key = (boundaries.version, record.place_text, context)
    result = geocode() if memo is None else memo.get("catalogue.geocoding", key, geocode)
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
        dumped: dict[str, tuple[ProjectRecord, bytes, str]] | None = None,
        memo: Memo | None = None,
    ) -> None:
        """``dumped``: each record with its JSON and that JSON's digest (what the next catalogue compares).
        ``memo``: where what depends only on content (a project's search text and Features, the communes'
        parents) is kept, shared by the catalogues of the same snapshot line; a new one when not given."""
        self.projects = {p.id: p for p in projects}
        self.areas = areas
        self.version = version
        self.digests = digests or {}  # project id -> hash of its record's content
        self.versions = versions or {}  # project id -> its version in the store (the resource's ETag)
        self.broken = broken or {}  # project id -> why its record no longer builds (set aside, not served)
        self._boundaries = boundaries
        self._memo = memo if memo is not None else Memo()
        self._parents = self._memo.get("catalogue.parents", boundaries.version, lambda: _parents_of(boundaries))
        self._dumped = dumped or {}
        # a project's search text depends on its built content only: the key of the project itself
        self._search_text = {
            p.id: self._memo.get("catalogue.search_text", self._content_key(p), lambda p=p: _search_text(p))
            for p in projects
        }

    def _content_key(self, project: Project) -> tuple[str, str, tuple[str, ...] | None]:
        """What a project's derived values are made from: the boundaries, its record's content and the day's
        « à vérifier » reasons (a record built without a store digest is keyed by its own JSON)."""
        digest = self.digests.get(project.id) or hashlib.sha256(project.model_dump_json().encode()).hexdigest()
        reasons = None if project.to_check is None else tuple(project.to_check)
        return (self._boundaries.version, digest, reasons)

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
        memo: Memo | None = None,
        versions: dict[str, int] | None = None,
        lenient: bool = False,
    ) -> ProjectCatalogue:
        """The catalogue of these records; its version hashes their content, so any edit changes it.

        Each project is built once per record content (geocoding and areas are the costly part) and found in
        ``memo`` afterwards. ``lenient``: set aside the records that do not build instead of failing."""
        memo = memo if memo is not None else Memo()
        digest = hashlib.sha256()
        projects, areas, digests, broken, dumped = [], {}, {}, {}, {}
        for record in records:
            content, own = _dumped(record, memo)
            dumped[record.id] = (record, content, own)
            digest.update(content + b"\0")
            try:
                project, area = build_project(record, boundaries, geocoder, memo=memo, digest=own)
            except DataError as exc:
                if not lenient:
                    raise
                broken[record.id] = str(exc)
                continue
            projects.append(project)
            areas[project.id] = area
            digests[project.id] = own
        made = cls(
            projects,
            areas,
            boundaries,
            digest.hexdigest()[:16],
            digests=digests,
            versions=versions,
            broken=broken,
            dumped=dumped,
            memo=memo,
        )
        made._retain_only_mine()
        return made

    def _retain_only_mine(self) -> None:
        """Drop from the memo what no project of this catalogue uses: the next catalogue is made from the same
        records plus a write, and what an older one held (replaced records, their areas) would pile up."""
        today = date.today()
        contents = {self._content_key(p) for p in self.projects.values()}
        self._memo.retain("catalogue.built", {(self._boundaries.version, d, today) for d in self.digests.values()}, 256)
        self._memo.retain("catalogue.dumped", {id(record) for record, _, _ in self._dumped.values()}, 256)
        self._memo.retain("catalogue.search_text", contents)
        self._memo.retain("catalogue.fragment", {(*key, kind) for key in contents for kind in ("point", "area")})
        places = {(self._boundaries.version, r.place_text, _context(r)) for r, _, _ in self._dumped.values()}
        self._memo.retain("catalogue.geocoding", places, 256)

    def subset(self, ids: list[str]) -> ProjectCatalogue:
        """A catalogue of only these projects (a selection by year or status), sharing the memo."""
        kept = [self.projects[i] for i in ids]
        return ProjectCatalogue(
            kept,
            {i: self.areas[i] for i in ids},
            self._boundaries,
            hashlib.sha256(f"{self.version}:{','.join(ids)}".encode()).hexdigest()[:16],
            digests={i: self.digests[i] for i in ids if i in self.digests},
            versions={i: self.versions[i] for i in ids if i in self.versions},
            memo=self._memo,
        )

    @property
    def records(self) -> list[ProjectRecord]:
        """The records this catalogue was made from, in their order, those set aside included: what an export
        writes, consistent with the projects served (read in the same store transaction)."""
        return [record for record, _, _ in self._dumped.values()]

    def fragment(self, project_id: str, geometry: str, make: Callable[[], bytes]) -> bytes:
        """A project's serialised Feature with this geometry, made once per project content."""
        key = (*self._content_key(self.projects[project_id]), geometry)
        return self._memo.get("catalogue.fragment", key, make)

    def answer(self, query: Hashable, make: Callable[[], bytes]) -> bytes:
        """A serialised answer of this catalogue to ``query`` (a hashable description of the request), made once
        per catalogue content: maps ask for the same list on every page view."""
        return self._memo.get("catalogue.answer", (self._boundaries.version, self.version, query), make)

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


def build_project(
    record: ProjectRecord,
    boundaries: Boundaries,
    geocoder: Geocoder,
    *,
    memo: Memo | None = None,
    digest: str | None = None,
) -> tuple[Project, BaseGeometry]:
    """The served project and its intervention area, built once per record content in ``memo`` (geocoding is
    the costly part): a write checks the record by building it, and the rebuild that follows finds the result.
    The geocoder is the one of these boundaries (its alias table is the process's), so their version keys it."""
    today = date.today()  # what is « à vérifier » depends on the day: a new day builds the record again
    if memo is None:
        return _build_project(record, boundaries, geocoder, today)
    own = digest or _dumped(record, memo)[1]
    key = (boundaries.version, own, today)
    return memo.get("catalogue.built", key, lambda: _build_project(record, boundaries, geocoder, today, memo))


def _dumped(record: ProjectRecord, memo: Memo) -> tuple[bytes, str]:
    """A record's JSON and its digest. The store hands back the same record objects while they are unchanged
    (records are not modified in place): kept by object, the entry holding the object so its id is not reused."""
    found = memo.peek("catalogue.dumped", id(record))
    if found is not None and found[0] is record:
        return found[1], found[2]
    content = record.model_dump_json().encode()
    own = hashlib.sha256(content).hexdigest()
    memo.get("catalogue.dumped", id(record), lambda: (record, content, own))
    return content, own


def _build_project(
    record: ProjectRecord, boundaries: Boundaries, geocoder: Geocoder, today: date, memo: Memo | None = None
) -> tuple[Project, BaseGeometry]:
    """The served project (territories, communes, point, derived fields) and its intervention area."""
    context = _context(record)
    territories, geocoding = _territories(record, geocoder, boundaries, context, memo)
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
