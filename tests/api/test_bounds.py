"""Bounded, strict answers to inputs an attacker or a careless client sends (issue 26, point 5): numbers that are
not numbers, numbers too long to read, two Host headers, weak validators in If-Range."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for

TOKEN = {"Authorization": "Bearer s3cret-bounds-token-1"}
LAYER = "/api/v1/layers/departements.geojson?zoom=5"
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def writer(new_store: Callable[[], str]) -> Iterator[TestClient]:
    settings = settings_for(REPO_DATA_DIR, new_store(), admin_tokens={"test": TOKEN["Authorization"][7:]})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    "changes",
    [{"duration_years": True}, {"duration_years": "3"}, {"amount_eur": "12000"}, {"funding_years": [2024, False]}],
)
def test_a_patch_takes_numbers_only_as_numbers(writer: TestClient, changes: dict) -> None:
    before = writer.get("/api/v1/projects/nutri-cheques").json()["properties"]
    response = writer.patch("/api/v1/projects/nutri-cheques", json=changes, headers=TOKEN)
    assert response.status_code == 422, response.text
    field = next(iter(changes))
    assert field in response.json()["detail"] and "expected a number" in response.json()["detail"]
    assert writer.get("/api/v1/projects/nutri-cheques").json()["properties"] == before


def test_a_new_project_takes_numbers_only_as_numbers(writer: TestClient) -> None:
    record = {"id": "essai-nombres", "organisation": "O", "name": "N", "place_text": "Amiens", "duration_years": "2"}
    response = writer.post("/api/v1/projects", json=record, headers=TOKEN)
    assert response.status_code == 422 and "duration_years" in response.text
    assert writer.get("/api/v1/projects/essai-nombres").status_code == 404


@pytest.mark.parametrize("name", ["limit", "offset"])
def test_numbers_too_long_to_read_are_a_400(client: TestClient, name: str) -> None:
    response = client.get(f"/collections/communes/items?{name}={'9' * 5000}")
    assert response.status_code == 400 and name in response.json()["detail"]


def test_an_if_match_too_long_to_read_is_a_412(writer: TestClient) -> None:
    response = writer.patch(
        "/api/v1/projects/nutri-cheques",
        json={"duration_years": 2},
        headers=TOKEN | {"If-Match": '"' + "9" * 5000 + '"'},
    )
    assert response.status_code == 412


def test_two_host_headers_are_a_400(client: TestClient) -> None:
    response = client.get("/healthz", headers=[("Host", "testserver"), ("Host", "evil.example")])
    assert response.status_code == 400 and response.json()["detail"] == "2 Host headers: send one"


def test_a_weak_if_range_never_matches(client: TestClient) -> None:
    etag = client.get(LAYER, headers=IDENTITY).headers["etag"]
    assert not etag.startswith("W/")
    strong = client.get(LAYER, headers=IDENTITY | {"Range": "bytes=0-99", "If-Range": etag})
    assert strong.status_code == 206
    weak = client.get(LAYER, headers=IDENTITY | {"Range": "bytes=0-99", "If-Range": "W/" + etag})
    assert weak.status_code == 200 and len(weak.content) > 100  # the whole body (RFC 9110 §13.1.5)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/coverage/communes?max_km=5000",
        "/api/v1/coverage/summary?max_km=5000",
        "/collections/coverage/items?max_km=5000",
        "/collections/zones-blanches/items/80021?max_km=5000",
        "/tiles/coverage/8/129/86.png?max_km=5000",
        "/tiles/zones-blanches/8/129/86.mvt?max_km=5000",
        "/tiles/coverage.json?max_km=5000",
        "/api/v1/maps/epci/200035442.png?max_km=5000",
        "/api/v1/coverage/simulate?territory=epci:200035442&max_km=5000",
        "/api/v1/coverage/opportunities?max_km=5000",
        "/api/v1/layers/coverage.geojson?zoom=5&max_km=5000",
        "/tiles/coverage/8/129/86.png?rural_max_density=1e9",
    ],
)
def test_the_rule_has_one_bound_everywhere(client: TestClient, url: str) -> None:
    """The documented bounds (max_km ≤ 200, rural_max_density ≤ 100 000): the same 422 on every route."""
    response = client.get(url)
    assert response.status_code == 422, (url, response.status_code, response.text[:200])
    assert "max_km" in response.text or "rural_max_density" in response.text
