"""The map pages in Debian's Chromium: nothing from third parties, every project, the card, the search, the
embeddable map, and no serious accessibility violation (axe-core, from npm)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo_service.settings import REPO_DIR

AXE = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"


class Visit:
    """A page load that records every request and failure."""

    def __init__(self, browser, url: str, shot: Path) -> None:
        self.hosts: set[str] = set()
        self.failed: list[str] = []
        # the tests evaluate their own scripts in the page, which our CSP (rightly) forbids to anything else
        self.page = browser.new_page(viewport={"width": 1200, "height": 900}, bypass_csp=True)
        self.page.on("request", lambda r: self.hosts.add(r.url.split("/")[2]))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} {r.status}"))
        self.page.goto(url)
        self.page.wait_for_function("window.projectsLoaded === true", timeout=20_000)
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(shot))

    def markers(self) -> int:
        """Projects on the map: single markers plus the counts shown on clusters."""
        singles = self.page.locator(".marqueur-projet").count()
        counts = self.page.locator(".marker-cluster span").all_inner_texts()
        return singles + sum(int(c) for c in counts)

    def serious_violations(self) -> list[str]:
        if not AXE.exists():
            pytest.fail(f"{AXE} missing: run 'npm ci' (the README's test command does)")
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "async () => (await axe.run(document)).violations"
            ".map(v => ({id: v.id, impact: v.impact, n: v.nodes.length, where: v.nodes[0].target.join(' ')}))"
        )
        return [
            f"{v['id']} ({v['impact']}, {v['n']}, e.g. {v['where']})"
            for v in result
            if v["impact"] in ("serious", "critical")
        ]


@pytest.fixture(scope="module")
def carte(browser, live_server: str, artifacts: Path) -> Visit:
    visit = Visit(browser, f"{live_server}/carte", artifacts / "carte.png")
    yield visit
    visit.page.close()


def test_carte_loads_only_from_our_server(carte: Visit, live_server: str) -> None:
    assert carte.failed == []
    assert carte.hosts == {live_server.split("/")[2]}


def test_carte_shows_the_28_projects(carte: Visit) -> None:
    assert carte.markers() == 28
    assert carte.page.locator("#liste-projets tbody tr:not([hidden])").count() == 28


def test_clicking_a_project_opens_its_card(carte: Visit) -> None:
    carte.page.get_by_role("button", name="Nutri-chèques").click()
    card = carte.page.locator(".leaflet-popup-content .fiche")
    card.wait_for(timeout=10_000)
    text = card.inner_text()
    assert "Centre socioculturel APTAHR" in text and "Département de l'Aisne" in text and "Axe 2" in text
    # a scrolling card is keyboard-reachable (axe: scrollable-region-focusable), whether or not it stays open
    assert carte.page.locator(".leaflet-popup-content").get_attribute("tabindex") == "0"
    assert carte.serious_violations() == []
    carte.page.keyboard.press("Escape")


def test_search_finds_longueau_and_zooms_there(carte: Visit) -> None:
    page = carte.page
    page.get_by_label("Rechercher une commune, une intercommunalité ou un territoire").fill("Longueau")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_function("window.lastSearch && window.lastSearch.code === '80489'", timeout=10_000)
    assert "Longueau" in page.locator("#recherche-message").inner_text()
    zoom = page.evaluate(f"window['{page.evaluate('window.CARTE.map')}'].getZoom()")
    centre = page.evaluate(f"window['{page.evaluate('window.CARTE.map')}'].getCenter()")
    assert zoom >= 12 and abs(centre["lat"] - 49.86) < 0.05 and abs(centre["lng"] - 2.36) < 0.05


def test_filters_apply_to_map_and_list(carte: Visit) -> None:
    page = carte.page
    page.get_by_label("Type d'action").select_option("epicerie_mobile")
    page.wait_for_function("window.projectsShown < 28", timeout=10_000)
    shown = page.evaluate("window.projectsShown")
    assert 0 < shown < 28 and page.locator("#liste-projets tbody tr:not([hidden])").count() == shown
    page.get_by_role("button", name="Réinitialiser les filtres").click()
    page.wait_for_function("window.projectsShown === 28", timeout=10_000)


def test_iframe_snippet_points_at_our_embed(carte: Visit, live_server: str) -> None:
    snippet = carte.page.locator("#code-iframe").input_value()
    assert re.search(rf'<iframe src="{re.escape(live_server)}/embed\?vue=', snippet) and 'title="' in snippet


def test_carte_has_no_serious_accessibility_violation(carte: Visit) -> None:
    assert carte.serious_violations() == []


def test_embed_shows_the_sud_artois_and_its_projects(browser, live_server: str, artifacts: Path) -> None:
    visit = Visit(browser, f"{live_server}/embed?territoire=epci:200035442", artifacts / "embed-sud-artois.png")
    try:
        assert visit.failed == [] and visit.hosts == {live_server.split("/")[2]}
        assert visit.page.locator(".leaflet-control-layers").inner_text().count("CC du Sud Artois") == 1
        ids = visit.page.evaluate("window.CARTE.projectIds")
        assert "espace-promotion-alimentation-locale" in ids and "nutri-cheques" not in ids
        assert visit.markers() == len(ids)
        map_name = visit.page.evaluate("window.CARTE.map")
        bounds = visit.page.evaluate(f"window['{map_name}'].getBounds().toBBoxString()")
        west, south, east, north = map(float, bounds.split(","))
        assert west < 2.6 and east > 3.1 and south < 50.03 and north > 50.24  # the CC fits in the view
        assert east - west < 1.5  # and the view is the CC's, not the région's
        assert visit.page.locator("header").count() == 0  # no page chrome
        assert visit.serious_violations() == []
    finally:
        visit.page.close()
