"""The map pages in Debian's Chromium: nothing from third parties, every project, the card, the search, the
embeddable map, and no serious accessibility violation (axe-core, from npm)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import CONFIG, MAP, MARKERS, SHOWN, VIEW, Visit, searched


def test_carte_loads_only_from_our_server(carte: Visit, live_server: str) -> None:
    assert carte.failed == []
    assert carte.hosts == {live_server.split("/")[2]}


def test_carte_lists_the_28_projects_and_draws_only_local_ones(carte: Visit) -> None:
    assert carte.page.locator("#liste-projets tbody tr:not([hidden])").count() == 28
    area_wide = carte.page.locator("#actions-etendues li[data-id]")
    ids = {area_wide.nth(i).get_attribute("data-id") for i in range(area_wide.count())}
    # the brochure: Nutri-chèques and Croix-Rouge sur roues act in the whole Aisne, VRAC in the Nord and the
    # Pas-de-Calais, five projects in the whole région
    assert {"nutri-cheques", "croix-rouge-sur-roues-aisne", "groupements-achats-participatifs"} <= ids
    assert carte.markers() == 28 - len(ids)
    titles = carte.page.locator(".marqueur-projet").evaluate_all("els => els.map(e => e.title)")
    assert not any("Nutri-chèques" in t for t in titles)


def test_an_area_wide_project_opens_in_its_panel_and_escape_closes_it(carte: Visit) -> None:
    page = carte.page
    button = page.locator("#actions-etendues").get_by_role("button", name="Nutri-chèques")
    button.click()
    card = page.locator("#fiche-nutri-cheques .fiche")
    card.wait_for(timeout=10_000)
    text = card.inner_text()
    assert "Centre socioculturel APTAHR" in text and "Département de l'Aisne" in text and "Axe 2" in text
    # the territories counted (the Aisne's 797 communes in the COG 2026), next to the brochure's words
    assert "Aisne (département, 797 communes)" in text
    assert carte.serious_violations() == []
    page.keyboard.press("Escape")
    assert page.locator("#fiche-nutri-cheques").is_hidden()
    assert page.evaluate("document.activeElement.dataset.id") == "nutri-cheques"


def test_a_local_project_opens_on_the_map(carte: Visit) -> None:
    carte.page.locator("#liste-projets").get_by_role("button", name="Épicerie solidaire mixte itinérante").click()
    card = carte.page.locator(".feuille .fiche")
    card.wait_for(timeout=10_000)
    assert "Itiner'air" in card.inner_text()
    # a scrolling card is keyboard-reachable (axe: scrollable-region-focusable), whether or not it stays open
    assert carte.page.locator(".feuille-contenu").get_attribute("tabindex") == "0"
    assert carte.serious_violations() == []
    carte.page.keyboard.press("Escape")


def test_search_finds_longueau_and_zooms_there(carte: Visit) -> None:
    page = carte.page
    page.get_by_label("Rechercher une commune, une intercommunalité, un territoire ou un code postal").fill("Longueau")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.wait_for_function(searched("commune", "80489"), timeout=10_000)
    assert "Longueau" in page.locator("#recherche-message").inner_text()
    zoom, lat, lon = page.evaluate(VIEW)
    assert zoom >= 12 and abs(lat - 49.86) < 0.05 and abs(lon - 2.36) < 0.05


def test_filters_apply_to_map_and_list(carte: Visit) -> None:
    page = carte.page
    page.get_by_label("Type d'action").select_option("epicerie_mobile")
    page.wait_for_function(f"{SHOWN} < 28", timeout=10_000)
    shown = page.evaluate(SHOWN)
    assert 0 < shown < 28 and page.locator("#liste-projets tbody tr:not([hidden])").count() == shown
    page.get_by_role("button", name="Réinitialiser les filtres").click()
    page.wait_for_function(f"{SHOWN} === 28", timeout=10_000)


def test_iframe_snippet_points_at_our_embed(carte: Visit, live_server: str) -> None:
    snippet = carte.page.locator("#code-iframe").input_value()
    assert re.search(rf'<iframe src="{re.escape(live_server)}/embed\?', snippet) and 'title="' in snippet
    carte.page.locator("#integrer-vue").check()  # keep the current view: the code says where
    assert "vue=" in carte.page.locator("#code-iframe").input_value()


def test_carte_has_no_serious_accessibility_violation(carte: Visit) -> None:
    assert carte.serious_violations() == []


def test_embed_shows_the_sud_artois_and_its_projects(browser, live_server: str, artifacts: Path) -> None:
    visit = Visit(browser, f"{live_server}/embed?territoire=epci:200035442", artifacts / "embed-sud-artois.png")
    try:
        assert visit.failed == [] and visit.hosts == {live_server.split("/")[2]}
        # the layer list (folded in an embed) names the territory's outline once
        assert visit.page.locator(".leaflet-control-layers").text_content().count("CC du Sud Artois") == 1
        ids = visit.page.evaluate(f"{CONFIG}.projectIds")
        assert "espace-promotion-alimentation-locale" in ids and "nutri-cheques" not in ids
        # local projects are markers; département- and région-wide ones have none (no panel in an embed)
        assert 0 < visit.markers() == visit.page.evaluate(MARKERS) < len(ids)
        bounds = visit.page.evaluate(f"{MAP}.dataset.emprise")
        west, south, east, north = map(float, bounds.split(","))
        assert west < 2.6 and east > 3.1 and south < 50.03 and north > 50.24  # the CC fits in the view
        assert east - west < 1.5  # and the view is the CC's, not the région's
        assert visit.page.locator("header").count() == 0  # no page chrome
        assert visit.serious_violations() == []
    finally:
        visit.page.close()
