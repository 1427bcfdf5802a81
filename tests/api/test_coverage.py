"""GET /api/v1/coverage/*: the same figures in every format, parameters checked."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_service.cli import main


def test_communes_geojson(client: TestClient) -> None:
    response = client.get("/api/v1/coverage/communes")
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    assert len(features) == 3782  # the région's communes in the COG 2026
    assert {
        "code",
        "population",
        "density",
        "rural",
        "projects",
        "local_projects",
        "best_scope",
        "distance_km",
        "zone_blanche",
        "reason",
    } <= set(features[0]["properties"])


def test_csv_filters_and_the_cli_writes_the_same_bytes(client: TestClient, tmp_path: Path) -> None:
    params = {"format": "csv", "epci": "200035442", "max_km": 15, "count_departmental": "true"}
    response = client.get("/api/v1/coverage/communes", params=params)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 64 and {r["epci"] for r in rows} == {"200035442"}  # the CC du Sud Artois' communes (COG 2026)
    out = tmp_path / "sud-artois.csv"
    assert (
        main(
            [
                "coverage",
                "--format",
                "csv",
                "--out",
                str(out),
                "--epci",
                "200035442",
                "--max-km",
                "15",
                "--count-departmental",
            ]
        )
        == 0
    )
    assert out.read_bytes() == response.content


def test_summary_totals(client: TestClient) -> None:
    body = client.get("/api/v1/coverage/summary", params={"level": "epci"}).json()
    assert body["level"] == "epci" and len(body["items"]) == 92  # COG 2026: 92 EPCI, 3782 communes
    assert body["totals"]["communes"] == 3782
    assert body["totals"]["communes_zone_blanche"] == sum(i["communes_zone_blanche"] for i in body["items"])
    sud_artois = next(i for i in body["items"] if i["code"] == "200035442")
    # the brochure's only local project there is a study and a space of exchanges: support, not food access
    assert sud_artois["name"] == "CC du Sud Artois" and sud_artois["local_actions"] == 0
    assert sud_artois["population_reached_share"] == 0.0
    every = client.get("/api/v1/coverage/summary", params={"level": "epci", "reach": "all"}).json()
    sud_artois = next(i for i in every["items"] if i["code"] == "200035442")
    assert sud_artois["communes_zone_blanche"] == 0 and sud_artois["population_reached_share"] == 1.0


def test_zones_blanches_and_their_dissolved_areas_agree(client: TestClient) -> None:
    single = client.get("/api/v1/coverage/zones-blanches").json()["features"]
    merged = client.get("/api/v1/coverage/zones-blanches", params={"dissolve": "true"}).json()["features"]
    assert single and all(f["properties"]["zone_blanche"] for f in single)
    assert sum(f["properties"]["communes_count"] for f in merged) == len(single)
    assert len(merged) < len(single)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"max_km": "-2"}, "max_km"),
        ({"rural_max_density": "0"}, "rural_max_density"),
        ({"count_departmental": "peut-être"}, "count_departmental"),
        ({"format": "xlsx"}, "format"),
        ({"departement": "75"}, "departement"),
        ({"epci": "12"}, "12"),
        ({"reach": "support"}, "reach"),
        ({"distance_to": "edge"}, "distance_to"),
    ],
)
def test_bad_parameters_are_422_and_named(client: TestClient, params: dict, named: str) -> None:
    response = client.get("/api/v1/coverage/communes", params=params)
    assert response.status_code == 422 and named in str(response.json()["detail"])


def test_summary_level_is_checked(client: TestClient) -> None:
    response = client.get("/api/v1/coverage/summary", params={"level": "commune"})
    assert response.status_code == 422 and "level" in str(response.json()["detail"])


def test_reach_and_distance_rule_reach_every_route(client: TestClient) -> None:
    """The same choice on the coverage routes, the tiles and the map pages."""
    default = client.get("/api/v1/coverage/communes", params={"format": "csv"}).text
    every = client.get("/api/v1/coverage/communes", params={"format": "csv", "reach": "all"}).text
    assert default.count(",true,") > every.count(",true,")  # more zones blanches counting direct access only
    assert "action d'appui" in default and "action d'appui" not in every
    outline = client.get("/api/v1/coverage/communes", params={"format": "csv", "distance_to": "territory"}).text
    assert "limite de commune atteinte la plus proche" in outline
    tile = "/tiles/coverage/8/130/86.mvt"
    assert client.get(tile, params={"reach": "all"}).status_code in (200, 204)
    bad = client.get(tile, params={"reach": "tout"})
    assert bad.status_code == 422 and "reach" in bad.text
    page = client.get("/carte", params={"reach": "all"})
    assert page.status_code == 200 and "coverage/{z}/{x}/{y}.png?reach=all" in page.text
    assert "appui aux acteurs compris" in page.text
    wrong = client.get("/carte", params={"reach": "tout"})
    assert wrong.status_code == 422 and "reach : valeur inconnue" in wrong.text


def test_one_commune_with_the_projects_reaching_it(client: TestClient) -> None:
    body = client.get("/api/v1/coverage/communes/80155").json()  # Bussus-lès-Yaucourt
    assert body["name"] == "Bussus-lès-Yaucourt" and body["epci_name"] == "CC Ponthieu-Marquenterre"
    assert body["reason"].startswith("commune rurale") and body["zone_blanche"] in (True, False)
    assert {p["scope"] for p in body["projects"]} == {"region"} and not any(p["counted"] for p in body["projects"])
    assert client.get("/api/v1/coverage/communes/99999").status_code == 404
    assert client.get("/api/v1/coverage/communes/abc").status_code == 422


def test_the_programme_figures_are_the_brochure_s(client: TestClient) -> None:
    body = client.get("/api/v1/programme").json()
    amounts = {year["year"]: year["amount_eur"] for year in body["years"]}
    assert amounts == {2023: 1_997_734, 2024: 2_939_413, 2025: 3_943_677}  # the brochure's introduction
    first = body["years"][0]
    assert (first["projects_selected"], first["applications"], first["amount_requested_eur"]) == (17, 97, 22_000_000)
    assert body["years"][1]["projects_approximate"] is True and body["projects_in_brochure"] == 28
    assert "brochure" in body["source"]


def test_territory_at_a_point_and_its_outline(client: TestClient) -> None:
    assert client.get("/api/v1/territories/at", params={"lon": 2.3, "lat": 49.9}).json()["code"] == "80021"
    outside = client.get("/api/v1/territories/at", params={"lon": -1.0, "lat": 47.0}).json()
    assert outside == {"level": "commune", "code": None, "name": None}
    outline = client.get("/api/v1/territories/epci/200035442/outline.geojson", params={"zoom": 9})
    assert outline.status_code == 200 and outline.json()["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert client.get("/api/v1/territories/epci/999/outline.geojson").status_code == 422
