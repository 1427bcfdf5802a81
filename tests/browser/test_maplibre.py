"""The MapLibre example page (/exemples/maplibre) drawn by MapLibre in Chromium with software WebGL (SwiftShader),
compared with our PNG tiles of the same place.

MapLibre draws vector tiles 512 pixels wide: its zoom 8 is the scale of our 256-pixel PNG tiles at z9. The test
opens the page at zoom 8 over the Somme, and samples the colours of communes whose class the coverage API gives,
at the most interior point of each (away from outlines), in the screenshot and in our PNG tiles laid on white.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.rendering import PNG_ZOOM, fill, hatched, pixel, png_mosaic, samples

# Software WebGL for MapLibre: the suite's other pages run with --disable-gpu, under which there is no WebGL.
WEBGL_ARGS = [arg for arg in CHROMIUM_ARGS if arg != "--disable-gpu"] + [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
ZOOM = PNG_ZOOM - 1  # MapLibre's: its 512-pixel tiles at z8 are at the scale of our 256-pixel PNG tiles at z9
CENTRE = (2.3, 49.95)  # the Somme, around Amiens
RECORD_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', e => "
    "{ (window.violations = window.violations || []).push(e.violatedDirective + ' ' + e.blockedURI); });"
)


@pytest.fixture(scope="module")
def webgl_browser(playwright_driver) -> Iterator:
    """Chromium with software WebGL, from the session's one Playwright (see tests/browser/conftest.py)."""
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=WEBGL_ARGS, headless=True)
    yield launched
    launched.close()


def test_maplibre_draws_our_style_as_our_png_tiles(live_server: str, webgl_browser, artifacts: Path) -> None:
    page = webgl_browser.new_page(viewport={"width": 1000, "height": 1000})
    hosts: set[str] = set()
    failed: list[str] = []
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.url} {r.status}"))
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server}/exemples/maplibre#{ZOOM}/{CENTRE[1]}/{CENTRE[0]}")
    deadline = time.monotonic() + 60
    while not page.evaluate("window.carteChargee === true"):
        assert time.monotonic() < deadline, "MapLibre did not finish drawing"
        time.sleep(0.1)
    assert page.evaluate("window.carte.getZoom()") == ZOOM
    assert page.evaluate("window.carte.getStyle().sprite").endswith("/styles/sprite")
    box = page.locator("#carte canvas").bounding_box()
    shot = artifacts / "maplibre-exemple.png"
    page.locator("#carte canvas").screenshot(path=str(shot))
    drawn = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    height, width, _ = drawn.shape
    assert abs(width - box["width"]) <= 1 and abs(height - box["height"]) <= 1  # a fractional page offset
    west, south, east, north = page.evaluate("window.carte.getBounds().toArray().flat()")
    # the CSP holds: nothing refused, every request to this server; and the recorder does see a refusal
    assert page.evaluate("window.violations || []") == []
    assert failed == [] and {host.split(":")[0] for host in hosts} == {"127.0.0.1"}
    page.evaluate("() => { const i = new Image(); i.src = 'https://example.invalid/x.png'; document.body.append(i); }")
    time.sleep(0.3)
    assert any("img-src" in v for v in page.evaluate("window.violations || []"))
    legend = page.locator("#legende li").all_inner_texts()
    assert len(legend) == 5 and any("Zone blanche" in text for text in legend)
    points = samples(live_server, west, south, east, north)
    # where MapLibre put each sample point on the screen
    screen = page.evaluate(
        "points => points.map(p => { const q = window.carte.project(p); return [q.x, q.y]; })",
        [[lon, lat] for _, _, lon, lat in points],
    )
    page.close()

    reference, corner_x, corner_y = png_mosaic(live_server, west, south, east, north)
    Image.fromarray(reference.astype(np.uint8)).save(artifacts / "maplibre-reference-png.png")
    margin = 12
    compared = {True: 0, False: 0}
    differences = []
    hatch_drawn = {True: [], False: []}
    hatch_png = {True: [], False: []}
    for (code, blanche, lon, lat), (sx, sy) in zip(points, screen, strict=True):
        world_x, world_y = pixel(lon, lat, PNG_ZOOM)
        # clear of the map's controls (zoom buttons top right, attribution bottom)
        if not (margin < sx < width - 60 and margin < sy < height - 60):
            continue
        rx, ry = world_x - corner_x, world_y - corner_y
        ours, theirs = fill(drawn, sx, sy), fill(reference, rx, ry)
        differences.append((code, blanche, np.abs(ours - theirs).max(), ours.tolist(), theirs.tolist()))
        compared[blanche] += 1
        hatch_drawn[blanche].append(hatched(drawn, sx, sy))
        hatch_png[blanche].append(hatched(reference, rx, ry))
    assert compared[True] >= 20 and compared[False] >= 20, compared
    off = [d for d in differences if d[2] > 12]
    # antialiasing may shift a colour by a few units; another class is tens away in some channel
    assert len(off) <= len(differences) // 50, off[:10]
    # hatched where the PNG tiles are, and only there
    assert np.median(hatch_drawn[True]) > 0.1 and np.median(hatch_png[True]) > 0.1
    assert np.median(hatch_drawn[False]) == 0 and np.median(hatch_png[False]) == 0


def test_the_example_page_fits_a_phone(live_server: str, webgl_browser) -> None:
    page = webgl_browser.new_page(viewport={"width": 360, "height": 640})
    page.goto(f"{live_server}/exemples/maplibre")
    deadline = time.monotonic() + 60
    while not page.evaluate("window.carteChargee === true"):
        assert time.monotonic() < deadline, "MapLibre did not finish drawing"
        time.sleep(0.1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("#legende li").count() == 5
    # without a view in the address, the whole région is in the first view (its extent from the TileJSON)
    west, south, east, north = page.request.get(f"{live_server}/tiles/coverage.json").json()["bounds"]
    shown_west, shown_south, shown_east, shown_north = page.evaluate("window.carte.getBounds().toArray().flat()")
    assert shown_west <= west and shown_south <= south and shown_east >= east and shown_north >= north
    page.close()
