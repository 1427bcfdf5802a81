"""The pages work under their own Content-Security-Policy, enforced by Chromium: no 'unsafe-inline' for scripts,
the inline scripts the service wrote allowed by hash, no violation reported while the map loads and is used."""

from __future__ import annotations

import pytest

REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation",
  e => (window.__violations = window.__violations || []).push(e.violatedDirective + " " + e.blockedURI));"""


@pytest.mark.parametrize(
    "path", ["/carte", "/embed?territoire=epci:200035442", "/territoires/epci/200035442", "/territoires/commune/80021"]
)
def test_pages_run_under_their_policy_without_violation(browser, live_server: str, path: str) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})  # the CSP is enforced
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(REPORT_VIOLATIONS)
    try:
        response = page.goto(f"{live_server}{path}")
        assert response is not None
        policy = response.headers["content-security-policy"]
        scripts = policy.split("script-src ")[1].split(";")[0]
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
        # the map drew its projects (the inline configuration and Folium's script ran) and its overlays
        page.wait_for_selector(".marqueur-projet, .marker-cluster", timeout=20_000)
        page.wait_for_selector("img.leaflet-tile-loaded", timeout=20_000)
        violations = page.evaluate("window.__violations || []")
    finally:
        page.close()
    assert violations == [] and errors == []
