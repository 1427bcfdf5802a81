"""GeoJSON geometries as RFC 7946 asks: exterior rings counter-clockwise, holes clockwise (§3.1.6).

Shapely writes rings in whatever order they were built; boundaries, unions and simplifications give clockwise
exteriors as often as not, which strict GeoJSON readers (and d3-geo, which then fills the rest of the globe) take
for holes. Every GeoJSON the service writes goes through ``oriented`` (one vectorised call for many geometries)
or ``geometry_dict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry


def oriented(geometries: np.ndarray) -> np.ndarray:
    """The geometries with RFC 7946 winding (polygons only are changed; None stays None)."""
    return shapely.orient_polygons(np.asarray(geometries, dtype=object), exterior_cw=False)


def geometry_dict(geometry: BaseGeometry | None) -> dict[str, Any] | None:
    """One geometry as a GeoJSON dict with RFC 7946 winding."""
    if geometry is None:
        return None
    return mapping(shapely.orient_polygons(geometry, exterior_cw=False))
