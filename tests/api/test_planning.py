"""POST/GET /api/v1/coverage/simulate and GET /api/v1/coverage/opportunities: formats, links, errors named."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient


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
    assert action["territories"] == [{"level": "epci", "code": "200035442", "name": "CC du Sud Artois"}]
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
