"""Shared fixtures: the committed boundaries, an app client on them, and the cached source packages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from boundaries.sources import SourceError, SourceFiles, ensure_sources
from geo_service.geocoding import Geocoder
from geo_service.main import create_app
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import ServiceData, load_service_data
from geo_service.settings import REPO_DATA_DIR, Settings, get_settings
from geo_service.territories import Boundaries


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's project store lives: never in the repository."""
    return tmp_path_factory.mktemp("store")


def settings_for(data_dir: Path, store: Path, **overrides) -> Settings:
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{store / 'projects.sqlite3'}", **overrides)


@pytest.fixture(autouse=True)
def cli_store(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Commands run in tests (geo-service ...) use the session's store, not one in the repository."""
    monkeypatch.setenv("GEO_SERVICE_DATABASE_URL", f"sqlite:///{store_dir / 'projects.sqlite3'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def service_data(store_dir: Path) -> ServiceData:
    return load_service_data(settings_for(REPO_DATA_DIR, store_dir))


@pytest.fixture(scope="session")
def boundaries(service_data: ServiceData) -> Boundaries:
    return service_data.boundaries


@pytest.fixture(scope="session")
def geocoder(service_data: ServiceData) -> Geocoder:
    return service_data.geocoder


@pytest.fixture(scope="session")
def catalogue(service_data: ServiceData) -> ProjectCatalogue:
    return service_data.projects


@pytest.fixture(scope="session")
def client(store_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(REPO_DATA_DIR, store_dir))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def source_files() -> SourceFiles:
    """The pinned source packages, from the cache filled by 'geo-service fetch-sources' (tests never download)."""
    try:
        return ensure_sources(get_settings().cache_dir, offline=True)
    except SourceError as exc:
        pytest.fail(f"{exc} (the README's test command does this for you)")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the committed data folder."""
    target = tmp_path / "data"
    # a store the developer's own runs left in data/ is not part of the committed data
    shutil.copytree(REPO_DATA_DIR, target, ignore=shutil.ignore_patterns("*.sqlite3*"))
    return target
