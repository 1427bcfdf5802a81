"""The facts of a grant where GIS clients read projects: the OGC API's items and queryables, and the project
layers' vector tiles. Expectations are the facts this test writes into its record (and, for the brochure's
records, that they give none)."""

from __future__ import annotations

from collections.abc import Iterator

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from geo_service.tiles.grid import tile_of
from tests.conftest import settings_for, sqlite_url

TOKEN = {"Authorization": "Bearer grant-facts-gis-token-0123"}
GEOJSON = "application/geo+json"
RECORD = {
    "id": "epicerie-appels-2023-2024",
    "organisation": "Association Essai Amiénoise",
    "name": "Épicerie des appels 2023 et 2024",
    "duration_years": 3,
    "place_text": "Amiens",
    "actions": ["Ouverture d'une épicerie solidaire"],
    "funding_years": [2024, 2023],
    "amount_eur": 98765.4,
    "status": "ended",
    "end_date": "2025-06-30",
    "website": "https://exemple.fr/epicerie",
    "contact": "03 22 00 00 00",
    "last_checked": "2025-07-01",
}
BROCHURE_ONE = "nutri-cheques"  # a brochure record: a duration (3 years), nothing else of its grant
AMIENS = (2.2957, 49.8942)


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = sqlite_url(tmp_path_factory.mktemp("grant-facts-gis"))
    settings = settings_for(REPO_DATA_DIR, store, admin_tokens={"essai": TOKEN["Authorization"].split()[1]})
    with TestClient(create_app(settings)) as client:
        yield client


def items(client: TestClient, collection: str, **params) -> dict:
    response = client.get(f"/collections/{collection}/items", params=params, headers={"Accept": GEOJSON})
    assert response.status_code == 200, response.text
    return response.json()


def test_queryables_type_the_grant_facts_even_when_no_record_gives_them(writer: TestClient) -> None:
    """The brochure's records give no year, amount or status: the fields are there, typed, and null."""
    schema = writer.get("/collections/projects/queryables", headers={"Accept": "application/schema+json"}).json()
    types = {name: schema["properties"][name]["type"] for name in ("funding_years", "amount_eur", "to_check")}
    assert types == {"funding_years": "string", "amount_eur": "number", "to_check": "boolean"}
    brochure = items(writer, "project-areas", limit=1000)
    [feature] = [f for f in brochure["features"] if f["id"] == BROCHURE_ONE]
    props = feature["properties"]
    assert props["duration_years"] == 3
    assert [props[name] for name in ("funding_years", "amount_eur", "status", "end_date", "website")] == [None] * 5
    assert props["to_check"] is False


def test_items_and_tiles_carry_the_facts_written(writer: TestClient) -> None:
    assert writer.post("/api/v1/projects", json=RECORD, headers=TOKEN).status_code == 201
    found = items(writer, "projects", funding_years="2024")
    assert [f["id"] for f in found["features"]] == [RECORD["id"]]  # the brochure's records give no year
    props = found["features"][0]["properties"]
    assert props["funding_years"] == "2023,2024"  # a list as text, in order
    assert props["amount_eur"] == RECORD["amount_eur"] and props["status"] == "ended"
    assert props["end_date"] == "2025-06-30" and props["end_date_source"] == "given"
    assert props["website"] == RECORD["website"] and props["contact"] == RECORD["contact"]
    assert props["last_checked"] == "2025-07-01" and props["duration_years"] == 3
    assert props["to_check"] is False  # ended, and its end has passed: nothing contradicts
    # the same facts in the project-areas collection, and a CQL2 filter on them
    chosen = items(writer, "project-areas", filter="status = 'ended' AND amount_eur > 90000")
    assert [f["id"] for f in chosen["features"]] == [RECORD["id"]]

    tile = tile_of(*AMIENS, 8)
    for layer in ("projects", "project-areas"):
        body = writer.get(f"/tiles/{layer}/8/{tile.x}/{tile.y}.mvt").content
        features = {f["properties"]["id"]: f["properties"] for f in mapbox_vector_tile.decode(body)[layer]["features"]}
        mine = features[RECORD["id"]]
        assert mine["funding_years"] == "2023,2024" and mine["amount_eur"] == pytest.approx(RECORD["amount_eur"])
        assert mine["status"] == "ended" and mine["end_date"] == "2025-06-30" and mine["to_check"] in (False, 0)
        # a brochure record in the same tile: its unknown facts are absent (a tile has no null), never made up
        others = [p for pid, p in features.items() if pid != RECORD["id"]]
        assert others and all("amount_eur" not in p and "status" not in p for p in others)
