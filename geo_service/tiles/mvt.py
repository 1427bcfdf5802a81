"""Mapbox Vector Tile (v2.1) encoding, written for speed: geometry commands and varints are built with numpy
for a whole layer at once, and only the per-feature framing is done in Python.

Coordinates: each tile is ``EXTENT`` units wide, y pointing down; features are clipped to the tile plus
``BUFFER`` units so that lines and fills join across tiles. Exterior rings have a positive area by the
surveyor's formula in tile coordinates (clockwise on screen), holes a negative one, as the specification asks;
polygons are valid in those integer coordinates, not only before rounding (``_polygon_feature_commands``).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import shapely

from boundaries.packed import ZoomGeometries

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
    if len(values) == 0:
        return b"", np.zeros(1, dtype=np.int64)
    top = int(values.max())
    if top < 0x80:  # one byte each (most tags, many geometries): the values are their own bytes
        return values.astype(np.uint8).tobytes(), np.arange(len(values) + 1, dtype=np.int64)
    # a pass per 7 bits the largest value has, not one per 7 bits a value may have: low zooms' deltas fit in two
    sizes = np.ones(len(values), dtype=np.int64)
    shift = 7
    while shift <= 56 and top >> shift:  # at most nine bytes, as before
        sizes += values >= np.uint64(1 << shift)
        shift += 7
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    out = np.empty(offsets[-1], dtype=np.uint8)
    for k in range(shift // 7):
        has = sizes > k
        every = k == 0  # every value has a first byte: no need to select them
        chunk = ((values if every else values[has]) >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = ((sizes if every else sizes[has]) > k + 1).astype(np.uint64) << np.uint64(7)
        out[(offsets[:-1] if every else offsets[:-1][has]) + k] = (chunk | more).astype(np.uint8)
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


Bounds = tuple[float, float, float, float]


def _quantize(coords: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Mercator coordinates to integer tile coordinates (y pointing down), done on the coordinate array: cheaper
    than making quantized copies of the geometries."""
    minx, _miny, maxx, maxy = bounds
    scale = EXTENT / (maxx - minx)
    out = np.empty(coords.shape, dtype=np.int64)
    out[:, 0] = np.round((coords[:, 0] - minx) * scale)
    out[:, 1] = np.round((maxy - coords[:, 1]) * scale)
    return out


def _ring_points(
    coords: np.ndarray, ring_of: np.ndarray, ring_count: int, bounds: Bounds | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Integer points of each ring as they are encoded: (coords, ring of each point, points per ring, signed area
    per ring), from the rings' points (``ring_of``: the ring of each, ``ring_count`` rings). ``bounds``: the tile's,
    to quantize Mercator coordinates; None for rings already snapped to whole tile units (``_snap_rounded``).

    The specification forbids zero-length segments: "For any pair of (dX, dY) the dX and dY MUST NOT both be 0"
    (LineTo), and "The position of the cursor before calling the ClosePath command of a linear ring SHALL NOT repeat
    the same position as the first point in the linear ring". Quantization merges vertices closer than a tile unit,
    so after it a point equal to the one before is dropped, then each ring's closing point (ClosePath draws that
    segment), then the last point left where it still equals the first: a ring whose last vertices round onto its
    start (only one can: no two points left in a row are equal)."""
    coords = _quantize(coords, bounds) if bounds is not None else np.rint(coords).astype(np.int64)
    first = _run_edges(ring_of)[0]
    keep = np.zeros(len(coords), dtype=bool)
    keep[:-1] = ~first[1:]  # not the closing point of a ring
    x, y = coords[:, 0], coords[:, 1]  # column by column: numpy's reductions along a row of two are slow
    keep[1:] &= first[1:] | (x[1:] != x[:-1]) | (y[1:] != y[:-1])  # nor a point equal to the one before
    coords, ring_of = np.compress(keep, coords, axis=0), ring_of[keep]  # ten times faster than coords[keep]
    counts = np.bincount(ring_of, minlength=ring_count)
    starts = _starts(counts)
    several = np.flatnonzero(counts > 1)
    ends, begins = coords[(starts + counts - 1)[several]], coords[starts[several]]
    closing = several[(ends[:, 0] == begins[:, 0]) & (ends[:, 1] == begins[:, 1])]
    if len(closing):  # the last point left is the first again
        keep = np.ones(len(coords), dtype=bool)
        keep[starts[closing] + counts[closing] - 1] = False
        coords, ring_of = np.compress(keep, coords, axis=0), ring_of[keep]
        counts[closing] -= 1
        starts = _starts(counts)
    # signed area (surveyor's formula, y down): exterior rings positive, holes negative
    following = _next_in_ring(coords, starts, counts)
    cross = coords[:, 0] * following[:, 1] - following[:, 0] * coords[:, 1]
    area = np.bincount(ring_of, weights=cross, minlength=ring_count)
    return coords, ring_of, counts, area


def _next_in_ring(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The value of each point's next one in its ring (rings of ``counts`` points from ``starts``, one after the
    other), the ring's first for its last: shifted by one, rather than gathered by index (several times faster)."""
    out = np.empty_like(values)
    out[:-1] = values[1:]
    has = counts > 0
    out[(starts + counts - 1)[has]] = values[starts[has]]
    return out


def _run_edges(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ids (a ring or a feature of each item): where each run of equal ids begins, and where it ends."""
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    last = np.ones(len(ids), dtype=bool)
    last[:-1] = first[1:]
    return first, last


class RowTags:
    """Every row's properties as MVT tags against one table of the layer's keys and values, worked out once per
    layer: a tile takes its rows' pairs and renumbers them, in numpy, instead of reading each row's dict.

    ``pairs`` holds (key, value) indices into ``keys`` and the values, row after row; row ``i``'s are
    ``pairs[starts[i]:starts[i + 1]]``. Value ``v`` is the encoded Value message ``values[offsets[v]:offsets[v+1]]``
    (one buffer rather than a bytes object per value: a national coverage layer has about 150 000 of them).
    Values are told apart by type and value, as MVT does.

    A table made from columns also knows which number each value has, kind by kind (``kinds``), so that
    ``replaced`` can give new values to a few rows without making the whole table again; ``appended`` counts the
    values added that way (some may no longer be used by any row: the table's owner starts afresh when they pile up).
    """

    __slots__ = ("appended", "keys", "kinds", "offsets", "pairs", "starts", "values")

    def __init__(
        self,
        keys: list[str],
        values: bytes,
        offsets: np.ndarray,
        pairs: np.ndarray,
        starts: np.ndarray,
        kinds: dict[str, KindValues] | None = None,
        appended: int = 0,
    ) -> None:
        self.keys, self.values, self.offsets, self.pairs, self.starts = keys, values, offsets, pairs, starts
        self.kinds, self.appended = kinds, appended

    def value(self, v: int) -> bytes:
        return self.values[self.offsets[v] : self.offsets[v + 1]]

    @classmethod
    def of(cls, properties: Sequence[dict[str, Any]]) -> RowTags:
        """From one dict per row (small layers: the projects)."""
        keys: dict[str, int] = {}
        values: dict[tuple[type, Any], int] = {}
        encoded: list[bytes] = []
        flat: list[int] = []
        starts = np.zeros(len(properties) + 1, dtype=np.int64)
        for row, props in enumerate(properties):
            for key, value in props.items():
                k = keys.get(key)
                if k is None:
                    k = keys[key] = len(keys)
                marker = (type(value), value)
                v = values.get(marker)
                if v is None:
                    v = values[marker] = len(encoded)
                    encoded.append(_value(value))
                flat += (k, v)
            starts[row + 1] = len(flat) // 2
        offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded], dtype=np.int64)])
        pairs = np.array(flat, dtype=np.int64).reshape(-1, 2)
        return cls(list(keys), b"".join(encoded), offsets, pairs, starts)

    @classmethod
    def from_columns(
        cls, columns: dict[str, np.ndarray], count: int, prepared: PreparedColumns | None = None
    ) -> RowTags:
        """The same table from columns of equal length (a value that is None or NaN is absent from its row, as
        in the layer's property dicts), whole columns at a time: a coverage layer is rebuilt on every write, and
        one dict (or one Python object) per row and value made this the slowest and largest part of publishing.
        Columns of one kind (booleans, integers, floats, strings) share their values, as they would in a tile.
        ``prepared``: some of the columns, worked out once (the same values, rows in the same order)."""
        prepared = prepared or PreparedColumns({}, {})
        names = list(columns)
        groups = _factorized({name: column for name, column in columns.items() if name not in prepared.columns})
        ids = np.full((count, len(names)), -1, dtype=np.int64)
        blobs, all_offsets, base, size = [], [np.zeros(1, dtype=np.int64)], 0, 0
        kinds: dict[str, KindValues] = {}
        for kind in [*prepared.kinds, *(kind for kind in groups if kind not in prepared.kinds)]:
            known, known_blob, known_offsets = prepared.kinds.get(kind, (None, b"", ZERO))
            distinct, numbers = _numbered(known, groups.get(kind, []), count)
            numbers.update({name: n for name, (k, n) in prepared.columns.items() if k == kind and name in columns})
            # the prepared values come first and are distinct: they keep their numbers; only new ones are encoded
            blob, offsets = _encode_values(kind, distinct[0 if known is None else len(known) :])
            blob, offsets = known_blob + blob, np.concatenate([known_offsets, offsets[1:] + len(known_blob)])
            for name, column_numbers in numbers.items():
                present = column_numbers >= 0
                ids[present, names.index(name)] = base + column_numbers[present]
            blobs.append(blob)
            all_offsets.append(offsets[1:] + size)
            kinds[kind] = KindValues(distinct, base + np.arange(len(distinct), dtype=np.int64))
            base, size = base + len(distinct), size + len(blob)
        rows, keys = np.nonzero(ids >= 0)  # row by row, then key by key: each row's tags in column order
        pairs = np.column_stack([keys, ids[rows, keys]]).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=count))])
        return cls(names, b"".join(blobs), np.concatenate(all_offsets), pairs, starts, kinds)

    def take(self, rows: np.ndarray) -> RowTags:
        """The same table, for some rows (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        counts = self.starts[rows + 1] - self.starts[rows]
        pairs = self.pairs[_ranges(self.starts[rows], counts)]
        starts = np.concatenate([[0], np.cumsum(counts)])
        return RowTags(self.keys, self.values, self.offsets, pairs, starts, self.kinds, self.appended)

    def replaced(self, rows: np.ndarray, columns: dict[str, np.ndarray]) -> RowTags:
        """The same table where ``rows`` (sorted, distinct) have new values in ``columns`` (each one value per row
        given; None or NaN: absent), their other keys' values unchanged. Only a table made from columns can be.

        What a tile holds is each row's keys and values, in column order, every distinct value once (a tile
        renumbers them in the order its features first use them): the same as ``from_columns`` of the whole
        columns gives, though the table's own numbering differs. So a value already in the table keeps its number
        (``kinds`` finds it), only values it lacks are encoded and added after the others, and each replaced row's
        pairs are made again from its old ones and its new values. After a write, a coverage layer's changes are
        the few rows of the communes the project reaches: this is what their tags cost, not the whole layer's."""
        if self.kinds is None:
            raise ValueError("only a table made from columns can have rows replaced")
        rows = np.asarray(rows, dtype=np.int64)
        key_of = {name: k for k, name in enumerate(self.keys)}
        # the rows' values, key by key, as they were; then the replaced columns' new values
        ids = np.full((len(rows), len(self.keys)), -1, dtype=np.int64)
        old_counts = self.starts[rows + 1] - self.starts[rows]
        old = self.pairs[_ranges(self.starts[rows], old_counts)]
        ids[np.repeat(np.arange(len(rows)), old_counts), old[:, 0]] = old[:, 1]
        ids[:, [key_of[name] for name in columns]] = -1
        kinds = dict(self.kinds)
        blobs, all_offsets = [self.values], [self.offsets]
        size, total = len(self.values), len(self.offsets) - 1
        # the new values kind by kind, as from_columns groups them, each kind's factorised at once
        groups: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {}
        for name, column in columns.items():
            column = np.asarray(column)
            present = _present(column)
            groups.setdefault(_kind(column[present], name), []).append((name, present, column[present]))
        for kind, members in groups.items():
            codes, distinct = pd.factorize(np.concatenate([values for *_, values in members]), sort=False)
            distinct = np.asarray(distinct)
            known = kinds.get(kind)
            numbers = known.find(distinct) if known is not None else np.full(len(distinct), -1, dtype=np.int64)
            missing = np.flatnonzero(numbers < 0)
            if len(missing):
                blob, offsets = _encode_values(kind, distinct[missing])
                numbers[missing] = total + np.arange(len(missing), dtype=np.int64)
                blobs.append(blob)
                all_offsets.append(offsets[1:] + size)
                size, total = size + len(blob), total + len(missing)
                added = distinct[missing], numbers[missing]
                kinds[kind] = known.extended(*added) if known is not None else KindValues(*added)
            at = 0
            for name, present, values in members:
                ids[present, key_of[name]] = numbers[codes[at : at + len(values)]]
                at += len(values)
        changed, keys = np.nonzero(ids >= 0)
        new_pairs = np.empty((len(changed), 2), dtype=np.int64)
        new_pairs[:, 0], new_pairs[:, 1] = keys, ids[changed, keys]
        row_counts = np.bincount(changed, minlength=len(rows))
        if np.array_equal(row_counts, old_counts):
            # each replaced row has as many tags as before (the usual case): its pairs are overwritten in place
            starts, pairs = self.starts, self.pairs.copy()
        else:
            # every other row's pairs move by as much as the replaced rows before it grew or shrank
            counts = np.diff(self.starts)
            new_counts = counts.copy()
            new_counts[rows] = row_counts
            starts = np.concatenate([[0], np.cumsum(new_counts)])
            row_of_pair = np.repeat(np.arange(len(counts)), counts)
            replaced_row = np.zeros(len(counts), dtype=bool)
            replaced_row[rows] = True
            kept = np.flatnonzero(~replaced_row[row_of_pair])
            pairs = np.empty((int(starts[-1]), 2), dtype=np.int64)
            pairs[kept + (starts - self.starts)[row_of_pair[kept]]] = self.pairs[kept]
        pairs[_ranges(starts[rows], row_counts)] = new_pairs
        appended = self.appended + total - (len(self.offsets) - 1)
        return RowTags(self.keys, b"".join(blobs), np.concatenate(all_offsets), pairs, starts, kinds, appended)


class TagTable:
    """Keys and values numbered for rows of properties (one dict each) that come and go a few at a time: the
    projects' layers, rebuilt after each write, keep their table and each unchanged project's encoded row, and
    encode only the new rows' properties. Values are told apart by type and value, as in ``RowTags.of``; the
    table only grows (values of rows gone stay), so its owner starts a new one once most of it is unused."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}
        self._values: dict[tuple[type, Any], int] = {}
        self._encoded: list[bytes] = []
        self._lock = threading.Lock()  # two layer sets built at once from the same one must not number apart

    def __len__(self) -> int:
        return len(self._encoded)

    def pairs(self, properties: dict[str, Any]) -> np.ndarray:
        """One row's (key, value) numbers, in its dict's order."""
        flat: list[int] = []
        with self._lock:
            for key, value in properties.items():
                k = self._keys.get(key)
                if k is None:
                    k = self._keys[key] = len(self._keys)
                marker = (type(value), value)
                v = self._values.get(marker)
                if v is None:
                    v = self._values[marker] = len(self._encoded)
                    self._encoded.append(_value(value))
                flat += (k, v)
        return np.array(flat, dtype=np.int64).reshape(-1, 2)

    def tags(self, rows: Sequence[np.ndarray]) -> RowTags:
        """The RowTags of these rows (each from ``pairs``), in this order: what ``RowTags.of`` gives of their
        dicts, but for the table's numbering."""
        with self._lock:
            keys, encoded = list(self._keys), list(self._encoded)
        pairs = np.concatenate(rows) if len(rows) else np.zeros((0, 2), dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum([len(row) for row in rows], dtype=np.int64)])
        offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded], dtype=np.int64)])
        return RowTags(keys, b"".join(encoded), offsets, pairs, starts)


class KindValues:
    """The distinct values of one kind in a RowTags table and the number of each there, looked up by value (the
    index is made on the first lookup, then kept: a table replaced after each write shares it while the kind
    gains no value)."""

    __slots__ = ("_index", "numbers", "values")

    def __init__(self, values: np.ndarray, numbers: np.ndarray) -> None:
        self.values, self.numbers = values, numbers
        self._index: pd.Index | None = None

    def find(self, values: np.ndarray) -> np.ndarray:
        """The numbers of ``values`` in the table, -1 for those it lacks (equal as factorize sees them)."""
        if len(self.values) == 0:
            return np.full(len(values), -1, dtype=np.int64)
        if self._index is None:
            self._index = pd.Index(self.values)
        positions = self._index.get_indexer(values)
        return np.where(positions >= 0, self.numbers[positions], -1).astype(np.int64)

    def extended(self, values: np.ndarray, numbers: np.ndarray) -> KindValues:
        return KindValues(np.concatenate([self.values, values]), np.concatenate([self.numbers, numbers]))


ZERO = np.zeros(1, dtype=np.int64)
ZERO.setflags(write=False)


class PreparedColumns:
    """Columns of a layer that stay the same each time it is rebuilt (names, codes, populations), factorised and
    encoded once: ``columns`` maps a name to its kind and each row's number among that kind's values (-1 where
    absent); ``kinds`` maps a kind to its distinct values, their encoded Value messages and offsets."""

    __slots__ = ("columns", "kinds")

    def __init__(
        self,
        columns: dict[str, tuple[str, np.ndarray]],
        kinds: dict[str, tuple[np.ndarray, bytes, np.ndarray]],
    ) -> None:
        self.columns, self.kinds = columns, kinds

    @classmethod
    def of(cls, columns: dict[str, np.ndarray], count: int) -> PreparedColumns:
        prepared: dict[str, tuple[str, np.ndarray]] = {}
        kinds: dict[str, tuple[np.ndarray, bytes, np.ndarray]] = {}
        for kind, members in _factorized(columns).items():
            distinct, numbers = _numbered(None, members, count)
            prepared.update({name: (kind, column_numbers) for name, column_numbers in numbers.items()})
            kinds[kind] = (distinct, *_encode_values(kind, distinct))
        return cls(prepared, kinds)


Factorized = tuple[str, np.ndarray, np.ndarray, np.ndarray]  # column name, present rows, codes, distinct values


def _factorized(columns: dict[str, np.ndarray]) -> dict[str, list[Factorized]]:
    """Each column's present rows, codes and distinct values, grouped by kind."""
    groups: dict[str, list[Factorized]] = {}
    for name, column in columns.items():
        column = np.asarray(column)
        present = _present(column)
        codes, uniques = pd.factorize(column[present], sort=False)
        uniques = np.asarray(uniques)
        groups.setdefault(_kind(uniques, name), []).append((name, present, codes, uniques))
    return groups


def _numbered(
    known: np.ndarray | None, members: list[Factorized], count: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One kind's values numbered in a single table: ``known`` values (distinct, prepared before) keep the
    numbers 0, 1, 2...; the members' values not among them follow. Returns the table's distinct values and, per
    member column, each row's number (-1 where the row has no value)."""
    parts = ([] if known is None else [known]) + [uniques for *_, uniques in members]  # never empty: a kind has one
    merged_codes, distinct = pd.factorize(np.concatenate(parts), sort=False)
    numbers, at = {}, 0 if known is None else len(known)
    for name, present, codes, uniques in members:
        column_numbers = np.full(count, -1, dtype=np.int64)
        column_numbers[present] = merged_codes[at : at + len(uniques)][codes]
        numbers[name] = column_numbers
        at += len(uniques)
    return np.asarray(distinct), numbers


def _present(column: np.ndarray) -> np.ndarray:
    if column.dtype.kind == "f":
        return ~np.isnan(column)
    if column.dtype.kind == "O":
        return ~pd.isna(column)  # None and NaN
    return np.ones(len(column), dtype=bool)


def _kind(values: np.ndarray, column: str) -> str:
    """Which values can share a table: by dtype; an object column of anything but strings stays on its own."""
    kind = values.dtype.kind
    if kind in "bf":
        return kind
    if kind in "iu":
        return "i"
    if kind == "O" and pd.api.types.infer_dtype(values, skipna=False) == "string":
        return "s"
    return f"column {column}"


def _interleave(a: bytes, a_offsets: np.ndarray, b: bytes, b_offsets: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Element i of the result is element i of ``a`` followed by element i of ``b``."""
    source = np.frombuffer(a + b, dtype=np.uint8)
    a_sizes, b_sizes = np.diff(a_offsets), np.diff(b_offsets)
    starts = np.column_stack([a_offsets[:-1], len(a) + b_offsets[:-1]]).ravel()
    blob = source[_ranges(starts, np.column_stack([a_sizes, b_sizes]).ravel())].tobytes()
    return blob, np.concatenate([[0], np.cumsum(a_sizes + b_sizes)])


def _prefixed(tag: int, blob: bytes, offsets: np.ndarray) -> tuple[bytes, np.ndarray]:
    count = len(offsets) - 1
    return _interleave(bytes([tag]) * count, np.arange(count + 1, dtype=np.int64), blob, offsets)


def _encode_values(kind: str, values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Value messages of distinct values of one kind, as one buffer and offsets (``_value`` of each, at once)."""
    count = len(values)
    if kind == "b":
        return _prefixed(0x38, values.astype(np.uint8).tobytes(), np.arange(count + 1, dtype=np.int64))
    if kind == "i":
        return _prefixed(0x30, *_varints(_zigzag(values.astype(np.int64))))
    if kind == "f":
        return _prefixed(0x19, values.astype("<f8").tobytes(), 8 * np.arange(count + 1, dtype=np.int64))
    if kind == "s":
        return _encode_strings(values.tolist())
    encoded = [_value(v) for v in values.tolist()]
    return b"".join(encoded), np.concatenate([[0], np.cumsum([len(e) for e in encoded], dtype=np.int64)])


def _encode_strings(values: list[str]) -> tuple[bytes, np.ndarray]:
    """String Value messages. Not remembered here: the large string columns (names, codes) are encoded once per
    boundaries, in the layers the memo keeps (boundary layers, PreparedColumns of the coverage's static columns),
    and what a write encodes again is a handful of values."""
    raw = [v.encode("utf-8") for v in values]
    raw_offsets = np.concatenate([[0], np.cumsum([len(r) for r in raw], dtype=np.int64)])
    text = _interleave(*_varints(np.diff(raw_offsets)), b"".join(raw), raw_offsets)
    return _prefixed(0x0A, *text)


def _first_seen(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber ids 0, 1, 2... in the order they first appear; returns (new ids, old id of each new one)."""
    if len(ids) == 0:
        return ids, ids
    unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty(len(unique), dtype=np.int64)  # sized by the tile, not by the layer's whole table
    rank[order] = np.arange(len(unique))
    return rank[inverse.reshape(-1)], unique[order]


class TileGeometry(NamedTuple):
    """A layer's features in one tile, geometry only: the geometry integers as varints, each kept feature's
    (start, end) in them and its row among the geometries given. A tile encoded again with other properties (a
    coverage tile after a write) reuses it: clipping and quantising are most of the cost."""

    data: bytes
    ranges: np.ndarray
    rows: np.ndarray

    @property
    def nbytes(self) -> int:
        return len(self.data) + self.ranges.nbytes + self.rows.nbytes


NO_GEOMETRY = TileGeometry(b"", np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64))


def tile_geometry(geometries: np.ndarray, bounds: Bounds, kind: str) -> TileGeometry:
    """The geometry of ``geometries`` (Mercator) as drawn in the tile of ``bounds``; features with nothing
    inside it are left out."""
    if len(geometries) == 0:
        return NO_GEOMETRY
    clipped = _clipped(geometries, _buffered(bounds))
    commands = _point_commands if kind == "point" else _polygon_feature_commands
    return _tile_geometry_of(commands(clipped, bounds))


def tile_geometry_packed(zooms: ZoomGeometries, z: int, rows: np.ndarray, bounds: Bounds) -> TileGeometry:
    """``tile_geometry`` of polygon ``rows`` of ``zooms`` at zoom ``z``, the same bytes, read from their WKB
    (``ZoomGeometries.polygon_parts``) rather than decoded into geometries: only the rows crossing the tile's edge
    (to be clipped), those the reader leaves to shapely, and those found invalid once rounded are decoded."""
    if len(rows) == 0:
        return NO_GEOMETRY
    rect = _buffered(bounds)
    parts = zooms.polygon_parts(z, rows)
    # a row lies inside when every point does (its bounds then do): the others are clipped, as tile_geometry does
    x, y = parts.coords[:, 0], parts.coords[:, 1]
    outside = ~((x >= rect[0]) & (y >= rect[1]) & (x <= rect[2]) & (y <= rect[3]))  # NaN: outside, to shapely
    point_row = np.repeat(parts.feature, parts.counts)
    inside = parts.decoded & (np.bincount(point_row[outside], minlength=len(rows)) == 0)
    others = np.flatnonzero(~inside)
    clipped = _clipped(zooms.take(z, rows[others]), rect) if len(others) else np.empty(0, dtype=object)
    raw = _raw_rings(clipped)
    raw = raw._replace(feature=others[raw.feature])
    kept = inside[parts.feature]
    if not kept.all():
        point_kept = np.repeat(kept, parts.counts)
        parts = parts._replace(
            coords=np.compress(point_kept, parts.coords, axis=0),
            counts=parts.counts[kept],
            exterior=parts.exterior[kept],
            feature=parts.feature[kept],
        )
    raw = _merged(_RawRings(parts.coords, parts.counts, parts.exterior, parts.feature), raw)

    def geometries_of(features: np.ndarray) -> np.ndarray:
        """The features as drawn before rounding: clipped where they cross the edge (``clipped``), else whole."""
        out = np.empty(len(features), dtype=object)
        among = np.searchsorted(others, features)
        crossing = np.zeros(len(features), dtype=bool)
        if len(others):
            crossing = (among < len(others)) & (others[np.minimum(among, len(others) - 1)] == features)
        out[crossing] = clipped[among[crossing]]
        out[~crossing] = zooms.take(z, rows[features[~crossing]])
        return out

    return _tile_geometry_of(_polygon_commands(raw, bounds, geometries_of))


def _buffered(bounds: Bounds) -> Bounds:
    """The tile's bounds and its buffer: what features are clipped to."""
    pad = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    return bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad


def _within(extent: np.ndarray, rect: Bounds) -> np.ndarray:
    """Which extents (minx, miny, maxx, maxy rows; NaN: none) lie wholly inside ``rect``."""
    return (extent[:, 0] >= rect[0]) & (extent[:, 1] >= rect[1]) & (extent[:, 2] <= rect[2]) & (extent[:, 3] <= rect[3])


def _clipped(geometries: np.ndarray, rect: Bounds) -> np.ndarray:
    """The geometries clipped to ``rect``; most features of a low-zoom tile lie wholly inside it, and only those
    crossing its edge are clipped."""
    crossing = ~_within(shapely.bounds(geometries), rect)
    clipped = geometries.copy()
    clipped[crossing] = shapely.clip_by_rect(geometries[crossing], *rect)
    return clipped


def _tile_geometry_of(commands: Commands) -> TileGeometry:
    ints, rows, first, last = commands
    if len(rows) == 0:
        return NO_GEOMETRY
    data, offsets = _varints(ints)
    return TileGeometry(data, np.column_stack([offsets[first], offsets[last]]), rows)


def encode_layer(
    name: str,
    geometries: np.ndarray,
    tags: RowTags,
    bounds: tuple[float, float, float, float],
    kind: str,
    ids: np.ndarray | None = None,
) -> bytes:
    """One layer message, or b'' when no feature has anything inside the tile. ``tags``: one row per geometry;
    ``ids``: feature ids (positive integers), one per geometry, or none."""
    return encode_features(name, tile_geometry(geometries, bounds, kind), tags, kind, ids)


def encode_features(
    name: str, geometry: TileGeometry, tags: RowTags, kind: str, ids: np.ndarray | None = None
) -> bytes:
    """One layer message from its geometry in the tile (``tile_geometry``) and its rows' tags and ids (one per
    geometry given to ``tile_geometry``); b'' when no feature is left."""
    if len(geometry.rows) == 0:
        return b""
    rows = geometry.rows
    kept = tags.take(rows)
    # the tile's own key and value tables, in the order the features first use them
    local_keys, key_ids = _first_seen(kept.pairs[:, 0])
    local_values, value_ids = _first_seen(kept.pairs[:, 1])
    features_bytes = _frame_features(
        geometry.data,
        geometry.ranges,
        np.column_stack([local_keys, local_values]).ravel(),
        2 * np.diff(kept.starts),
        None if ids is None else ids[rows],
        POINT if kind == "point" else POLYGON,
    )
    parts = [_field(1, name.encode()), features_bytes]
    parts.extend(_field(3, tags.keys[k].encode()) for k in key_ids.tolist())
    parts.extend(_field(4, tags.value(v)) for v in value_ids.tolist())
    parts.append(b"\x28" + _varint(EXTENT) + b"\x78\x02")  # extent, version 2
    return b"".join(parts)


def _frame_features(
    geometry: bytes,
    geometry_ranges: np.ndarray,
    tags: np.ndarray,
    tag_counts: np.ndarray,
    ids: np.ndarray | None,
    geometry_type: int,
) -> bytes:
    """Every Feature message of a layer (field 2 of the layer, each: id, tags, type, geometry), framed with
    numpy rather than feature by feature in Python: a z6 tile holds thousands of communes.

    Each feature is a fixed sequence of byte ranges (constants, varints, its slice of the tags' and of the
    geometry's bytes); all of them are gathered from one source buffer with a single fancy-index."""
    count = len(geometry_ranges)
    tag_bytes, tag_offsets = _varints(tags)
    tag_ends = np.cumsum(tag_counts)
    tag_ranges = np.column_stack([tag_offsets[tag_ends - tag_counts], tag_offsets[tag_ends]])
    tag_sizes = tag_ranges[:, 1] - tag_ranges[:, 0]
    geometry_sizes = geometry_ranges[:, 1] - geometry_ranges[:, 0]
    tag_len_bytes, tag_len_offsets = _varints(tag_sizes)
    geometry_len_bytes, geometry_len_offsets = _varints(geometry_sizes)
    body_sizes = (1 + np.diff(tag_len_offsets)) + tag_sizes + 2 + (1 + np.diff(geometry_len_offsets)) + geometry_sizes
    if ids is not None:
        id_bytes, id_offsets = _varints(np.asarray(ids))
        body_sizes += 1 + np.diff(id_offsets)
    else:
        id_bytes, id_offsets = b"", np.zeros(count + 1, dtype=np.int64)
    body_len_bytes, body_len_offsets = _varints(body_sizes)
    constants = bytes([0x12, 0x08, 0x18, geometry_type, 0x22])  # field tags: feature/tags, id, type, geometry
    sources = [constants, body_len_bytes, id_bytes, tag_len_bytes, tag_bytes, geometry_len_bytes, geometry]
    base = np.concatenate([[0], np.cumsum([len(b) for b in sources])])
    source = np.frombuffer(b"".join(sources), dtype=np.uint8)
    c, body_len, id_, tag_len, tag, geometry_len, geom = (int(b) for b in base[:-1])

    def varint_range(at: int, varint_offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return at + varint_offsets[:-1], np.diff(varint_offsets)

    def constant(index: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full(count, c + index), np.ones(count, dtype=np.int64)

    segments = [constant(0), varint_range(body_len, body_len_offsets)]
    if ids is not None:
        segments += [constant(1), varint_range(id_, id_offsets)]
    segments += [
        constant(0),
        varint_range(tag_len, tag_len_offsets),
        (tag + tag_ranges[:, 0], tag_sizes),
        constant(2),
        constant(3),
        constant(4),
        varint_range(geometry_len, geometry_len_offsets),
        (geom + geometry_ranges[:, 0], geometry_sizes),
    ]
    # feature by feature, segment by segment: interleave the per-segment arrays
    starts = np.column_stack([start for start, _ in segments]).ravel()
    lengths = np.column_stack([length for _, length in segments]).ravel()
    return source[_ranges(starts, lengths)].tobytes()


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start[0] .. start[0]+length[0]-1, then the next range's, and so on, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    # each position steps by one, except where a range begins: there it jumps to that range's start
    steps = np.ones(total, dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    steps[0] = starts[0]
    steps[first[1:]] = starts[1:] - (starts[:-1] + lengths[:-1] - 1)
    return np.cumsum(steps)


Commands = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
NO_COMMANDS: Commands = (np.empty(0, np.int64),) * 4


def _point_commands(points: np.ndarray, bounds: Bounds) -> Commands:
    """Geometry integers of the points, and for each feature kept: its row, first and end integer."""
    present = np.flatnonzero(~shapely.is_empty(points) & (shapely.get_type_id(points) == 0))
    if len(present) == 0:
        return NO_COMMANDS
    xy = _quantize(shapely.get_coordinates(points[present]), bounds)
    inside = np.all((xy >= -BUFFER) & (xy <= EXTENT + BUFFER), axis=1)
    present, xy = present[inside], xy[inside]
    ints = np.empty(3 * len(present), dtype=np.int64)
    ints[0::3] = MOVE_TO | (1 << 3)
    ints[1::3] = _zigzag(xy[:, 0])
    ints[2::3] = _zigzag(xy[:, 1])
    first = 3 * np.arange(len(present), dtype=np.int64)
    return ints, present.astype(np.int64), first, first + 3


def _polygon_feature_commands(geometries: np.ndarray, bounds: Bounds) -> Commands:
    """Geometry integers of the polygons, and for each feature kept: its row, first and end integer.

    The specification asks for valid polygons ("Linear rings MUST be geometric objects that have no anomalous
    geometric points, such as self-intersection or self-tangency"; "Polygon geometries MUST NOT have any interior
    rings that intersect and interior rings MUST be enclosed by the exterior ring"), in the integer coordinates a
    decoder reads. Rounding each vertex to the grid keeps almost every valid outline valid, but not all: a narrow
    spit, or a boundary running within a unit of the tile's clip edge, folds onto itself (15 communes of the région
    somewhere between z6 and z12). Snap-rounding every feature with GEOS (``shapely.set_precision``) would make
    them all valid, but costs 90 to 150 ms for the région's z6 tile, whose whole geometry otherwise takes about 6.
    So features are rounded as before, checked all at once (``_invalid_features``), and only those found invalid
    are snapped again from their clipped outline (``_snap_rounded``): the tiles that were valid keep their bytes."""
    return _polygon_commands(_raw_rings(geometries), bounds, lambda features: geometries[features])


def _polygon_commands(raw: _RawRings, bounds: Bounds, geometries_of: Callable[[np.ndarray], np.ndarray]) -> Commands:
    """``_polygon_feature_commands`` from the features' rings (``raw``); ``geometries_of``: the geometries of
    some features (sorted), for those to snap again."""
    rings = _polygon_rings(raw, bounds)
    invalid = _invalid_features(rings)
    if len(invalid):
        repaired = _polygon_rings(_raw_rings(_snap_rounded(geometries_of(invalid), bounds)), None)
        rings = _replaced(rings, invalid, repaired._replace(feature=invalid[repaired.feature]))
    if len(rings.counts) == 0:
        return NO_COMMANDS
    return _ring_commands(rings)


class _RawRings(NamedTuple):
    """The rings of some features' polygons before rounding (other parts left out), as ``shapely.get_parts``,
    ``get_rings`` and ``get_coordinates`` give them: their points, closing point included; points per ring;
    which rings are exteriors (each followed by its holes); each ring's feature. ``PolygonParts`` reads the same
    from WKB."""

    coords: np.ndarray
    counts: np.ndarray
    exterior: np.ndarray
    feature: np.ndarray


def _raw_rings(geometries: np.ndarray) -> _RawRings:
    polygons, polygon_feature = shapely.get_parts(geometries, return_index=True)
    is_polygon = shapely.get_type_id(polygons) == 3
    polygons, polygon_feature = polygons[is_polygon], polygon_feature[is_polygon]
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    return _RawRings(
        coords,
        np.bincount(ring_of, minlength=len(rings)),
        _run_edges(ring_polygon)[0],
        polygon_feature[ring_polygon].astype(np.int64),
    )


def _merged(a: _RawRings, b: _RawRings) -> _RawRings:
    """The rings of two sets of features (neither has a feature of the other) in feature order."""
    if len(b.counts) == 0:
        return a
    if len(a.counts) == 0:
        return b
    feature = np.concatenate([a.feature, b.feature])
    order = np.argsort(feature, kind="stable")
    counts = np.concatenate([a.counts, b.counts])[order]
    starts = np.concatenate([_starts(a.counts), len(a.coords) + _starts(b.counts)])[order]
    return _RawRings(
        np.concatenate([a.coords, b.coords]).take(_ranges(starts, counts), axis=0),
        counts,
        np.concatenate([a.exterior, b.exterior])[order],
        feature[order],
    )


class _Rings(NamedTuple):
    """Polygon rings as they are encoded, ring after ring, a feature's after the one before's: their integer points
    (``_ring_points``; exteriors with a positive area, holes a negative one), points per ring, which rings are
    exteriors (each followed by its holes), and each ring's feature (its row among the geometries given)."""

    coords: np.ndarray
    counts: np.ndarray
    exterior: np.ndarray
    feature: np.ndarray


def _polygon_rings(raw: _RawRings, bounds: Bounds | None) -> _Rings:
    """The rings of the features' polygons (``raw``) in tile units: rounded to the grid of ``bounds``, or, with
    None, already snapped to whole units. A ring with fewer than 3 points or no area left is
    dropped (the specification: "A LineTo command with a command count greater than 1", and a ring "SHOULD NOT have
    an area ... equal to zero"), with its holes if it was an exterior; orientation is forced, exteriors positive and
    holes negative, so that a hole stays a hole whichever way rounding turned it."""
    exterior = raw.exterior
    ring_polygon = np.cumsum(exterior) - 1  # the polygons numbered in order: each exterior starts one
    ring_of = np.repeat(np.arange(len(raw.counts)), raw.counts)
    coords, ring_of, counts, area = _ring_points(raw.coords, ring_of, len(raw.counts), bounds)
    usable = (counts >= 3) & (area != 0)
    # a hole is kept only with its exterior
    polygon_ok = np.zeros(int(exterior.sum()), dtype=bool)
    polygon_ok[ring_polygon[exterior & usable]] = True
    usable &= polygon_ok[ring_polygon]
    flip = usable & ((exterior & (area < 0)) | (~exterior & (area > 0)))
    kept = np.flatnonzero(usable)
    take = usable[ring_of]
    coords, ring_of = np.compress(take, coords, axis=0), ring_of[take]
    n = counts[kept]
    if flip.any():
        # reverse the points of the rings whose winding is wrong, in place
        first = np.repeat(_starts(n), n)
        last = first + np.repeat(n, n) - 1
        order = np.arange(len(coords))
        flipped = flip[ring_of]
        order[flipped] = (first + last - order)[flipped]
        coords = coords.take(order, axis=0)
    return _Rings(coords, n, exterior[kept], raw.feature[kept])


# Below this many points in a tile, GEOS checks every ring sooner than numpy finds those it need not check.
STAR_SHORTCUT_POINTS = 1024
STAR_MAX_POINTS = 1 << 16  # the star-shaped test's integer products stay within int64 up to rings this long


def _invalid_features(rings: _Rings) -> np.ndarray:
    """The features (sorted) whose rings do not make a valid polygon or multipolygon, as shapely (GEOS) sees them
    in tile coordinates: self-intersecting or self-touching rings, holes crossing each other or their exterior,
    parts of a multipolygon overlapping.

    Every feature is checked; most are one ring, whose validity is that of the polygon it makes, so it is checked
    as a linear ring, and only features with holes or several parts are built as (multi)polygons. GEOS costs about
    0.6 µs a ring of a few points: 2.4 ms for the 3 800 communes of the région's z6 tile, as much as the rest of its
    geometry. So in tiles of many points, lone rings that are star-shaped around their mean vertex (``_star_shaped``:
    95 % of them at z6 and z7, where tiles hold the most features, half at z9, a third beyond) are known valid
    without it; what is left is mostly the long rings of high zooms, where GEOS's cost goes with their points."""
    if len(rings.counts) == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = _run_edges(rings.feature)
    alone = first & last
    needed = ~alone
    needed |= ~_star_shaped(rings) if len(rings.coords) >= STAR_SHORTCUT_POINTS else alone
    shapes = np.empty(len(rings.counts), dtype=object)
    shapes[needed] = _linearrings(rings, needed)
    lone = alone & needed
    checked, features = shapes[lone], rings.feature[lone]
    if not alone.all():
        exterior = rings.exterior[~alone]
        polygons = shapely.polygons(shapes[~alone], indices=np.cumsum(exterior) - 1)  # each exterior, its holes
        polygon_feature = rings.feature[~alone][exterior]
        starts = _run_edges(polygon_feature)[0]
        parts = shapely.multipolygons(polygons, indices=np.cumsum(starts) - 1)
        checked, features = np.concatenate([checked, parts]), np.concatenate([features, polygon_feature[starts]])
    return np.sort(features[~shapely.is_valid(checked)])


def _star_shaped(rings: _Rings) -> np.ndarray:
    """Which rings are star-shaped around the mean of their points, hence simple: seen from there, each edge turns
    the way an exterior does (a strictly positive cross product, in integers: exact), and the whole goes round once
    (the angles add up to one full turn, not two as a star polygon's). The edges then lie in separate angular
    sectors, meeting only at their shared vertices. Every strictly convex ring passes; a long one is left to GEOS."""
    counts, starts = rings.counts, _starts(rings.counts)
    ring_of = np.repeat(np.arange(len(counts)), counts)
    # n * point - sum of the ring's points: n times the vector from the mean, in integers
    total = np.add.reduceat(rings.coords, starts, axis=0) if len(starts) else rings.coords[:0]
    spoke = rings.coords * counts[ring_of, None] - total[ring_of]
    after = _next_in_ring(spoke, starts, counts)
    cross = spoke[:, 0] * after[:, 1] - spoke[:, 1] * after[:, 0]
    angle = np.arctan2(cross, spoke[:, 0] * after[:, 0] + spoke[:, 1] * after[:, 1])
    turning = np.bincount(ring_of, weights=cross > 0, minlength=len(counts)) == counts
    once = np.bincount(ring_of, weights=angle, minlength=len(counts)) < 3 * np.pi
    return turning & once & (counts <= STAR_MAX_POINTS)


def _linearrings(rings: _Rings, which: np.ndarray) -> np.ndarray:
    """Shapely linear rings of some of the rings (a mask); linearrings() closes each one itself."""
    counts = rings.counts[which]
    points = rings.coords if which.all() else rings.coords.take(_ranges(_starts(rings.counts)[which], counts), axis=0)
    return shapely.linearrings(points.astype(np.float64), indices=np.repeat(np.arange(len(counts)), counts))


def _snap_rounded(geometries: np.ndarray, bounds: Bounds) -> np.ndarray:
    """The geometries (Mercator, clipped) in tile units snapped to whole units by GEOS, which keeps polygons valid
    (snap-rounding: edges passing near a vertex are split there, collapsed parts are dropped; a polygon may become
    several, or nothing). Geometries already invalid before rounding (clipping can make some) are first made
    valid; their lines and points are then left out with the other non-polygons (``_polygon_rings``)."""
    minx, _miny, maxx, maxy = bounds
    scale = EXTENT / (maxx - minx)
    tile = shapely.transform(geometries, lambda xy: (xy - (minx, maxy)) * (scale, -scale))  # as _quantize, unrounded
    broken = ~shapely.is_valid(tile)
    if broken.any():
        tile[broken] = shapely.make_valid(tile[broken])
    return shapely.set_precision(tile, grid_size=1)


def _replaced(rings: _Rings, features: np.ndarray, others: _Rings) -> _Rings:
    """``rings`` with the rings of ``features`` replaced by ``others`` (rings of those features), in feature
    order."""
    keep = ~np.isin(rings.feature, features)
    feature = np.concatenate([rings.feature[keep], others.feature])
    order = np.argsort(feature, kind="stable")
    counts = np.concatenate([rings.counts[keep], others.counts])[order]
    starts = np.concatenate([_starts(rings.counts)[keep], len(rings.coords) + _starts(others.counts)])[order]
    return _Rings(
        np.concatenate([rings.coords, others.coords]).take(_ranges(starts, counts), axis=0),
        counts,
        np.concatenate([rings.exterior[keep], others.exterior])[order],
        feature[order],
    )


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of ``counts`` items begins."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _ring_commands(rings: _Rings) -> Commands:
    """Geometry integers of the rings (MoveTo, LineTo, ClosePath each), and for each feature: its row, first and
    end integer."""
    coords, n, feature_of_ring = rings.coords, rings.counts, rings.feature
    ring_first = _starts(n)
    # deltas between consecutive points; the cursor restarts at (0, 0) with each feature
    delta = np.diff(coords, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    feature_start = _run_edges(feature_of_ring)[0]
    delta[ring_first[feature_start]] = coords[ring_first[feature_start]]
    size = 2 * n + 3
    out_start = _starts(size)
    ints = np.empty(int(size.sum()), dtype=np.int64)
    ints[out_start] = MOVE_TO | (1 << 3)
    ints[out_start + 3] = LINE_TO | ((n - 1) << 3)
    ints[out_start + size - 1] = CLOSE_PATH | (1 << 3)
    k = np.arange(len(coords)) - np.repeat(ring_first, n)
    position = np.repeat(out_start, n) + 1 + 2 * k + (k > 0)
    ints[position] = _zigzag(delta[:, 0])
    ints[position + 1] = _zigzag(delta[:, 1])
    first_rings = np.flatnonzero(feature_start)
    last_rings = np.append(first_rings[1:], len(n)) - 1
    return ints, feature_of_ring[first_rings], out_start[first_rings], out_start[last_rings] + size[last_rings]


def encode_tile(
    layers: Sequence[tuple[str, np.ndarray, RowTags, str, np.ndarray | None]],
    bounds: tuple[float, float, float, float],
) -> bytes:
    """A tile from (name, Mercator geometries, tags, kind, ids) layers; b'' when it would hold no feature."""
    return wrap_layers([encode_layer(name, g, t, bounds, kind, ids) for name, g, t, kind, ids in layers])


def wrap_layers(bodies: Sequence[bytes]) -> bytes:
    """A tile from layer messages (those that are b'' left out)."""
    return b"".join(_field(3, body) for body in bodies if body)
