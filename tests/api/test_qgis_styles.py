"""QGIS (Debian's python3-qgis, headless) opens our coverage as its users would, through OGC API – Features and as
vector tiles, loads our .qml files (/styles/coverage.qml, /styles/coverage-tuiles.qml) and draws the Somme: the
classes' colours at sampled communes are those of our PNG tiles of the same place, and zones blanches are hatched.

QGIS runs in Debian's own Python, in a child process, against a live server (as tests/api/test_qgis.py).
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.api.test_qgis import SYSTEM_PYTHON, _qgis_importable
from tests.conftest import unavailable
from tests.rendering import PNG_ZOOM, fill, hatched, pixels, png_mosaic, samples
from tests.servers import free_port, serve, stop

pytestmark = pytest.mark.gis
HALF_WORLD = 20037508.342789244
TILES = (258, 259), (172, 173)  # z9 columns and rows over Amiens and the Somme valley
SIZE = 512
QGIS_SCRIPT = r"""
import json, os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsVectorLayer, QgsVectorTileLayer, QgsRectangle, QgsMapSettings,
                       QgsMapRendererSequentialJob, QgsCoordinateReferenceSystem)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
base, folder, extent = sys.argv[1], sys.argv[2], [float(v) for v in sys.argv[3].split(",")]
size = int(sys.argv[4])
out = {}


def draw(layer, name):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(*extent))
    settings.setOutputSize(QSize(size, size))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    path = os.path.join(folder, name + ".png")
    job.renderedImage().save(path)
    return path


features = QgsVectorLayer(f"url='{base}' typename='coverage'", "couverture", "OAPIF")
out["features_valid"] = features.isValid()
message, loaded = features.loadNamedStyle(os.path.join(folder, "coverage.qml"))
out["features_style"] = [loaded, message, features.renderer().type()]
out["categories"] = [c.value() for c in features.renderer().categories()] if loaded else []
out["features_image"] = draw(features, "features")

tiles = QgsVectorTileLayer(f"type=xyz&url={base}tiles/coverage/{{z}}/{{x}}/{{y}}.mvt&zmin=0&zmax=14", "couverture")
out["tiles_valid"] = tiles.isValid()
message, loaded = tiles.loadNamedStyle(os.path.join(folder, "coverage-tuiles.qml"))
out["tiles_style"] = [loaded, message, len(tiles.renderer().styles())]
out["tiles_image"] = draw(tiles, "tiles")
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 crashes in its own clean-up at exit, after the work: leave without it
"""


@pytest.fixture(scope="module", autouse=True)
def qgis_installed() -> None:
    if not _qgis_importable():
        unavailable("QGIS's Python bindings (python3-qgis, installed by scripts/test.sh) are missing")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


@pytest.fixture(scope="module")
def drawn_by_qgis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, str]]:
    folder: Path = tmp_path_factory.mktemp("qgis-styles")
    port = free_port()
    server = serve(port, {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{folder / 'projects.sqlite3'}"}, log=folder / "log")
    base = f"http://127.0.0.1:{port}"
    span = 2 * HALF_WORLD / 2**PNG_ZOOM
    (west_tile, east_tile), (north_tile, south_tile) = TILES
    extent = (
        -HALF_WORLD + west_tile * span,
        HALF_WORLD - (south_tile + 1) * span,
        -HALF_WORLD + (east_tile + 1) * span,
        HALF_WORLD - north_tile * span,
    )
    try:
        for name in ("coverage", "coverage-tuiles"):
            (folder / f"{name}.qml").write_bytes(_get(f"{base}/styles/{name}.qml"))
        done = subprocess.run(
            [SYSTEM_PYTHON, "-c", QGIS_SCRIPT, f"{base}/", str(folder), ",".join(map(str, extent)), str(SIZE)],
            capture_output=True,
            text=True,
            timeout=600,
            env={"HOME": str(folder), "XDG_RUNTIME_DIR": str(folder), "PATH": "/usr/bin:/bin"},
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert lines, f"QGIS printed no result (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        yield json.loads(lines[-1].removeprefix("RESULT ")), base
    finally:
        stop(server)


def _compare(image_path: str, base: str) -> tuple[list, dict[bool, list[float]]]:
    """(code, zone blanche, largest channel difference) at each sampled commune, and the hatched share around
    each, zone blanche or not."""
    drawn = np.asarray(Image.open(image_path).convert("RGB")).astype(int)
    assert drawn.shape[:2] == (SIZE, SIZE)
    (west_tile, _), (north_tile, _) = TILES
    corner = (west_tile * 256, north_tile * 256)
    lon_lat = _tile_lonlat(west_tile, north_tile), _tile_lonlat(west_tile + 2, north_tile + 2)
    (west, north), (east, south) = lon_lat
    reference, ref_x, ref_y = png_mosaic(base, west + 1e-6, south + 1e-6, east - 1e-6, north - 1e-6)
    assert (ref_x, ref_y) == corner
    differences, hatch = [], {True: [], False: []}
    for code, blanche, lon, lat in samples(base, west, south, east, north):
        world_x, world_y = pixels(np.array(lon), np.array(lat))
        x, y = float(world_x) - corner[0], float(world_y) - corner[1]
        if not (6 < x < SIZE - 6 and 6 < y < SIZE - 6):
            continue
        ours, theirs = fill(drawn, x, y), fill(reference, x, y)
        differences.append((code, blanche, float(np.abs(ours - theirs).max()), ours.tolist(), theirs.tolist()))
        hatch[blanche].append(hatched(drawn, x, y))
    return differences, hatch


def _tile_lonlat(column: int, row: int) -> tuple[float, float]:
    import math

    n = 2**PNG_ZOOM
    return column / n * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))


def _check(differences: list, hatch: dict[bool, list[float]]) -> None:
    assert sum(1 for d in differences if d[1]) >= 10 and sum(1 for d in differences if not d[1]) >= 10
    off = [d for d in differences if d[2] > 12]
    # antialiasing may shift a colour by a few units; another class is tens away in some channel
    assert len(off) <= len(differences) // 50, off[:10]
    assert np.median(hatch[True]) > 0.1 and np.median(hatch[False]) == 0


def test_qgis_applies_our_qml_to_the_ogc_api_features_layer(drawn_by_qgis: tuple[dict, str]) -> None:
    seen, base = drawn_by_qgis
    assert seen["features_valid"]
    loaded, message, renderer = seen["features_style"]
    assert loaded, message
    assert renderer == "categorizedSymbol"
    assert set(seen["categories"]) == {"local", "departement", "region", "none", "zone_blanche"}
    _check(*_compare(seen["features_image"], base))


def test_qgis_applies_our_qml_to_the_vector_tile_layer(drawn_by_qgis: tuple[dict, str]) -> None:
    seen, base = drawn_by_qgis
    assert seen["tiles_valid"]
    loaded, message, styles = seen["tiles_style"]
    assert loaded, message
    assert styles == 5
    _check(*_compare(seen["tiles_image"], base))
