"""Weight and speed of the map page as a browser sees it, in Debian's headless Chromium.

Usage: python bench/page.py [--url http://127.0.0.1:8000/carte] [--runs 5]

Without --url it starts `geo-service serve` on a free loopback port. For each run (a fresh browser context, empty
cache) it prints: bytes transferred before any tile (HTML, scripts, styles, fonts, API calls; gzip as the browser
negotiates it), the same for the tiles of the first view, and the time from navigation to the first tile of
polygons received and to the projects drawn. Goals: under 250 KB before tiles, first polygons under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

from playwright.sync_api import sync_playwright
from tiles import free_port, start_server

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def measure(browser, url: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function("() => document.querySelector('.leaflet-container[data-projets]') !== null", timeout=30_000)
    projects_s = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    first_tile_ms = page.evaluate("""() => {
        const tiles = performance.getEntriesByType('resource').filter(e => e.name.includes('/tiles/'));
        return tiles.length ? Math.min(...tiles.map(e => e.responseEnd)) : null;
    }""")
    before, tiles = 0, 0
    for request in responses:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if "/tiles/" in request.url:
            tiles += size
        else:
            before += size
    context.close()
    return {
        "before_tiles_kb": before / 1024,
        "tiles_kb": tiles / 1024,
        "first_polygons_s": (first_tile_ms or float("nan")) / 1000,
        "projects_s": projects_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        port = free_port()
        server, url = start_server(port), f"http://127.0.0.1:{port}/carte"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            runs = [measure(browser, url) for _ in range(args.runs)]
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    print(f"{url}, {args.runs} runs (fresh context each), median [min-max]")
    for key, label, goal in [
        ("before_tiles_kb", "transferred before tiles, KB", "< 250"),
        ("tiles_kb", "tiles of the first view, KB", ""),
        ("first_polygons_s", "first polygons (first tile received), s", "< 1"),
        ("projects_s", "projects drawn, s", ""),
    ]:
        values = [r[key] for r in runs]
        print(f"  {label:<42} {statistics.median(values):8.2f} [{min(values):.2f}-{max(values):.2f}] {goal}")


if __name__ == "__main__":
    main()
