"""The French CSV for people (format=csv-fr): what French spreadsheets open in one click (';', decimal comma, UTF-8
BOM, French headers and words), read back here as a spreadsheet reader does (pandas with sep=';', decimal=','),
gives the numbers of the API's JSON. And the simulation's people leaving the zones blanches outside the action's
intercommunalité, recounted from the communes the answer lists."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geo_service import frcsv, planning
from geo_service.parameters import CoverageParams
from geo_service.planning import ActionSpec
from geo_service.service import ServiceData

SUD_ARTOIS, BAIE_DE_SOMME = "200035442", "200070993"  # EPCI SIREN (COG 2026)
YES_NO = {"oui": True, "non": False}
SCOPE_WORDS = {"locale": "local", "départementale": "departement", "régionale": "region", "aucune": "none"}
TEXT_COLUMNS = {"Code INSEE": str, "Code EPCI": str, "Département": str, "Code": str}


def _read(content: bytes) -> pd.DataFrame:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    header = content[3:].split(b"\r\n", 1)[0].decode("utf-8")
    assert ";" in header and "," not in header
    return pd.read_csv(io.BytesIO(content), sep=";", decimal=",", encoding="utf-8-sig", dtype=TEXT_COLUMNS)


@pytest.mark.parametrize("query", ["departement=80", "departement=02&count_departmental=true&max_km=7.5"])
def test_the_communes_table_reads_back_as_the_json(client: TestClient, query: str) -> None:
    response = client.get(f"/api/v1/coverage/communes?format=csv-fr&{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    table = _read(response.content)
    for header in ("Code INSEE", "Commune", "Population", "Zone blanche", "Rurale", "Intercommunalité"):
        assert header in table.columns
    features = client.get(f"/api/v1/coverage/communes?{query}").json()["features"]
    rows = {f["properties"]["code"]: f["properties"] for f in features}
    assert list(table["Code INSEE"]) == list(rows)
    for record in table.to_dict(orient="records"):
        row = rows[record["Code INSEE"]]
        assert record["Commune"] == row["name"]
        assert record["Population"] == row["population"]
        assert record["Superficie (km²)"] == pytest.approx(row["area_km2"])
        assert record["Densité (hab/km²)"] == pytest.approx(row["density"])
        distance = record["Distance à la commune atteinte la plus proche (km)"]
        assert (np.isnan(distance) and row["distance_km"] is None) or distance == pytest.approx(row["distance_km"])
        assert YES_NO[record["Zone blanche"]] == row["zone_blanche"]
        assert YES_NO[record["Rurale"]] == row["rural"]
        assert SCOPE_WORDS[record["Portée la plus locale"]] == row["best_scope"]
        assert record["Actions locales comptées"] == row["local_projects"]
        assert record["Explication"] == row["reason"]
    # the numbers are numbers to the spreadsheet: it adds them up
    assert table["Population"].sum() == sum(row["population"] for row in rows.values())
    assert pd.api.types.is_float_dtype(table["Superficie (km²)"])


def test_the_machine_csv_is_unchanged(client: TestClient) -> None:
    text = client.get("/api/v1/coverage/communes?format=csv&departement=80").text
    assert not text.startswith("\ufeff") and text.startswith("code,name,departement,epci,population,area_km2")
    assert ",true," in text or ",false," in text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_simulation_table_reads_back_as_the_json(client: TestClient, method: str) -> None:
    if method == "GET":
        query = {"territory": f"epci:{SUD_ARTOIS}", "max_km": 8.5}
        french = client.get("/api/v1/coverage/simulate", params={**query, "format": "csv-fr"})
        answer = client.get("/api/v1/coverage/simulate", params=query).json()
    else:
        body = {"actions": [{"territories": [f"epci:{SUD_ARTOIS}"]}]}
        french = client.post("/api/v1/coverage/simulate", params={"format": "csv-fr", "max_km": 8.5}, json=body)
        answer = client.post("/api/v1/coverage/simulate", params={"max_km": 8.5}, json=body).json()
    assert french.status_code == 200, french.text
    table = _read(french.content)
    assert list(table["Code INSEE"]) == [c["code"] for c in answer["communes"]]
    for record, commune in zip(table.to_dict(orient="records"), answer["communes"], strict=True):
        assert record["Population"] == commune["population"]
        assert record["Distance avant (km)"] == pytest.approx(commune["distance_km_before"])
        assert record["Distance après (km)"] == pytest.approx(commune["distance_km_after"])
        assert YES_NO[record["Atteinte par une action simulée"]] == commune["reached"]
        # outside the EPCI: the commune's own EPCI is another one (recounted from the listed communes)
        assert YES_NO[record["Hors des territoires des actions"]] == (commune["epci"] != SUD_ARTOIS)
    assert table["Population"].sum() == answer["gained"]["population"]


@pytest.mark.parametrize("epci", [SUD_ARTOIS, BAIE_DE_SOMME])
def test_outside_counts_the_people_leaving_outside_the_intercommunalite(client: TestClient, epci: str) -> None:
    answer = client.get("/api/v1/coverage/simulate", params={"territory": f"epci:{epci}"}).json()
    outside = [c for c in answer["communes"] if c["epci"] != epci]
    assert answer["actions"][0]["territories"][0]["outside"] == {
        "communes": len(outside),
        "population": sum(c["population"] for c in outside),
    }
    assert outside, "an EPCI action brings neighbours within max_km: some people leave outside it"


def test_the_sentence_says_how_many_live_outside(service_data: ServiceData) -> None:
    """« N habitants des communes qui sortiraient des zones blanches, dont M hors de l'intercommunalité »."""
    data = service_data
    action = planning.resolve(ActionSpec(territories=(f"epci:{SUD_ARTOIS}",)), data.boundaries, data.geocoder)
    result = planning.simulate(data.coverage, CoverageParams(), [action])
    members = set(data.boundaries.level("commune").query("epci == @SUD_ARTOIS").index)
    leaving = result.leaving
    total = int(leaving["population"].sum())
    outside = int(leaving.loc[~leaving["code"].isin(members), "population"].sum())
    assert 0 < outside < total

    def french(n: int) -> str:
        return f"{n:,}".replace(",", "\u202f")

    expected = (
        f"{french(total)} habitants des communes qui sortiraient des zones blanches, "
        f"dont {french(outside)} hors de l'intercommunalité"
    )
    assert planning.leaving_sentence(result, data.geocoder.gazetteer.units) == expected


def test_the_opportunities_table_reads_back_as_the_json(client: TestClient) -> None:
    answer = client.get("/api/v1/coverage/opportunities", params={"k": 3}).json()
    response = client.get("/api/v1/coverage/opportunities", params={"k": 3, "format": "csv-fr"})
    assert response.status_code == 200
    table = _read(response.content)
    assert list(table["Code"]) == [step["code"] for step in answer["sequence"]]
    assert list(table["Territoire"]) == [step["name"] for step in answer["sequence"]]
    assert list(table["Habitants sortis des zones blanches"]) == [step["population"] for step in answer["sequence"]]
    assert list(table["Habitants sortis (cumul)"]) == [step["cumulative_population"] for step in answer["sequence"]]
    assert set(table["Niveau"]) == {"intercommunalité"}
    codes = [cell.split(", ") for cell in table["Codes INSEE des communes sorties"]]
    assert codes == [step["communes"] for step in answer["sequence"]]


def test_text_cells_run_no_formula() -> None:
    """A name someone typed that a spreadsheet would run (CSV injection) is written as text; numbers stay numbers."""
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "@SUM(A1)", "Amiens"],
            "value": [-1.5, 2.25, 3.0],
            "ok": [True, False, True],
        }
    )
    content = frcsv.french_csv(frame, {"name": "Nom", "value": "Valeur", "ok": "Correct"})
    table = _read(content)
    assert list(table["Nom"]) == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "Amiens"]
    assert list(table["Valeur"]) == [-1.5, 2.25, 3.0] and list(table["Correct"]) == ["oui", "non", "oui"]
    assert "-1,5" in content.decode("utf-8-sig")
