"""The data the service serves, loaded at startup and rebuilt after a write: boundaries, geocoder, projects (from
the store), coverage, the programme's own figures, and the data version (``geo_service.snapshot`` swaps it in,
with the tiles).

Boundaries come from ``data/boundaries`` with the embedded store, from the database with PostGIS (loaded there
from the files the first time the database is empty, or by ``geo-service load-boundaries``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from geo_service.coverage import Coverage
from geo_service.geocoding import Gazetteer, Geocoder
from geo_service.memo import Memo
from geo_service.programme import Programme, load_programme
from geo_service.projects.catalogue import ProjectCatalogue, read_records
from geo_service.projects.models import ProjectRecord
from geo_service.settings import Settings
from geo_service.store import ProjectStore, open_store
from geo_service.territories import Boundaries


@dataclass(frozen=True)
class ServiceData:
    boundaries: Boundaries
    geocoder: Geocoder
    projects: ProjectCatalogue
    coverage: Coverage
    revision: int = 0  # the store's revision the projects were read at (see ProjectStore.changed_since)
    # what the rules computed, by content: handed on to the next data after a write (see geo_service.memo)
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)
    # the brochure's figures (budget per year), read once with the rest: a broken file stops the start-up
    programme: Programme | None = None
    # when the projects last changed in the store (ISO 8601, UTC; None: files served without one): pictures say it
    written_at: str | None = None

    def with_records(
        self, records: list[ProjectRecord], revision: int, versions: dict[str, int] | None = None
    ) -> ServiceData:
        """The same boundaries with these projects: what a write swaps in once the store has committed. Only
        the records whose content changed are re-derived; one that no longer builds is set aside."""
        projects = ProjectCatalogue.from_records(
            records, self.boundaries, self.geocoder, memo=self.memo, versions=versions, lenient=True
        )
        coverage = Coverage(self.boundaries, projects, self.memo)
        return replace(self, projects=projects, coverage=coverage, revision=revision)

    @property
    def version(self) -> str:
        """Changes whenever the boundaries or any project record change (caches and ETags key on it)."""
        return hashlib.sha256(f"{self.boundaries.version}:{self.projects.version}".encode()).hexdigest()[:16]


def refreshed(data: ServiceData, store: ProjectStore, settings: Settings) -> ServiceData:
    """What the store holds now: its projects, and its boundaries too when someone loaded another set."""
    if store.boundaries_version() not in (None, data.boundaries.version):
        boundaries = store.boundaries(settings.boundaries_dir)
        data = replace(data, boundaries=boundaries, geocoder=load_geocoder(settings, boundaries))
    state = store.state()
    return replace(data.with_records(state.records, state.revision, state.versions), written_at=state.written_at)


def load_geocoder(settings: Settings, boundaries: Boundaries) -> Geocoder:
    return Geocoder(Gazetteer.build(boundaries, settings.pays_aliases_path))


def load_service_data(settings: Settings, *, use_store: bool = True) -> ServiceData:
    """Boundaries, geocoder and projects as the store holds them now (the store opened, read and closed: what a
    command reads), or everything straight from the data folder with ``use_store=False`` (benchmarks, exports of
    the files). A server keeps its store open instead: ``open_service``."""
    if use_store:
        data, store = open_service(settings)
        store.close()
        return data
    boundaries = Boundaries.load(settings.boundaries_dir)
    geocoder = load_geocoder(settings, boundaries)
    memo = Memo()
    projects = ProjectCatalogue.from_records(
        [record for _, record in read_records(settings.projects_dir)], boundaries, geocoder, memo=memo
    )
    coverage = Coverage(boundaries, projects, memo)
    programme = load_programme(settings.programme_path)
    return ServiceData(boundaries, geocoder, projects, coverage, memo=memo, programme=programme)


def open_service(settings: Settings) -> tuple[ServiceData, ProjectStore]:
    """The store, opened (and seeded from ``projects/`` when empty), and the data it holds: what the publisher
    starts from. The store stays with the caller, who writes through it and closes it; the data never holds it."""
    store = open_store(settings)
    try:
        boundaries = store.boundaries(settings.boundaries_dir)
        geocoder = load_geocoder(settings, boundaries)
        if store.is_empty():
            records = [record for _, record in read_records(settings.projects_dir)]
            # built (geocoded) before seeding: a bad file leaves the store empty, to be seeded once it is fixed
            ProjectCatalogue.from_records(records, boundaries, geocoder)
            store.seed(records)
        state = store.state()
        memo = Memo()
        projects = ProjectCatalogue.from_records(
            state.records, boundaries, geocoder, memo=memo, versions=state.versions, lenient=True
        )
        coverage = Coverage(boundaries, projects, memo)
        data = ServiceData(
            boundaries,
            geocoder,
            projects,
            coverage,
            revision=state.revision,
            memo=memo,
            programme=load_programme(settings.programme_path),
            written_at=state.written_at,
        )
    except BaseException:
        store.close()
        raise
    return data, store
