"""The cold tile path: polygon rings read straight from the packed WKB give what shapely reads of the same bytes,
and tiles drawn from them are byte for byte those drawn from decoded geometries."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from boundaries.packed import ZoomGeometries, open_packed
from geo_service.settings import REPO_DATA_DIR
from geo_service.tiles import mvt
from geo_service.tiles.grid import mercator_bounds, tiles_covering

RÉGION = (1.38, 48.83, 4.26, 51.09)


def _shapely_rings(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What shapely reads of the geometries: points of every polygon ring, points per ring, exteriors, rows."""
    polygons, polygon_row = shapely.get_parts(geometries, return_index=True)
    is_polygon = shapely.get_type_id(polygons) == 3
    polygons, polygon_row = polygons[is_polygon], polygon_row[is_polygon]
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = ring_polygon[1:] != ring_polygon[:-1]
    return coords, np.bincount(ring_of, minlength=len(rings)), exterior, polygon_row[ring_polygon]


def _zooms_of(wkbs: list[bytes | None]) -> ZoomGeometries:
    """One level holding these WKB as they are (spans into one buffer; None: no geometry)."""
    buffer, spans, size = b"", [], 0
    for wkb in wkbs:
        wkb = wkb or b""
        spans.append((size, size + len(wkb)))
        buffer, size = buffer + wkb, size + len(wkb)
    return ZoomGeometries(buffer, np.array([spans], dtype=np.int64), np.zeros((len(wkbs), 4)))


def test_rings_read_from_wkb_are_shapely_s_and_other_kinds_are_left_to_it() -> None:
    square = shapely.box(0, 0, 10, 10)
    holed = shapely.Polygon([(0, 0), (30, 0), (30, 30), (0, 30)], [[(5, 5), (5, 10), (10, 10), (10, 5)]])
    islands = shapely.MultiPolygon([holed, shapely.box(40, 40, 41.5, 42.25), shapely.box(-3, -3, -1, -1)])
    readable = [square, None, islands, shapely.MultiPolygon([square])]
    others = {
        1: None,
        4: shapely.to_wkb(shapely.LineString([(0, 0), (1, 1)])),
        5: shapely.to_wkb(square, byte_order=0),  # big-endian
        6: shapely.to_wkb(shapely.Polygon()),  # empty
        7: shapely.to_wkb(shapely.GeometryCollection([square])),
        8: shapely.to_wkb(shapely.box(0, 0, 1, 1))[:-8],  # cut short
    }
    wkbs = [None if g is None else shapely.to_wkb(g) for g in readable] + [others[k] for k in range(4, 9)]
    zooms = _zooms_of(wkbs)
    parts = zooms.polygon_parts(0, np.arange(len(wkbs)))
    assert parts.decoded.tolist() == [True, False, True, True, False, False, False, False, False]
    coords, counts, exterior, rows = _shapely_rings(np.array(readable, dtype=object))
    assert np.array_equal(parts.coords, coords)
    assert parts.counts.tolist() == counts.tolist() == [5, 5, 5, 5, 5, 5]
    assert parts.exterior.tolist() == exterior.tolist() == [True, True, False, True, True, True]
    assert parts.feature.tolist() == rows.tolist() == [0, 2, 2, 2, 2, 3]


@pytest.mark.parametrize("level", ["commune", "epci", "region"])
def test_every_row_of_the_packed_levels_reads_as_shapely_reads_it(level: str) -> None:
    zooms = open_packed(REPO_DATA_DIR / "boundaries" / f"{level}.packed").mercator
    rows = np.arange(len(zooms))[::-1]  # in any order asked
    for zoom in (0, 6, 9, 12, 14):
        parts = zooms.polygon_parts(zoom, rows)
        geometries = zooms.take(zoom, rows)
        coords, counts, exterior, features = _shapely_rings(geometries)
        assert parts.decoded.all()
        assert np.array_equal(parts.coords, coords)
        assert np.array_equal(parts.counts, counts)
        assert np.array_equal(parts.exterior, exterior)
        assert np.array_equal(parts.feature, features)


def test_tiles_drawn_from_the_wkb_are_those_drawn_from_decoded_geometries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every tile of the région's communes from z6 to z10, and a sample above: the same geometry bytes, including
    tiles where features cross the edge and tiles where a rounded feature is snapped again."""
    zooms = open_packed(REPO_DATA_DIR / "boundaries" / "commune.packed").mercator
    snapped = []
    snap = mvt._snap_rounded
    monkeypatch.setattr(mvt, "_snap_rounded", lambda g, b: snapped.append(len(g)) or snap(g, b))
    compared = 0
    for z in range(6, 15):
        tiles = list(tiles_covering(*RÉGION, z))
        if z > 10:
            tiles = tiles[:: len(tiles) // 60]
        for tile in tiles:
            bounds = mercator_bounds(tile)
            low_x, low_y, high_x, high_y = mvt._buffered(bounds)
            b = zooms.bounds
            rows = np.flatnonzero((b[:, 0] <= high_x) & (b[:, 2] >= low_x) & (b[:, 1] <= high_y) & (b[:, 3] >= low_y))
            expected = mvt.tile_geometry(zooms.take(z, rows), bounds, "polygon")
            got = mvt.tile_geometry_packed(zooms, z, rows, bounds)
            assert got.data == expected.data, tile
            assert np.array_equal(got.ranges, expected.ranges) and np.array_equal(got.rows, expected.rows), tile
            compared += len(got.rows)
    assert snapped, "no tile needed snapping: the repair path went untested"
    assert compared > 20_000
