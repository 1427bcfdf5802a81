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


# Every route that takes the coverage rule's parameters reads them with one reader (CoverageParams.from_query,
# through api.deps.coverage_params for the API): the same refusal everywhere, word for word.
RULE_ROUTES = [
    "/api/v1/coverage/communes",
    "/api/v1/coverage/communes/80021",
    "/api/v1/coverage/summary",
    "/api/v1/coverage/zones-blanches",
    "/api/v1/coverage/simulate?territory=epci:200035442",
    "/api/v1/coverage/opportunities",
    "/collections/coverage/items",
    "/collections/zones-blanches/items",
    "/collections/zones-blanches/items/80021",
    "/collections/zones-blanches",
    "/collections/coverage/tiles/WebMercatorQuad/8/86/129",
    "/tiles/coverage/8/129/86.png",
    "/tiles/coverage/8/129/86.mvt",
    "/tiles/zones-blanches/8/129/86.mvt",
    "/tiles/coverage.json",
    "/api/v1/layers/coverage.geojson?zoom=5",
    "/api/v1/maps/epci/200035442.png",
    "/styles/coverage.json",
    "/api/v1/legend?layer=zones-blanches",
]
PAGES = ["/carte", "/embed", "/territoires/epci/200035442"]
TOO_FAR = {
    "detail": "max_km must be between 0 and 200, got 5000",
    "detail_fr": "max_km : attendu une distance de 0 à 200 km (reçu 5000)",
}


def _with(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


@pytest.mark.parametrize("url", RULE_ROUTES)
def test_the_rule_has_one_bound_everywhere(client: TestClient, url: str) -> None:
    """The documented bounds (max_km ≤ 200, rural_max_density ≤ 100 000): the same 422, in the same words, on
    every route; and a value given twice with two meanings is refused rather than one of them kept."""
    response = client.get(_with(url, "max_km=5000"))
    assert response.status_code == 422, (url, response.status_code, response.text[:200])
    body = response.json()
    assert {key: body.get(key) for key in TOO_FAR} == TOO_FAR, url
    # the same refusal (and code) as the coverage route's; the OGC API adds its problem details' type and title
    assert client.get("/api/v1/coverage/communes?max_km=5000").json().items() <= body.items(), url
    dense = client.get(_with(url, "rural_max_density=1e9"))
    assert dense.status_code == 422 and dense.json()["detail"].startswith("rural_max_density must be above 0")
    twice = client.get(_with(url, "max_km=12&max_km=13"))
    assert twice.status_code in (400, 422) and "max_km is given 2 times" in twice.json()["detail"], url


@pytest.mark.parametrize("url", PAGES)
def test_the_pages_refuse_the_same_values_in_french(client: TestClient, url: str) -> None:
    response = client.get(_with(url, "max_km=5000"))
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert TOO_FAR["detail_fr"] in response.text


def test_the_api_definition_lists_each_coverage_parameter_with_its_bounds(client: TestClient) -> None:
    """Read from the model, the parameters are still documented one by one, with their schema and description."""
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/coverage/communes", "/tiles/{layer}/{z}/{x}/{name}", "/api/v1/legend"):
        listed = {p["name"]: p for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        schemas = {name: listed[name]["schema"] for name in listed}
        assert schemas["max_km"]["minimum"] == 0 and schemas["max_km"]["maximum"] == 200
        assert schemas["max_km"]["default"] == 10 and schemas["max_km"]["type"] == "number"
        assert schemas["rural_max_density"]["exclusiveMinimum"] == 0
        assert schemas["rural_max_density"]["maximum"] == 100_000 and schemas["rural_max_density"]["default"] == 150
        assert schemas["count_departmental"]["type"] == "boolean" and schemas["count_departmental"]["default"] is False
        assert schemas["reach"]["enum"] == ["direct", "all"]
        assert schemas["distance_to"]["enum"] == ["townhall", "territory"]
        year = next(kind for kind in schemas["year"]["anyOf"] if kind["type"] == "integer")
        assert (year["minimum"], year["maximum"]) == (2020, 2100)
        status = next(kind for kind in schemas["status"]["anyOf"] if kind["type"] == "string")
        assert status["enum"] == ["planned", "active", "ended", "unknown"]
        for name in ("rural_max_density", "max_km", "count_departmental", "reach", "distance_to", "year", "status"):
            assert listed[name]["required"] is False and len(listed[name]["description"]) > 20, (path, name)
        assert "zone blanche" in listed["max_km"]["description"]


def test_the_prose_states_the_models_defaults(client: TestClient) -> None:
    """The page's note, the legend's rule and the OGC collections' descriptions say the rule's defaults, read from
    the model rather than written again (150 inhabitants per km², 10 km)."""
    page = client.get("/carte").text
    assert "moins de 150 hab/km²" in page and "à plus de 10 km de la mairie" in page
    rule = client.get("/api/v1/legend", params={"layer": "zones-blanches"}).json()["rule"]
    assert "moins de 150 hab/km²" in rule and "à plus de 10 km" in rule
    coverage = client.get("/collections/coverage", params={"f": "json"}).json()["description"]
    assert "sous 150 hab/km²" in coverage and "au-delà de 10 km" in coverage
