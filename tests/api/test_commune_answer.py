"""The commune answer (GET /api/v1/coverage/communes/{code}): the nearest reached commune by name with the actions
there (``nearest``), and the département- and région-wide actions whose area includes the commune (``covering``).

Expectations are recounted here: which communes are reached, from the project records the API serves (their scope,
reach and communes); distances, from the boundaries' town halls (or outlines) projected to Lambert-93 by the test."""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from geo_service.projects.models import FIRST_CALL_YEAR, LAST_CALL_YEAR
from geo_service.settings import REPO_DATA_DIR, Settings
from geo_service.territories import Boundaries

MAX_KM, RURAL_BELOW = 10.0, 150.0  # the rule's documented defaults


@cache
def _communes() -> gpd.GeoDataFrame:
    return Boundaries.load(Settings(data_dir=REPO_DATA_DIR).boundaries_dir).level("commune")


@cache
def _townhalls() -> dict[str, tuple[float, float]]:
    """Every town hall in metres (Lambert-93), projected here."""
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    return {code: to_l93.transform(*point) for code, point in _communes()["townhall"].items() if point is not None}


@cache
def _outlines() -> dict[str, shapely.Geometry]:
    return _communes().geometry.to_crs(2154).to_dict()


def _projects(client: TestClient) -> list[dict]:
    return [f["properties"] for f in client.get("/api/v1/projects").json()["features"]]


def _rows(client: TestClient) -> dict[str, dict]:
    features = client.get("/api/v1/coverage/communes").json()["features"]
    return {f["properties"]["code"]: f["properties"] for f in features}


def _counted(project: dict, count_departmental: bool) -> bool:
    scope_counts = project["scope"] == "local" or (project["scope"] == "departement" and count_departmental)
    return project["reach"] == "direct" and scope_counts


def _expected_nearest(projects: list[dict], code: str, to: str, count_departmental: bool = False) -> dict | None:
    counted = [p for p in projects if _counted(p, count_departmental)]
    reached = {c for p in counted for c in p["communes"]}
    if code in reached or not reached:
        return None
    x, y = _townhalls()[code]
    if to == "townhall":
        metres = {r: float(np.hypot(_townhalls()[r][0] - x, _townhalls()[r][1] - y)) for r in reached}
    else:
        here = shapely.Point(x, y)
        metres = {r: here.distance(_outlines()[r]) for r in reached}
    best = min(metres.values())
    found = min(r for r, m in metres.items() if m == best)
    return {
        "code": found,
        "km": best / 1000,
        "projects": {(p["id"], p["scope"]) for p in counted if found in p["communes"]},
    }


def _pick(rows: dict[str, dict]) -> list[str]:
    """A handful of communes: in each département, the first zone blanche, the first rural commune within
    MAX_KM of a reached one (not a zone blanche for that), and the first urban commune that is not reached."""
    picked = []

    def density(row: dict) -> float:
        return row["population"] / row["area_km2"]

    tests = (
        lambda row: row["zone_blanche"],
        lambda row: density(row) < RURAL_BELOW and 0 < (row["distance_km"] or 0) <= MAX_KM,
        lambda row: density(row) >= RURAL_BELOW and row["local_projects"] == 0,
    )
    for departement in sorted({row["departement"] for row in rows.values()}):
        mine = [row for code, row in sorted(rows.items()) if row["departement"] == departement]
        for test in tests:
            found = next((row["code"] for row in mine if test(row)), None)
            if found is not None:
                picked.append(found)
    return picked


@pytest.mark.parametrize("to", ["townhall", "territory"])
def test_nearest_is_the_rules_nearest_reached_commune_with_its_actions(client: TestClient, to: str) -> None:
    projects, rows = _projects(client), _rows(client)
    picked = _pick(rows)
    assert len(picked) >= 10
    assert any(rows[code]["zone_blanche"] for code in picked) and any(not rows[c]["zone_blanche"] for c in picked)
    for code in picked:
        answer = client.get(f"/api/v1/coverage/communes/{code}?distance_to={to}")
        assert answer.status_code == 200, answer.text
        card = answer.json()
        expected = _expected_nearest(projects, code, to)
        assert expected is not None, code
        nearest = card["nearest"]
        assert nearest["code"] == expected["code"], (code, nearest, expected)
        assert nearest["name"] == _communes().at[expected["code"], "name"]
        assert nearest["distance_km"] == pytest.approx(expected["km"], abs=0.006)
        # the same distance as the commune's own row says: one rule
        assert nearest["distance_km"] == card["distance_km"]
        assert {(p["id"], p["scope"]) for p in nearest["projects"]} == expected["projects"]
        assert expected["projects"] and all(p["reach"] == "direct" for p in nearest["projects"])


def test_a_reached_commune_has_no_nearest(client: TestClient) -> None:
    projects = _projects(client)
    reached = sorted({c for p in projects if _counted(p, False) for c in p["communes"]})
    for code in reached[:: max(1, len(reached) // 5)]:
        card = client.get(f"/api/v1/coverage/communes/{code}").json()
        assert card["nearest"] is None and card["distance_km"] == 0


def test_covering_lists_departement_and_region_actions(client: TestClient) -> None:
    projects, rows = _projects(client), _rows(client)
    for code in _pick(rows)[:6]:
        for count_departmental in (False, True):
            card = client.get(f"/api/v1/coverage/communes/{code}?count_departmental={str(count_departmental).lower()}")
            covering = {(p["id"], p["scope"], p["counted"]) for p in card.json()["covering"]}
            expected = {
                (p["id"], p["scope"], _counted(p, count_departmental))
                for p in projects
                if p["scope"] in ("departement", "region") and code in p["communes"]
            }
            assert covering == expected
    # région-wide actions are never counted: on paper they reach everywhere
    every = client.get("/api/v1/coverage/communes/80021?count_departmental=true").json()["covering"]
    assert any(p["scope"] == "region" for p in every) and not any(p["counted"] for p in every if p["scope"] == "region")


def test_counting_departement_actions_moves_the_nearest(client: TestClient) -> None:
    """With count_departmental, an Aisne commune under a département-wide direct action is reached itself; one
    elsewhere may find a nearer commune reached by such an action."""
    projects, rows = _projects(client), _rows(client)
    departemental = [p for p in projects if p["scope"] == "departement" and p["reach"] == "direct"]
    assert departemental
    inside = next(code for code in sorted(rows) if rows[code]["zone_blanche"] and code in departemental[0]["communes"])
    assert client.get(f"/api/v1/coverage/communes/{inside}?count_departmental=true").json()["nearest"] is None
    covered = {c for p in departemental for c in p["communes"]}
    outside = [code for code in sorted(rows) if rows[code]["zone_blanche"] and code not in covered][:5]
    for code in outside:
        card = client.get(f"/api/v1/coverage/communes/{code}?count_departmental=true").json()
        expected = _expected_nearest(projects, code, "townhall", count_departmental=True)
        assert card["nearest"]["code"] == expected["code"]
        assert {(p["id"], p["scope"]) for p in card["nearest"]["projects"]} == expected["projects"]


def test_a_selection_without_projects_has_no_nearest(client: TestClient) -> None:
    """The brochure's records give no funding year: the selection of a year no record names holds none."""
    named = {year for p in _projects(client) for year in p["funding_years"]}
    year = next(year for year in range(FIRST_CALL_YEAR, LAST_CALL_YEAR + 1) if year not in named)
    card = client.get(f"/api/v1/coverage/communes/02001?year={year}").json()
    assert card["nearest"] is None and card["covering"] == [] and card["distance_km"] is None
