"""The editing space (/edition, /edition/import) in Chromium, under the pages' own Content-Security-Policy, at a
phone's width (360 × 640) and a laptop's (1366 × 768): sign in, add a project and see the reading of its place
before saving, find it on /carte, meet a stale edit, delete and undo, import an officer's spreadsheet.

Expectations come from outside the code under test: the communes' codes from the COG file of the pinned
@etalab/decoupage-administratif package, the records and the spreadsheet the tests write themselves, the
projects of data/projects. Every test fails on a CSP violation, a script error, a console error, or a request
answered with an error the test did not provoke itself.
"""

from __future__ import annotations

import json
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from geo_service.settings import REPO_DATA_DIR
from tests.browser.conftest import AXE, serving, wait_until
from tests.conftest import settings_for, sqlite_url

TOKEN = "edition-officer-token-0123456789"  # the officer's, typed in the page
OTHER = "edition-colleague-token-9876543210"  # a colleague's, who writes through the API meanwhile
SIZES = [pytest.param((360, 640), id="360x640"), pytest.param((1366, 768), id="1366x768")]
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'header a, main a, main button, main input, main select, main textarea, main summary')]
  .filter(e => e.offsetParent !== null)
  .map(e => [e, e.type === 'checkbox' && e.closest('label') ? e.closest('label') : e])
  .map(([e, target]) => [e.tagName + '#' + e.id + ' ' + (e.textContent || '').trim().slice(0, 30),
    Math.round(target.getBoundingClientRect().height), Math.round(target.getBoundingClientRect().width)])
  .filter(([, height, width]) => height < 44 || width < 44)"""
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation",
  e => (window.__violations = window.__violations || []).push(e.violatedDirective + " " + e.blockedURI));"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: these tests write projects, which the other browser tests must not see."""
    store = tmp_path_factory.mktemp("edition-store")
    settings = settings_for(REPO_DATA_DIR, sqlite_url(store), admin_tokens={"dreets": TOKEN, "collegue": OTHER})
    with serving(settings) as base:
        yield base


def call(base: str, method: str, path: str, body: Any = None, token: str | None = OTHER, **headers: str):
    """An API call as a colleague's program makes it: (status, headers, decoded JSON or None)."""
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **headers}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, error.headers, json.loads(raw) if raw else None


def project_ids(base: str) -> set[str]:
    status, _, collection = call(base, "GET", "/api/v1/projects", token=None)
    assert status == 200
    return {feature["id"] for feature in collection["features"]}


def plain(text: str) -> str:
    """French numbers group digits with a (narrow) no-break space: 12 000 €."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def project_organisations(base: str) -> list[str]:
    status, _, collection = call(base, "GET", "/api/v1/projects", token=None)
    assert status == 200
    return [feature["properties"]["organisation"] for feature in collection["features"]]


@pytest.fixture(scope="module")
def cog_codes(source_files) -> dict[tuple[str, str], str]:
    """(name, département) -> INSEE code of the current communes of the région, from the pinned COG file."""
    with tarfile.open(source_files.decoupage, "r:gz") as archive:
        member = archive.extractfile("package/data/communes.json")
        assert member is not None
        rows = json.load(member)
    return {
        (row["nom"], row["departement"]): row["code"]
        for row in rows
        if row["type"] == "commune-actuelle" and row.get("region") == "32"
    }


class Officer:
    """A browser tab of an officer, the page's CSP enforced, every problem recorded."""

    def __init__(self, browser, base: str, size: tuple[int, int]) -> None:
        self.base, self.width = base, size[0]
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]}, locale="fr-FR")
        self.errors: list[str] = []
        self.failed: list[tuple[str, str, int]] = []  # (method, path, status) answered 4xx/5xx
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.add_init_script(REPORT_VIOLATIONS)

    def _console(self, message) -> None:
        # Chromium logs every answer >= 400 as a console error; those are checked one by one in `failed`
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400:
            path = response.url.removeprefix(self.base).split("?")[0]
            self.failed.append((response.request.method, path, response.status))

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200
        policy = response.headers["content-security-policy"]
        scripts = policy.split("script-src ")[1].split(";")[0]
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
        assert "frame-ancestors 'none'" in policy

    def sign_in(self) -> None:
        self.page.fill("#jeton", TOKEN)
        self.page.click("#connexion-form button[type=submit]")
        self.page.wait_for_selector("#deconnexion", state="visible")

    def no_horizontal_scroll(self) -> None:
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width

    def small_tap_targets(self) -> list:
        """Controls shown smaller than 44 × 44 px (a checkbox counts by its label, which takes the tap)."""
        return self.page.evaluate(SMALL_TARGETS)

    def check(self, expected_failures: list[tuple[str, str, int]] = ()) -> None:
        """No CSP violation, no script or console error, and no failed request but those the test provoked."""
        violations = self.page.evaluate("window.__violations || []")
        assert violations == [] and self.errors == []
        assert self.failed == list(expected_failures)

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def officer(request, browser, server: str) -> Iterator[Officer]:
    tab = Officer(browser, server, request.param)
    yield tab
    tab.close()


def open_project(officer: Officer, project_id: str, name: str) -> None:
    officer.page.fill("#recherche-projets", name)
    officer.page.click(f'#liste li[data-id="{project_id}"] .ouvrir')
    officer.page.wait_for_selector("#historique:not([hidden])")
    assert project_id in officer.page.text_content("#editeur-id")


@pytest.mark.parametrize("officer", SIZES, indirect=True)
def test_sign_in_add_a_project_read_live_and_find_it_on_the_map(
    officer: Officer, server: str, cog_codes: dict[tuple[str, str], str]
) -> None:
    page = officer.page
    officer.open("/edition")
    assert page.is_hidden("#espace")
    # a wrong token: refused, in French, nothing kept
    page.fill("#jeton", "not-the-right-token-at-all")
    page.click("#connexion-form button[type=submit]")
    wait_until(page, "() => document.getElementById('connexion-message').textContent.includes('pas accepté')")
    assert page.is_hidden("#espace")
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    # the one request answered with an error: the check of that token (403), and nothing else
    assert [(method, status) for method, _, status in officer.failed] == [("GET", 403)]
    officer.failed.clear()
    officer.sign_in()
    # the token is kept in this tab only
    assert page.evaluate("Object.values(sessionStorage)") == [TOKEN]
    assert page.evaluate("localStorage.length") == 0 and page.context.cookies() == []
    page.wait_for_selector("#liste li .ouvrir")
    seeds = len(list((REPO_DATA_DIR / "projects").glob("*.yaml")))
    assert page.locator("#liste li .ouvrir").count() >= seeds

    page.click("#nouveau")
    organisation = f"Secours alimentaire du Santerre {officer.width}"
    name = f"Épicerie solidaire mobile d'Albert et Péronne ({officer.width} px)"
    page.fill("#f-organisation", organisation)
    page.fill("#f-name", name)
    page.fill("#f-actions", "Épicerie solidaire mobile\nDistribution de colis alimentaires")
    page.fill("#f-beneficiaries", "Familles monoparentales\nÉtudiants")
    page.fill("#f-funding_years", "2024, 2025")
    page.fill("#f-amount_eur", "12 000")
    page.type("#f-place_text", "Albert et Péronne", delay=20)
    # the reading, live, before anything is saved: the 2 communes with their COG codes
    albert, peronne = cog_codes[("Albert", "80")], cog_codes[("Péronne", "80")]
    page.wait_for_selector("#lecture-unites li:nth-child(2)")
    units = page.locator("#lecture-unites li").all_inner_texts()
    assert len(units) == 2
    assert "Albert" in units[0] and albert in units[0] and "commune" in units[0]
    assert "Péronne" in units[1] and peronne in units[1]
    assert page.text_content("#lecture-resume").startswith("2 communes")
    # ... and drawn on the small map, one outline each
    wait_until(page, "() => document.querySelectorAll('#lecture-carte path').length === 2")
    assert not any(organisation == p for p in project_organisations(server))  # nothing saved yet
    officer.no_horizontal_scroll()
    assert officer.small_tap_targets() == []
    page.evaluate("document.querySelector('fieldset.lieu').scrollIntoView()")
    page.screenshot(path=f"/tmp/edition-{officer.width}.png")

    before = project_ids(server)
    page.click("#enregistrer")
    page.wait_for_selector(".voir-carte")
    (created,) = project_ids(server) - before
    status, _, feature = call(server, "GET", f"/api/v1/projects/{created}", token=None)
    assert status == 200
    project = feature["properties"]
    assert (project["organisation"], project["name"]) == (organisation, name)
    assert project["place_text"] == "Albert et Péronne"
    assert sorted(project["communes"]) == sorted([albert, peronne])
    assert project["funding_years"] == [2024, 2025] and project["amount_eur"] == 12000
    assert project["beneficiaries"] == ["Familles monoparentales", "Étudiants"]
    # the list shows it the French way; its history names the token that wrote it
    assert created in page.text_content("#editeur-id")
    row = plain(page.inner_text(f'#liste li[data-id="{created}"]'))
    assert "12 000 €" in row and "2024, 2025" in row and "non renseigné" in row
    assert "création" in page.inner_text("#historique-liste") and "« dreets »" in page.inner_text("#historique-liste")
    officer.no_horizontal_scroll()
    officer.check()

    # "Voir sur la carte": the project is on /carte, in its list of projects
    page.click(".voir-carte")
    page.wait_for_selector(f'#liste-projets tr[data-id="{created}"]')
    assert name in page.inner_text("#liste-projets")

    # signing out forgets the token
    officer.open("/edition")
    page.click("#deconnexion")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.is_hidden("#espace") and page.is_visible("#jeton")


@pytest.mark.parametrize("officer", SIZES, indirect=True)
def test_a_place_several_communes_fit_is_asked_and_chosen(
    officer: Officer, server: str, cog_codes: dict[tuple[str, str], str]
) -> None:
    """ "Senlis" is a commune of the Oise and one of the Pas-de-Calais (COG): the form asks, lists both, and the
    officer's pick replaces the reading."""
    page = officer.page
    officer.open("/edition")
    officer.sign_in()
    page.click("#nouveau")
    page.type("#f-place_text", "Senlis", delay=20)
    page.wait_for_selector("#lecture-notes .a-confirmer li:nth-child(2)")
    question = page.text_content("#lecture-notes .a-confirmer p")
    assert "À confirmer" in question and "(60)" in question and "(62)" in question
    listed = page.locator("#lecture-notes .a-confirmer li").all_inner_texts()
    assert any("Senlis (62)" in text for text in listed) and any("Senlis (60)" in text for text in listed)
    officer.no_horizontal_scroll()
    page.locator("#lecture-notes .a-confirmer li", has_text="Senlis (62)").get_by_role("button").click()
    chosen = cog_codes[("Senlis", "62")]
    wait_until(page, f"() => document.body.innerText.includes('{chosen}')")


@pytest.mark.parametrize("officer", SIZES, indirect=True)
def test_a_stale_edit_shows_both_versions_and_loses_nothing(officer: Officer, server: str) -> None:
    page = officer.page
    project_id = f"cantine-solidaire-conflit-{officer.width}"
    record = {"id": project_id, "organisation": "Restos du cœur de l'Oise", "place_text": "Beauvais",
              "name": f"Cantine solidaire {officer.width}", "amount_eur": 10000}  # fmt: skip
    assert call(server, "POST", "/api/v1/projects", record)[0] == 201
    officer.open("/edition")
    officer.sign_in()
    open_project(officer, project_id, record["name"])
    page.fill("#f-amount_eur", "15 500")
    page.fill("#f-beneficiaries", "Personnes âgées isolées")
    # meanwhile a colleague changes the amount and the contact through the API
    changed = call(server, "PATCH", f"/api/v1/projects/{project_id}", {"amount_eur": 13000, "contact": "DDETS 60"})
    assert changed[0] == 200
    page.click("#enregistrer")
    page.wait_for_selector("#conflit:not([hidden])")
    conflict = plain(page.inner_text("#conflit"))
    assert "Quelqu'un d'autre a enregistré ce projet" in conflict and "« collegue »" in conflict
    theirs = [plain(text) for text in page.locator("#conflit .theirs").all_inner_texts()]
    mine = [plain(text) for text in page.locator("#conflit .mine").all_inner_texts()]
    assert any("13 000 €" in t for t in theirs) and any("15 500 €" in m for m in mine)
    assert any("DDETS 60" in t for t in theirs) and any("Personnes âgées isolées" in m for m in mine)
    officer.no_horizontal_scroll()
    # nothing was written over the colleague's version
    assert call(server, "GET", f"/api/v1/projects/{project_id}", token=None)[2]["properties"]["amount_eur"] == 13000
    # re-apply my changes on the fresh version, then save
    page.click("#conflit-reappliquer")
    assert page.input_value("#f-contact") == "DDETS 60"
    assert page.input_value("#f-beneficiaries") == "Personnes âgées isolées"
    page.click("#enregistrer")
    page.wait_for_selector(".voir-carte")
    saved = call(server, "GET", f"/api/v1/projects/{project_id}", token=None)[2]["properties"]
    assert (saved["amount_eur"], saved["contact"]) == (15500, "DDETS 60")
    assert saved["beneficiaries"] == ["Personnes âgées isolées"]
    history = plain(page.inner_text("#historique-liste"))
    assert "13 000 € → 15 500 €" in history and "« collegue »" in history
    officer.check([("PATCH", f"/api/v1/projects/{project_id}", 412)])


@pytest.mark.parametrize("officer", SIZES, indirect=True)
def test_delete_and_undo(officer: Officer, server: str) -> None:
    page = officer.page
    project_id = f"epicerie-a-supprimer-{officer.width}"
    # what people typed is shown as text: markup in a field stays letters on the page, and runs nothing
    organisation = 'Banque alimentaire <img src="x" onerror="window.__ran=1"> de la Somme'
    record = {"id": project_id, "organisation": organisation, "place_text": "Abbeville",
              "name": f"Épicerie à supprimer {officer.width}"}  # fmt: skip
    assert call(server, "POST", "/api/v1/projects", record)[0] == 201
    officer.open("/edition")
    officer.sign_in()
    open_project(officer, project_id, record["name"])
    assert organisation in page.inner_text(f'#liste li[data-id="{project_id}"]')
    assert page.locator("#liste img, #editeur img").count() == 0 and page.evaluate("window.__ran") is None
    assert page.input_value("#f-organisation") == organisation
    page.click("#supprimer")
    page.wait_for_selector("#annuler-suppression")
    assert call(server, "GET", f"/api/v1/projects/{project_id}", token=None)[0] == 404
    assert page.locator(f'#liste li[data-id="{project_id}"]').count() == 0
    officer.no_horizontal_scroll()
    page.click("#annuler-suppression")
    page.wait_for_selector(f'#liste li[data-id="{project_id}"]')
    wait_until(page, "() => document.getElementById('historique-liste').textContent.includes('restauration')")
    assert call(server, "GET", f"/api/v1/projects/{project_id}", token=None)[0] == 200
    history = page.inner_text("#historique-liste")
    assert "suppression" in history and "restauration" in history
    officer.check()


# Places of the rows an officer's file gives (communes of the Aisne, a different set at each size so that each
# import changes the coverage on its own), and the one each fixes in the preview.
IMPORTED_PLACES = {
    360: (["Vervins", "Guise", "Marle", "Hirson", "Sains-Richaumont", "Wassigny", "Aubenton", "Rozoy-sur-Serre"],
          "La Capelle"),
    1366: (["Montcornet", "Sissonne", "Neufchâtel-sur-Aisne", "Vailly-sur-Aisne", "Braine", "Fère-en-Tardenois",
            "Oulchy-le-Château", "Charly-sur-Marne"], "Le Nouvion-en-Thiérache"),
}  # fmt: skip
UNREADABLE = "Zorglub-les-Bains"


def officers_file(folder: Path, width: int) -> tuple[Path, list[str]]:
    """The laureates' file as Excel writes it on a French Windows: « CSV (séparateur : point-virgule) », in
    Windows-1252, French headers. 10 rows: 8 readable places, one unreadable, one project already on the map (the
    brochure's « La cocotte en action »). Returns the file and the 9 new projects' titles."""
    places, _ = IMPORTED_PLACES[width]
    seed = yaml.safe_load((REPO_DATA_DIR / "projects" / "02-la-cocotte-en-action.yaml").read_text(encoding="utf-8"))
    lines = ["Porteur;Intitulé du projet;Lieu d'intervention;Actions;Montant accordé;Année;Durée"]
    titles = []
    for number, place in enumerate([*places, UNREADABLE], start=1):
        title = f"Épicerie solidaire de {place} n°{number} ({width})"
        titles.append(title)
        lines.append(
            f"Association d'entraide de {place};{title};{place};"
            f"Épicerie solidaire et distribution de colis alimentaires;{number} 500 €;2025;2 ans"
        )
    lines.append(f"{seed['organisation']};{seed['name']};{seed['place_text']};Ateliers cuisine;8 000 €;2024;1 an")
    path = folder / f"laureats-2025-{width}.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path, titles


@pytest.mark.parametrize("officer", SIZES, indirect=True)
def test_import_an_officers_spreadsheet_after_review(officer: Officer, server: str, tmp_path: Path) -> None:
    page = officer.page
    file, titles = officers_file(tmp_path, officer.width)
    _, fix = IMPORTED_PLACES[officer.width]
    before_ids = project_ids(server)
    status, _, coverage_before = call(server, "GET", "/api/v1/coverage/summary", token=None)
    assert status == 200
    officer.open("/edition/import")
    officer.sign_in()
    page.set_input_files("#fichier", str(file))
    page.click("#envoi-form button[type=submit]")
    page.wait_for_selector("#lignes > li:nth-child(10)")
    assert page.locator("#lignes > li").count() == 10
    assert "windows-1252" in page.text_content("#apercu-fichier") and "« ; »" in page.text_content("#apercu-fichier")
    # the columns were recognised from their French headers
    assert page.input_value("#colonne-0") == "organisation" and page.input_value("#colonne-2") == "place_text"
    # row 10 (header = line 1): the unreadable place, in error, with a French message; row 11: the duplicate, excluded
    unreadable, duplicate = page.locator("#ligne-10"), page.locator("#ligne-11")
    assert "erreur" in unreadable.locator(".etat").first.inner_text() and UNREADABLE in unreadable.inner_text()
    assert "doublon probable" in duplicate.inner_text() and "exclue" in duplicate.locator(".etat").first.inner_text()
    assert "La cocotte en action" in duplicate.inner_text()
    reading = page.locator("#ligne-2 .lecture-ligne").inner_text()
    assert "1 commune" in reading and IMPORTED_PLACES[officer.width][0][0] in reading
    assert page.is_disabled("#importer")
    officer.no_horizontal_scroll()
    assert officer.small_tap_targets() == []
    page.screenshot(path=f"/tmp/edition-import-{officer.width}.png")
    # nothing is written before the commit
    assert project_ids(server) == before_ids
    # fix the unreadable place in the preview
    page.fill("#lieu-10", fix)
    page.click("#ligne-10 .ligne-lieu button[type=submit]")
    wait_until(page, "() => !document.getElementById('ligne-10').classList.contains('etat-error')")
    assert fix in page.locator("#ligne-10 .lecture-ligne").inner_text()
    assert page.is_enabled("#importer")
    assert page.text_content("#importer") == "Importer 9 projets"
    page.click("#importer")
    page.wait_for_selector("#bilan:not([hidden])")
    assert "9 projets créés" in page.text_content("#bilan-resume")
    created = project_ids(server) - before_ids
    assert len(created) == 9 and len(project_ids(server)) == len(before_ids) + 9
    names = {call(server, "GET", f"/api/v1/projects/{i}", token=None)[2]["properties"]["name"] for i in created}
    assert names == set(titles)
    assert {link.get_attribute("href").split("projet=")[1] for link in page.locator("#bilan-liens a").all()} == created
    # the coverage changed at once
    coverage_after = call(server, "GET", "/api/v1/coverage/summary", token=None)[2]
    aisne_before = next(item for item in coverage_before["items"] if item["code"] == "02")
    aisne_after = next(item for item in coverage_after["items"] if item["code"] == "02")
    assert aisne_after["population_reached"] > aisne_before["population_reached"]
    officer.no_horizontal_scroll()
    officer.check()


@pytest.mark.parametrize("size", [(360, 640), (1366, 768)], ids=["360x640", "1366x768"])
def test_no_serious_accessibility_problem(browser, server: str, tmp_path: Path, size: tuple[int, int]) -> None:
    """axe-core on the sign-in, the form with a live reading, and an import preview. axe is injected as a script,
    which the pages' CSP rightly refuses: this tab bypasses it (the other tests enforce it)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run 'npm ci' (the README's test command does)")
    page = browser.new_page(viewport={"width": size[0], "height": size[1]}, locale="fr-FR", bypass_csp=True)

    def serious() -> list[str]:
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(
            "async () => (await axe.run(document)).violations"
            ".map(v => ({id: v.id, impact: v.impact, where: v.nodes[0].target.join(' ')}))"
        )
        return [f"{v['id']} ({v['impact']}, {v['where']})" for v in found if v["impact"] in ("serious", "critical")]

    try:
        page.goto(f"{server}/edition")
        assert serious() == []
        page.fill("#jeton", TOKEN)
        page.press("#jeton", "Enter")  # the keyboard alone signs in
        page.wait_for_selector("#liste li .ouvrir")
        page.click("#nouveau")
        page.fill("#f-place_text", "Albert et Péronne")
        page.wait_for_selector("#lecture-unites li:nth-child(2)")
        assert serious() == []
        page.goto(f"{server}/edition/import")
        file, _ = officers_file(tmp_path, size[0])
        page.set_input_files("#fichier", str(file))
        page.click("#envoi-form button[type=submit]")
        page.wait_for_selector("#lignes > li:nth-child(10)")
        assert serious() == []
        page.click("#abandonner")  # nothing imported
    finally:
        page.close()
