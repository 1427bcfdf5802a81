"""The API documentation pages (/docs: Swagger UI, /redoc: ReDoc) in Debian's Chromium, under their own
Content-Security-Policy: they render, nothing leaves this server, no console error and no CSP violation; and
Swagger UI's "Try it out" sends the write token typed under "Authorize"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import wait_until

# Records the page's CSP violations (an init script is injected by the browser, not subject to the page's CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


class DocsVisit:
    """A page of its own (the page's CSP is kept, unlike the map tests' pages) that refuses and records every
    request to another host, and records console errors and uncaught exceptions."""

    def __init__(self, browser, live_server: str) -> None:
        self.origin = urlsplit(live_server).netloc
        self.elsewhere: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.page.add_init_script(RECORD_VIOLATIONS)
        self.page.route("**/*", self._only_this_server)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))

    def _only_this_server(self, route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or (url.scheme == "http" and url.netloc == self.origin):
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort()

    def open(self, url: str, rendered: str, shot: Path | None = None) -> None:
        self.page.goto(url)
        wait_until(self.page, rendered)
        self.page.wait_for_load_state("networkidle")
        if shot is not None:
            self.page.screenshot(path=str(shot))

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations")


@pytest.fixture
def visit(browser, live_server: str) -> Iterator[DocsVisit]:
    docs_visit = DocsVisit(browser, live_server)
    yield docs_visit
    docs_visit.page.close()


def test_swagger_ui_renders_from_this_server_only(visit: DocsVisit, live_server: str, artifacts: Path) -> None:
    visit.open(f"{live_server}/docs", "document.querySelectorAll('.opblock').length > 10", artifacts / "docs.png")
    assert visit.page.title().startswith("Documentation de l'API")
    # no badge from validator.swagger.io (Swagger UI skips it for a 127.0.0.1 schema, so ask its settings)
    assert visit.page.evaluate("window.ui.getConfigs().validatorUrl") is None
    assert "/api/v1/projects" in visit.page.locator("#swagger-ui").inner_text()
    # an operation opened: parameters, responses and their highlighted examples, under the page's CSP too
    visit.page.locator(".opblock-get .opblock-summary-control").first.click()
    wait_until(visit.page, "document.querySelector('.opblock.is-open .responses-table') !== null")
    assert visit.elsewhere == []
    assert visit.failed == []
    assert visit.errors == []
    assert visit.violations() == []


def test_redoc_renders_from_this_server_only(visit: DocsVisit, live_server: str, artifacts: Path) -> None:
    title = "(document.querySelector('#redoc h1') || {}).textContent || ''"
    visit.open(f"{live_server}/redoc", f"({title}).includes('Mieux manger pour tous')", artifacts / "redoc.png")
    # the API's operations are listed in the side menu, not only the title
    wait_until(visit.page, "document.querySelectorAll('#redoc [role=menuitem]').length > 10")
    # the search runs in ReDoc's web worker (blob: URL, allowed by the page's CSP)
    visit.page.locator("#redoc input[placeholder^='Search']").fill("territo")
    wait_until(visit.page, "document.querySelectorAll('[data-role=\"search:results\"] [role=menuitem]').length > 0")
    assert visit.elsewhere == []
    assert visit.failed == []
    assert visit.errors == []
    assert visit.violations() == []


def test_try_it_out_sends_the_write_token(visit: DocsVisit, live_server: str) -> None:
    """The schema lists Authorization as a header parameter, which Swagger UI never sends: docs.js turns it into a
    bearer scheme, so the token typed under "Authorize" goes with "Try it out"."""
    sent: list[str | None] = []
    visit.page.on(
        "request",
        lambda r: r.method == "DELETE" and "/api/v1/projects/" in r.url and sent.append(r.headers.get("authorization")),
    )
    visit.open(f"{live_server}/docs", "document.querySelectorAll('.opblock').length > 10")
    page = visit.page
    page.locator(".auth-wrapper button.authorize").click()
    page.locator("#auth-bearer-value").fill("jeton-de-test")
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()
    operation = page.locator(".opblock-delete", has_text="/api/v1/projects/{project_id}").first
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("tr[data-param-name='project_id'] input").fill("projet-inexistant")
    operation.locator("button.execute").click()
    wait_until(page, "document.querySelector('.opblock-delete .live-responses-table .response-col_status') !== null")
    # the live server has no write token configured, or not this one: refused, whatever the project
    assert sent == ["Bearer jeton-de-test"]
    assert visit.elsewhere == []
    assert visit.violations() == []  # the dialog and the rendered answer need no inline style either
