"""Mapbox Vector Tile (v2.1) encoding, written for speed: geometry commands and varints are built with numpy
for a whole layer at once, and only the per-feature framing is done in Python.

Coordinates: each tile is ``EXTENT`` units wide, y pointing down; features are clipped to the tile plus
``BUFFER`` units so that lines and fills join across tiles. Exterior rings have a positive area by the
surveyor's formula in tile coordinates (clockwise on screen), holes a negative one, as the specification asks.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

EXTENT = 4096
BUFFER = 32  # two pixels of a 256-pixel tile: enough for strokes to join across tile edges
MOVE_TO, LINE_TO, CLOSE_PATH = 1, 2, 7
POINT, POLYGON = 1, 3


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Protobuf varints of non-negative integers, and the byte offset where each one starts (plus the end)."""
    values = values.astype(np.uint64)
    sizes = np.ones(len(values), dtype=np.int64)
    for shift in (7, 14, 21, 28, 35, 42, 49, 56):
        sizes += values >= (np.uint64(1) << np.uint64(shift))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    out = np.empty(offsets[-1], dtype=np.uint8)
    for k in range(int(sizes.max()) if len(sizes) else 0):
        has = sizes > k
        chunk = (values[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (sizes[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[offsets[:-1][has] + k] = (chunk | more).astype(np.uint8)
    return out.tobytes(), offsets


def _field(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _zigzag(values: np.ndarray) -> np.ndarray:
    return (values << 1) ^ (values >> 63)


def _value(value: Any) -> bytes:
    """A Value message: strings, booleans, integers (sint64) or doubles."""
    if isinstance(value, bool | np.bool_):
        return b"\x38" + _varint(int(value))
    if isinstance(value, int | np.integer):
        return b"\x30" + _varint(int(_zigzag(np.array([int(value)], dtype=np.int64))[0]))
    if isinstance(value, float | np.floating):
        return b"\x19" + struct.pack("<d", float(value))
    return _field(1, str(value).encode("utf-8"))


def _quantize(geometries: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    minx, _miny, maxx, maxy = bounds
    scale = EXTENT / (maxx - minx)
    return shapely.transform(
        geometries, lambda c: np.round(np.column_stack([(c[:, 0] - minx) * scale, (maxy - c[:, 1]) * scale]))
    )


def _ring_points(rings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Integer points of each ring without repeats or closing point: (coords, ring of each point, points per
    ring, signed area per ring)."""
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    coords = coords.astype(np.int64)
    # drop repeated points (quantization merges close vertices) and each ring's closing point
    same_ring = np.concatenate([[False], ring_of[1:] == ring_of[:-1]])
    repeated = same_ring & np.all(coords == np.roll(coords, 1, axis=0), axis=1)
    keep = ~repeated
    last_of_ring = np.concatenate([ring_of[1:] != ring_of[:-1], [True]])
    keep &= ~last_of_ring
    coords, ring_of = coords[keep], ring_of[keep]
    counts = np.bincount(ring_of, minlength=len(rings))
    # signed area (surveyor's formula, y down): exterior rings positive, holes negative
    nxt = np.arange(len(coords)) + 1
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    wrap = starts[ring_of] + counts[ring_of]
    nxt[nxt == wrap] = starts[ring_of][nxt == wrap]
    cross = coords[:, 0] * coords[nxt, 1] - coords[nxt, 0] * coords[:, 1]
    area = np.bincount(ring_of, weights=cross, minlength=len(rings))
    return coords, ring_of, counts, area


def encode_layer(
    name: str,
    geometries: np.ndarray,
    properties: Sequence[dict[str, Any]],
    bounds: tuple[float, float, float, float],
    kind: str,
    ids: np.ndarray | None = None,
) -> bytes:
    """One layer message, or b'' when no feature has anything inside the tile. ``ids``: feature ids (positive
    integers), one per geometry, or none."""
    if len(geometries) == 0:
        return b""
    span = bounds[2] - bounds[0]
    pad = span * BUFFER / EXTENT
    clipped = shapely.clip_by_rect(geometries, bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    tile_geoms = _quantize(clipped, bounds)
    if kind == "point":
        ints, features = _point_commands(tile_geoms)
    else:
        ints, features = _polygon_feature_commands(tile_geoms)
    if not features:
        return b""
    geometry_bytes, offsets = _varints(ints)
    keys: dict[str, int] = {}
    values: dict[tuple[type, Any], int] = {}
    encoded_values: list[bytes] = []
    parts = [_field(1, name.encode())]
    geometry_type = b"\x18" + bytes([POINT if kind == "point" else POLYGON])
    for feature, first, last in features:
        tags = []
        for key, value in properties[feature].items():
            tags.append(keys.setdefault(key, len(keys)))
            marker = (type(value), value)
            if marker not in values:
                values[marker] = len(encoded_values)
                encoded_values.append(_value(value))
            tags.append(values[marker])
        identity = b"" if ids is None else b"\x08" + _varint(int(ids[feature]))
        body = (
            identity
            + _field(2, b"".join(_varint(t) for t in tags))
            + geometry_type
            + _field(4, geometry_bytes[offsets[first] : offsets[last]])
        )
        parts.append(_field(2, body))
    parts.extend(_field(3, key.encode()) for key in keys)
    parts.extend(_field(4, value) for value in encoded_values)
    parts.append(b"\x28" + _varint(EXTENT) + b"\x78\x02")  # extent, version 2
    return b"".join(parts)


def _point_commands(points: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    present = np.flatnonzero(~shapely.is_empty(points) & (shapely.get_type_id(points) == 0))
    if len(present) == 0:
        return np.empty(0, np.int64), []
    xy = shapely.get_coordinates(points[present]).astype(np.int64)
    inside = np.all((xy >= -BUFFER) & (xy <= EXTENT + BUFFER), axis=1)
    present, xy = present[inside], xy[inside]
    ints = np.empty(3 * len(present), dtype=np.int64)
    ints[0::3] = MOVE_TO | (1 << 3)
    ints[1::3] = _zigzag(xy[:, 0])
    ints[2::3] = _zigzag(xy[:, 1])
    return ints, [(int(f), 3 * i, 3 * i + 3) for i, f in enumerate(present)]


def _polygon_feature_commands(geometries: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    polygons, polygon_feature = shapely.get_parts(geometries, return_index=True)
    is_polygon = shapely.get_type_id(polygons) == 3
    polygons, polygon_feature = polygons[is_polygon], polygon_feature[is_polygon]
    if len(polygons) == 0:
        return np.empty(0, np.int64), []
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    exterior = np.concatenate([[True], ring_polygon[1:] != ring_polygon[:-1]])
    coords, ring_of, counts, area = _ring_points(rings)
    usable = (counts >= 3) & (area != 0)
    # a hole is kept only with its exterior; orientation is forced: exterior positive, hole negative
    polygon_ok = np.zeros(len(polygons), dtype=bool)
    polygon_ok[ring_polygon[exterior & usable]] = True
    usable &= polygon_ok[ring_polygon]
    flip = usable & ((exterior & (area < 0)) | (~exterior & (area > 0)))
    kept = np.flatnonzero(usable)
    take = usable[ring_of]
    coords, ring_of = coords[take], ring_of[take]
    n = counts[kept]
    ring_first = np.concatenate([[0], np.cumsum(n)[:-1]])
    if flip.any():
        # reverse the points of the rings whose winding is wrong, in place
        first = np.repeat(ring_first, n)
        last = first + np.repeat(n, n) - 1
        order = np.arange(len(coords))
        flipped = flip[ring_of]
        order[flipped] = (first + last - order)[flipped]
        coords = coords[order]
    feature_of_ring = polygon_feature[ring_polygon[kept]]
    # deltas between consecutive points; the cursor restarts at (0, 0) with each feature
    delta = np.diff(coords, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    feature_start = np.concatenate([[True], feature_of_ring[1:] != feature_of_ring[:-1]])
    delta[ring_first[feature_start]] = coords[ring_first[feature_start]]
    size = 2 * n + 3
    out_start = np.concatenate([[0], np.cumsum(size)[:-1]])
    ints = np.empty(int(size.sum()), dtype=np.int64)
    ints[out_start] = MOVE_TO | (1 << 3)
    ints[out_start + 3] = LINE_TO | ((n - 1) << 3)
    ints[out_start + size - 1] = CLOSE_PATH | (1 << 3)
    k = np.arange(len(coords)) - np.repeat(ring_first, n)
    position = np.repeat(out_start, n) + 1 + 2 * k + (k > 0)
    ints[position] = _zigzag(delta[:, 0])
    ints[position + 1] = _zigzag(delta[:, 1])
    features = []
    boundaries = np.flatnonzero(feature_start)
    ends = np.append(boundaries[1:], len(kept))
    for first_ring, end_ring in zip(boundaries, ends, strict=True):
        first = int(out_start[first_ring])
        last = int(out_start[end_ring - 1] + size[end_ring - 1])
        features.append((int(feature_of_ring[first_ring]), first, last))
    return ints, features


def encode_tile(
    layers: Sequence[tuple[str, np.ndarray, Sequence[dict[str, Any]], str, np.ndarray | None]],
    bounds: tuple[float, float, float, float],
) -> bytes:
    """A tile from (name, Mercator geometries, properties, kind, ids) layers; b'' when it would hold no feature."""
    bodies = (encode_layer(name, g, p, bounds, kind, ids) for name, g, p, kind, ids in layers)
    return b"".join(_field(3, body) for body in bodies if body)
