"""Web Mercator (EPSG:3857) projection of shapely geometries, vectorised over their coordinates.

Kept here, at the bottom of the layers, because the boundaries build projects and simplifies each level for the
tiles once (see ``boundaries.packed``) and the tile code reads the same metres.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

EARTH_RADIUS = 6378137.0
HALF_WORLD = math.pi * EARTH_RADIUS  # 20037508.34 m
MAX_LATITUDE = 85.0511287798066


def _project(coords: np.ndarray) -> np.ndarray:
    lat = np.clip(coords[:, 1], -MAX_LATITUDE, MAX_LATITUDE)
    return np.column_stack(
        [EARTH_RADIUS * np.radians(coords[:, 0]), EARTH_RADIUS * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))]
    )


def _unproject(coords: np.ndarray) -> np.ndarray:
    return np.column_stack(
        [
            np.degrees(coords[:, 0] / EARTH_RADIUS),
            np.degrees(2 * np.arctan(np.exp(coords[:, 1] / EARTH_RADIUS)) - np.pi / 2),
        ]
    )


def to_mercator(geometries):
    """Shapely geometries (or an array of them) from lon/lat to Web Mercator metres."""
    return shapely.transform(geometries, _project)


def to_lonlat(geometries):
    """Shapely geometries (or an array of them) from Web Mercator metres to lon/lat."""
    return shapely.transform(geometries, _unproject)
