"""Everything the service serves, loaded once at startup: boundaries, geocoder, projects, and the data version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from geo_service.coverage import Coverage
from geo_service.geocoding import Gazetteer, Geocoder
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.settings import Settings
from geo_service.territories import Boundaries


@dataclass(frozen=True)
class ServiceData:
    boundaries: Boundaries
    geocoder: Geocoder
    projects: ProjectCatalogue
    coverage: Coverage

    @property
    def version(self) -> str:
        """Changes whenever the boundaries or any project record change (caches and ETags key on it)."""
        return hashlib.sha256(f"{self.boundaries.version}:{self.projects.version}".encode()).hexdigest()[:16]


def load_geocoder(settings: Settings, boundaries: Boundaries) -> Geocoder:
    return Geocoder(Gazetteer.build(boundaries, settings.pays_aliases_path))


def load_service_data(settings: Settings) -> ServiceData:
    boundaries = Boundaries.load(settings.boundaries_dir)
    geocoder = load_geocoder(settings, boundaries)
    projects = ProjectCatalogue.load(settings.projects_dir, boundaries, geocoder)
    return ServiceData(boundaries, geocoder, projects, Coverage(boundaries, projects))
