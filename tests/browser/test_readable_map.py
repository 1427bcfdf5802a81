"""The map as people read it (issue: a map people can read), in Debian's Chromium at phone and desktop sizes.

Expectations come from outside the page's code: neighbouring communes from the polygons (shapely), the
programme's figures from the brochure, contrast from the WCAG formula, status and reason from the coverage API.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
import shapely

from geo_service.territories import Boundaries
from tests.browser.conftest import LEAFLET_MAP, PROJECTS_SHOWN, SHOWN, VIEW, Visit, searched

SIZES = [(360, 640), (390, 844), (1366, 768)]
LONGUEAU = "80489"


def _api(live_server: str, path: str):
    with urllib.request.urlopen(live_server + path, timeout=10) as response:
        return json.load(response)


def _open(browser, url: str, size: tuple[int, int], shot: Path):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]}, bypass_csp=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(url)
    page.wait_for_function(PROJECTS_SHOWN, timeout=20_000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shot))
    return page, errors


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("path", ["/carte", "/territoires/commune/80021", "/territoires/epci/200035442"])
def test_no_horizontal_overflow_and_the_map_on_the_first_screen(
    browser, live_server: str, artifacts: Path, size: tuple[int, int], path: str
) -> None:
    name = re.sub(r"\W+", "-", path.strip("/"))
    page, errors = _open(browser, live_server + path, size, artifacts / f"{name}-{size[0]}.png")
    try:
        assert errors == []
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        top = page.locator("#carte-interactive").bounding_box()["y"]
        assert top < size[1] / 3  # the map starts high on the first screen
        control = page.locator(".leaflet-control-layers")
        folded = "leaflet-control-layers-expanded" not in (control.get_attribute("class") or "")
        assert folded  # the layer list folds to a button at every size (issue 27: it covered desktop maps)
        if size[0] < 700:
            assert page.locator("#legende").get_attribute("open") is None  # the legend waits behind its button
    finally:
        page.close()


def test_controls_speak_french_and_the_scale_is_metric(carte: Visit) -> None:
    page = carte.page
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom avant"
    assert page.locator(".leaflet-control-zoom-out").get_attribute("title") == "Zoom arrière"
    assert page.locator(".leaflet-control-layers-toggle").get_attribute("aria-label") == "Couches de la carte"
    scales = page.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(scales) == 1 and re.fullmatch(r"\d+ (km|m)", scales[0].strip())
    footer = page.locator("#sources").inner_text()
    assert "1er janvier 2026" in footer and not re.search(r"\b[0-9a-f]{16}\b", footer)  # a date, not a hash


def test_clusters_say_how_many_projects(carte: Visit) -> None:
    labels = carte.page.locator(".marker-cluster").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert labels and all(re.fullmatch(r"\d+ projets regroupés : zoomer pour les voir", label) for label in labels)


def _luminance(rgb: tuple[int, int, int]) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_focus_ring_has_3_to_1_contrast_on_white(carte: Visit) -> None:
    page = carte.page
    page.locator("#q").focus()
    page.keyboard.press("Tab")  # keyboard focus: :focus-visible applies
    colour = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    rgb = tuple(int(v) for v in re.findall(r"\d+", colour)[:3])
    contrast = (1.05) / (_luminance(rgb) + 0.05)
    assert contrast >= 3, (colour, contrast)


def test_programme_figures_from_the_brochure(carte: Visit) -> None:
    # the figures in the band above the map, the programme's years in the side panel
    text = " ".join(carte.page.locator(".chiffres, .programme-region").all_inner_texts()).replace("\u202f", " ")
    for figure in ("1 997 734 €", "2 939 413 €", "3 943 677 €", "17 projets retenus sur 97 dossiers déposés"):
        assert figure in text
    assert re.search(r"Projets présentés dans la brochure\s+28", text)


def _touching(boundaries: Boundaries, code: str) -> set[str]:
    communes = boundaries.level("commune")
    shared = shapely.intersection(shapely.boundary(communes.geometry.values), shapely.boundary(communes.geometry[code]))
    return set(communes["name"][(shapely.length(shared) > 0) & (communes["code"] != code)])


def test_a_searched_commune_and_its_neighbours_are_named_on_the_map(
    browser, live_server: str, artifacts: Path, boundaries: Boundaries
) -> None:
    page, errors = _open(browser, f"{live_server}/carte", (1366, 768), artifacts / "recherche-avant.png")
    try:
        page.get_by_label(re.compile("^Rechercher une commune")).fill("Longueau")
        page.get_by_role("button", name="Rechercher", exact=True).click()
        page.wait_for_function(searched("commune", LONGUEAU), timeout=10_000)
        page.wait_for_function(
            "Array.from(document.querySelectorAll('.etiquette span')).some(s => s.textContent === 'Longueau')",
            timeout=10_000,
        )
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts / "carte-longueau.png"))
        box = page.locator("#carte-interactive").bounding_box()
        visible = set()
        for label in page.locator(".etiquette span").all():
            where = label.bounding_box()
            inside_x = where and box["x"] <= where["x"] and where["x"] + where["width"] <= box["x"] + box["width"]
            if inside_x and box["y"] <= where["y"] <= box["y"] + box["height"]:
                visible.add(label.inner_text())
        assert "Longueau" in visible
        # as drawn by the browser, no two names overlap (a pixel of anti-aliasing aside)
        rects = page.locator(".etiquette span").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"
        )
        overlaps = [
            (a, b)
            for i, a in enumerate(rects)
            for b in rects[i + 1 :]
            if a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1
        ]
        assert overlaps == []
        assert len(_touching(boundaries, LONGUEAU) & visible) >= 3  # Amiens, Camon, Boves...
        link = page.locator("#recherche-message a")
        assert link.get_attribute("href") == f"/territoires/commune/{LONGUEAU}"
        assert page.locator("path[stroke-dasharray]").count() >= 1  # the place found is outlined
        assert errors == []
    finally:
        page.close()


def test_clicking_a_commune_shows_its_status_and_reason(browser, live_server: str, artifacts: Path) -> None:
    page, errors = _open(browser, f"{live_server}/carte#12/50.108/1.975", (1366, 768), artifacts / "clic.png")
    try:
        point = page.evaluate(f"{LEAFLET_MAP}.latLngToContainerPoint([50.1085, 1.9745])")
        box = page.locator("#carte-interactive").bounding_box()
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        page.wait_for_function("document.querySelector('.feuille .fiche-commune[data-code]') !== null", timeout=10_000)
        code = page.evaluate("document.querySelector('.feuille .fiche-commune').dataset.code")
        expected = _api(live_server, f"/api/v1/coverage/communes/{code}")
        card = page.locator(".fiche-commune").inner_text()
        assert expected["name"] in card and expected["reason"] in card
        assert ("Zone blanche" in card) == expected["zone_blanche"]
        assert page.locator(".fiche-commune a", has_text="Page de la commune").get_attribute("href") == (
            f"/territoires/commune/{code}"
        )
        page.screenshot(path=str(artifacts / "fiche-commune.png"))
        assert errors == []
    finally:
        page.close()


def test_keyboard_only_open_read_and_escape(browser, live_server: str, artifacts: Path) -> None:
    page, errors = _open(browser, f"{live_server}/carte", (390, 844), artifacts / "clavier.png")
    try:
        button = page.locator("#liste-projets").get_by_role("button", name="Paniers locaux et solidaires")
        button.focus()
        page.keyboard.press("Enter")
        page.wait_for_function("document.activeElement.classList.contains('feuille-contenu')", timeout=10_000)
        assert "Paniers locaux et solidaires" in page.evaluate("document.activeElement.innerText")
        # the map is brought into view (a smooth scroll: wait for it to arrive)
        page.wait_for_function(
            "(() => { const r = document.getElementById('carte-interactive').getBoundingClientRect();"
            " return r.top > -5 && r.top < innerHeight; })()",
            timeout=5_000,
        )
        page.keyboard.press("Escape")
        page.locator(".feuille").wait_for(state="detached", timeout=5_000)
        assert page.evaluate("document.activeElement.textContent") == "Paniers locaux et solidaires"
        assert errors == []
    finally:
        page.close()


def test_filters_layers_and_view_are_in_the_url(browser, live_server: str, artifacts: Path) -> None:
    url = f"{live_server}/carte?axe=4&departement=80#10/49.9/2.3"
    page, errors = _open(browser, url, (1366, 768), artifacts / "etat-url.png")
    try:
        expected = {f["id"] for f in _api(live_server, "/api/v1/projects?axe=4&departement=80")["features"]}
        assert page.evaluate(SHOWN) == len(expected)
        assert page.locator("#filtre-axe").input_value() == "4"
        assert page.evaluate(VIEW)[0] == 10
        page.locator("#filtre-axe").select_option("")
        page.wait_for_function("!location.search.includes('axe=')", timeout=5_000)
        assert "departement=80" in page.evaluate("location.search")
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize(
    "path", ["/embed?territoire=epci:200035442", "/territoires/commune/80155", "/territoires/epci/200035442"]
)
def test_pages_have_no_serious_accessibility_violation(browser, live_server: str, artifacts: Path, path: str) -> None:
    name = re.sub(r"\W+", "-", path)
    visit = Visit(browser, live_server + path, artifacts / f"axe{name}.png")
    try:
        assert visit.failed == []
        assert visit.serious_violations() == []
    finally:
        visit.page.close()
