"""The map's first minute (issue 27), in Chromium under each page's own Content-Security-Policy: the legend inside
the map, the figures above it, a commune's answer naming the nearest reached commune and what is there, cards that
stay inside the map, markers opened from the keyboard, tap targets of 44 px on phones, the embed builder reading a
typed territory, the choice to count département-wide actions.

Expectations come from outside the page's code: the coverage and simulation API fetched here, the polygons' bounds
the page was given, the CC du Sud Artois's SIREN (INSEE), the geometry of what the browser drew.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import CONFIG, LEAFLET_MAP, PROJECT_CARD, PROJECTS_SHOWN, commune_card, wait_until
from tests.browser.test_embeds import FOREIGN
from tests.browser.test_pages_csp import REPORT_VIOLATIONS

PAGES = [(1366, 768), (1280, 720), (390, 844), (360, 640)]
SUD_ARTOIS = "200035442"  # SIREN of the CC du Sud Artois
ACHERY = "02002"  # a zone blanche of the Aisne, reached by two département-wide actions only


def _api(live_server: str, path: str):
    with urllib.request.urlopen(live_server + path, timeout=30) as response:
        return json.load(response)


def _open(browser, url: str, size: tuple[int, int]):
    """A page with its CSP enforced; errors and policy violations collected."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.goto(url)
    wait_until(page, PROJECTS_SHOWN)
    page.wait_for_load_state("networkidle")
    return page, errors


def _violations(frame) -> list[str]:
    return frame.evaluate("window.__violations || []")


BOX = """(selector) => {
  const r = document.querySelector(selector).getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom];
}"""
# the territory's bounds (given to the page by the server, in its settings) as drawn: [left, top, right, bottom] in
# the viewport
TERRITORY_BOX = f"""() => {{
  const map = {LEAFLET_MAP};
  const origin = map.getContainer().getBoundingClientRect();
  const [[south, west], [north, east]] = {CONFIG}.bounds;
  const nw = map.latLngToContainerPoint([north, west]), se = map.latLngToContainerPoint([south, east]);
  return [origin.left + nw.x, origin.top + nw.y, origin.left + se.x, origin.top + se.y];
}}"""


def _inside(inner, outer, slack: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def _overlap(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


@pytest.mark.parametrize("size", PAGES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_legend_in_the_map_figures_above_it_the_region_filling_it(
    browser, live_server: str, artifacts: Path, size: tuple[int, int]
) -> None:
    page, errors = _open(browser, f"{live_server}/carte", size)
    try:
        page.screenshot(path=str(artifacts / f"carte-{size[0]}x{size[1]}.png"))
        map_box = page.evaluate(BOX, ".leaflet-container")
        assert page.evaluate(
            "document.querySelector('.leaflet-container').contains(document.getElementById('legende'))"
        )
        desktop = size[0] > 700
        if not desktop:  # one tap away on a phone: its button inside the map, 44 px high
            assert page.evaluate("document.getElementById('legende').open") is False
            summary = page.locator("#legende > summary")
            assert _inside(page.evaluate(BOX, "#legende > summary"), map_box)
            assert summary.bounding_box()["height"] >= 44
            summary.click()
        wait_until(page, "document.getElementById('legende').open")
        page.wait_for_timeout(300)  # the map refits around the opened legend
        legend = page.evaluate(BOX, ".legende-controle")
        assert _inside(legend, map_box)
        first = page.locator("#legende li").first
        assert first.is_visible() and _inside(page.evaluate(BOX, "#legende li"), map_box)
        assert "Zone blanche" in page.locator("#legende").inner_text()
        # the région's bounds clear of the legend and of every control, and filling the map one way at least
        territory = page.evaluate(TERRITORY_BOX)
        assert _inside(territory, map_box, slack=1)
        for corner in page.locator(".leaflet-top, .leaflet-bottom").all():
            box = corner.bounding_box()
            if box and box["width"] > 0:
                corner_box = [box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]]
                if desktop or corner_box != legend:
                    assert not _overlap(territory, corner_box), (territory, corner_box)
        if desktop:
            filled = max(
                (territory[2] - territory[0]) / (map_box[2] - map_box[0] - legend[2] + legend[0]),
                (territory[3] - territory[1]) / (map_box[3] - map_box[1]),
            )
            assert filled > 0.8, filled
            # the figures above the map, on the first screen
            for figure in page.locator("#chiffres dl:not([hidden]) > div").all():
                box = figure.bounding_box()
                assert box["y"] + box["height"] <= size[1] and box["y"] < map_box[1]
            assert re.search(r"Projets présentés dans la brochure\s+28", page.locator("#chiffres").inner_text())
            # the layer list folded at every size
            assert "leaflet-control-layers-expanded" not in page.locator(".leaflet-control-layers").get_attribute(
                "class"
            )
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        assert errors == [] and _violations(page) == []
    finally:
        page.close()


def _click_commune(page, live_server: str, code: str) -> None:
    """Click inside the commune, at the centre of the largest circle it holds (from its outline, shapely)."""
    import shapely
    from shapely.geometry import shape

    outline = _api(live_server, f"/api/v1/territories/commune/{code}/outline.geojson?zoom=12")
    geometry = shape(outline["geometry"] if outline.get("type") == "Feature" else outline["features"][0]["geometry"])
    point = shapely.maximum_inscribed_circle(geometry).coords[0]
    page.evaluate(f"{LEAFLET_MAP}.setView([{point[1]}, {point[0]}], 11, {{animate: false}})")
    page.wait_for_timeout(200)
    where = page.evaluate(f"{LEAFLET_MAP}.latLngToContainerPoint([{point[1]}, {point[0]}])")
    box = page.locator("#carte-interactive .leaflet-container").bounding_box()
    page.mouse.click(box["x"] + where["x"], box["y"] + where["y"])


CLOSE_AT_ITS_CENTRE = """() => {
  const close = document.querySelector('.feuille-fermer');
  const r = close.getBoundingClientRect();
  return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === close;
}"""


@pytest.mark.parametrize("size", [(1366, 768), (360, 640)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_commune_tap_names_the_nearest_reached_commune_and_its_actions(
    browser, live_server: str, artifacts: Path, size: tuple[int, int]
) -> None:
    expected = _api(live_server, f"/api/v1/coverage/communes/{ACHERY}")
    assert expected["zone_blanche"] and expected["nearest"] and expected["nearest"]["projects"]
    page, errors = _open(browser, f"{live_server}/carte", size)
    try:
        _click_commune(page, live_server, ACHERY)
        wait_until(page, commune_card(ACHERY))
        card = page.locator(".feuille .fiche-commune")
        text = card.inner_text()
        assert "Zone blanche" in text and expected["name"] in text
        nearest = expected["nearest"]
        assert card.locator(".nom-plus-proche").inner_text() == nearest["name"]
        assert f"{nearest['distance_km']:.1f}".replace(".", ",") in text
        actions = card.locator(".actions-proches .lien-projet").all_inner_texts()
        assert actions == [p["name"] for p in nearest["projects"]]
        wide = card.locator(".actions-etendues-ici .lien-projet").all_inner_texts()
        assert set(wide) == {p["name"] for p in expected["covering"]}  # the Aisne's and the région's actions
        page.screenshot(path=str(artifacts / f"fiche-commune-{size[0]}.png"))
        # the card inside the map, its close button the element at its own centre
        map_box = page.evaluate(BOX, ".leaflet-container")
        assert _inside(page.evaluate(BOX, ".feuille"), map_box)
        assert _inside(page.evaluate(BOX, ".feuille-fermer"), map_box)
        assert page.evaluate(CLOSE_AT_ITS_CENTRE)
        close = page.locator(".feuille-fermer").bounding_box()
        assert close["width"] >= 44 and close["height"] >= 44
        # an action of the nearest commune opens its card
        card.locator(".actions-proches .lien-projet").first.click()
        wait_until(page, PROJECT_CARD)
        assert nearest["projects"][0]["name"] in page.locator(".feuille .fiche h3").inner_text()
        page.locator(".feuille-fermer").click()
        assert page.locator(".feuille").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        assert errors == [] and _violations(page) == []
    finally:
        page.close()


def test_the_commune_page_answers_under_the_map(browser, live_server: str, artifacts: Path) -> None:
    expected = _api(live_server, f"/api/v1/coverage/communes/{ACHERY}")
    page, errors = _open(browser, f"{live_server}/territoires/commune/{ACHERY}", (390, 844))
    try:
        wait_until(page, f"document.querySelector('#reponse-commune .fiche-commune[data-code=\"{ACHERY}\"]') !== null")
        answer = page.locator("#reponse-commune")
        text = answer.inner_text()
        assert expected["nearest"]["name"] in text and expected["nearest"]["projects"][0]["name"] in text
        map_bottom = page.evaluate(BOX, "#carte-interactive")[3]
        assert 0 <= answer.bounding_box()["y"] - map_bottom < 60  # right under the map
        page.screenshot(path=str(artifacts / "commune-reponse-390.png"), full_page=True)
        assert errors == [] and _violations(page) == []
    finally:
        page.close()


@pytest.mark.parametrize("size", [(1366, 768), (360, 640)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_enter_on_a_focused_marker_opens_its_card(browser, live_server: str, size: tuple[int, int]) -> None:
    page, errors = _open(browser, f"{live_server}/carte", size)
    try:
        marker = page.locator(".marqueur-projet").first
        title = marker.get_attribute("title")
        assert title.startswith("Projet : ")
        marker.focus()
        page.keyboard.press("Enter")
        wait_until(page, PROJECT_CARD)
        assert page.locator(".feuille .fiche h3").inner_text() == title.removeprefix("Projet : ")
        assert page.evaluate("document.activeElement.classList.contains('feuille-contenu')")
        page.keyboard.press("Escape")
        assert page.locator(".feuille").count() == 0
        assert page.evaluate("document.activeElement.title") == title  # back on the marker
        page.keyboard.press(" ")
        wait_until(page, PROJECT_CARD)
        assert errors == [] and _violations(page) == []
    finally:
        page.close()


# What a finger taps: buttons, fields, checkboxes (through their label), summaries, the map's controls and markers.
# Links inside sentences and table cells are left out (WCAG's inline exception).
TARGETS = """() => {
  const selectors = ['button', 'select', 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])',
    'summary', 'label.case', '.leaflet-control-layers label', '.leaflet-bar a', '.leaflet-control-attribution a',
    '.leaflet-marker-icon.leaflet-interactive', 'nav a', '.titre-integre a', '[role=button]'];
  const small = [];
  for (const element of document.querySelectorAll(selectors.join(','))) {
    const r = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || element.closest('[hidden]')) continue;
    if (element.closest('.evitement, .cache, datalist')) continue;
    if (Math.min(r.width, r.height) < 43.5) small.push(element.tagName + '.' + element.className + ' ' +
      (element.textContent || element.title || '').trim().slice(0, 30) + ' ' +
      Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return small;
}"""


@pytest.mark.parametrize("path", ["/carte", f"/territoires/epci/{SUD_ARTOIS}", f"/territoires/commune/{ACHERY}"])
def test_no_tap_target_under_44_px_at_360(browser, live_server: str, path: str) -> None:
    page, errors = _open(browser, f"{live_server}{path}", (360, 640))
    try:
        assert page.evaluate(TARGETS) == []
        toggle = page.locator(".leaflet-control-layers-toggle").bounding_box()  # the list unfolded: its rows too
        page.mouse.move(toggle["x"] + toggle["width"] / 2, toggle["y"] + toggle["height"] / 2)
        wait_until(page, "document.querySelector('.leaflet-control-layers-expanded') !== null")
        assert page.evaluate(TARGETS) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert errors == [] and _violations(page) == []
    finally:
        page.close()


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory):
    import functools
    import http.server
    import threading

    folder = tmp_path_factory.mktemp("partenaire-27")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _embed(browser, partner, live_server: str, query: str, size: tuple[int, int], name: str):
    folder, site = partner
    (folder / f"{name}.html").write_text(
        FOREIGN.format(src=f"{live_server}/embed?{query}", width=size[0], height=size[1]), "utf-8"
    )
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.goto(f"{site}/{name}.html")
    frame = next(f for f in page.frames if f.url.startswith(live_server))
    wait_until(frame, PROJECTS_SHOWN)
    frame.wait_for_load_state("networkidle")
    return page, frame, errors


@pytest.mark.parametrize("size", [(360, 450), (540, 450), (800, 500)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_an_embed_card_stays_inside_and_the_territory_comes_back(
    browser, live_server: str, partner, artifacts: Path, size: tuple[int, int]
) -> None:
    page, frame, errors = _embed(
        browser, partner, live_server, f"territoire=epci:{SUD_ARTOIS}", size, f"carte-27-{size[0]}"
    )
    try:
        page.screenshot(path=str(artifacts / f"integration-{size[0]}x{size[1]}.png"))
        # a title and a link to the full map, outside the map
        title = frame.locator(".titre-integre")
        assert "CC du Sud Artois" in title.inner_text()
        assert frame.locator(".titre-integre a").get_attribute("href") == f"/territoires/epci/{SUD_ARTOIS}"
        map_box = frame.evaluate(BOX, ".leaflet-container")
        # the legend inside the map: open where there is room, one tap away otherwise
        if size[0] >= 700:
            assert frame.evaluate("document.getElementById('legende').open")
        else:
            frame.locator("#legende > summary").click()
            wait_until(frame, "document.getElementById('legende').open")
        assert _inside(frame.evaluate(BOX, ".legende-controle"), map_box)
        frame.locator("#legende > summary").click()  # folded again, for the card
        # a project's card: inside the map, its close button the element at its own centre
        frame.locator(".marqueur-projet").first.click()
        wait_until(frame, PROJECT_CARD)
        assert _inside(frame.evaluate(BOX, ".feuille"), map_box)
        assert _inside(frame.evaluate(BOX, ".feuille-fermer"), map_box)
        assert frame.evaluate(CLOSE_AT_ITS_CENTRE)
        page.screenshot(path=str(artifacts / f"integration-fiche-{size[0]}x{size[1]}.png"))
        frame.locator(".feuille-fermer").click()
        # moved away, then « Recentrer »: the territory's bounds back inside the map
        frame.evaluate(f"{LEAFLET_MAP}.setView([50.9, 1.9], 11, {{animate: false}})")
        frame.get_by_role("button", name=re.compile("^Recentrer")).click()
        page.wait_for_timeout(200)
        assert _inside(frame.evaluate(TERRITORY_BOX), map_box, slack=1)
        assert frame.evaluate("document.documentElement.scrollWidth") <= size[0]
        if size[0] <= 700:
            assert frame.evaluate(TARGETS) == []
        assert errors == [] and _violations(frame) == []
    finally:
        page.close()


def test_keyboard_users_reach_projects_in_an_embed(browser, live_server: str, partner) -> None:
    page, frame, errors = _embed(browser, partner, live_server, f"territoire=epci:{SUD_ARTOIS}", (800, 500), "clavier")
    try:
        for _ in range(40):
            page.keyboard.press("Tab")
            if frame.evaluate("document.activeElement.classList.contains('marqueur-projet')"):
                break
        else:
            pytest.fail("no project marker reached with Tab")
        title = frame.evaluate("document.activeElement.title").removeprefix("Projet : ")
        page.keyboard.press("Enter")
        wait_until(frame, PROJECT_CARD)
        assert frame.locator(".feuille .fiche h3").inner_text() == title
        assert errors == [] and _violations(frame) == []
    finally:
        page.close()


@pytest.mark.parametrize(
    "typed, expected",
    [("Sud Artois", f"territoire=epci:{SUD_ARTOIS}"), ("Xqzwv Plorbe", None)],
    ids=["sud-artois", "nothing"],
)
def test_the_builder_reads_typed_text(browser, live_server: str, typed: str, expected: str | None) -> None:
    page, errors = _open(browser, f"{live_server}/carte", (1366, 768))
    try:
        field = page.locator("#integrer-territoire")
        field.scroll_into_view_if_needed()
        field.press_sequentially(typed, delay=20)
        code = page.locator("#code-iframe")
        message = page.locator("#integrer-message")
        if expected:
            wait_until(page, "(s) => document.getElementById('code-iframe').value.includes(s)", arg=expected)
            assert "CC du Sud Artois" in message.inner_text() and 'CC du Sud Artois"' in code.input_value()
        else:
            wait_until(page, "document.getElementById('integrer-message').textContent.includes('Aucun territoire')")
            assert typed in message.inner_text()
            assert code.input_value() == ""  # no code for the whole région in silence
            assert page.locator("#copier-code").is_disabled()
        assert errors == [] and _violations(page) == []
    finally:
        page.close()


def test_counting_departmental_actions_switches_tiles_figures_and_link(browser, live_server: str) -> None:
    tiles: list[str] = []
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.on("request", lambda r: "/tiles/coverage/" in r.url and tiles.append(r.url))
    page.add_init_script(REPORT_VIOLATIONS)
    try:
        page.goto(f"{live_server}/carte")
        wait_until(page, PROJECTS_SHOWN)
        wanted = _api(live_server, "/api/v1/coverage/summary?level=departement&count_departmental=true")["totals"]
        tiles.clear()
        page.get_by_label("Compter les actions départementales").check()
        wait_until(page, "location.search.includes('count_departmental=true')")
        page.wait_for_load_state("networkidle")
        assert tiles and all("count_departmental=true" in url for url in tiles)
        band = page.locator("#chiffres dl:not([hidden])")
        text = band.inner_text().replace("\u202f", " ").replace("\xa0", " ")
        zones = f"{wanted['communes_zone_blanche']:,}".replace(",", " ")
        assert re.search(rf"Communes en zone blanche\s+{zones}\b", text), (text, zones)
        assert "locale ou départementale" in text
        assert "count_departmental=true" in page.locator("#code-iframe").input_value()
        assert _violations(page) == []
    finally:
        page.close()


def test_the_simulation_says_whose_inhabitants_it_counts(browser, live_server: str) -> None:
    answer = _api(live_server, f"/api/v1/coverage/simulate?territory=epci:{SUD_ARTOIS}")
    outside = sum(c["population"] for c in answer["communes"] if c["epci"] != SUD_ARTOIS)
    assert 0 < outside < answer["gained"]["population"]
    page, errors = _open(browser, f"{live_server}/carte?simuler=epci:{SUD_ARTOIS}", (1366, 768))
    try:
        wait_until(page, "document.getElementById('simulation-gain') !== null")
        text = page.locator("#simulation-gain").inner_text().replace("\u202f", " ").replace("\xa0", " ")
        assert re.search(r"habitants des [\d ]+ communes qui sortiraient des zones blanches", text), text
        assert f"dont {outside:,} hors de l'intercommunalité".replace(",", " ") in text
        assert errors == [] and _violations(page) == []
    finally:
        page.close()


def test_page_csv_links_are_the_french_csv(browser, live_server: str) -> None:
    page, errors = _open(browser, f"{live_server}/territoires/epci/{SUD_ARTOIS}", (1366, 768))
    try:
        assert errors == []
        links = page.locator(".territoire a[download]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        csv = [link for link in links if "format=csv" in link]
        assert csv and all("format=csv-fr" in link for link in csv)
    finally:
        page.close()
