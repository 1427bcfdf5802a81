"""POST/GET /api/v1/coverage/simulate and GET /api/v1/coverage/opportunities: formats, links, errors named."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from geo_service.maps.picture import FOOTER, HEADER, LEAVING, LEGEND_WIDTH, MAP_WIDTH
from tests.api.test_geojson_winding import winding

SIMULATE = "/api/v1/coverage/simulate"


def test_a_simulation_by_link_and_by_body_agree(client: TestClient) -> None:
    link = client.get("/api/v1/coverage/simulate", params={"territory": "epci:200035442", "max_km": 8})
    body = client.post(
        "/api/v1/coverage/simulate", params={"max_km": 8}, json={"actions": [{"territories": ["epci:200035442"]}]}
    )
    assert link.status_code == body.status_code == 200
    assert link.json() == body.json()
    answer = link.json()
    assert answer["params"]["max_km"] == 8
    action = answer["actions"][0]
    # the CC du Sud Artois: 64 communes in the COG 2026 (the same figure as the coverage test's)
    territory = {key: value for key, value in action["territories"][0].items() if key != "outside"}
    assert territory == {"level": "epci", "code": "200035442", "name": "CC du Sud Artois"}
    assert len(action["territories"]) == 1  # its `outside` is recounted in tests/api/test_french_csv.py
    assert action["communes"] == 64 and action["counted"] and action["scope"] == "local"
    gained = answer["gained"]
    assert gained["communes"] == len(answer["communes"]) > 0
    assert gained["population"] == sum(c["population"] for c in answer["communes"])
    assert (
        answer["before"]["population_zone_blanche"] - answer["after"]["population_zone_blanche"] == gained["population"]
    )
    assert sum(d["population"] for d in answer["by_departement"]) == gained["population"]
    assert sum(e["communes"] for e in answer["by_epci"]) == gained["communes"]
    # every commune of the EPCI that was a zone blanche is reached, at 0 km
    inside = [c for c in answer["communes"] if c["epci"] == "200035442"]
    assert inside and all(c["reached"] and c["distance_km_after"] == 0 for c in inside)


def test_the_simulation_csv_lists_the_communes_leaving(client: TestClient) -> None:
    params = {"territory": ["epci:200035442", "commune:80021"], "format": "csv"}
    response = client.get("/api/v1/coverage/simulate", params=params)
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    as_json = client.get("/api/v1/coverage/simulate", params={**params, "format": "json"}).json()
    assert [r["code"] for r in rows] == [c["code"] for c in as_json["communes"]]
    assert {r["reached"] for r in rows} <= {"true", "false"}


def test_opportunities_json_and_csv(client: TestClient) -> None:
    answer = client.get("/api/v1/coverage/opportunities", params={"level": "epci", "k": 4}).json()
    assert answer["level"] == "epci" and answer["k"] == 4 and len(answer["sequence"]) == 4
    gains = [step["population"] for step in answer["sequence"]]
    assert gains == sorted(gains, reverse=True) and min(gains) > 0
    west, south, east, north = answer["sequence"][0]["bbox"]
    assert 1.3 < west < east < 4.3 and 48.8 < south < north < 51.1  # inside the région's extent
    assert "greedy" in answer["method"].lower()
    rows = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/coverage/opportunities", params={"k": 4, "format": "csv"}).text))
    )
    assert [int(r["population"]) for r in rows] == gains and rows[0]["code"] == answer["sequence"][0]["code"]


@pytest.mark.parametrize(
    ("request_args", "named"),
    [
        (("GET", "/api/v1/coverage/simulate?territory=epci:1"), "'1'"),
        (("GET", "/api/v1/coverage/simulate?territory=quartier:1"), "'quartier'"),
        (("GET", "/api/v1/coverage/simulate"), "territory"),
        (("GET", "/api/v1/coverage/simulate?place=%3Cscript%3Ezzqx"), "zzqx"),
        (("GET", "/api/v1/coverage/simulate?territory=epci:200035442&format=svg"), "format"),
        (("POST", "/api/v1/coverage/simulate?format=pdf", {"actions": [{"territories": ["epci:1"]}]}), "format"),
        (("POST", "/api/v1/coverage/simulate?format=png", {"actions": [{"territories": ["epci:1"]}]}), "'1'"),
        (("GET", "/api/v1/coverage/opportunities?level=region"), "level"),
        (("GET", "/api/v1/coverage/opportunities?k=21"), "k"),
        (("GET", "/api/v1/coverage/opportunities?departement=2A"), "2A"),
        (("POST", "/api/v1/coverage/simulate", {"actions": []}), "actions"),
        (("POST", "/api/v1/coverage/simulate", {"actions": [{"reach": "direct"}]}), "territories"),
        (("POST", "/api/v1/coverage/simulate", {"actions": [{"territories": ["epci:200035442"], "x": 1}]}), "x"),
        (("POST", "/api/v1/coverage/simulate", {"actions": [{"communes_served": ["80999"]}]}), "80999"),
    ],
)
def test_bad_requests_are_4xx_naming_what_was_wrong(client: TestClient, request_args: tuple, named: str) -> None:
    method, path, *body = request_args
    response = client.request(method, path, json=body[0] if body else None)
    assert 400 <= response.status_code < 500 and named in response.text, response.text
    assert response.headers["content-type"].startswith("application/json")


def test_simulations_store_nothing(client: TestClient) -> None:
    before = client.get("/api/v1/projects").json()
    version = client.get("/healthz").json()
    client.post("/api/v1/coverage/simulate", json={"actions": [{"territories": ["epci:200035442"]}]})
    assert client.get("/api/v1/projects").json() == before and client.get("/healthz").json() == version


def highlighted_share(png: bytes) -> tuple[tuple[int, int], float]:
    """The picture's size, and the share of its map (not the legend, title or sources) in the colour of the
    communes leaving the zones blanches."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    height, width, _ = image.shape
    map_part = image[HEADER : height - FOOTER, :MAP_WIDTH]
    near = (np.abs(map_part - np.array(LEAVING.fill[:3])) <= 8).all(axis=2)
    return (width, height), float(near.mean())


def test_the_simulation_picture(client: TestClient) -> None:
    response = client.get(SIMULATE, params={"territory": "epci:200035442", "format": "png"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'inline; filename="simulation.png"'
    (width, height), share = highlighted_share(response.content)
    assert width >= 1200 and 500 < height < 1400
    # 217 communes leave around the CC du Sud Artois, which the picture is centred on: a large part of the map
    assert share > 0.1, share
    # the same action by POST, but an action d'appui: counted by no default parameter, so nothing is highlighted
    unchanged = client.post(
        SIMULATE, params={"format": "png"}, json={"actions": [{"territories": ["epci:200035442"], "reach": "support"}]}
    )
    assert unchanged.status_code == 200 and unchanged.headers["content-type"] == "image/png"
    assert highlighted_share(unchanged.content)[1] == 0


def test_a_long_label_stays_in_the_picture(client: TestClient) -> None:
    label = "Épicerie mobile\ndu Sud Artois, " + "tournée très longue " * 8
    body = {"actions": [{"territories": ["epci:200035442"], "label": label}, {"territories": ["commune:80021"]}]}
    response = client.post(SIMULATE, params={"format": "png", "max_km": 12.5}, json=body)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).width == MAP_WIDTH + LEGEND_WIDTH


def test_the_simulation_geojson_lists_the_actions_and_the_communes_leaving(client: TestClient) -> None:
    params = {"territory": ["epci:200035442", "commune:80021"]}
    answer = client.get(SIMULATE, params=params).json()
    response = client.get(SIMULATE, params={**params, "format": "geojson"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    document = response.json()
    assert document["type"] == "FeatureCollection"
    features = {feature["id"]: feature for feature in document["features"]}
    assert len(features) == len(document["features"])
    # the EPCI's communes as the coverage export lists them: 64 in the COG 2026
    rows = csv.DictReader(
        io.StringIO(client.get("/api/v1/coverage/communes", params={"epci": "200035442", "format": "csv"}).text)
    )
    in_action = {row["code"] for row in rows} | {"80021"}
    assert len(in_action) == 64 + 1
    leaving = {commune["code"]: commune for commune in answer["communes"]}
    assert set(features) == in_action | set(leaving)
    for code, feature in features.items():
        properties = feature["properties"]
        assert feature["type"] == "Feature" and properties["code"] == code
        assert properties["in_action"] == (code in in_action) and properties["leaving"] == (code in leaving)
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        if code in leaving:
            assert properties["name"] == leaving[code]["name"]
            assert properties["population"] == leaving[code]["population"]
    # Amiens is a city reached already: in the action, not leaving any zone blanche
    assert features["80021"]["properties"] == {
        "code": "80021",
        "name": "Amiens",
        "population": features["80021"]["properties"]["population"],
        "in_action": True,
        "leaving": False,
    }
    rings, wrong = winding(document)
    assert rings >= len(features) and not wrong


def test_the_simulation_geojson_of_mobile_and_uncounted_actions(client: TestClient) -> None:
    served = ["80021", "62041"]
    body = {"actions": [{"communes_served": served}]}
    answer = client.post(SIMULATE, json=body).json()
    document = client.post(SIMULATE, params={"format": "geojson"}, json=body).json()
    assert {f["id"] for f in document["features"] if f["properties"]["in_action"]} == set(served)
    assert {f["id"] for f in document["features"] if f["properties"]["leaving"]} == {
        c["code"] for c in answer["communes"]
    }
    # an action d'appui is not counted by default: it reaches nothing, and no commune leaves
    support = {"actions": [{"territories": ["epci:200035442"], "reach": "support"}]}
    response = client.post(SIMULATE, params={"format": "geojson"}, json=support)
    assert response.json() == {"type": "FeatureCollection", "features": []}


def test_the_openapi_lists_every_simulation_format(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for method in ("get", "post"):
        operation = paths[SIMULATE][method]
        assert set(operation["responses"]["200"]["content"]) == {
            "application/json",
            "text/csv",
            "image/png",
            "application/geo+json",
        }
        format_schema = next(p for p in operation["parameters"] if p["name"] == "format")["schema"]
        assert set(format_schema["enum"]) == {"json", "csv", "csv-fr", "png", "geojson"}


def test_a_link_carries_support_actions_too(client: TestClient) -> None:
    body = {"actions": [{"territories": ["epci:200035442"]}, {"territories": ["commune:80021"], "reach": "support"}]}
    posted = client.post("/api/v1/coverage/simulate", params={"reach": "all"}, json=body).json()
    linked = client.get(
        "/api/v1/coverage/simulate",
        params={"territory": "epci:200035442", "support": "commune:80021", "reach": "all"},
    ).json()
    assert linked == posted and linked["actions"][1]["reach"] == "support" and linked["actions"][1]["counted"]


def test_opportunities_after_the_actions_of_a_link(client: TestClient) -> None:
    plain = client.get("/api/v1/coverage/opportunities", params={"k": 3}).json()
    first = plain["sequence"][0]
    after = client.get("/api/v1/coverage/opportunities", params={"k": 2, "territory": f"epci:{first['code']}"}).json()
    assert [s["code"] for s in after["sequence"]] == [s["code"] for s in plain["sequence"][1:]]
    refused = client.get("/api/v1/coverage/opportunities", params={"territory": "epci:1"})
    assert refused.status_code == 422 and "'1'" in refused.text


def test_a_blank_place_in_a_link_is_no_action(client: TestClient) -> None:
    plain = client.get("/api/v1/coverage/simulate", params={"territory": "commune:80021"})
    blank = client.get("/api/v1/coverage/simulate", params={"territory": "commune:80021", "place": "   "})
    assert blank.status_code == 200 and blank.json() == plain.json()
