"""Grant facts and the selection of projects by funding year and status: the projects list, the coverage, zones
blanches, tiles, pictures and simulation count only the projects of the selection.

The records are written by the test (two actions in communes it names, funded by the calls it says), and the
expected coverage is recounted here from the boundaries' town halls, projected to Lambert-93 by the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import mapbox_vector_tile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from geo_service.tiles.grid import tile_of
from tests.conftest import settings_for

TOKEN = {"Authorization": "Bearer s3cret-selection-token"}
ALBERT, LAON = "80016", "02408"  # INSEE codes (COG): Albert (Somme), Laon (Aisne)
MAX_KM, RURAL_BELOW = 10.0, 150.0  # the rule's documented defaults


def _record(pid: str, commune: str, **facts) -> dict:
    return {
        "id": pid,
        "organisation": "Association de test",
        "name": f"Épicerie solidaire {pid}",
        "place_text": "une commune choisie par le test",
        "actions": ["Ouverture d'une épicerie solidaire"],
        "curation": {
            "territories": [{"level": "commune", "code": commune, "note": "choisie par le test"}],
            "reach": {"value": "direct", "note": "une épicerie: accès direct"},
        },
        **facts,
    }


FUNDED_2023 = _record("test-appel-2023", ALBERT, funding_years=[2023], duration_years=2, status="active")
FUNDED_2025 = _record(
    "test-appel-2025", LAON, funding_years=[2025], amount_eur=48500.5, status="planned", end_date="2027-06-30"
)


@pytest.fixture(scope="module")
def api(new_store: Callable[[], str]) -> Iterator[TestClient]:
    settings = settings_for(REPO_DATA_DIR, new_store(), admin_tokens={"test": TOKEN["Authorization"][7:]})
    with TestClient(create_app(settings)) as client:
        for record in (FUNDED_2023, FUNDED_2025):
            assert client.post("/api/v1/projects", json=record, headers=TOKEN).status_code == 201
        yield client


def _ids(client: TestClient, query: str) -> set[str]:
    response = client.get(f"/api/v1/projects?{query}")
    assert response.status_code == 200, response.text
    return {feature["id"] for feature in response.json()["features"]}


def test_projects_by_year_and_status(api: TestClient) -> None:
    assert _ids(api, "year=2023") == {FUNDED_2023["id"]}
    assert _ids(api, "year=2025") == {FUNDED_2025["id"]}
    assert _ids(api, "year=2024") == set()  # the brochure's records give no year: in no year's selection
    assert _ids(api, "status=planned") == {FUNDED_2025["id"]}
    every = _ids(api, "")
    assert _ids(api, "status=unknown") == every - {FUNDED_2023["id"], FUNDED_2025["id"]}


def test_grant_facts_are_served_as_given_or_derived(api: TestClient) -> None:
    first = api.get(f"/api/v1/projects/{FUNDED_2023['id']}").json()["properties"]
    # derived: 31 December of the last year of the duration counted from the first funding year (2023 + 2 - 1)
    assert first["end_date"] == "2024-12-31" and first["end_date_source"] == "derived"
    assert first["amount_eur"] is None and first["website"] is None  # unknown stays empty
    second = api.get(f"/api/v1/projects/{FUNDED_2025['id']}").json()["properties"]
    assert second["end_date"] == "2027-06-30" and second["end_date_source"] == "given"
    assert second["amount_eur"] == 48500.5 and second["status"] == "planned"
    brochure = api.get("/api/v1/projects/nutri-cheques").json()["properties"]
    assert brochure["funding_years"] == [] and brochure["status"] is None and brochure["end_date"] is None


def test_an_active_record_past_its_end_is_to_check(api: TestClient) -> None:
    flagged = api.get(f"/api/v1/projects/{FUNDED_2023['id']}").json()["properties"]["to_check"]
    if date.today() > date(2024, 12, 31):
        assert flagged and "31/12/2024" in flagged[0] and "en cours" in flagged[0]
        assert FUNDED_2023["id"] in _ids(api, "to_check=true")
    assert FUNDED_2025["id"] not in _ids(api, "to_check=true")


def _lambert93(api: TestClient, codes: list[str]) -> dict[str, tuple[float, float]]:
    """Town halls in metres, projected here (the commune layer's townhall point, not the coverage's own)."""
    from geo_service.settings import Settings
    from geo_service.territories import Boundaries

    communes = Boundaries.load(Settings(data_dir=REPO_DATA_DIR).boundaries_dir).level("commune")
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    out = {}
    for code in codes:
        lon, lat = communes.at[code, "townhall"]
        out[code] = to_l93.transform(lon, lat)
    return out


def _coverage(api: TestClient, query: str) -> dict[str, dict]:
    response = api.get(f"/api/v1/coverage/communes?{query}")
    assert response.status_code == 200, response.text
    return {f["properties"]["code"]: f["properties"] for f in response.json()["features"]}


@pytest.mark.parametrize(("year", "place"), [(2023, ALBERT), (2025, LAON)])
def test_coverage_of_one_year_counts_that_year_only(api: TestClient, year: int, place: str) -> None:
    rows = _coverage(api, f"year={year}")
    reached = {code for code, row in rows.items() if row["local_projects"] > 0}
    assert reached == {place}
    # zones blanches recounted: rural communes whose town hall is more than MAX_KM from the one reached commune's
    xy = _lambert93(api, list(rows))
    x0, y0 = xy[place]
    expected = {
        code
        for code, row in rows.items()
        if row["population"] / row["area_km2"] < RURAL_BELOW
        and code != place
        and np.hypot(xy[code][0] - x0, xy[code][1] - y0) / 1000 > MAX_KM
    }
    got = {code for code, row in rows.items() if row["zone_blanche"]}
    # a commune whose density rounds at the threshold may differ by the rounding of the area: none does here
    assert got == expected


def test_selections_differ_as_the_records_say(api: TestClient) -> None:
    y2023, y2025 = _coverage(api, "year=2023"), _coverage(api, "year=2025")
    changed = {code for code in y2023 if y2023[code]["best_scope"] != y2025[code]["best_scope"]}
    assert changed == {ALBERT, LAON}
    assert y2023[ALBERT]["projects"] == [FUNDED_2023["id"]] and y2025[LAON]["projects"] == [FUNDED_2025["id"]]
    # the same selection by status: 'active' is the 2023 record only
    active = _coverage(api, "status=active")
    assert {code for code, row in active.items() if row["local_projects"]} == {ALBERT}
    summary = api.get("/api/v1/coverage/summary?year=2023").json()
    assert summary["params"]["year"] == 2023
    assert summary["totals"]["communes_zone_blanche"] == sum(row["zone_blanche"] for row in y2023.values())


def test_commune_card_lists_only_the_selection(api: TestClient) -> None:
    card = api.get(f"/api/v1/coverage/communes/{ALBERT}?year=2025").json()
    assert card["projects"] == [] and card["local_projects"] == 0
    card = api.get(f"/api/v1/coverage/communes/{ALBERT}?year=2023").json()
    assert [p["id"] for p in card["projects"]] == [FUNDED_2023["id"]] and card["projects"][0]["counted"]


def test_tiles_follow_the_selection(api: TestClient) -> None:
    lon, lat = 2.6508, 50.0024  # Albert's town hall, about
    tile = tile_of(lon, lat, 9)
    scopes = {}
    for year in (2023, 2025):
        response = api.get(f"/tiles/coverage/{tile.z}/{tile.x}/{tile.y}.mvt?year={year}")
        assert response.status_code == 200
        layers = mapbox_vector_tile.decode(response.content)
        features = next(iter(layers.values()))["features"]
        scopes[year] = {f["properties"]["code"]: f["properties"]["best_scope"] for f in features}
    assert scopes[2023][ALBERT] == "local" and scopes[2025][ALBERT] == "none"
    png = api.get(f"/tiles/coverage/{tile.z}/{tile.x}/{tile.y}.png?year=2023")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"


def test_pictures_and_simulation_take_the_selection(api: TestClient) -> None:
    default = api.get(f"/api/v1/maps/commune/{ALBERT}.png")
    chosen = api.get(f"/api/v1/maps/commune/{ALBERT}.png?year=2023")
    assert chosen.status_code == 200 and chosen.headers["etag"] != default.headers["etag"]
    assert chosen.content != default.content
    rows = _coverage(api, "year=2025")
    simulated = api.get(f"/api/v1/coverage/simulate?territory=commune:{ALBERT}&year=2025").json()
    assert simulated["before"]["communes_zone_blanche"] == sum(row["zone_blanche"] for row in rows.values())


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects?year=1999",
        "/api/v1/projects?status=finished",
        "/api/v1/coverage/communes?year=12345",
        "/api/v1/coverage/summary?status=open",
        "/tiles/coverage/8/129/86.png?status=open",
        "/tiles/coverage/8/129/86.png?year=1999",
        "/tiles/coverage/8/129/86.mvt?year=deux-mille",
        "/api/v1/maps/commune/80016.png?year=1999",
    ],
)
def test_a_bad_selection_is_a_422_naming_it(api: TestClient, url: str) -> None:
    response = api.get(url)
    assert response.status_code == 422, (url, response.status_code)
    detail = str(response.json()["detail"])
    assert "year" in detail or "status" in detail


def test_tilejson_lists_every_grant_field_some_project_gives(api: TestClient) -> None:
    """The first projects (the brochure's) give no year, amount or status: the fields are still listed."""
    fields = api.get("/tiles/projects.json").json()["vector_layers"][0]["fields"]
    assert {"funding_years": "String", "amount_eur": "Number", "status": "String"}.items() <= fields.items()
