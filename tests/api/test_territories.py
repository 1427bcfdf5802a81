"""GET /api/v1/territories/{level} and /{level}/{code}."""

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("level", "count"), [("commune", 3782), ("epci", 92), ("arrondissement", 26), ("departement", 5), ("region", 1)]
)
def test_list_counts(client: TestClient, level: str, count: int) -> None:
    body = client.get(f"/api/v1/territories/{level}").json()
    assert body["level"] == level and body["count"] == count == len(body["items"])
    assert set(body["items"][0]) == {"code", "name", "population"}


def test_departements_are_named_with_their_population(client: TestClient) -> None:
    items = {i["code"]: i for i in client.get("/api/v1/territories/departement").json()["items"]}
    assert items["59"]["name"] == "Nord" and items["59"]["population"] > 2_500_000
    assert (
        sum(i["population"] for i in items.values()) == client.get("/api/v1/territories/region/32").json()["population"]
    )


def test_epci_detail(client: TestClient) -> None:
    body = client.get("/api/v1/territories/epci/200035442").json()
    assert body["name"] == "CC du Sud Artois"
    assert body["children_level"] == "commune" and body["children_count"] == 64
    assert body["parents"]["departement"] == {"code": "62", "name": "Pas-de-Calais"}
    minx, miny, maxx, maxy = body["bbox"]
    assert 2.4 < minx < maxx < 3.2 and 49.9 < miny < maxy < 50.3
    assert 400 < body["area_km2"] < 450  # INSEE gives 426.1 km²


def test_homonyms_have_their_own_parents(client: TestClient) -> None:
    oise = client.get("/api/v1/territories/commune/60612").json()
    artois = client.get("/api/v1/territories/commune/62790").json()
    assert oise["name"] == artois["name"] == "Senlis"
    assert oise["parents"]["departement"]["name"] == "Oise"
    assert artois["parents"]["departement"]["name"] == "Pas-de-Calais"
    assert oise["population"] > 10 * artois["population"]


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        ("/api/v1/territories/canton", 404, "canton"),
        ("/api/v1/territories/canton/62001", 404, "canton"),
        ("/api/v1/territories/commune/75056", 404, "75056"),
        ("/api/v1/territories/epci/200035443", 404, "200035443"),
        ("/api/v1/territories/commune/8002", 422, "8002"),
        ("/api/v1/territories/epci/abc", 422, "abc"),
        ("/api/v1/territories/departement/100", 422, "100"),
    ],
)
def test_bad_input_is_named_in_the_error(client: TestClient, path: str, status: int, named: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert named in response.json()["detail"]
