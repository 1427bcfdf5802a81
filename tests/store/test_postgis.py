"""The PostGIS store on its own: boundaries read back exactly as the files, schema migrations, the revision that
workers follow, and the command that loads boundaries."""

from __future__ import annotations

import threading

import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from geopandas.testing import assert_geodataframe_equal

from boundaries.build import repack
from geo_service.cli import main
from geo_service.errors import DataError
from geo_service.main import create_app
from geo_service.projects.models import ProjectRecord
from geo_service.settings import REPO_DATA_DIR
from geo_service.store.postgis import MIGRATIONS, PostgisStore
from geo_service.territories import LEVELS, Boundaries
from tests.conftest import PostgresDatabases, settings_for
from tests.servers import wait_for

RECORD = ProjectRecord(id="test-revision", organisation="Test", name="Test", duration_years=1, place_text="Amiens")


@pytest.fixture
def store(postgres: PostgresDatabases):
    opened = PostgisStore(postgres.new_url())
    yield opened
    opened.close()


def test_boundaries_read_back_exactly_as_the_files(store: PostgisStore) -> None:
    files = Boundaries.load(REPO_DATA_DIR / "boundaries")
    stored = store.boundaries(REPO_DATA_DIR / "boundaries")
    assert stored.version == files.version  # so the data version, and every ETag, is the same on both backends
    for level in LEVELS:
        assert_geodataframe_equal(stored.level(level), files.level(level), check_less_precise=False)


def test_workers_read_the_packed_levels_and_a_database_loaded_without_them_still_serves(store: PostgisStore) -> None:
    files = Boundaries.load(REPO_DATA_DIR / "boundaries")
    store.boundaries(REPO_DATA_DIR / "boundaries")
    with psycopg.connect(store.url) as conn:
        stored = dict(conn.execute("SELECT level, sha256 FROM boundary_packed").fetchall())
    assert stored == {level: files.manifest["packed"][level]["sha256"] for level in LEVELS}
    served = store.boundaries(REPO_DATA_DIR / "boundaries")
    tile_rows = served.zooms["commune"].take(8, [0, 1])
    assert shapely.equals_exact(tile_rows, files.zooms["commune"].take(8, [0, 1]), tolerance=0).all()
    # a database a previous version loaded has no packed levels: they are made at start (slowly), the same
    with psycopg.connect(store.url, autocommit=True) as conn:
        conn.execute("DELETE FROM boundary_packed")
    rebuilt = store.boundaries(REPO_DATA_DIR / "boundaries")
    for level in LEVELS:
        assert_geodataframe_equal(rebuilt.level(level), files.level(level), check_less_precise=False)
    assert shapely.equals_exact(rebuilt.zooms["commune"].take(8, [0, 1]), tile_rows, tolerance=0).all()


def test_geometries_are_indexed_for_spatial_queries(store: PostgisStore) -> None:
    with psycopg.connect(store.url) as conn:
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'boundaries'").fetchall()
        found = conn.execute(
            "SELECT code FROM boundaries WHERE level = 'commune' "
            "AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(2.2957, 49.8942), 4326))"
        ).fetchall()
    assert any("USING gist (geom)" in row[0] for row in index)
    assert found == [("80021",)]  # Amiens' town hall lies in Amiens


def test_every_write_moves_the_revision_and_is_heard_by_other_workers(postgres: PostgresDatabases) -> None:
    url = postgres.new_url()
    worker, other = PostgisStore(url), PostgisStore(url)
    try:
        heard = threading.Event()
        worker.watch(on_change=heard.set)
        _, served = worker.snapshot()  # what this worker serves now
        other.create(RECORD, "test")
        assert other.revision() == served + 1
        assert heard.wait(2)  # the notification arrives in milliseconds
        assert worker.changed_since(served)
        records, fresh = worker.snapshot()
        assert RECORD.id in {record.id for record in records}
        assert not worker.changed_since(fresh)  # served again: nothing more to do
    finally:
        worker.close()
        other.close()


def test_migrations_run_once_and_a_newer_schema_is_refused(postgres: PostgresDatabases) -> None:
    url = postgres.new_url()
    PostgisStore(url).close()
    reopened = PostgisStore(url)
    assert reopened.schema_version() == len(MIGRATIONS)
    reopened.close()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO schema_version VALUES (%s)", (len(MIGRATIONS) + 1,))
    with pytest.raises(DataError, match="newer than this geo-service"):
        PostgisStore(url)


@pytest.mark.slow  # waits out the pool's 15 s opening timeout (see MARKERS in tests/conftest.py)
def test_an_unreachable_database_is_named_without_its_password() -> None:
    with pytest.raises(DataError, match=r"cannot connect to PostgreSQL at postgresql://geo:\*\*\*@127.0.0.1:9/geo"):
        PostgisStore("postgresql://geo:secret@127.0.0.1:9/geo?connect_timeout=1")


def test_load_boundaries_command(postgres: PostgresDatabases, monkeypatch, capsys) -> None:
    url = postgres.new_url()
    with psycopg.connect(url) as conn:  # the template's set, gone: as in a brand-new database
        conn.execute("DELETE FROM boundaries")
        conn.execute("DELETE FROM boundary_set")
    monkeypatch.setenv("GEO_SERVICE_DATABASE_URL", url)
    from geo_service.settings import get_settings

    get_settings.cache_clear()
    assert main(["load-boundaries"]) == 0
    assert "3782 commune, 92 epci" in capsys.readouterr().out
    store = PostgisStore(url)
    assert store.boundaries_version() == Boundaries.load(REPO_DATA_DIR / "boundaries").version
    store.close()


def test_load_boundaries_needs_postgis(capsys) -> None:
    assert main(["load-boundaries"]) == 2  # the session's store is SQLite
    assert "GEO_SERVICE_DATABASE_URL=postgresql://" in capsys.readouterr().err


def test_a_running_service_switches_to_newly_loaded_boundaries(postgres: PostgresDatabases, data_copy) -> None:
    folder = data_copy / "boundaries"
    communes = folder / "commune.geojson"
    text = communes.read_text("utf-8")
    assert text.count('"name":"Amiens"') == 1
    communes.write_text(text.replace('"name":"Amiens"', '"name":"Amiens (essai)"'), "utf-8")
    repack(folder, progress=lambda _: None)  # what `geo-service pack-boundaries` does after a hand edit

    url = postgres.new_url()
    with TestClient(create_app(settings_for(REPO_DATA_DIR, url))) as running:
        version = running.get("/healthz").json()["data_version"]
        assert running.get("/api/v1/territories/commune/80021").json()["name"] == "Amiens"
        loader = PostgisStore(url)
        loader.load_boundaries(folder)
        loader.close()
        wait_for(  # the notification's trip, then the reload
            lambda: running.get("/api/v1/territories/commune/80021").json()["name"] == "Amiens (essai)",
            "the running service serves the newly loaded boundaries",
        )
        assert running.get("/healthz").json()["data_version"] != version


def test_a_lost_database_is_a_503_and_what_is_loaded_is_still_served(postgres: PostgresDatabases) -> None:
    url = postgres.new_url()
    with TestClient(create_app(settings_for(REPO_DATA_DIR, url))) as running:
        with psycopg.connect(postgres.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")
        history = running.get("/api/v1/projects/nutri-cheques/history")
        assert history.status_code == 503 and "is out of reach" in history.json()["detail"]
        assert len(running.get("/api/v1/projects").json()["features"]) == 28
