"""The OGC API's HTML pages in Debian's Chromium, under their own Content-Security-Policy: French documents that
load nothing from another host, run no script, fit a 360 px phone without horizontal scrolling (wide tables
scroll in their own region) and a 1366 px laptop, with no serious accessibility violation (axe-core)."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import AXE

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PAGES = {
    "accueil": "/",
    "collections": "/collections",
    "communes": "/collections/communes",
    "objets": "/collections/communes/items?departement=80&limit=20",
    "amiens": "/collections/communes/items/80021",
    "projet": "/collections/project-areas/items/nutri-cheques",
    "champs": "/collections/coverage/queryables?f=html",
    "introuvable": "/collections/lieux",
}
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation",
  e => (window.__violations = window.__violations || []).push(e.violatedDirective + " " + e.blockedURI));"""


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.parametrize("name", list(PAGES))
def test_ogc_page_reads_in_french_on_any_screen(browser, live_server: str, artifacts: Path, name: str, width: int):
    origin = urlsplit(live_server).netloc
    page = browser.new_page(viewport={"width": width, "height": 800})  # the page's own CSP is enforced
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: urlsplit(r.url).netloc not in ("", origin) and elsewhere.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and "404" not in m.text and errors.append(m.text))
    page.add_init_script(REPORT_VIOLATIONS)
    try:
        response = page.goto(f"{live_server}{PAGES[name]}")  # a browser's own Accept: HTML is negotiated
        assert response is not None
        assert response.status == (404 if name == "introuvable" else 200)
        assert response.headers["content-type"].startswith("text/html")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == "fr"
        assert page.locator("h1").is_visible()
        assert page.evaluate("document.scripts.length") == 0
        # no horizontal scrolling of the page itself: wide tables scroll inside their region
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        # the stylesheet applied (our own, from this server)
        assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
        page.screenshot(path=str(artifacts / f"ogc-{name}-{width}.png"), full_page=True)
        violations = page.evaluate("window.__violations || []")
    finally:
        page.close()
    assert elsewhere == [] and violations == [] and errors == []


@pytest.mark.parametrize("name", ["accueil", "objets", "amiens"])
def test_ogc_pages_have_no_serious_accessibility_violation(browser, live_server: str, name: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run 'npm ci' (the README's test command does)")
    page = browser.new_page(viewport={"width": 360, "height": 800}, bypass_csp=True)  # to inject axe-core
    try:
        page.goto(f"{live_server}{PAGES[name]}")
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(
            "async () => (await axe.run(document)).violations"
            ".map(v => ({id: v.id, impact: v.impact, where: v.nodes[0].target.join(' ')}))"
        )
    finally:
        page.close()
    serious = [f"{v['id']} ({v['impact']}, {v['where']})" for v in found if v["impact"] in ("serious", "critical")]
    assert serious == []


def test_the_landing_page_is_json_for_clients_and_html_for_people(browser, live_server: str) -> None:
    page = browser.new_page()
    try:
        as_person = page.goto(f"{live_server}/")
        assert as_person is not None and as_person.headers["content-type"].startswith("text/html")
        assert "Ouvrir ces données dans QGIS" in page.content()
    finally:
        page.close()
    with urllib.request.urlopen(urllib.request.Request(f"{live_server}/", headers={"Accept": "*/*"})) as answer:
        assert answer.headers["content-type"] == "application/json"
    with urllib.request.urlopen(urllib.request.Request(f"{live_server}/", headers={"Accept": BROWSER_ACCEPT})) as html:
        assert html.headers["content-type"].startswith("text/html")
