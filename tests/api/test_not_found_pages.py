"""French for people: a mistyped page address gets a French HTML page with a link to the map (the API's paths and
clients keep their JSON 404), and every refusal the pages can show has its French (``detail_fr``) next to the
API's English ``detail``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from geo_service.api.errors import french
from geo_service.errors import GeoServiceError
from geo_service.parameters import CoverageParams
from geo_service.planning import parse_reference
from geo_service.projects.catalogue import check_selection
from geo_service.service import ServiceData
from geo_service.territories import check_code, check_level

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/cartes", "/territoires/epci", "/territoire/epci/200035442", "/carte/zz", "/a/b/c"])
def test_a_browser_gets_a_french_page_for_an_unknown_page(client: TestClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Content-Security-Policy" in response.headers
    page = response.text
    assert '<html lang="fr">' in page and "Page introuvable" in page
    assert 'href="/carte"' in page and f"« {path} »" in page


@pytest.mark.parametrize("path", ["/cartes", "/territoires/epci"])
def test_an_api_client_gets_json_for_the_same_path(client: TestClient, path: str) -> None:
    for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.headers["content-type"] == "application/json"
        assert response.json()["detail"] == "Not Found"


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2", "/tiles/nothing/1/2/3.mvt", "/static/app/none.js"])
def test_the_api_keeps_its_json_404_even_for_a_browser(client: TestClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"


def test_the_path_is_escaped_on_the_page(client: TestClient) -> None:
    response = client.get("/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers=BROWSER)
    assert response.status_code == 404
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(1)" in response.text


def test_a_known_territory_page_still_answers(client: TestClient) -> None:
    assert client.get("/territoires/epci/200035442", headers=BROWSER).status_code == 200
    # a malformed code on a page: French, naming the code (the page's own check)
    wrong = client.get("/territoires/epci/000", headers=BROWSER)
    assert wrong.status_code == 422 and "« 000 »" in wrong.text and "malformed" not in wrong.text


@pytest.mark.parametrize(
    ("url", "english", "words"),
    [
        ("/api/v1/coverage/simulate?territory=epci:000", "malformed epci code", ["code d'EPCI mal formé", "« 000 »"]),
        ("/api/v1/coverage/communes/800", "malformed commune code", ["code de commune mal formé", "« 800 »"]),
        ("/api/v1/coverage/communes?departement=99", "no such departement", ["aucun département", "« 99 »"]),
        ("/api/v1/territories/epci/200000000", "no epci with code", ["aucune intercommunalité", "« 200000000 »"]),
        ("/api/v1/coverage/simulate?territory=quartier:1", "unknown level", ["niveau inconnu", "« quartier »"]),
        ("/api/v1/coverage/simulate?place=zzqxw", "resolves to no territory", ["le lieu « zzqxw »"]),
        ("/api/v1/coverage/simulate", "give at least one", ["indiquez au moins un territoire"]),
        # the coverage parameters: the model's sentences (geo_service.parameters), the same on every route
        ("/api/v1/coverage/communes?max_km=500", "max_km must be between 0 and 200", ["max_km", "de 0 à 200 km"]),
        ("/api/v1/coverage/communes?year=1999", "year=1999: expected a year", ["year = « 1999 »", "de 2020 à 2100"]),
        ("/api/v1/coverage/communes?reach=tout", "got 'tout'", ["reach : valeur inconnue « tout »", "direct, all"]),
        ("/api/v1/coverage/communes?max_km=dix", "got 'dix'", ["max_km : attendu une distance", "reçu 'dix'"]),
    ],
)
def test_refusals_say_it_in_french_too(client: TestClient, url: str, english: str, words: list[str]) -> None:
    response = client.get(url)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert english in str(body["detail"])  # the API stays English
    for word in words:
        assert word in body["detail_fr"], body["detail_fr"]


def _raised(call: Callable[[], object]) -> str:
    with pytest.raises(GeoServiceError) as caught:
        call()
    return str(caught.value)


def test_every_message_the_pages_parameters_can_raise_has_its_french(service_data: ServiceData) -> None:
    """The coverage parameters, territory codes and selection a page or its tools pass to the server: each
    English message is translated (none falls back to the generic sentence quoting the English)."""
    boundaries = service_data.boundaries
    messages = [
        _raised(lambda: CoverageParams(max_km=500)),
        _raised(lambda: CoverageParams(rural_max_density=0)),
        _raised(lambda: CoverageParams(reach="tout")),
        _raised(lambda: CoverageParams(distance_to="gare")),
        _raised(lambda: check_selection(1999, None)),
        _raised(lambda: check_selection(None, "fini")),
        _raised(lambda: check_level("canton")),
        _raised(lambda: boundaries.require("epci", "200000000", parameter="epci")),
        _raised(lambda: boundaries.get("commune", "99999")),
        _raised(lambda: parse_reference("nulle-part")),
        _raised(lambda: parse_reference("quartier:12")),
        *(_raised(lambda level=level: check_code(level, "x")) for level in ("commune", "epci", "departement")),
    ]
    for message in messages:
        translated = french(message)
        assert "détail technique" not in translated, message
        assert translated != message, message
    assert "aucune intercommunalité" in french(_raised(lambda: boundaries.get("epci", "200000000")), 404)
    # an unknown English message still gets French words, its English kept as a detail
    assert french("something odd", 503).startswith("les données sont momentanément indisponibles")
    # a message already in French (the pages' own checks) is kept as it is
    assert french("layers : couche inconnue foo") == "layers : couche inconnue foo"
