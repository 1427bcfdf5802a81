"""The « Simuler une action » panel of /carte in Debian's Chromium, under the page's own CSP: an EPCI picked by
keyboard through the search field, the simulation run, its figures checked against the API's answer fetched here
(outside the page), the communes drawn on the map, the actions kept in the URL and run again on reload, the
« Meilleures opportunités » list, a phone's width, and the errors said in French."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import LEAFLET_MAP, MAP, PROJECTS_SHOWN, VIEW, Visit, wait_until
from tests.browser.test_pages_csp import REPORT_VIOLATIONS

SUD_ARTOIS = "epci:200035442"
FIGURES = ("communes_zone_blanche", "population_zone_blanche", "communes_reached", "population_reached")
# the map's view as its element says it: [lat, lon, zoom]
MAP_VIEW = f"() => {{ const [zoom, lat, lon] = {VIEW}; return [lat, lon, zoom]; }}"
# the simulation ran: its figures shown, and its communes drawn on the map (the map's element says how many)
SIMULATED = f"!document.getElementById('simulation-resultat').hidden && {MAP}.dataset.simulation !== undefined"
DRAWN = f"Number({MAP}.dataset.simulation || 0)"
OPPORTUNITIES = "document.querySelectorAll('#opportunites-liste > li[data-code]').length > 0"


def api(live_server: str, path: str):
    with urllib.request.urlopen(f"{live_server}{path}", timeout=30) as response:
        return json.load(response)


def digits(text: str) -> int:
    """« 76 092 » (with the narrow no-break spaces of fr-FR) -> 76092."""
    return int(re.sub(r"\D", "", text))


class Watched:
    """A page under its CSP that records script errors, console errors and CSP violations."""

    def __init__(self, browser, width: int = 1366, height: int = 768) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.add_init_script(REPORT_VIOLATIONS)

    def open(self, url: str) -> None:
        self.page.goto(url)
        wait_until(self.page, PROJECTS_SHOWN)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations || []")

    def focused(self) -> str:
        return self.page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")

    def tab_to(self, element_id: str, limit: int = 30) -> None:
        for _ in range(limit):
            if self.page.evaluate("document.activeElement.id") == element_id:
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"#{element_id} not reached by Tab (focus on {self.focused()!r})")

    def shown_figures(self) -> dict[str, int]:
        cells = self.page.locator("#simulation-resultat [data-chiffre]")
        return {
            cells.nth(i).get_attribute("data-chiffre"): digits(cells.nth(i).inner_text()) for i in range(cells.count())
        }

    def map_view(self) -> list[float]:
        return self.page.evaluate(MAP_VIEW)


def expected_figures(answer: dict) -> dict[str, int]:
    figures = {f"{when}.{key}": answer[when][key] for when in ("before", "after") for key in FIGURES}
    figures["gained.communes"] = answer["gained"]["communes"]
    figures["gained.population"] = answer["gained"]["population"]
    return figures


@pytest.fixture(scope="module")
def simulated(browser, live_server: str, artifacts: Path):
    """/carte where the CC du Sud Artois was chosen and simulated with the keyboard alone."""
    watched = Watched(browser)
    page = watched.page
    watched.open(f"{live_server}/carte")
    # the skip link « Aller à la simulation d'une action » leads to the field
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert "simulation" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "simulation-lieu"
    page.keyboard.type("Sud Artois", delay=30)
    wait_until(page, "document.querySelectorAll('#simulation-suggestions [role=option]').length > 0")
    assert page.get_attribute("#simulation-lieu", "aria-expanded") == "true"
    for _ in range(8):  # down the list to the EPCI
        page.keyboard.press("ArrowDown")
        active = page.get_attribute("#simulation-lieu", "aria-activedescendant")
        if "CC du Sud Artois" in page.locator(f"#{active}").inner_text():
            break
    page.keyboard.press("Enter")  # chooses the suggestion
    assert page.locator("#simulation-lieu").input_value().startswith("CC du Sud Artois")
    page.keyboard.press("Enter")  # adds it
    wait_until(page, "document.getElementById('simulation-nombre').textContent === '1'")
    assert "Action ajoutée : CC du Sud Artois" in page.locator("#simulation-message").inner_text()
    assert page.evaluate("document.activeElement.id") == "simulation-lieu"
    watched.tab_to("simulation-lancer")
    page.keyboard.press("Enter")
    wait_until(page, SIMULATED)
    yield watched
    page.close()


def test_the_figures_shown_are_the_apis(simulated, live_server: str, artifacts: Path) -> None:
    page = simulated.page
    answer = api(live_server, f"/api/v1/coverage/simulate?territory={SUD_ARTOIS}")
    assert answer["gained"]["population"] > 0  # a case where something changes
    assert simulated.shown_figures() == expected_figures(answer)
    # focus on the result's heading; the summary said in the live region, in French
    assert page.evaluate("document.activeElement.id") == "titre-resultat"
    status = page.locator("#simulation-statut")
    assert status.get_attribute("aria-live") == "polite"
    assert "Simulation terminée" in status.inner_text() and "sortiraient des zones blanches" in status.inner_text()
    # gains per département, and the communes leaving, most populated first, the list folded after 10
    rows = page.locator("#simulation-departements tbody tr")
    shown = [
        [digits(t) if i else t for i, t in enumerate(rows.nth(r).locator("th, td").all_inner_texts())]
        for r in range(rows.count())
    ]
    assert shown == [[f"{d['code']} {d['name']}", d["communes"], d["population"]] for d in answer["by_departement"]]
    communes = page.locator("#simulation-communes tbody tr")
    assert communes.count() == len(answer["communes"])
    biggest = max(answer["communes"], key=lambda c: c["population"])
    assert communes.first.locator("th").inner_text() == biggest["name"]
    assert page.locator("#simulation-communes tbody tr:not([hidden])").count() == 10
    page.get_by_role("button", name=re.compile(r"Afficher les .* autres communes")).click()
    assert page.locator("#simulation-communes tbody tr:not([hidden])").count() == len(answer["communes"])
    # exports: the GET route of the same actions
    assert page.get_by_role("link", name="Télécharger les communes (CSV)").get_attribute("href") == (
        f"/api/v1/coverage/simulate?territory={SUD_ARTOIS}&format=csv-fr"
    )
    assert page.get_by_role("link", name="Image (PNG)").get_attribute("href").endswith("&format=png")
    page.screenshot(path=str(artifacts / "simulation.png"))


def test_the_communes_are_drawn_on_the_map(simulated, live_server: str) -> None:
    page = simulated.page
    request = urllib.request.Request(
        f"{live_server}/api/v1/coverage/simulate?format=geojson",
        data=json.dumps({"actions": [{"territories": [SUD_ARTOIS], "reach": "direct"}]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        collection = json.load(response)
    answer = api(live_server, f"/api/v1/coverage/simulate?territory={SUD_ARTOIS}")
    leaving = {f["id"] for f in collection["features"] if f["properties"]["leaving"]}
    assert leaving == {c["code"] for c in answer["communes"]}
    assert page.evaluate(DRAWN) == len(collection["features"])
    # one path per feature drawn (leaving communes filled; the action's communes outlined on top)
    drawn = page.locator(".leaflet-overlay-pane path").count()
    in_action = sum(1 for f in collection["features"] if f["properties"]["in_action"])
    assert drawn >= len(leaving) + in_action
    assert page.locator("#legende-simulation-ligne").count() == 1
    # listed in the layer list (folded behind its button at every size: its text, not what shows)
    assert "Simulation" in page.locator(".leaflet-control-layers").text_content()
    # the map shows the communes: the view contains their bounds' centre
    bounds = page.evaluate(f"{MAP}.dataset.emprise")
    west, south, east, north = map(float, bounds.split(","))
    assert west < 2.9 < east and south < 50.1 < north


def test_the_url_keeps_the_actions_and_reopens_the_simulation(simulated, live_server: str) -> None:
    page = simulated.page
    assert f"simuler={SUD_ARTOIS}" in page.evaluate("location.search")
    before = simulated.shown_figures()
    page.reload()
    wait_until(page, SIMULATED)
    assert simulated.shown_figures() == before
    assert page.locator("#simulation-actions li .nom-action").all_inner_texts() == ["CC du Sud Artois"]
    assert page.evaluate(DRAWN) > 0


def test_the_opportunities_list_follows_the_api_and_zooms(simulated, live_server: str, artifacts: Path) -> None:
    page = simulated.page
    # the simulated action counts as funded first: the list says where to act next, after it
    expected = api(live_server, f"/api/v1/coverage/opportunities?level=epci&k=5&territory={SUD_ARTOIS}")["sequence"]
    page.locator("#opportunites-niveau").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Afficher"
    page.keyboard.press("Enter")
    wait_until(page, OPPORTUNITIES)
    items = page.locator("#opportunites-liste > li")
    assert items.count() == len(expected) == 5
    assert "après l'action simulée" in page.locator("#opportunites-statut").inner_text()
    first = items.first
    assert first.locator(".nom-action strong").inner_text() == expected[0]["name"]
    assert digits(first.locator("[data-chiffre=population]").inner_text()) == expected[0]["population"]
    assert (
        digits(first.locator("[data-chiffre=cumulative_population]").inner_text())
        == expected[0]["cumulative_population"]
    )
    last = items.nth(4).locator("[data-chiffre=cumulative_population]").inner_text()
    assert digits(last) == expected[4]["cumulative_population"]
    view = simulated.map_view()
    zoom = first.get_by_role("button", name=f"Voir sur la carte : {expected[0]['name']}")
    zoom.focus()
    page.keyboard.press("Enter")
    # the map moves (animated) until its centre is inside the territory's bbox
    west, south, east, north = expected[0]["bbox"]
    inside = (
        f"([s, w, n, e]) => {{ const [lat, lon] = ({MAP_VIEW})(); return s < lat && lat < n && w < lon && lon < e; }}"
    )
    wait_until(page, inside, arg=[south, west, north, east])
    assert simulated.map_view() != view
    # « Ajouter à la simulation » lists it as a second action, in the URL too
    first.get_by_role("button", name=f"Ajouter à la simulation : {expected[0]['name']}").press("Enter")
    wait_until(page, "document.getElementById('simulation-nombre').textContent === '2'")
    assert f"epci:{expected[0]['code']}" in page.evaluate("location.search")
    page.screenshot(path=str(artifacts / "simulation-opportunites.png"))


def test_a_phone_has_no_horizontal_scroll_and_nothing_failed(simulated) -> None:
    page = simulated.page
    page.set_viewport_size({"width": 360, "height": 640})
    page.locator("#simulation-resultat").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert simulated.errors == [] and simulated.violations() == []


def test_effacer_clears_the_simulation(simulated) -> None:
    page = simulated.page
    page.get_by_role("button", name="Effacer la simulation").press("Enter")
    assert page.locator("#simulation-resultat").is_hidden()
    assert page.evaluate(DRAWN) == 0  # the communes' layer removed
    assert "simuler=" not in page.evaluate("location.search")
    assert page.evaluate("document.activeElement.id") == "simulation-lieu"


def test_errors_are_said_in_french(browser, live_server: str) -> None:
    watched = Watched(browser)
    page = watched.page
    try:
        watched.open(f"{live_server}/carte?simuler=epci:200000000")  # well formed, but no such EPCI
        wait_until(page, "document.getElementById('simulation-statut').textContent.length > 0")
        wait_until(page, "!document.getElementById('simulation-statut').textContent.includes('en cours')")
        text = page.locator("#simulation-statut").inner_text()
        # the server's own French message (detail_fr), not its English one
        assert text.startswith("Territoire « epci:200000000 »") and "aucune intercommunalité" in text
        assert page.locator("#simulation-resultat").is_hidden()
        # a busy server (429): its own sentence
        page.route(
            "**/api/v1/coverage/simulate*",
            lambda route: route.fulfill(
                status=429,
                headers={"Retry-After": "1"},
                content_type="application/json",
                body='{"detail": "too many expensive requests"}',
            ),
        )
        page.get_by_role("button", name="Retirer : 200000000").click()
        page.locator("#simulation-lieu").fill("Albert")
        page.get_by_role("button", name="Ajouter l'action").click()
        wait_until(page, "document.getElementById('simulation-nombre').textContent === '1'")
        page.get_by_role("button", name="Lancer la simulation").click()
        wait_until(page, "document.getElementById('simulation-statut').textContent.includes('occupé')")
        assert page.locator("#simulation-statut").inner_text() == "Le serveur est occupé, réessayez dans un instant."
        assert watched.violations() == []
    finally:
        page.close()


def test_the_embed_has_no_panel(browser, live_server: str) -> None:
    watched = Watched(browser, 800, 500)
    asked: list[str] = []
    watched.page.on("request", lambda r: "/api/v1/coverage/" in r.url and asked.append(r.url))
    try:
        watched.open(f"{live_server}/embed?territoire={SUD_ARTOIS}&simuler={SUD_ARTOIS}")
        assert watched.page.locator("#simulation").count() == 0
        assert asked == [] and watched.errors == [] and watched.violations() == []
    finally:
        watched.page.close()


def test_the_panel_with_its_results_has_no_serious_accessibility_violation(
    browser, live_server: str, artifacts: Path
) -> None:
    visit = Visit(
        browser, f"{live_server}/carte?simuler={SUD_ARTOIS},commune:80016:appui", artifacts / "carte-simulee.png"
    )
    page = visit.page
    try:
        wait_until(page, SIMULATED)
        # the action d'appui is listed with its kind, and said not counted by the map's rule
        assert page.locator("#simulation-portee-1").input_value() == "support"
        assert "non comptée" in page.locator("#simulation-resultat").inner_text()
        page.get_by_role("button", name="Afficher", exact=True).click()
        wait_until(page, OPPORTUNITIES)
        page.get_by_role("button", name="Choisir sur la carte").click()
        assert page.get_attribute("#simulation-carte", "aria-pressed") == "true"
        assert visit.serious_violations() == []
        # « Choisir sur la carte » by keyboard: the focused map's centre, picked with Enter
        assert page.evaluate("document.activeElement.classList.contains('leaflet-container')")
        # the map's exact centre (the view the element says is rounded to 4 decimals, some metres)
        lat, lon = page.evaluate(f"(() => {{ const c = {LEAFLET_MAP}.getCenter(); return [c.lat, c.lng]; }})()")
        here = api(live_server, f"/api/v1/territories/at?level=commune&lon={lon:.6f}&lat={lat:.6f}")
        page.keyboard.press("Enter")
        wait_until(page, "document.getElementById('simulation-nombre').textContent === '3'")
        assert page.locator("#simulation-actions li .nom-action").nth(2).inner_text() == here["name"]
        assert page.get_attribute("#simulation-carte", "aria-pressed") == "false"
        assert page.evaluate("document.activeElement.id") == "simulation-carte"
        assert f"commune:{here['code']}" in page.evaluate("location.search")
        # and with the mouse, an intercommunalité: a click picks it instead of opening the commune's card
        page.locator("#simulation-niveau").select_option("epci")
        page.get_by_role("button", name="Choisir sur la carte").click()
        box = page.locator(".leaflet-container").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        # the centre is in the CC du Sud Artois, listed already: said so, not added twice
        wait_until(page, "document.getElementById('simulation-message').textContent.includes('déjà')")
        message = page.locator("#simulation-message").inner_text()
        assert message == "CC du Sud Artois (intercommunalité) est déjà dans la liste des actions."
        assert page.locator(".feuille").count() == 0  # no card opened
        assert page.locator("#simulation-nombre").inner_text() == "3"
    finally:
        page.close()


def test_a_text_naming_several_places_adds_one_action_each(browser, live_server: str) -> None:
    """« Albert et Péronne »: the geocoder reads two communes (its own answer is the expectation), the panel lists
    both; a link whose parts cannot all be read says which, in French, while the rest runs."""
    expected = api(live_server, "/api/v1/geocode?q=Albert%20et%20P%C3%A9ronne")["units"]
    assert len(expected) == 2
    watched = Watched(browser)
    page = watched.page
    try:
        watched.open(f"{live_server}/carte")
        page.locator("#simulation-lieu").fill("Albert et Péronne")
        page.get_by_role("button", name="Ajouter l'action").click()
        wait_until(page, "document.getElementById('simulation-nombre').textContent === '2'")
        names = page.locator("#simulation-actions li .nom-action").all_inner_texts()
        assert [n.split(" (")[0] for n in names] == [u["name"] for u in expected]
        assert "2 actions ajoutées" in page.locator("#simulation-message").inner_text()
        watched.open(f"{live_server}/carte?simuler={SUD_ARTOIS},quartier:12")
        wait_until(page, SIMULATED)
        said = page.locator("#simulation-message").inner_text()
        assert "Partie du lien non comprise" in said and "quartier:12" in said
        assert page.locator("#simulation-resultat").is_visible()
        assert watched.errors == [] and watched.violations() == []
    finally:
        page.close()
