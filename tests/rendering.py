"""Pictures of the coverage compared with our PNG tiles: where communes are, in world pixels of 256-pixel tiles
at PNG_ZOOM, and the fill and hatching around a point (tests/browser/test_maplibre.py, tests/api/test_qgis_styles.py).
"""

from __future__ import annotations

import io
import json
import math
import urllib.request

import numpy as np
import shapely
import shapely.geometry
import shapely.ops
from PIL import Image

PNG_ZOOM = 9  # 256-pixel PNG tiles; MapLibre's zoom 8 (512-pixel tiles) is the same scale


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def pixel(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """World pixel of a lon/lat in 256-pixel tiles at ``zoom``."""
    size = 256 * 2**zoom
    x = (lon + 180) / 360 * size
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * size
    return x, y


def pixels(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World pixels of lon/lat arrays at PNG_ZOOM (as _pixel)."""
    size = 256 * 2**PNG_ZOOM
    phi = np.radians(lat)
    return (lon + 180) / 360 * size, (1 - np.log(np.tan(phi) + 1 / np.cos(phi)) / np.pi) / 2 * size


def lonlat(x: float, y: float) -> tuple[float, float]:
    size = 256 * 2**PNG_ZOOM
    return x / size * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / size))))


def png_mosaic(base: str, west: float, south: float, east: float, north: float) -> tuple[np.ndarray, float, float]:
    """Our PNG tiles covering the box, laid on white: (RGB pixels, world x and y of the mosaic's corner)."""
    x0, y0 = pixel(west, north, PNG_ZOOM)
    x1, y1 = pixel(east, south, PNG_ZOOM)
    columns = range(int(x0 // 256), int(x1 // 256) + 1)
    rows = range(int(y0 // 256), int(y1 // 256) + 1)
    mosaic = Image.new("RGBA", (256 * len(columns), 256 * len(rows)), (255, 255, 255, 255))
    for i, column in enumerate(columns):
        for j, row in enumerate(rows):
            tile = Image.open(io.BytesIO(get(f"{base}/tiles/coverage/{PNG_ZOOM}/{column}/{row}.png"))).convert("RGBA")
            mosaic.alpha_composite(tile, (256 * i, 256 * j))
    return np.asarray(mosaic.convert("RGB")).astype(int), columns[0] * 256, rows[0] * 256


def samples(base: str, west: float, south: float, east: float, north: float) -> list[tuple[str, bool, float, float]]:
    """(code, zone blanche, lon, lat) of communes in the box with room around their most interior point."""
    bbox = f"{west},{south},{east},{north}"
    items = json.loads(get(f"{base}/collections/coverage/items?bbox={bbox}&limit=10000&f=json"))["features"]
    found = []
    for feature in items:
        shape = shapely.geometry.shape(feature["geometry"])
        largest = max(getattr(shape, "geoms", [shape]), key=lambda p: p.area)
        # in screen pixels at the compared scale, where "room" means the same in every direction
        on_screen = shapely.transform(largest, lambda c: np.column_stack(pixels(c[:, 0], c[:, 1])))
        point = shapely.ops.polylabel(on_screen, tolerance=0.1)
        room = on_screen.exterior.distance(point)
        lon, lat = lonlat(point.x, point.y)
        if room >= 6 and west < lon < east and south < lat < north:
            found.append((feature["properties"]["code"], bool(feature["properties"]["zone_blanche"]), lon, lat))
    return found


def fill(pixels: np.ndarray, x: float, y: float, radius: int = 3) -> np.ndarray:
    """The fill colour around a point: hatch lines are darker than the fill in every channel, and MapLibre
    samples its pattern with smoothing (a line spreads over four pixels, not two), so a median would mix them;
    the lighter pixels of the window are the fill alone, in both pictures."""
    window = pixels[round(y) - radius : round(y) + radius + 1, round(x) - radius : round(x) + radius + 1]
    return np.percentile(window.reshape(-1, 3), 80, axis=0)


def hatched(pixels: np.ndarray, x: float, y: float, radius: int = 4) -> float:
    """The share of the window's pixels darker than its fill: the hatch lines."""
    window = pixels[round(y) - radius : round(y) + radius + 1, round(x) - radius : round(x) + radius + 1].reshape(-1, 3)
    fill = np.percentile(window, 80, axis=0)
    return float(((fill - window).sum(axis=1) > 60).mean())
