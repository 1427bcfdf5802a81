"""Shared fixtures: the committed boundaries, an app client on them, the cached source packages, and the two
store backends the API suite runs on (SQLite files, and PostGIS databases on the cluster of scripts/postgres.sh)."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from fastapi.testclient import TestClient

from boundaries.sources import SourceError, SourceFiles, ensure_sources
from geo_service.geocoding import Geocoder
from geo_service.main import create_app
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import ServiceData, load_service_data
from geo_service.settings import REPO_DATA_DIR, REPO_DIR, Settings, get_settings
from geo_service.territories import Boundaries


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's project store lives: never in the repository."""
    return tmp_path_factory.mktemp("store")


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'projects.sqlite3'}"


def settings_for(data_dir: Path, database_url: str, **overrides) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, **overrides)


@pytest.fixture(autouse=True)
def cli_store(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Commands run in tests (geo-service ...) use the session's store, not one in the repository."""
    monkeypatch.setenv("GEO_SERVICE_DATABASE_URL", sqlite_url(store_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# What a test run may leave in the repository (git-ignored tool output); anything else new is a test writing into it.
RUN_OUTPUT = {".pytest_cache", ".hypothesis", ".ruff_cache", ".venv", "node_modules", "test-artifacts", "__pycache__"}


def _repository_status() -> set[str]:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "-z"], cwd=REPO_DIR, capture_output=True, check=True, timeout=60
    )
    return {entry.decode() for entry in status.stdout.split(b"\0") if entry}


@pytest.fixture(scope="session", autouse=True)
def repository_untouched() -> Iterator[None]:
    """In CI (a fresh clone nobody else uses), fail the session if the tests created or changed files in the
    repository, e.g. a store in data/. Not locally: an editor or ./scripts/serve.sh may change the tree meanwhile."""
    if not os.environ.get("CI") or not (REPO_DIR / ".git").exists():
        yield
        return
    before = _repository_status()
    yield
    new = sorted(
        entry
        for entry in _repository_status() - before
        if not RUN_OUTPUT.intersection(entry[3:].rstrip("/").split("/")) and not entry.rstrip("/").endswith(".egg-info")
    )
    assert not new, f"the tests wrote into the repository {REPO_DIR} (git status): {new}"


POSTGRES_ENV = "GEO_SERVICE_TEST_POSTGRES_URL"


class PostgresDatabases:
    """Throwaway databases on the test cluster, each a copy of a template that already holds the schema and the
    committed boundaries (copying a template takes a fraction of a second, loading the boundaries longer)."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.admin_url = admin_url
        self.prefix = f"geo_test_{os.getpid()}"
        self._numbers = itertools.count()
        self.template = self._create(f"{self.prefix}_template")
        from geo_service.store.postgis import PostgisStore

        store = PostgisStore(self.url_of(self.template))
        store.load_boundaries(REPO_DATA_DIR / "boundaries")
        store.close()

    def url_of(self, name: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def _create(self, name: str, template: str | None = None) -> str:
        sql = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
        for attempt in range(50):
            try:
                with self._psycopg.connect(self.admin_url, autocommit=True) as conn:
                    conn.execute(sql)
                return name
            except self._psycopg.errors.ObjectInUse:  # the template's last connection is still closing
                if attempt == 49:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def new_url(self, *, empty: bool = False) -> str:
        """A copy of the template, or with ``empty`` a database without even the schema (as a first start sees)."""
        name = f"{self.prefix}_{next(self._numbers)}"
        return self.url_of(self._create(name, template="template0" if empty else self.template))

    def drop_all(self) -> None:
        with self._psycopg.connect(self.admin_url, autocommit=True) as conn:
            names = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{self.prefix}_%",))
            for (name,) in names.fetchall():
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def unavailable(reason: str) -> NoReturn:
    """A service a test needs is missing: a failure in CI (the README's test command installs and starts every
    one), a skip with the reason on a developer's machine, so that the rest runs there (see MARKERS)."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


# Markers given by where a test lives and what it uses, to run a part: `pytest -m unit` is the quick inner loop
# (no database server, no browser, no QGIS, nothing slow; under two minutes, no root).
MARKERS = ("unit", "api", "postgis", "browser", "gis", "slow")

# `slow`, by one rule: a test that runs the service in another process (a `geo-service serve`, a load run, the
# image's layout, the app in an interpreter without the PostgreSQL driver) or kills one (a writer killed
# mid-transaction), waits on a real clock (a connection or request timeout), rebuilds or repacks the region's
# boundary files, or draws every tile of the region. Such tests say so themselves with
# `pytest.mark.slow`, except these, in files other work owns for now (node id up to the parameters): move the mark
# into the file when it is next edited. Slow tests leave the inner loop only: ./scripts/test.sh and CI run them all.
SLOW_TESTS = ("tests/tiles/test_mvt_validity.py::test_every_polygon_of_the_region_tiles_is_valid_in_tile_coordinates",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.as_posix()
        kinds = {name for name in MARKERS if item.get_closest_marker(name)}
        if item.nodeid.split("[", 1)[0] in SLOW_TESTS:
            kinds.add("slow")
        if "/tests/browser/" in path:
            kinds.add("browser")
        if "qgis" in item.path.name:
            kinds.add("gis")
        if "[postgis" in item.nodeid or "-postgis" in item.nodeid or "postgres" in getattr(item, "fixturenames", ()):
            kinds.add("postgis")
        if "/tests/api/" in path:
            kinds.add("api")
        if not kinds & {"api", "postgis", "browser", "gis", "slow"}:
            kinds.add("unit")
        for name in kinds:
            item.add_marker(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        unavailable(f"{POSTGRES_ENV} is not set: ./scripts/test.sh starts a local PostGIS (scripts/postgres.sh)")
    databases = PostgresDatabases(url)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session", params=["sqlite", "postgis"])
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend the API suite runs on: every test that depends on it runs once per backend."""
    return request.param


@pytest.fixture(scope="session")
def new_store(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], str]:
    """Each call: the URL of another empty store on the backend under test."""
    if backend == "postgis":
        return request.getfixturevalue("postgres").new_url
    return lambda: sqlite_url(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="session")
def service_data(store_dir: Path) -> ServiceData:
    return load_service_data(settings_for(REPO_DATA_DIR, sqlite_url(store_dir)))


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
def client(new_store: Callable[[], str]) -> Iterator[TestClient]:
    """The app on the committed data, once per backend."""
    with TestClient(create_app(settings_for(REPO_DATA_DIR, new_store()))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def source_files() -> SourceFiles:
    """The pinned source packages, from the cache filled by 'geo-service fetch-sources' (tests never download)."""
    try:
        return ensure_sources(get_settings().cache_dir, offline=True)
    except SourceError as exc:
        unavailable(f"{exc} (the README's test command does this for you)")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the committed data folder."""
    target = tmp_path / "data"
    # a store the developer's own runs left in data/ is not part of the committed data
    shutil.copytree(REPO_DATA_DIR, target, ignore=shutil.ignore_patterns("*.sqlite3*"))
    return target
