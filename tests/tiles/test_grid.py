"""Tile arithmetic: round trips between tiles, bounds and points, and clear refusals outside the grid."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_service.errors import NotFoundError
from geo_service.tiles.grid import (
    HALF_WORLD,
    MAX_LATITUDE,
    Tile,
    lonlat_bounds,
    lonlat_to_mercator,
    mercator_bounds,
    mercator_to_lonlat,
    tile_count,
    tile_of,
    tiles_covering,
)

tiles = st.integers(0, 20).flatmap(
    lambda z: st.builds(Tile, st.just(z), st.integers(0, 2**z - 1), st.integers(0, 2**z - 1))
)


@given(tiles)
def test_the_centre_of_a_tile_is_in_that_tile(tile: Tile) -> None:
    west, south, east, north = lonlat_bounds(tile)
    assert tile_of((west + east) / 2, (south + north) / 2, tile.z) == tile


@given(tiles)
def test_bounds_nest_in_the_parent_tile(tile: Tile) -> None:
    if tile.z == 0:
        assert mercator_bounds(tile) == pytest.approx((-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD))
        return
    child = mercator_bounds(tile)
    parent = mercator_bounds(Tile(tile.z - 1, tile.x // 2, tile.y // 2))
    eps = 1e-6  # metres: float rounding between two ways of computing the same edge
    assert parent[0] - eps <= child[0] < child[2] <= parent[2] + eps
    assert parent[1] - eps <= child[1] < child[3] <= parent[3] + eps


@given(st.floats(-180, 180), st.floats(-MAX_LATITUDE, MAX_LATITUDE))
def test_mercator_round_trip(lon: float, lat: float) -> None:
    assert mercator_to_lonlat(*lonlat_to_mercator(lon, lat)) == pytest.approx((lon, lat), abs=1e-9)


def _osm_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The tile of a point by the OpenStreetMap wiki's formula ('Slippy map tilenames'), not geo_service's code."""
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_covering_the_region_matches_the_slippy_map_formula_and_the_peer_harness() -> None:
    bbox = west, south, east, north = (1.38, 48.83, 4.26, 51.09)
    for z in (6, 8, 10, 12):
        (x0, y0), (x1, y1) = _osm_tile(west, north, z), _osm_tile(east, south, z)
        expected = [Tile(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        assert tiles_covering(*bbox, z) == expected, z
        assert tile_count(*bbox, z) == len(expected), z
    # the peer harness's tile list holds every tile of z6, z8 and z10 over the région (README, "Tile benchmark")
    assert [tile_count(*bbox, z) for z in (6, 8, 10)] == [2, 16, 110]


@pytest.mark.parametrize(("z", "x", "y"), [(23, 0, 0), (-1, 0, 0), (3, 8, 0), (3, 0, -1), (0, 1, 0)])
def test_outside_the_grid_is_not_found(z: int, x: int, y: int) -> None:
    with pytest.raises(NotFoundError, match="outside the grid"):
        Tile(z, x, y)
