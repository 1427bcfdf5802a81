"""What the OGC API's HTML pages need beyond the JSON documents: values written the French way and a feature's
outline as an SVG drawing (no script, no map library, nothing from another host: the page stays a plain document
readable on a phone)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from geo_service.formatting import fr_number

SVG_WIDTH = 320.0
SVG_HEIGHT = 240.0
SVG_MARGIN = 6.0


def french_value(value: Any) -> str:
    """A property as a French reader expects it: oui/non, 26 936, 12,5; empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return fr_number(value, 0)
    if isinstance(value, float):
        return fr_number(value, None if value.is_integer() else min(3, max(1, _decimals(value))))
    return str(value)


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 1


def outline_svg(geometry: shapely.Geometry | None) -> dict[str, Any] | None:
    """The geometry drawn in a SVG_WIDTH × SVG_HEIGHT box: ``{"path": d}`` for polygons and lines, ``{"points":
    [(x, y)...]}`` for points; lon/lat scaled by the cosine of the mean latitude so that shapes are not stretched.
    None for no geometry."""
    if geometry is None or geometry.is_empty:
        return None
    minx, miny, maxx, maxy = geometry.bounds
    squeeze = math.cos(math.radians((miny + maxy) / 2))
    width = max((maxx - minx) * squeeze, 1e-9)
    height = max(maxy - miny, 1e-9)
    scale = min((SVG_WIDTH - 2 * SVG_MARGIN) / width, (SVG_HEIGHT - 2 * SVG_MARGIN) / height)
    if geometry.geom_type in ("Point", "MultiPoint"):
        scale = 0.0 if width <= 1e-9 and height <= 1e-9 else scale
    left = (SVG_WIDTH - width * scale) / 2
    top = (SVG_HEIGHT - height * scale) / 2

    def place(coords: np.ndarray) -> np.ndarray:
        x = left + (coords[:, 0] - minx) * squeeze * scale
        y = top + (maxy - coords[:, 1]) * scale
        return np.round(np.column_stack([x, y]), 1)

    if geometry.geom_type in ("Point", "MultiPoint"):
        points = place(shapely.get_coordinates(geometry))
        return {"points": [(float(x), float(y)) for x, y in points]}
    parts = []
    for ring in _rings(geometry):
        xy = place(np.asarray(ring.coords))
        parts.append("M" + " L".join(f"{x:g} {y:g}" for x, y in xy) + (" Z" if ring.is_closed else ""))
    return {"path": " ".join(parts)}


def _rings(geometry: shapely.Geometry) -> list[Any]:
    if geometry.geom_type == "Polygon":
        return [geometry.exterior, *geometry.interiors]
    if geometry.geom_type in ("LineString", "LinearRing"):
        return [geometry]
    if hasattr(geometry, "geoms"):
        return [ring for part in geometry.geoms for ring in _rings(part)]
    return []
