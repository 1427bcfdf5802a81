"""The facts of a grant on /carte, in Chromium under the page's own policy, on a phone and a laptop screen: a
project written through the API shows its years, amount, duration, status, end, website, contact and checks on
its card and in the list; the year and status filters narrow the list to it and make the coverage layers count
the selection only (said on the page); a brochure record, which gives only its duration, reads in a few lines.

Every value expected here is one this test wrote into its records (or read from the brochure record's file)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from geo_service.settings import REPO_DATA_DIR
from tests.browser.conftest import MARKERS, PROJECTS_SHOWN, SHOWN, commune_card, searched, serving, wait_until
from tests.browser.test_pages_csp import REPORT_VIOLATIONS
from tests.conftest import settings_for, sqlite_url

TOKEN = "grant-facts-token-0123456789"
RUNNING = {
    "id": "epicerie-des-appels-2023-2024",
    "organisation": "Association Essai Amiénois",
    "name": "Épicerie des appels 2023 et 2024",
    "duration_years": 2,
    "place_text": "Amiens",
    "actions": ["Ouverture d'une épicerie solidaire"],
    "funding_years": [2024, 2023],  # given out of order: shown in order
    "amount_eur": 120000,
    "status": "active",
    "website": "https://exemple.fr/epicerie?ville=amiens&annee=2024",
    "contact": "Accueil de l'épicerie, 03 22 00 00 00",
    "last_checked": "2025-03-12",
}
# what the card must say of it, as a French reader writes it
RUNNING_WORDS = {
    "Appels": "2023, 2024",
    "Montant accordé": "120 000 €",
    "Durée": "2 ans",
    "Statut": "en cours",
    # no end date given: 31 December of the last year of the duration counted from the first year (2023 + 2 - 1)
    "Fin de l'action": "31/12/2024 (déduite de l'année et de la durée)",
    "Contact": "Accueil de l'épicerie, 03 22 00 00 00",
    "Informations vérifiées le": "12/03/2025",
}
PLANNED = {
    "id": "paniers-prevus-2025",
    "organisation": "Association Essai Abbevilloise",
    "name": "Paniers prévus en 2025",
    "place_text": "Abbeville",
    "actions": ["Distribution de paniers de légumes"],
    "funding_years": [2025],
    "amount_eur": 1234.5,
    "status": "planned",
}
BROCHURE_RECORD = yaml.safe_load((REPO_DATA_DIR / "projects" / "01-nutri-cheques.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server on its own store, with a write token; the two records written through the API."""
    store = sqlite_url(tmp_path_factory.mktemp("grant-facts"))
    settings = settings_for(REPO_DATA_DIR, store, admin_tokens={"essai": TOKEN})
    with serving(settings) as base:
        for record in (RUNNING, PLANNED):
            request = urllib.request.Request(
                f"{base}/api/v1/projects",
                data=json.dumps(record).encode(),
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 201
        yield base


# the list shows this project alone, and the count says so
SHOWN_ALONE = f"""id => {{
    const rows = Array.from(document.querySelectorAll("#liste-projets tbody tr:not([hidden])"));
    return {SHOWN} === 1 && rows.length === 1 && rows[0].dataset.id === id;
}}"""


def plain(text: str) -> str:
    """Text as read: French spaces (narrow and no-break) as plain ones."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def pairs(card) -> dict[str, str]:
    """A card's <dt>/<dd> as label -> text."""
    return card.evaluate(
        """card => Object.fromEntries(Array.from(card.querySelectorAll("dt")).map(
            dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]))"""
    )


@pytest.mark.parametrize("width, height", [(360, 640), (1366, 768)])
def test_cards_list_and_filters_show_the_grant(browser, server: str, artifacts: Path, width: int, height: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})  # the page's CSP is enforced
    errors: list[str] = []
    tiles: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda r: "/tiles/coverage/" in r.url and tiles.append(r.url))
    page.add_init_script(REPORT_VIOLATIONS)
    try:
        page.goto(f"{server}/carte")
        wait_until(page, PROJECTS_SHOWN)
        assert page.evaluate(SHOWN) == 30  # the brochure's 28 and the two written here

        # the card of the running project: every fact it was given, in French
        page.locator("#liste-projets").get_by_role("button", name=RUNNING["name"]).click()
        card = page.locator(".feuille .fiche")
        card.wait_for(timeout=10_000)
        facts = {label: plain(text) for label, text in pairs(card).items()}
        for label, words in RUNNING_WORDS.items():
            assert facts.get(label) == words, (label, facts.get(label))
        # active, yet its end (31/12/2024) has passed: flagged, with the reason in French
        assert "À vérifier" in facts and "en cours" in facts["À vérifier"] and "31/12/2024" in facts["À vérifier"]
        link = card.locator("a", has_text=RUNNING["website"])
        assert link.get_attribute("href") == RUNNING["website"]
        assert link.get_attribute("rel") == "noopener noreferrer"
        assert not any("non renseign" in text for text in facts.values())  # everything was given
        page.locator(".feuille").screenshot(path=str(artifacts / f"fiche-subvention-{width}.png"))
        page.keyboard.press("Escape")

        # the list: the planned project's amount with its cents, its status, and what it does not give
        row = page.locator(f"#liste-projets tr[data-id='{PLANNED['id']}']")
        cells = [plain(c) for c in row.locator("td").all_inner_texts()]
        assert "1 234,50 €" in cells and "prévue" in cells and "2025" in cells and "non renseignée" in cells

        # « Année de l'appel » 2024: the running project alone, and the coverage counts it alone
        tiles.clear()
        page.get_by_label("Année de l'appel").select_option("2024")
        wait_until(page, SHOWN_ALONE, arg=RUNNING["id"])
        note = page.locator("#note-selection")
        assert note.is_visible()
        assert "Couverture calculée avec les seules actions sélectionnées (année 2024)" in note.inner_text()
        deadline = time.monotonic() + 15
        while not any("year=2024" in url for url in tiles) and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert any("year=2024" in url for url in tiles), tiles[:5]
        assert "year=2024" in page.url  # kept in the link, and in the embed's code (« garder les filtres »)
        assert "year=2024" in page.locator("#code-iframe").input_value()
        # a commune's card counts the selection too: in Amiens, the 2024 project alone (the brochure's give no year)
        page.get_by_label("Rechercher une commune, une intercommunalité, un territoire ou un code postal").fill(
            "Amiens"
        )
        page.get_by_role("button", name="Rechercher", exact=True).click()
        wait_until(page, searched("commune", "80021"))
        page.get_by_role("button", name="Afficher la couverture de la commune").click()
        wait_until(page, commune_card("80021"))
        reaching = page.locator(".fiche-commune button.lien-projet").all_inner_texts()
        assert reaching == [RUNNING["name"]]
        page.keyboard.press("Escape")

        # « Statut » prévue (any year): the planned project alone
        page.get_by_label("Année de l'appel").select_option("")
        page.get_by_label("Statut", exact=True).select_option("planned")
        wait_until(page, SHOWN_ALONE, arg=PLANNED["id"])
        assert "statut : prévue" in page.locator("#note-selection").inner_text()
        page.get_by_role("button", name="Réinitialiser les filtres").click()
        wait_until(page, f"{SHOWN} === 30")
        assert page.locator("#note-selection").is_hidden()

        # nothing wider than the screen, no policy violation, no script error
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate("window.__violations || []") == [] and errors == []
    finally:
        page.close()


def test_a_brochure_card_says_its_unknown_facts_once(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 640})
    try:
        page.goto(f"{server}/carte")
        wait_until(page, PROJECTS_SHOWN)
        page.locator("#actions-etendues").get_by_role("button", name=BROCHURE_RECORD["name"]).click()
        card = page.locator(f"#fiche-{BROCHURE_RECORD['id']} .fiche")
        card.wait_for(timeout=10_000)
        facts = pairs(card)
        years = BROCHURE_RECORD["duration_years"]
        assert facts["Durée"] == f"{years} an{'s' if years > 1 else ''}"
        # the brochure gives no year, amount, status or end: one line says so
        assert facts["Année, montant, statut, date de fin"] == "non renseignés"
        assert sum("non renseign" in text for text in facts.values()) == 1
    finally:
        page.close()


def test_an_embed_keeps_the_selection_of_its_code(browser, server: str) -> None:
    """The embed's code carries the filters (year=2024): its markers and coverage layers follow, and its legend
    says the coverage counts the selection only."""
    page = browser.new_page(viewport={"width": 360, "height": 640})
    tiles: list[str] = []
    page.on("request", lambda r: "/tiles/coverage/" in r.url and tiles.append(r.url))
    try:
        page.goto(f"{server}/embed?year=2024")
        wait_until(page, PROJECTS_SHOWN)
        assert page.evaluate(f"[{SHOWN}, {MARKERS}]") == [1, 1]
        assert tiles and all("year=2024" in url for url in tiles)  # the first tiles already count the selection
        note = page.locator("#legende-selection")
        assert "Couverture calculée avec les seules actions sélectionnées (année 2024)" in note.text_content()
    finally:
        page.close()
