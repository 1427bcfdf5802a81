"""Everything the service serves, loaded at startup and swapped whole after a write: boundaries, geocoder,
projects (from the store), coverage, and the data version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from geo_service.coverage import Coverage
from geo_service.geocoding import Gazetteer, Geocoder
from geo_service.projects.catalogue import ProjectCatalogue, read_records
from geo_service.projects.models import ProjectRecord
from geo_service.settings import Settings
from geo_service.store import ProjectStore
from geo_service.territories import Boundaries


@dataclass(frozen=True)
class ServiceData:
    boundaries: Boundaries
    geocoder: Geocoder
    projects: ProjectCatalogue
    coverage: Coverage
    store: ProjectStore | None = None

    def with_records(self, records: list[ProjectRecord]) -> ServiceData:
        """The same boundaries with these projects: what a write swaps in once the store has committed."""
        projects = ProjectCatalogue.from_records(records, self.boundaries, self.geocoder)
        return replace(self, projects=projects, coverage=Coverage(self.boundaries, projects))

    @property
    def version(self) -> str:
        """Changes whenever the boundaries or any project record change (caches and ETags key on it)."""
        return hashlib.sha256(f"{self.boundaries.version}:{self.projects.version}".encode()).hexdigest()[:16]


def load_geocoder(settings: Settings, boundaries: Boundaries) -> Geocoder:
    return Geocoder(Gazetteer.build(boundaries, settings.pays_aliases_path))


def load_service_data(settings: Settings, *, use_store: bool = True) -> ServiceData:
    """Boundaries and geocoder from the data folder; projects from the store (seeded from ``projects/`` when it
    is empty), or straight from ``projects/`` with ``use_store=False`` (benchmarks, exports of the files)."""
    boundaries = Boundaries.load(settings.boundaries_dir)
    geocoder = load_geocoder(settings, boundaries)
    if not use_store:
        projects = ProjectCatalogue.load(settings.projects_dir, boundaries, geocoder)
        return ServiceData(boundaries, geocoder, projects, Coverage(boundaries, projects))
    store = ProjectStore(settings.database_path)
    if store.is_empty():
        records = [record for _, record in read_records(settings.projects_dir)]
        # built (geocoded) before seeding: a bad file leaves the store empty, to be seeded once it is fixed
        projects = ProjectCatalogue.from_records(records, boundaries, geocoder)
        store.seed(records)
    else:
        projects = ProjectCatalogue.from_records(store.records(), boundaries, geocoder)
    return ServiceData(boundaries, geocoder, projects, Coverage(boundaries, projects), store)
