"""WebMercatorQuad tile arithmetic: tiles, their bounds, and the tiles covering an area.

Tiles are (z, x, y) with x growing east and y growing south, as XYZ web maps expect. Mercator metres are
EPSG:3857; the grid covers latitudes up to ±85.0511°.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from boundaries.mercator import EARTH_RADIUS, HALF_WORLD, MAX_LATITUDE, to_lonlat, to_mercator
from geo_service.errors import NotFoundError

__all__ = ["EARTH_RADIUS", "HALF_WORLD", "MAX_LATITUDE", "to_lonlat", "to_mercator"]  # the projection, re-exported
MAX_ZOOM = 22


@dataclass(frozen=True, slots=True)
class Tile:
    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= MAX_ZOOM:
            raise NotFoundError(f"zoom {self.z} is outside the grid (0 to {MAX_ZOOM})")
        size = 1 << self.z
        if not (0 <= self.x < size and 0 <= self.y < size):
            raise NotFoundError(f"tile {self.z}/{self.x}/{self.y} is outside the grid: x and y go from 0 to {size - 1}")


def tile_span(z: int) -> float:
    """Width of a tile at zoom ``z``, in Mercator metres."""
    return 2 * HALF_WORLD / (1 << z)


def mercator_bounds(tile: Tile) -> tuple[float, float, float, float]:
    span = tile_span(tile.z)
    minx = -HALF_WORLD + tile.x * span
    maxy = HALF_WORLD - tile.y * span
    return minx, maxy - span, minx + span, maxy


def lonlat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = EARTH_RADIUS * math.radians(lon)
    y = EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    return math.degrees(x / EARTH_RADIUS), math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2)


def lonlat_bounds(tile: Tile) -> tuple[float, float, float, float]:
    """West, south, east, north in degrees."""
    minx, miny, maxx, maxy = mercator_bounds(tile)
    west, south = mercator_to_lonlat(minx, miny)
    east, north = mercator_to_lonlat(maxx, maxy)
    return west, south, east, north


def tile_of(lon: float, lat: float, z: int) -> Tile:
    """The tile containing a point (points on the east or south edge belong to the next tile, as XYZ maps do)."""
    x, y = lonlat_to_mercator(lon, lat)
    size = 1 << z
    column = int((x + HALF_WORLD) / tile_span(z))
    row = int((HALF_WORLD - y) / tile_span(z))
    return Tile(z, min(max(column, 0), size - 1), min(max(row, 0), size - 1))


def tile_count(west: float, south: float, east: float, north: float, z: int) -> int:
    """How many tiles at zoom ``z`` a lon/lat box touches, without listing them."""
    top_left, bottom_right = tile_of(west, north, z), tile_of(east, south, z)
    return (bottom_right.x - top_left.x + 1) * (bottom_right.y - top_left.y + 1)


def tiles_covering(west: float, south: float, east: float, north: float, z: int) -> list[Tile]:
    """Every tile at zoom ``z`` that a lon/lat box touches, sorted by (x, y)."""
    top_left, bottom_right = tile_of(west, north, z), tile_of(east, south, z)
    return [Tile(z, x, y) for x in range(top_left.x, bottom_right.x + 1) for y in range(top_left.y, bottom_right.y + 1)]
