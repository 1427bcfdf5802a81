"""Our PNG tiles in a plain Leaflet page, as a partner site would paste them, in headless Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
from PIL import Image

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Test tuiles</title>
<link rel="stylesheet" href="{base}/static/vendor/leaflet/leaflet.css">
<script src="{base}/static/vendor/leaflet/leaflet.js"></script>
<style>html,body,#map{{margin:0;height:100%;background:#fff}}</style></head>
<body><div id="map"></div><script>
  const map = L.map('map', {{zoomControl: false, attributionControl: false, fadeAnimation: false}})
    .setView([49.95, 2.8], 7);
  const layer = L.tileLayer('{base}/tiles/coverage/{{z}}/{{x}}/{{y}}.png', {{maxZoom: 14}}).addTo(map);
  layer.on('load', () => {{ window.tilesLoaded = true; }});
</script></body></html>"""


def _serve_page(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"


def test_leaflet_shows_our_png_tiles(live_server: str, browser, artifacts: Path, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(PAGE.format(base=live_server), "utf-8")
    page_server, url = _serve_page(tmp_path)
    hosts: set[str] = set()
    failed: list[str] = []
    try:
        page = browser.new_page(viewport={"width": 800, "height": 600})
        page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(url)
        page.wait_for_function("window.tilesLoaded === true", timeout=20_000)
        shot = artifacts / "leaflet-png-tiles.png"
        page.screenshot(path=str(shot))
        page.close()
    finally:
        page_server.shutdown()
    assert failed == []
    assert {host.split(":")[0] for host in hosts} == {"127.0.0.1"}
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    painted = pixels.sum(axis=2) < 740  # anything but the white page
    centre = painted[220:380, 320:480]  # the région fills the middle of the view at z7
    assert centre.mean() > 0.9, f"only {centre.mean():.0%} painted pixels in the middle of {shot}"
    assert painted[:, :150].mean() < 0.01  # west of the région (the Channel): transparent tiles, white page
    reddish = (pixels[:, :, 0] - pixels[:, :, 1] > 40) & painted
    assert reddish.sum() > 500  # zones blanches show
