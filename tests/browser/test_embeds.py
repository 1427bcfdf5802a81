"""Embeds in a partner's page (another loopback port), at the sizes partner sites use, and the embed builder."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest

from tests.browser.conftest import MAP, PROJECTS_SHOWN, wait_until

FOREIGN = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Site d'un partenaire</title>
<link rel="icon" href="data:,"><style>body{{margin:0}} iframe{{display:block;border:0}}</style></head>
<body><iframe id="carte" src="{src}" width="{width}" height="{height}" title="Carte"></iframe></body></html>"""
CONTROLS = [
    ".leaflet-control-zoom",
    ".leaflet-control-zoom-fullscreen",
    ".leaflet-control-layers",
    ".leaflet-control-attribution",
    ".leaflet-control-scale",
    "#legende",
]
SHARE = """(selectors) => {
  const map = document.querySelector('.leaflet-container').getBoundingClientRect();
  let covered = 0;
  for (const selector of selectors) for (const element of document.querySelectorAll(selector)) {
    const r = element.getBoundingClientRect();
    covered += Math.max(0, Math.min(r.right, map.right) - Math.max(r.left, map.left)) *
               Math.max(0, Math.min(r.bottom, map.bottom) - Math.max(r.top, map.top));
  }
  return covered / (map.width * map.height);
}"""
# the territory's outline as drawn (Leaflet clips a path to a little beyond the view: a part outside shows as such)
OUTLINE_IN_VIEW = """() => {
  const map = document.querySelector('.leaflet-container').getBoundingClientRect();
  const outline = document.querySelector('path.contour-territoire').getBoundingClientRect();
  return outline.width > 0 && outline.left >= map.left - 1 && outline.top >= map.top - 1 &&
    outline.right <= map.right + 1 && outline.bottom <= map.bottom + 1;
}"""


@pytest.fixture(scope="module")
def foreign_site(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("partenaire")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("size", [(360, 450), (540, 450), (800, 500)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("territory", ["epci:200035442", "commune:80021"])
def test_an_embed_in_a_partner_page_keeps_its_territory_visible(
    browser, live_server: str, foreign_site, artifacts: Path, size: tuple[int, int], territory: str
) -> None:
    folder, site = foreign_site
    name = f"{territory.replace(':', '-')}-{size[0]}"
    src = f"{live_server}/embed?territoire={territory}"
    (folder / f"{name}.html").write_text(FOREIGN.format(src=src, width=size[0], height=size[1]), "utf-8")
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{site}/{name}.html")
        frame = next(f for f in page.frames if f.url.startswith(live_server))
        wait_until(frame, PROJECTS_SHOWN)
        frame.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts / f"integration-{name}.png"))
        assert errors == []
        assert frame.evaluate(SHARE, CONTROLS) <= 0.25  # controls cover at most a quarter of the map
        assert frame.evaluate(OUTLINE_IN_VIEW)  # the whole territory shows
        assert frame.evaluate("document.documentElement.lang") == "fr"
        assert frame.title().endswith("— Mieux manger pour tous") and ":" in frame.title()
    finally:
        page.close()


def test_the_embed_follows_its_frame_when_resized(browser, live_server: str, foreign_site, artifacts: Path) -> None:
    folder, site = foreign_site
    src = f"{live_server}/embed?territoire=epci:200035442"
    (folder / "redimension.html").write_text(FOREIGN.format(src=src, width=800, height=500), "utf-8")
    page = browser.new_page(viewport={"width": 900, "height": 600})
    try:
        page.goto(f"{site}/redimension.html")
        frame = next(f for f in page.frames if f.url.startswith(live_server))
        wait_until(frame, PROJECTS_SHOWN)
        page.evaluate("() => { const f = document.getElementById('carte'); f.width = 360; f.height = 450; }")
        # the map takes the new size, then fits its territory again: polled until both hold (or 20 s pass)
        wait_until(frame, f"{MAP}.clientWidth === 360")
        wait_until(frame, OUTLINE_IN_VIEW)
        assert frame.evaluate(SHARE, CONTROLS) <= 0.25
    finally:
        page.close()


def test_the_builder_on_a_territory_page_gives_its_code(browser, live_server: str, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    try:
        page.goto(f"{live_server}/territoires/epci/200035442")
        page.wait_for_function(PROJECTS_SHOWN, timeout=20_000)
        code = page.locator("#code-iframe").input_value()
        assert "territoire=epci:200035442" in code
        assert re.search(r'title="[^"]*CC du Sud Artois"', code)
        # layers and legend chosen in the builder go into the code, and the preview follows
        page.locator("#constructeur input[value=zones-blanches]").check()
        page.locator("#integrer-legende").uncheck()
        page.locator("#integrer-hauteur").select_option("400")
        code = page.locator("#code-iframe").input_value()
        assert "zones-blanches" in code and "legend=0" in code and 'height="400"' in code
        page.locator("#apercu").scroll_into_view_if_needed()
        page.wait_for_function("document.getElementById('apercu').getAttribute('src').includes('legend=0')")
        direct = page.locator("#lien-direct").get_attribute("href")
        assert direct.startswith("/embed?") and "legend=0" in direct
        page.screenshot(path=str(artifacts / "constructeur.png"), full_page=True)
    finally:
        page.close()
