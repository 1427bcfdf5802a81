"""Polygons in vector tiles are valid where a decoder reads them: in integer tile coordinates.

The MVT 2.1 specification (4.3.4.4): a polygon is an exterior ring (positive area by the surveyor's formula in tile
coordinates, y down) followed by its interior rings (negative); each ring is MoveTo(1), LineTo(n > 1), ClosePath;
"Linear rings MUST be geometric objects that have no anomalous geometric points, such as self-intersection or
self-tangency"; "The position of the cursor before calling the ClosePath command of a linear ring SHALL NOT repeat
the same position as the first point in the linear ring"; LineTo's "dX and dY MUST NOT both be 0".

Tiles are decoded twice: by mapbox-vector-tile (an independent decoder) for the geometry shapely checks, and here,
command by command from the protobuf that package parses, for what that decoder hides: it closes each ring itself
(a ring repeating its first point reads the same as one that does not) and silently skips rings of zero area.
"""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from shapely.geometry import shape
from shapely.validation import explain_validity

from geo_service.service import ServiceData
from geo_service.tiles import mvt
from geo_service.tiles.grid import Tile, mercator_bounds, tiles_covering
from geo_service.tiles.service import TileRequest, TileService

REGION = (1.38, 48.83, 4.26, 51.09)  # the région's bbox (bench/start.py)
LAYERS = ("communes", "epci", "coverage")
ZOOMS = range(6, 13)  # every tile of each zoom, z12 included (1 394 tiles a layer): about 4 s a layer here
BOUNDS = (0.0, 0.0, 4096.0, 4096.0)  # one Mercator metre per tile unit (y flipped: tile y = 4096 - y)
NIELLES = "62615"  # Nielles-lès-Calais: self-intersecting in /tiles/communes/9/258/171 before snapping was checked

Ring = list[tuple[int, int]]


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _rings(geometry: list[int]) -> tuple[list[Ring], list[str]]:
    """The rings of a POLYGON feature's command integers, as encoded (no closing point added), and what in the
    command sequence breaks the specification's rules."""
    rings: list[Ring] = []
    problems: list[str] = []
    x = y = i = 0
    while i < len(geometry):
        command, count = geometry[i] & 7, geometry[i] >> 3
        if command != mvt.MOVE_TO or count != 1:
            return rings, [*problems, f"ring {len(rings)}: expected MoveTo(1), got command {command}({count})"]
        x, y = x + _zigzag(geometry[i + 1]), y + _zigzag(geometry[i + 2])
        ring = [(x, y)]
        i += 3
        command, count = geometry[i] & 7, geometry[i] >> 3
        if command != mvt.LINE_TO or count < 2:
            return rings, [*problems, f"ring {len(rings)}: expected LineTo(n > 1), got command {command}({count})"]
        for k in range(count):
            dx, dy = _zigzag(geometry[i + 1 + 2 * k]), _zigzag(geometry[i + 2 + 2 * k])
            if dx == dy == 0:
                problems.append(f"ring {len(rings)}: zero-length LineTo")
            x, y = x + dx, y + dy
            ring.append((x, y))
        i += 1 + 2 * count
        if i >= len(geometry) or geometry[i] != (mvt.CLOSE_PATH | (1 << 3)):
            return rings, [*problems, f"ring {len(rings)}: no ClosePath(1)"]
        i += 1
        rings.append(ring)
    return rings, problems


def _area(ring: Ring) -> int:
    """Twice the signed area by the surveyor's formula, y down: positive for an exterior ring."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))


def _encoding_problems(body: bytes) -> list[str]:
    """What breaks the ring rules in a tile's raw geometry commands, feature by feature."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(body)
    problems = []
    for layer in tile.layers:
        for n, feature in enumerate(layer.features):
            where = f"{layer.name} feature {n} (id {feature.id})"
            if feature.type != mvt.POLYGON:
                continue
            rings, found = _rings(list(feature.geometry))
            problems += [f"{where}: {p}" for p in found]
            for r, ring in enumerate(rings):
                if ring[-1] == ring[0]:
                    problems.append(f"{where}: ring {r} repeats its first point {ring[0]} before ClosePath")
                if len(set(ring)) < 3 or _area(ring) == 0:
                    problems.append(f"{where}: ring {r} has fewer than 3 distinct points or no area")
            if rings and _area(rings[0]) <= 0:
                problems.append(f"{where}: the first ring is not an exterior (positive area)")
    return problems


def _decoded(body: bytes) -> dict[str, list[dict]]:
    """Layer name -> features, read by mapbox-vector-tile in tile coordinates (integers, y down)."""
    layers = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    return {name: layer["features"] for name, layer in layers.items()}


def _invalid(body: bytes) -> list[str]:
    """The features whose decoded (multi)polygon shapely finds invalid, with its reason."""
    return [
        f"{name} feature {feature['id']}: {explain_validity(geometry)}"
        for name, features in _decoded(body).items()
        for feature in features
        if not (geometry := shape(feature["geometry"])).is_valid
    ]


def _one_feature(geometry: shapely.Geometry) -> bytes:
    return mvt.encode_tile(
        [("layer", np.array([geometry], dtype=object), mvt.RowTags.of([{}]), "polygon", None)], BOUNDS
    )


def _tile_units(geometry: shapely.Geometry) -> shapely.Geometry:
    """A geometry of BOUNDS in tile coordinates (y down), unrounded."""
    return shapely.transform(geometry, lambda xy: np.column_stack([xy[:, 0], 4096 - xy[:, 1]]))


@pytest.fixture(scope="module")
def tiles(service_data: ServiceData) -> TileService:
    return TileService(service_data, 2**26)


def test_the_checks_see_what_the_decoder_hides() -> None:
    """A ring repeating its first point decodes like any other, and a bow-tie decodes without complaint: the raw
    command check and shapely's must catch them, or the tests below would prove nothing."""
    tile = vector_tile_pb2.tile()
    layer = tile.layers.add(name="layer", version=2, extent=4096)
    # (0, 0) (10, 0) (10, 10) and (0, 0) again before ClosePath
    layer.features.add(id=1, type=mvt.POLYGON, geometry=[9, 0, 0, 26, 20, 0, 0, 20, 19, 19, 15])
    # (0, 0) (10, 10) (10, 0) (0, 20): two edges cross
    layer.features.add(id=2, type=mvt.POLYGON, geometry=[9, 0, 0, 26, 20, 20, 0, 19, 19, 40, 15])
    body = tile.SerializeToString()
    assert _decoded(body)["layer"][0]["geometry"]["coordinates"] == [[[0, 0], [10, 0], [10, 10], [0, 0]]]
    assert _encoding_problems(body) == [
        "layer feature 0 (id 1): ring 0 repeats its first point (0, 0) before ClosePath"
    ]
    assert [p.split(":")[0] for p in _invalid(body)] == ["layer feature 2"]


@pytest.mark.parametrize("layer", LAYERS)
def test_every_polygon_of_the_region_tiles_is_valid_in_tile_coordinates(tiles: TileService, layer: str) -> None:
    """Every tile of the layer over the région, z6 to z12: each (multi)polygon valid as shapely reads it in tile
    coordinates, each ring as the specification encodes it. Before snapping was checked, 15 communes (so 15 coverage
    features) were invalid somewhere between z6 and z12, and 29 rings of the three layers repeated their first point
    before ClosePath."""
    problems, features = [], 0
    for z in ZOOMS:
        for tile in tiles_covering(*REGION, z):
            body = tiles.render(TileRequest(layer, tile, "mvt")).body
            if not body:
                continue
            where = f"/tiles/{layer}/{z}/{tile.x}/{tile.y}"
            problems += [f"{where} {p}" for p in _encoding_problems(body) + _invalid(body)]
            features += sum(len(f) for f in _decoded(body).values())
    assert not problems, "\n".join(problems[:20])
    assert features > 3_000  # the tiles were drawn, not empty (3 400 EPCI features, 37 000 communes)


def test_a_self_intersection_made_by_rounding_is_snapped_away() -> None:
    """A narrow spit whose tip, 0.3 units below the opposite edge, rounds to a point beyond it: rounded naively,
    two edges cross (a thin bow-tie); encoded, the outline is snap-rounded instead, valid, with its area."""
    outline = shapely.Polygon([(100, 100.4), (300, 101.4), (300, 40), (200, 100.6), (100, 40)])
    assert outline.is_valid
    naive = shapely.Polygon(np.round(shapely.get_coordinates(_tile_units(outline))))
    assert explain_validity(naive).startswith("Self-intersection")
    body = _one_feature(outline)
    assert not _encoding_problems(body) and not _invalid(body)
    (feature,) = _decoded(body)["layer"]
    assert shape(feature["geometry"]).area == pytest.approx(outline.area, rel=0.03)


def test_repairs_keep_holes_drop_what_collapses_and_keep_only_polygons() -> None:
    """The specification's structure survives a repair: a hole stays an interior ring after its exterior, a part
    that collapses on the grid is left out of its multipolygon, a polygon that collapses entirely leaves no feature,
    and an outline invalid before rounding is made valid with only its polygons kept (no line of a spike)."""
    crossing = shapely.Polygon([(100, 300.4), (300, 301.4), (300, 240), (200, 300.6), (100, 240)])  # as above
    with_hole = shapely.Polygon(shapely.box(100, 500, 300, 700).exterior, [shapely.box(150, 550, 250, 650).exterior])
    sliver = shapely.box(100, 800, 300, 800.3)  # rounds to a line
    # its vertices round to (1002, 1000) (1002, 1001) (1001, 1002) (1001, 1001) (1000, 1002), y flipped: a ring
    # touching itself, yet with an area; snap-rounded, nothing is left of it
    vanishing = shapely.Polygon(
        [(1002.09, 1000.32), (1002.09, 1000.69), (1000.93, 1001.82), (1000.9, 1001.21), (1000.06, 1001.66)]
    )
    rounded = shapely.Polygon(np.round(shapely.get_coordinates(_tile_units(vanishing))))
    assert vanishing.is_valid and not rounded.is_valid and rounded.area > 0
    assert shapely.set_precision(_tile_units(vanishing), 1).is_empty
    bow_tie = shapely.Polygon([(400, 400), (600, 600), (600, 400), (400, 800)])
    spike = shapely.Polygon([(400, 1400), (600, 1400), (600, 1600), (500, 1600), (500, 1700), (500, 1600), (400, 1600)])
    assert shapely.make_valid(spike).geom_type == "GeometryCollection"
    geometries = [shapely.MultiPolygon([crossing, with_hole, sliver]), vanishing, bow_tie, spike]
    tags = mvt.RowTags.of([{"n": n} for n in range(len(geometries))])
    body = mvt.encode_tile([("layer", np.array(geometries, dtype=object), tags, "polygon", None)], BOUNDS)
    assert not _encoding_problems(body) and not _invalid(body)
    decoded = {f["properties"]["n"]: shape(f["geometry"]) for f in _decoded(body)["layer"]}
    assert set(decoded) == {0, 2, 3}  # the vanishing polygon is gone
    parts = shapely.get_parts(decoded[0])
    assert [len(p.interiors) for p in parts].count(1) == 1 and sum(len(p.interiors) for p in parts) == 1
    assert min(p.bounds[1] for p in parts) >= 4096 - 700  # the sliver (tile y 3296) is gone
    assert decoded[0].area == pytest.approx(crossing.area + with_hole.area, rel=0.01)
    assert decoded[2].geom_type == "MultiPolygon"
    assert decoded[2].area == pytest.approx(shapely.make_valid(bow_tie).area, rel=0.01)
    assert decoded[3].geom_type == "Polygon" and decoded[3].area == pytest.approx(40_000)


def test_a_ring_whose_last_points_round_onto_its_first_is_not_closed_twice() -> None:
    """Its last vertex rounds onto the first, another onto the one before: neither is encoded, ClosePath closes."""
    square = shapely.Polygon([(100.2, 100.1), (200, 100), (200.3, 100.2), (200, 200), (100, 200), (100.4, 100.3)])
    body = _one_feature(square)
    assert not _encoding_problems(body) and not _invalid(body)
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(body)
    rings, _ = _rings(list(tile.layers[0].features[0].geometry))
    assert [sorted(ring) for ring in rings] == [[(100, 3896), (100, 3996), (200, 3896), (200, 3996)]]


def test_nielles_les_calais_is_valid_in_its_tile(client: TestClient, tiles: TileService) -> None:
    """The tile of the issue, through the API: Nielles-lès-Calais is there, valid (it was self-intersecting), and
    covers the area of the outline the layer draws at z9 (snapping moves its edges by less than a unit)."""
    response = client.get("/tiles/communes/9/258/171.mvt")
    assert response.status_code == 200
    assert not _encoding_problems(response.content) and not _invalid(response.content)
    (nielles,) = [f for f in _decoded(response.content)["communes"] if f["properties"]["code"] == NIELLES]
    assert nielles["properties"]["name"] == "Nielles-lès-Calais" and nielles["id"] == int(NIELLES)
    layer = tiles.layer(TileRequest("communes", Tile(9, 258, 171), "mvt"))
    (outline,) = layer.geometries_at(9, np.flatnonzero(layer.ids_at(9) == int(NIELLES)))
    minx, _, maxx, maxy = mercator_bounds(Tile(9, 258, 171))
    scale = 4096 / (maxx - minx)
    in_tile = shapely.transform(outline, lambda xy: (xy - (minx, maxy)) * (scale, -scale))
    assert shape(nielles["geometry"]).area == pytest.approx(in_tile.area, rel=0.02)
