"""Each level packed for serving: properties, geometries, and their simplification for every zoom, in one file.

The GeoJSON files are the build's readable, published output; parsing them and simplifying every level for every
zoom is what made a worker serving all of France take about 45 s and 1 GB to start. So the build also writes, per
level, ``{level}.packed`` (listed in the manifest with its checksum and the checksum of the GeoJSON it was made
from), which a worker maps into memory and reads in well under a second:

* the features' properties (JSON, column by column: a worker makes its tables from them without one Python
  object per feature, which would stay scattered in memory);
* their geometry in lon/lat, exactly as in the GeoJSON (same 6-decimal coordinates), as WKB;
* their geometry in Web Mercator metres simplified for each zoom 0 to ``SIMPLIFY_MAX_ZOOM``, then at full detail,
  as WKB, with each feature's Mercator bounds. A zoom whose simplification of a feature is the same as the next
  zoom's shares its bytes (low zooms change little: shared borders keep their end points).

Polygon levels tile the territory, so each level is simplified as a coverage (GEOS coverage simplification):
neighbours keep exactly the same border at every zoom and simplification never opens a gap. The tolerance is
``SIMPLIFY_PIXELS`` screen pixels of a 256-pixel tile at that zoom.

Mercator geometries stay encoded until a tile needs them (``ZoomGeometries.take`` decodes only the rows asked for),
so what a worker holds before traffic is the file's pages it touched, not a decoded copy of every zoom. A vector
tile reads its polygons' rings straight from the WKB (``ZoomGeometries.polygon_parts``), making no geometry at all
but for the few features it must clip or repair.

Layout (little-endian): the 8-byte magic ``GSPACK01``; four unsigned 64-bit sizes (the header's bytes, the features,
the levels, the blob's bytes); the header (UTF-8 JSON: format, simplification, source checksum, properties by column);
padding to 8 bytes; then the Mercator bounds (float64,
count × 4), the spans (int64, levels × count × 2: start and end of each WKB in the blob; start = end for a feature
with no geometry) and the blob. Level 0 is lon/lat; level 1 + z is zoom z; the last level is full detail.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.geometry import shape

from boundaries.mercator import HALF_WORLD, to_mercator
from boundaries.sources import sha256_of

MAGIC = b"GSPACK01"
FORMAT_VERSION = 1
# Visvalingam-Whyatt tolerance: triangles smaller than about SIMPLIFY_PIXELS² square pixels go, which moves a
# border by about one pixel at most on the usual edge lengths.
SIMPLIFY_PIXELS = 2.0
SIMPLIFY_MAX_ZOOM = 12
TILE_PIXELS = 256


class PackError(ValueError):
    """A packed file that is not one, or is not the one its manifest describes."""


def tolerance_m(z: int) -> float:
    """The simplification tolerance at zoom ``z``, in Mercator metres."""
    return 2 * HALF_WORLD / (1 << z) / TILE_PIXELS * SIMPLIFY_PIXELS


def simplify_coverage(geometries: np.ndarray) -> list[np.ndarray]:
    """Polygons that tile a territory, simplified together for each zoom 0 to SIMPLIFY_MAX_ZOOM."""
    present = np.array([g is not None for g in geometries], dtype=bool)
    levels = []
    for z in range(SIMPLIFY_MAX_ZOOM + 1):
        simplified = geometries.copy()
        if present.any():
            simplified[present] = shapely.coverage_simplify(geometries[present], tolerance_m(z))
        levels.append(simplified)
    return levels


def simplify_each(geometries: np.ndarray) -> list[np.ndarray]:
    """Geometries that overlap each other (project areas), each simplified on its own for each zoom."""
    return [shapely.simplify(geometries, tolerance_m(z), preserve_topology=True) for z in range(SIMPLIFY_MAX_ZOOM + 1)]


class ZoomGeometries:
    """Some features' Mercator geometries at each zoom and at full detail, kept as WKB, decoded on demand.

    ``spans[level, row]`` are the start and end of a row's WKB in ``buffer`` (bytes or a read-only memory map);
    level ``z`` serves zoom ``z`` and the last level every zoom above the simplified ones."""

    __slots__ = ("bounds", "buffer", "spans")

    def __init__(self, buffer: bytes | mmap.mmap, spans: np.ndarray, bounds: np.ndarray) -> None:
        self.buffer = buffer
        self.spans = spans
        self.bounds = bounds

    def __len__(self) -> int:
        return self.spans.shape[1]

    @property
    def levels(self) -> int:
        return self.spans.shape[0]

    @classmethod
    def encode(cls, levels: Sequence[np.ndarray]) -> ZoomGeometries:
        """From decoded arrays, one per level (the last at full detail), all in the same row order."""
        buffer, spans = _encode(levels)
        full = levels[-1]
        bounds = shapely.bounds(np.asarray(full, dtype=object))
        return cls(buffer, spans, bounds)

    @classmethod
    def concat(cls, parts: Sequence[ZoomGeometries], levels: int) -> ZoomGeometries:
        """Parts encoded in memory (``encode``), each with ``levels`` levels, one after the other. A part given
        several times (projects with the same area) is stored once, its rows pointing at the same bytes."""
        if not parts:
            return cls(b"", np.zeros((levels, 0, 2), dtype=np.int64), np.zeros((0, 4)))
        shift_of: dict[int, int] = {}
        chunks: list[bytes] = []
        size = 0
        for part in parts:
            if id(part) not in shift_of:
                shift_of[id(part)] = size
                chunks.append(bytes(part.buffer))
                size += len(part.buffer)
        spans = np.concatenate([part.spans + shift_of[id(part)] for part in parts], axis=1)
        return cls(b"".join(chunks), spans, np.concatenate([p.bounds for p in parts]))

    def take(self, zoom: int, rows: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """The geometries of ``rows`` (every row when None) as drawn at ``zoom``, decoded now."""
        level = min(max(zoom, 0), self.levels - 1)
        spans = self.spans[level] if rows is None else self.spans[level, np.asarray(rows, dtype=np.int64)]
        buffer = self.buffer
        return shapely.from_wkb(np.array([buffer[s:e] if e > s else None for s, e in spans.tolist()], dtype=object))

    def polygon_parts(self, zoom: int, rows: np.ndarray) -> PolygonParts:
        """The polygon rings of ``rows`` at ``zoom`` read straight from their WKB, without making geometries (a
        z6 tile of France draws 11 000 communes: decoding them, then taking their parts, rings and coordinates
        apart again, was half of its cost). Rows this reader leaves to shapely (no geometry, or anything but
        non-empty polygons and multipolygons as shapely writes them) are marked not ``decoded``."""
        level = min(max(zoom, 0), self.levels - 1)
        return read_polygon_parts(self.buffer, self.spans[level, np.asarray(rows, dtype=np.int64)])

    def full(self, rows: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        return self.take(self.levels - 1, rows)

    def subset(self, rows: np.ndarray) -> ZoomGeometries:
        """Some rows, sharing this one's buffer."""
        rows = np.asarray(rows, dtype=np.int64)
        return ZoomGeometries(self.buffer, self.spans[:, rows], self.bounds[rows])


class PolygonParts(NamedTuple):
    """Polygon rings of some rows, as ``shapely.get_parts``, ``get_rings`` and ``get_coordinates`` give them: the
    points of every ring (the closing point included), ring after ring, a row's rings in its parts' order, each
    part's exterior first; and for each row whether it was decoded."""

    coords: np.ndarray  # float64 (points, 2)
    counts: np.ndarray  # points per ring
    exterior: np.ndarray  # whether each ring is its polygon's exterior (its holes follow it)
    feature: np.ndarray  # each ring's row, among the rows asked
    decoded: np.ndarray  # bool (rows,)


WKB_POLYGON, WKB_MULTIPOLYGON = 3, 6


def read_polygon_parts(buffer: bytes | mmap.mmap, spans: np.ndarray) -> PolygonParts:
    """The rings of the WKB at ``spans`` (start and end in ``buffer``), read with numpy for all rows at once.

    WKB is a walk: a multipolygon's second part starts where its first one's rings end. So the walk is done a
    step at a time for every row together: each part, then each ring of those parts, in rounds (one for most
    rows, a commune of one polygon and no hole; as many as its parts and rings for the largest). Only
    little-endian 2D polygons and multipolygons with no empty part or ring are read; the others are left to
    shapely (``decoded`` false), as is a row whose bytes do not add up."""
    count = len(spans)
    size = len(buffer)
    starts, ends = spans[:, 0].astype(np.int64), spans[:, 1].astype(np.int64)
    decoded = ends - starts >= 13
    # views of the buffer whose element i starts at byte i: any offset can be read, aligned or not
    u8 = np.frombuffer(buffer, dtype=np.uint8)
    u32 = np.ndarray(shape=(max(size - 3, 0),), dtype="<u4", buffer=buffer, strides=(1,))
    f8 = np.ndarray(shape=(max(size - 7, 0),), dtype="<f8", buffer=buffer, strides=(1,))
    rows = np.flatnonzero(decoded)
    at = starts[rows]
    kind = u32[at + 1]
    decoded[rows[(u8[at] != 1) | ((kind != WKB_POLYGON) & (kind != WKB_MULTIPOLYGON))]] = False
    multi = decoded[rows] & (kind == WKB_MULTIPOLYGON)
    left = np.zeros(count, dtype=np.int64)  # parts still to read, per row
    left[rows[multi]] = u32[at[multi] + 5]
    cursor = starts.copy()
    cursor[rows[multi]] += 9
    left[rows[decoded[rows] & (kind == WKB_POLYGON)]] = 1
    decoded &= left > 0
    ring_row, ring_index, ring_at, ring_points = [], [], [], []
    part = 0
    while True:
        active = np.flatnonzero(decoded & (left > part))
        if not len(active):
            break
        here = cursor[active]
        fits = here + 9 <= ends[active]
        bad = active[~fits]
        active, here = active[fits], here[fits]
        good = (u8[here] == 1) & (u32[here + 1] == WKB_POLYGON)
        bad = np.concatenate([bad, active[~good]])
        active, here = active[good], here[good]
        rings = u32[here + 5].astype(np.int64)
        bad = np.concatenate([bad, active[rings == 0]])
        decoded[bad] = False
        keep = rings > 0
        active, here, rings = active[keep], here[keep] + 9, rings[keep]
        ring = 0
        while len(active):
            going = rings > ring
            cursor[active[~going]] = here[~going]
            active, here, rings = active[going], here[going], rings[going]
            if not len(active):
                break
            fits = here + 4 <= ends[active]
            decoded[active[~fits]] = False
            active, here, rings = active[fits], here[fits], rings[fits]
            points = u32[here].astype(np.int64)
            fits = (points > 0) & (here + 4 + 16 * points <= ends[active])
            decoded[active[~fits]] = False
            active, here, rings, points = active[fits], here[fits], rings[fits], points[fits]
            ring_row.append(active)
            ring_index.append(np.full(len(active), ring))
            ring_at.append(here + 4)
            ring_points.append(points)
            here = here + 4 + 16 * points
            ring += 1
        part += 1
    decoded &= cursor == ends  # every byte accounted for
    if ring_row:
        row_of = np.concatenate(ring_row)
        # the rounds went part by part, ring by ring: each row's rings came in its own order, so a stable sort by
        # row puts every ring where it belongs
        order = np.argsort(row_of, kind="stable")
        row_of = row_of[order]
        keep = decoded[row_of]
        order, row_of = order[keep], row_of[keep]
        exterior = (np.concatenate(ring_index) == 0)[order]
        points_at, counts = np.concatenate(ring_at)[order], np.concatenate(ring_points)[order]
    else:
        row_of = points_at = counts = np.zeros(0, dtype=np.int64)
        exterior = np.zeros(0, dtype=bool)
    # the floats of a ring whose points start at byte b and whose first float is output element f: element t is
    # the float at byte b + 8 (t - f), so 8 t plus a shift of the ring's own
    values = 2 * counts
    first = np.zeros(len(values), dtype=np.int64)
    np.cumsum(values[:-1], out=first[1:])
    total = int(values.sum())
    shift = np.repeat(points_at - 8 * first, values)
    coords = f8[8 * np.arange(total, dtype=np.int64) + shift].reshape(-1, 2)
    return PolygonParts(coords, counts, exterior, row_of, decoded)


def _encode(levels: Sequence[np.ndarray]) -> tuple[bytes, np.ndarray]:
    """WKB of every level, level after level (a tile at one zoom reads one region of the file), a row's level
    sharing the bytes of its previous level when they are the same."""
    count = len(levels[0])
    spans = np.zeros((len(levels), count, 2), dtype=np.int64)
    parts: list[bytes] = []
    size = 0
    previous = np.full(count, None, dtype=object)
    for level, geometries in enumerate(levels):
        encoded = shapely.to_wkb(np.asarray(geometries, dtype=object))
        for row, wkb in enumerate(encoded.tolist()):
            if wkb is None:
                spans[level, row] = (size, size)
            elif level and wkb == previous[row]:
                spans[level, row] = spans[level - 1, row]
            else:
                parts.append(wkb)
                spans[level, row] = (size, size + len(wkb))
                size += len(wkb)
        previous = encoded
    return b"".join(parts), spans


@dataclass(frozen=True)
class PackedLevel:
    """One level read from its packed file."""

    columns: dict[str, list[Any]]  # every property, in the GeoJSON's key order, one value per feature
    lonlat: np.ndarray  # decoded: every worker needs them (lookups, coverage, pictures)
    mercator: ZoomGeometries
    source_sha256: str  # the GeoJSON it was made from

    def properties(self) -> list[dict[str, Any]]:
        """The features' properties as the GeoJSON has them (a key absent from a feature is left out)."""
        names = list(self.columns)
        return [
            {k: v for k, v in zip(names, row, strict=True) if v is not ABSENT}
            for row in zip(*self.columns.values(), strict=True)
        ]


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


# a property some features lack (in the file: listed under "absent"); build-boundaries writes every key
ABSENT: Any = _Absent()


def _columns(properties: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], dict[str, list[int]]]:
    names = list(dict.fromkeys(k for p in properties for k in p))
    columns = {k: [p.get(k) for p in properties] for k in names}
    absent = {k: [i for i, p in enumerate(properties) if k not in p] for k in names}
    return columns, {k: rows for k, rows in absent.items() if rows}


def pack(properties: list[dict[str, Any]], lonlat: np.ndarray, source_sha256: str) -> bytes:
    """A level's packed file, from its features' properties and lon/lat geometries (polygons tiling the
    territory: simplified as a coverage)."""
    lonlat = np.asarray(lonlat, dtype=object)
    mercator = to_mercator(lonlat)
    levels = [lonlat, *simplify_coverage(mercator), mercator]
    blob, spans = _encode(levels)
    bounds = shapely.bounds(mercator).astype(np.float64)
    columns, absent = _columns(properties)
    header = json.dumps(
        {
            "format": FORMAT_VERSION,
            "simplify_pixels": SIMPLIFY_PIXELS,
            "simplify_max_zoom": SIMPLIFY_MAX_ZOOM,
            "source_sha256": source_sha256,
            "columns": columns,
            "absent": absent,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    sizes = np.array([len(header), len(lonlat), len(levels), len(blob)], dtype="<u8").tobytes()
    prefix = MAGIC + sizes + header
    return b"".join(
        [prefix, b"\0" * (_aligned(len(prefix)) - len(prefix)), bounds.tobytes(), spans.astype("<i8").tobytes(), blob]
    )


def _aligned(size: int) -> int:
    return (size + 7) // 8 * 8


def read_packed(buffer: bytes | mmap.mmap, name: str = "packed file") -> PackedLevel:
    """A level from a packed file's bytes (or memory map): properties and lon/lat geometries decoded, Mercator
    levels left encoded."""
    fixed = len(MAGIC) + 32
    if len(buffer) < fixed or buffer[: len(MAGIC)] != MAGIC:
        raise PackError(f"{name} is not a packed boundaries file (no {MAGIC.decode()} header)")
    header_size, count, levels, blob_size = (int(v) for v in np.frombuffer(buffer, "<u8", 4, len(MAGIC)))
    bounds_at = _aligned(fixed + header_size)
    spans_at = bounds_at + count * 32
    blob_at = spans_at + levels * count * 16
    if len(buffer) != blob_at + blob_size:
        raise PackError(f"{name} is truncated or damaged: {len(buffer)} bytes, {blob_at + blob_size} expected")
    try:
        header = json.loads(bytes(buffer[fixed : fixed + header_size]))
        if header["format"] != FORMAT_VERSION:
            raise PackError(f"{name} has format {header['format']!r}; this version reads {FORMAT_VERSION}")
        columns, source_sha256 = header["columns"], header["source_sha256"]
        for key, rows in header["absent"].items():
            for row in rows:
                columns[key][row] = ABSENT
        lengths = {len(values) for values in columns.values()}
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise PackError(f"{name} is damaged: {exc}") from exc
    bounds = np.frombuffer(buffer, "<f8", count * 4, bounds_at).reshape(count, 4)
    spans = np.frombuffer(buffer, "<i8", levels * count * 2, spans_at).reshape(levels, count, 2) + blob_at
    if count and (spans.min() < blob_at or spans.max() > len(buffer)):
        raise PackError(f"{name} is damaged: a geometry lies outside the file")
    if lengths - {count}:
        raise PackError(f"{name} is damaged: properties of {sorted(lengths)} features for {count} geometries")
    lonlat = ZoomGeometries(buffer, spans[:1], bounds).take(0)
    return PackedLevel(columns, lonlat, ZoomGeometries(buffer, spans[1:], bounds), source_sha256)


def open_packed(path: Path) -> PackedLevel:
    """A packed file mapped read-only: its Mercator levels are read from the page cache as tiles need them."""
    with path.open("rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    return read_packed(mapped, str(path))


def read_geojson_level(path: Path) -> tuple[list[dict[str, Any]], np.ndarray]:
    """A level's GeoJSON file as properties and lon/lat geometries, in the file's order."""
    features = json.loads(path.read_text("utf-8"))["features"]
    geometries = np.array([None if f["geometry"] is None else shape(f["geometry"]) for f in features], dtype=object)
    return [f["properties"] for f in features], geometries


def pack_geojson(geojson: Path, target: Path) -> dict[str, str]:
    """Pack one level's GeoJSON file into ``target``; returns its manifest entry."""
    source_sha256 = sha256_of(geojson)
    properties, geometries = read_geojson_level(geojson)
    target.write_bytes(pack(properties, geometries, source_sha256))
    return {"path": target.name, "sha256": sha256_of(target), "geojson_sha256": source_sha256}
