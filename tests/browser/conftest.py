"""A live server on loopback and Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR, REPO_DIR, Settings
from tests.conftest import settings_for, sqlite_url, unavailable
from tests.servers import free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
AXE = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_DIR / "test-artifacts"
# Flags that keep Chromium from calling home on a closed network (every call would fail and slow the page).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app on these settings, served by uvicorn in a thread on a free loopback port: its base URL, once it
    answers. Browser tests that write projects start one of their own, so that the others never see them."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.config.port}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return True
        except OSError:
            return False

    wait_for(answers, f"the test server at {base}", timeout_s=60)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(store_dir: Path) -> Iterator[str]:
    with serving(settings_for(REPO_DATA_DIR, sqlite_url(store_dir))) as base:
        yield base


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright for the session: its sync API cannot be started twice in one thread, so every browser a
    test launches (with other flags: software GL for MapLibre) comes from this one."""
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: install Debian's chromium (the README's test command does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver):
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def wait_until(frame, expression: str, timeout_s: float = 20.0, *, arg=None) -> None:
    """Poll ``expression`` (called with ``arg`` if it is a function) from here until it is true: Playwright's
    wait_for_function polls with an eval inside the page, which a page keeping its own CSP (as embeds do in these
    tests) refuses."""
    deadline = time.monotonic() + timeout_s
    while not frame.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        time.sleep(0.05)


# The page's public state, read from its DOM (the page sets no global for tests): once its projects are shown, the
# map's element says how many (data-projets: listed, data-marqueurs: on the map) and its view (data-vue:
# zoom/lat/lon, data-emprise: west,south,east,north); the settings the server wrote are a JSON element; an open
# card is a region labelled « Fiche du projet » or « Fiche de la commune », a commune's card carries its code.
MAP = "document.querySelector('.leaflet-container')"
PROJECTS_SHOWN = f"{MAP} !== null && {MAP}.dataset.projets !== undefined"
SHOWN = f"Number({MAP}.dataset.projets)"
MARKERS = f"Number({MAP}.dataset.marqueurs)"
VIEW = f"{MAP}.dataset.vue.split('/').map(Number)"  # [zoom, lat, lon]
CONFIG = "JSON.parse(document.getElementById('carte-config').textContent)"
PROJECT_CARD = "document.querySelector('.feuille-contenu[aria-label=\"Fiche du projet\"]') !== null"
# The Leaflet map Folium wrote, by the name the page's settings give it: only for a test that moves the map or
# places a click on a given point, as a person's hand would (a global of Folium's, not one the page sets for tests).
LEAFLET_MAP = f"window[{CONFIG}.map]"


def commune_card(code: str) -> str:
    """True once the card of the commune ``code`` is open on the map."""
    return f"document.querySelector('.feuille .fiche-commune[data-code=\"{code}\"]') !== null"


def searched(level: str, code: str) -> str:
    """True once the search box said it found this place (its message links to the place's page)."""
    return f"document.querySelector('#recherche-message a[href=\"/territoires/{level}/{code}\"]') !== null"


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
        self.page.wait_for_function(PROJECTS_SHOWN, timeout=20_000)
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(shot))

    def markers(self) -> int:
        """Projects on the map: single markers plus the counts shown on clusters."""
        singles = self.page.locator(".marqueur-projet").count()
        counts = self.page.locator(".marker-cluster span").all_inner_texts()
        return singles + sum(int(c) for c in counts)

    def serious_violations(self) -> list[str]:
        if not AXE.exists():
            unavailable(f"{AXE} missing: run 'npm ci' (the README's test command does)")
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
