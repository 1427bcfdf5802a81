"""Several workers on one PostGIS database: a write through one is what every other one answers, at once.

Real `geo-service serve` processes: two servers on two ports (so the test knows which worker answers), then one
server with `--workers 2` behind one port, as a reverse proxy would see it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mapbox_vector_tile
import pytest

from geo_service.tiles.grid import tile_of
from tests.conftest import PostgresDatabases
from tests.servers import call, free_port, serve, stop, wait_for

TOKEN = {"Authorization": "Bearer workers-token-for-tests"}
NEW = {
    "id": "jardin-partage-de-saint-quentin",
    "organisation": "Association Test Saint-Quentin",
    "name": "Jardin partagé de Saint-Quentin",
    "duration_years": 1,
    "place_text": "Saint-Quentin (Aisne)",
}


def _env(database_url: str) -> dict[str, str]:
    return {"GEO_SERVICE_DATABASE_URL": database_url, "GEO_SERVICE_ADMIN_TOKEN": "workers-token-for-tests"}


def _ids(port: int) -> set[str]:
    status, _, body = call(port, "GET", "/api/v1/projects")
    assert status == 200
    return {feature["id"] for feature in json.loads(body)["features"]}


@pytest.fixture
def two_servers(postgres: PostgresDatabases) -> Iterator[tuple[int, int]]:
    env = _env(postgres.new_url())
    first = serve(port_a := free_port(), env)
    try:
        second = serve(port_b := free_port(), env)
        try:
            yield port_a, port_b
        finally:
            stop(second)
    finally:
        stop(first)


def _version(port: int) -> str:
    return json.loads(call(port, "GET", "/healthz")[2])["data_version"]


def test_a_write_through_one_worker_is_served_by_the_other_at_once(two_servers: tuple[int, int]) -> None:
    a, b = two_servers
    assert len(_ids(b)) == 28
    before = _version(b)

    status, _, body = call(a, "POST", "/api/v1/projects", NEW, TOKEN)
    assert status == 201
    # no pause: the next requests to the other worker already answer with the new project, tiles included
    assert NEW["id"] in _ids(b)
    where = tile_of(*json.loads(body)["geometry"]["coordinates"], 10)
    url = f"/tiles/projects/10/{where.x}/{where.y}.mvt"
    status, headers, tile = call(b, "GET", url)
    assert status == 200
    assert NEW["id"] in {f["properties"]["id"] for f in mapbox_vector_tile.decode(tile)["projects"]["features"]}
    assert _version(a) == _version(b) != before  # same data, same version on both workers
    # so an ETag one worker gave is valid at the other, as clients behind a load balancer need
    revalidated = call(
        a, "GET", f"/tiles/projects/10/{where.x}/{where.y}.mvt", headers={"If-None-Match": headers["etag"]}
    )
    assert revalidated[0] == 304

    status, _, _ = call(b, "PATCH", f"/api/v1/projects/{NEW['id']}", {"duration_years": 3}, TOKEN)
    assert status == 200
    status, _, body = call(a, "GET", f"/api/v1/projects/{NEW['id']}")
    assert status == 200 and json.loads(body)["properties"]["duration_years"] == 3

    assert call(a, "DELETE", f"/api/v1/projects/{NEW['id']}", headers=TOKEN)[0] == 200
    assert call(b, "GET", f"/api/v1/projects/{NEW['id']}")[0] == 404
    history = json.loads(call(b, "GET", f"/api/v1/projects/{NEW['id']}/history", headers=TOKEN)[2])["versions"]
    assert [version["action"] for version in history] == ["create", "update", "delete"]


def test_a_duplicate_create_on_two_workers_is_refused_by_the_second(two_servers: tuple[int, int]) -> None:
    a, b = two_servers
    assert call(a, "POST", "/api/v1/projects", NEW, TOKEN)[0] == 201
    status, _, body = call(b, "POST", "/api/v1/projects", NEW, TOKEN)
    assert status == 409 and "already used" in json.loads(body)["detail"]


def test_serve_with_two_workers(postgres: PostgresDatabases, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    port = free_port()
    # an empty database: both workers start together, and must agree on who creates the schema, loads the
    # boundaries and seeds the projects (advisory locks), or one of them would fail to start
    env = _env(postgres.new_url(empty=True)) | {"GEO_SERVICE_LOG_LEVEL": "info"}
    server = serve(port, env, "--workers", "2", log=log)
    try:
        assert call(port, "POST", "/api/v1/projects", NEW, TOKEN)[0] == 201

        def started() -> set[str]:  # the second worker may still be starting when the first answers
            found = set(re.findall(r"\[(\d+)\] INFO geo_service: geo-service \S+ ready", log.read_text("utf-8")))
            return found if len(found) == 2 else set()

        ready = wait_for(started, "both workers ready", timeout_s=120)
        seen: list[bool] = []

        def both_answered() -> bool:
            """Ask again, several at once (a busy worker leaves the next connection to the other), until each
            worker has answered: which one the kernel hands a connection to is its choice, not the test's."""
            with ThreadPoolExecutor(8) as pool:
                seen.extend(pool.map(lambda _: NEW["id"] in _ids(port), range(8)))
            answering = set(re.findall(r"\[(\d+)\] INFO geo_service: GET /api/v1/projects 200", log.read_text()))
            return answering == ready

        wait_for(both_answered, "an answer from each worker", timeout_s=120)
    finally:
        stop(server)
    text = log.read_text("utf-8")
    assert "Traceback" not in text and text.count("migrating the database schema to version 1") == 1
    assert seen and all(seen)  # every answer, from either worker, had the write
