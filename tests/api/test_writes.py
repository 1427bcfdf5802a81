"""Editing projects through the API: who may write, what a write changes (everywhere at once), what a bad write
does not change, history, soft delete, restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from geo_service.tiles.grid import tile_of
from tests.conftest import settings_for
from tests.servers import wait_for

TOKEN = {"Authorization": "Bearer s3cret-dreets-token-1"}
NEW = {
    "id": "epicerie-mobile-du-vimeu",
    "organisation": "Association Test Vimeu",
    "name": "Épicerie mobile du Vimeu",
    "duration_years": 2,
    "place_text": "Communauté de communes du Vimeu",
    "actions": ["Tournée hebdomadaire d'une épicerie solidaire itinérante dans les villages"],
    "beneficiaries": ["Habitants des communes rurales du Vimeu"],
    "indicators": ["Taux de pauvreté de 15,2 %"],
    "partners": ["Banque alimentaire de la Somme"],
    "objectives": ["Couvrir les zones blanches du Vimeu"],
}


@pytest.fixture(scope="module")
def store(new_store: Callable[[], str]) -> str:
    return new_store()


@pytest.fixture(scope="module")
def writer(store: str) -> Iterator[TestClient]:
    settings = settings_for(REPO_DATA_DIR, store, admin_tokens={"dreets": "s3cret-dreets-token-1"}, max_body_kb=64)
    with TestClient(create_app(settings)) as client:
        yield client


def test_no_token_configured_means_no_writes(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json=NEW, headers=TOKEN)
    assert response.status_code == 403 and "GEO_SERVICE_ADMIN_TOKEN" in response.json()["detail"]


def test_missing_or_wrong_token(writer: TestClient) -> None:
    missing = writer.post("/api/v1/projects", json=NEW)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert writer.post("/api/v1/projects", json=NEW, headers={"Authorization": "Bearer nope"}).status_code == 403


def test_a_bad_write_changes_nothing(writer: TestClient) -> None:
    version = writer.get("/healthz").json()["data_version"]
    nowhere = writer.post("/api/v1/projects", json=NEW | {"place_text": "Quelque part"}, headers=TOKEN)
    assert nowhere.status_code == 422 and "unresolved" in nowhere.json()["detail"]
    invalid = writer.post("/api/v1/projects", json=NEW | {"duration_years": "deux"}, headers=TOKEN)
    assert invalid.status_code == 422 and "duration_years" in str(invalid.json()["detail"])
    huge = writer.post("/api/v1/projects", json=NEW | {"actions": ["x" * 70_000]}, headers=TOKEN)
    assert huge.status_code == 413
    assert writer.get("/healthz").json()["data_version"] == version
    assert len(writer.get("/api/v1/projects").json()["features"]) == 28


def test_a_new_project_shows_everywhere_at_once(writer: TestClient) -> None:
    before = writer.get("/healthz").json()["data_version"]
    abbeville = tile_of(1.83, 50.1, 8)  # the CC du Vimeu is in this tile
    projects_tag = writer.get(f"/tiles/projects/8/{abbeville.x}/{abbeville.y}.mvt").headers["etag"]
    response = writer.post("/api/v1/projects", json=NEW, headers=TOKEN)
    assert response.status_code == 201 and response.headers["location"] == f"/api/v1/projects/{NEW['id']}"
    created = response.json()["properties"]
    assert [(t["level"], t["code"], t["source"]) for t in created["territories"]] == [("epci", "200070944", "geocoder")]
    assert writer.get("/healthz").json()["data_version"] != before
    assert len(writer.get("/api/v1/projects").json()["features"]) == 29
    # the coverage follows: every commune of the CC du Vimeu is now reached locally
    rows = writer.get("/api/v1/coverage/communes", params={"format": "csv", "epci": "200070944"}).text.splitlines()
    assert len(rows) == 26 and all(",local," in row for row in rows[1:])  # a header, the CC's 25 communes (COG 2026)
    lon, lat = response.json()["geometry"]["coordinates"]
    where = tile_of(lon, lat, 8)
    fresh = writer.get(f"/tiles/projects/8/{where.x}/{where.y}.mvt")
    assert where == abbeville and fresh.headers["etag"] != projects_tag
    ids = {f["properties"]["id"] for f in mapbox_vector_tile.decode(fresh.content)["projects"]["features"]}
    assert NEW["id"] in ids


def test_duplicate_id_is_a_conflict(writer: TestClient) -> None:
    assert writer.post("/api/v1/projects", json=NEW, headers=TOKEN).status_code == 409


def test_patch_put_delete_restore_and_history(writer: TestClient) -> None:
    path = f"/api/v1/projects/{NEW['id']}"
    patched = writer.patch(path, json={"duration_years": 3}, headers=TOKEN)
    assert patched.status_code == 200 and patched.json()["properties"]["duration_years"] == 3
    assert writer.put(path, json=NEW | {"id": "autre"}, headers=TOKEN).status_code == 422
    assert writer.put(path, json=NEW, headers=TOKEN).json()["properties"]["duration_years"] == 2
    assert writer.delete(path, headers=TOKEN).status_code == 200
    gone = writer.get(path)
    assert gone.status_code == 404
    assert len(writer.get("/api/v1/projects").json()["features"]) == 28
    assert writer.post(f"{path}/restore", headers=TOKEN).json()["id"] == NEW["id"]
    versions = writer.get(f"{path}/history", headers=TOKEN).json()["versions"]
    assert [v["action"] for v in versions] == ["create", "update", "update", "delete", "restore"]
    assert {v["by"] for v in versions} == {"dreets"} and versions[1]["record"]["duration_years"] == 3
    anonymous = writer.get(f"{path}/history").json()["versions"]
    assert [v["action"] for v in anonymous] == [v["action"] for v in versions]
    assert not [v for v in anonymous if "by" in v]  # who wrote is for token holders


def test_a_restart_keeps_every_write(store: str) -> None:
    settings = settings_for(REPO_DATA_DIR, store)
    with TestClient(create_app(settings)) as restarted:
        project = restarted.get(f"/api/v1/projects/{NEW['id']}")
    assert project.status_code == 200 and project.json()["properties"]["duration_years"] == 2


def test_an_import_by_another_process_shows_without_restart(new_store: Callable[[], str], backend: str) -> None:
    from geo_service.projects.models import ProjectRecord
    from geo_service.store import open_store

    settings = settings_for(REPO_DATA_DIR, new_store())
    with TestClient(create_app(settings)) as running:
        assert len(running.get("/api/v1/projects").json()["features"]) == 28
        other = open_store(settings)  # another connection, as `geo-service import` opens
        other.upsert_many([ProjectRecord.model_validate(NEW | {"id": "importe-ailleurs"})], by="import")
        other.close()

        # SQLite is looked at once a second; a PostGIS worker hears the commit's notification (a few ms)
        def ids_once_imported() -> set[str] | None:
            ids = {f["id"] for f in running.get("/api/v1/projects").json()["features"]}
            return ids if "importe-ailleurs" in ids else None

        ids = wait_for(ids_once_imported, f"the import by another process is served ({backend})")
    assert "importe-ailleurs" in ids and len(ids) == 29


def test_the_stores_state_is_dated_by_its_latest_version(writer: TestClient) -> None:
    """What report pictures date themselves by: the time of the latest version any project got."""
    store = writer.app.state.publisher.store
    assert writer.patch("/api/v1/projects/nutri-cheques", json={"duration_years": 2}, headers=TOKEN).status_code == 200
    latest = store.history("nutri-cheques")[-1].at
    assert store.state().written_at == latest
    every = [change.at for pid in store.known_ids() for change in store.history(pid)]
    assert max(every, key=datetime.fromisoformat) == latest
