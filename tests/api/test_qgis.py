"""QGIS itself (Debian's python3-qgis, headless) adds the service as its users would: an OGC API – Features
connection, a vector tile layer and an XYZ raster layer, and reads or draws them.

QGIS runs in Debian's own Python (its bindings are built for it), in a child process, against a live server; the
script prints what QGIS saw as JSON and the test checks it against figures from outside the service (the COG's
commune counts, the région's extent).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.servers import free_port, serve, stop

SYSTEM_PYTHON = "/usr/bin/python3"
QGIS_SCRIPT = r"""
import json, os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsVectorLayer, QgsVectorTileLayer, QgsRasterLayer, QgsFeatureRequest,
                       QgsRectangle, QgsMapSettings, QgsMapRendererSequentialJob, QgsCoordinateReferenceSystem)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
base = sys.argv[1]
out = {}

# OGC API - Features, as "Add WFS / OGC API - Features Layer" makes it
communes = QgsVectorLayer(f"url='{base}' typename='communes' restrictToRequestBBOX='1'", "communes", "OAPIF")
out["oapif_valid"] = communes.isValid()
out["fields"] = [f.name() for f in communes.fields()]
out["count"] = sum(1 for _ in communes.getFeatures())
somme = QgsFeatureRequest().setFilterExpression("\"departement\" = '80'")
out["somme"] = sum(1 for _ in communes.getFeatures(somme))
amiens = QgsFeatureRequest().setFilterRect(QgsRectangle(2.25, 49.85, 2.35, 49.92))
out["in_box"] = sorted(f["name"] for f in communes.getFeatures(amiens))
extent = communes.extent()
out["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
zones = QgsVectorLayer(f"url='{base}' typename='zones-blanches'", "zones", "OAPIF")
out["zones_valid"] = zones.isValid()
out["zones_count"] = sum(1 for _ in zones.getFeatures())


def painted(layer):
    # draw the layer over the Somme at about zoom 9 and count the pixels it coloured
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(180000, 6300000, 300000, 6420000))
    settings.setOutputSize(QSize(512, 512))
    settings.setBackgroundColor(QColor(255, 255, 255, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    return sum(1 for x in range(0, 512, 4) for y in range(0, 512, 4) if QColor(image.pixel(x, y)).alpha() > 0)


tiles = QgsVectorTileLayer(f"type=xyz&url={base}tiles/coverage/{{z}}/{{x}}/{{y}}.mvt&zmin=0&zmax=14", "couverture")
out["mvt_valid"] = tiles.isValid()
out["mvt_painted"] = painted(tiles) if tiles.isValid() else 0
raster = QgsRasterLayer(f"type=xyz&url={base}tiles/coverage/%7Bz%7D/%7Bx%7D/%7By%7D.png&zmin=0&zmax=14", "xyz", "wms")
out["xyz_valid"] = raster.isValid()
out["xyz_painted"] = painted(raster) if raster.isValid() else 0
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 crashes in its own clean-up at exit, after the work: leave without it
"""


def _qgis_importable() -> bool:
    if shutil.which(SYSTEM_PYTHON) is None:
        return False
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=120)
    return done.returncode == 0


pytestmark = pytest.mark.gis


@pytest.fixture(scope="module", autouse=True)
def qgis_installed() -> None:
    """Skipped without QGIS on a developer's machine; in CI, where the test command installs it, a failure."""
    if not _qgis_importable():
        unavailable("QGIS's Python bindings (python3-qgis, installed by scripts/test.sh) are missing")


@pytest.fixture(scope="module")
def seen_by_qgis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder: Path = tmp_path_factory.mktemp("qgis")
    port = free_port()
    server = serve(port, {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{folder / 'projects.sqlite3'}"}, log=folder / "log")
    try:
        done = subprocess.run(
            [SYSTEM_PYTHON, "-c", QGIS_SCRIPT, f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
            timeout=600,
            env={"HOME": str(folder), "XDG_RUNTIME_DIR": str(folder), "PATH": "/usr/bin:/bin"},
        )
    finally:
        stop(server)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"QGIS printed no result (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    yield json.loads(lines[-1].removeprefix("RESULT "))


def test_qgis_reads_the_communes_through_ogc_api_features(seen_by_qgis: dict) -> None:
    assert seen_by_qgis["oapif_valid"]
    assert {"code", "name", "population", "departement", "epci"} <= set(seen_by_qgis["fields"])
    assert seen_by_qgis["count"] == 3782  # the région's communes in the COG 2026, every page read
    assert seen_by_qgis["somme"] == 771  # the Somme's communes in the COG 2026
    assert "Amiens" in seen_by_qgis["in_box"] and len(seen_by_qgis["in_box"]) < 40
    west, south, east, north = seen_by_qgis["extent"]
    # the région's extent (IGN: about 1.38°E to 4.26°E, 48.83°N to 51.09°N)
    assert 1.3 < west < 1.5 and 48.8 < south < 48.9 and 4.2 < east < 4.3 and 51.0 < north < 51.1


def test_qgis_reads_the_zones_blanches(seen_by_qgis: dict, client) -> None:
    assert seen_by_qgis["zones_valid"]
    expected = client.get("/api/v1/coverage/zones-blanches").json()["features"]
    assert seen_by_qgis["zones_count"] == len(expected) > 0


def test_qgis_draws_the_vector_and_raster_tiles(seen_by_qgis: dict) -> None:
    assert seen_by_qgis["mvt_valid"] and seen_by_qgis["xyz_valid"]
    # the Somme at zoom 9 is covered by communes: most sampled pixels are painted
    assert seen_by_qgis["mvt_painted"] > 0.5 * 128 * 128
    assert seen_by_qgis["xyz_painted"] > 0.5 * 128 * 128
