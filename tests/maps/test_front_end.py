"""One front-end for the map pages and the offline file: the pages load the modules from this server (no inline
script of ours), their settings are a JSON element escaped for HTML and carry the words the server says (a
commune's status among them), and the offline file carries the same modules, styles and words inside itself.

Expected words come from geo_service/maps/pages.py, the one place that writes them; the browser tests
(tests/browser) check what a person sees of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from geo_service.main import create_app
from geo_service.maps.bundle import MODULES, load
from geo_service.maps.offline import render_offline
from geo_service.maps.pages import COMMUNE_STATUS, STATUS_FILTER_WORDS, script_json
from geo_service.service import ServiceData
from geo_service.settings import REPO_DATA_DIR, REPO_DIR
from geo_service.tiles.service import TileService
from tests.conftest import settings_for, sqlite_url, unavailable

CONFIG = re.compile(r'<script type="application/json" id="carte-config">(.*?)</script>', re.DOTALL)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = settings_for(REPO_DATA_DIR, sqlite_url(tmp_path_factory.mktemp("front-end")))
    with TestClient(create_app(settings)) as client:
        yield client


def test_json_in_html_cannot_end_its_element_or_a_script_line() -> None:
    value = {"name": "</script><!-- a & b > c \u2028 d \u2029"}
    text = script_json(value)
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == value


@pytest.mark.parametrize("path", ["/carte", "/embed?territoire=epci:200035442", "/territoires/commune/80021"])
def test_pages_load_the_modules_and_give_their_settings_as_data(pages: TestClient, path: str) -> None:
    page = pages.get(path).text
    assert '<script type="module" src="/static/app/carte/main.js"></script>' in page
    assert "window.CARTE" not in page and "carte.js" not in page
    found = CONFIG.search(page)
    assert found is not None
    config = json.loads(found.group(1))
    assert config["communeStatus"] == COMMUNE_STATUS and config["statusWords"] == STATUS_FILTER_WORDS
    # the one name Folium generated, that of the map, given to the page's script; its element is in the page
    assert re.fullmatch(r"map_[0-9a-f]+", config["map"]) and f'id="{config["map"]}"' in page
    assert {overlay["key"] for overlay in config["overlays"]} >= {"coverage", "zones-blanches", "epci"}


def test_every_module_is_served_as_javascript(pages: TestClient) -> None:
    for module in load("main.js"):
        response = pages.get(f"/static/app/carte/{module.name}")
        assert response.status_code == 200 and "javascript" in response.headers["content-type"], module.name


def test_the_offline_file_carries_the_same_modules_styles_and_words(service_data: ServiceData) -> None:
    node_modules = REPO_DIR / "node_modules"
    if not (node_modules / "leaflet").is_dir():
        unavailable(f"{node_modules} has no leaflet: run 'npm ci' (the README's test command does)")
    document = render_offline(service_data, TileService(service_data, 0), "epci", "200035442", node_modules)
    config = json.loads(CONFIG.search(document).group(1))
    assert config["communeStatus"] == COMMUNE_STATUS
    assert (MODULES.parent / "carte.css").read_text("utf-8") in document
    for module in load("offline.js"):
        assert f"// -- {module.name}\n" in document  # each module, bundled inline
    assert "/static/" not in document and 'type="module"' not in document
    assert {feature["id"] for feature in config["projects"]} == set(config["projectIds"])
