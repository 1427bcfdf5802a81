"""Administrative territories (commune, EPCI, arrondissement, département, région) loaded from ``data/boundaries``.

Pure logic, no web framework: the API and the CLI both call ``Boundaries``. Files are checked against the
manifest's checksums at load time, so the data version (a hash of the manifest) changes whenever any file does.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from boundaries.packed import ABSENT, PackedLevel, PackError, ZoomGeometries, open_packed, pack, read_packed
from boundaries.sources import sha256_of
from geo_service.errors import DataError, InvalidInputError, NotFoundError

LEVELS = ("commune", "epci", "arrondissement", "departement", "region")

# INSEE / SIREN code shapes: Corsica uses 2A/2B, overseas départements use three digits (971...).
CODE_PATTERNS = {
    "commune": re.compile(r"(\d{5}|2[AB]\d{3})"),
    "epci": re.compile(r"\d{9}"),
    "arrondissement": re.compile(r"(\d{3}|2[AB]\d|97\d{2})"),
    "departement": re.compile(r"(\d{2}|2[AB]|97\d)"),
    "region": re.compile(r"\d{2}"),
}
CODE_EXAMPLES = {
    "commune": "80021",
    "epci": "200035442",
    "arrondissement": "802",
    "departement": "80",
    "region": "32",
}
# Parent fields each level carries, in hierarchy order.
PARENT_FIELDS = {
    "commune": ("epci", "arrondissement", "departement", "region"),
    "epci": ("departement", "region"),
    "arrondissement": ("departement", "region"),
    "departement": ("region",),
    "region": (),
}
# The level just below in the hierarchy (communes belong to an EPCI and to an arrondissement).
CHILD_LEVEL = {
    "region": "departement",
    "departement": "arrondissement",
    "arrondissement": "commune",
    "epci": "commune",
    "commune": None,
}


@dataclass(frozen=True)
class Territory:
    level: str
    code: str
    name: str
    population: int
    area_km2: float | None
    bbox: tuple[float, float, float, float] | None  # None for the few communes the source has no polygon for
    parents: dict[str, dict[str, str]]
    children_level: str | None
    children_count: int


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise NotFoundError(f"unknown level {level!r}: expected one of {', '.join(LEVELS)}")
    return level


def check_code(level: str, code: str) -> str:
    if not CODE_PATTERNS[check_level(level)].fullmatch(code):
        raise InvalidInputError(f"malformed {level} code {code!r}: expected a code like {CODE_EXAMPLES[level]!r}")
    return code


@dataclass(frozen=True)
class Build:
    """A build-boundaries output read for serving: the manifest's bytes, each level's packed file read, and where
    each packed file is (PostGIS stores their bytes)."""

    manifest: bytes
    levels: dict[str, PackedLevel]
    packed_files: dict[str, Path]


def _checked(folder: Path, entry: dict, what: str) -> Path:
    path = folder / entry["path"]
    if not path.is_file():
        raise DataError(f"{path} is listed in the manifest but missing; rebuild with 'geo-service build-boundaries'")
    if sha256_of(path) != entry["sha256"]:
        raise DataError(f"{path} does not match the checksum in {folder / 'manifest.json'}; rebuild the {what}")
    return path


def read_build(folder: Path) -> Build:
    """A build-boundaries output, every file checked against its manifest: the GeoJSON files (the published form)
    and the packed files made from them, which are what is read."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise DataError(f"no boundaries in {folder}: {manifest_path.name} is missing")
    raw = manifest_path.read_bytes()
    manifest = json.loads(raw)
    if not manifest.get("packed"):
        raise DataError(
            f"the boundaries in {folder} have no packed files (built before they existed): "
            f"run 'geo-service pack-boundaries --dir {folder}' once"
        )
    levels, files = {}, {}
    for level in LEVELS:
        geojson = _checked(folder, manifest["files"][level], "boundaries")
        entry = manifest["packed"][level]
        if entry["geojson_sha256"] != manifest["files"][level]["sha256"]:
            raise DataError(
                f"{folder / entry['path']} was packed from another {geojson.name}: "
                f"run 'geo-service pack-boundaries --dir {folder}'"
            )
        files[level] = _checked(folder, entry, "boundaries (or run 'geo-service pack-boundaries')")
        try:
            levels[level] = open_packed(files[level])
        except PackError as exc:
            raise DataError(str(exc)) from exc
    return Build(raw, levels, files)


def _frame(columns: dict[str, list], geometries: np.ndarray) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """A level's frame, indexed and sorted by code, and the order its rows were taken in."""
    values = {k: [None if v is ABSENT else v for v in column] for k, column in columns.items()}
    for column in values.values():
        # parent codes and sources repeat on every row: one string object each, not one per row (MBs for France)
        if column and all(type(v) is str for v in column[:100]) and len(set(column)) < len(column) // 4:
            column[:] = [sys.intern(v) if type(v) is str else v for v in column]
    frame = gpd.GeoDataFrame({"geometry": geometries, **values}, geometry="geometry", crs="EPSG:4326")
    order = np.argsort(frame["code"].to_numpy(dtype=str), kind="stable")
    return frame.iloc[order].set_index("code", drop=False), order


class Boundaries:
    """Every level's features, indexed by code, plus the manifest and the data version."""

    def __init__(
        self, frames: dict[str, gpd.GeoDataFrame], manifest: dict, version: str, zooms: dict[str, ZoomGeometries]
    ) -> None:
        self.frames = frames
        self.manifest = manifest
        self.version = version
        # each level in Web Mercator, per zoom, in the frames' row order: what the tile layers draw
        self.zooms = zooms
        # A child row names its parent in the column called after the parent's level.
        self._children = {
            level: frames[child][level].value_counts().to_dict()
            for level, child in CHILD_LEVEL.items()
            if child is not None
        }
        self._trees: dict[str, shapely.STRtree] = {}
        self._trees_lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path) -> Boundaries:
        build = read_build(folder)
        return cls.from_packed(build.manifest, build.levels)

    @classmethod
    def from_packed(cls, manifest: bytes, levels: dict[str, PackedLevel]) -> Boundaries:
        """From the manifest's bytes (the data version is their hash) and each level's packed file."""
        frames, zooms = {}, {}
        for level in LEVELS:
            frames[level], order = _frame(levels[level].columns, levels[level].lonlat)
            zooms[level] = levels[level].mercator.subset(order)
        return cls(frames, json.loads(manifest), hashlib.sha256(manifest).hexdigest()[:16], zooms)

    @classmethod
    def from_rows(cls, manifest: bytes, rows: list[tuple[str, str, bytes | None]]) -> Boundaries:
        """The same data from a database loaded before packed files existed: the manifest's bytes, then (level,
        properties JSON, WKB) rows. Each level is simplified here, which takes long for all of France."""
        properties: dict[str, list[dict]] = {level: [] for level in LEVELS}
        wkbs: dict[str, list[bytes | None]] = {level: [] for level in LEVELS}
        for level, text, wkb in rows:
            properties[level].append(json.loads(text))
            wkbs[level].append(wkb)
        levels = {
            level: read_packed(pack(properties[level], shapely.from_wkb(wkbs[level]), ""), f"{level} from the database")
            for level in LEVELS
        }
        return cls.from_packed(manifest, levels)

    def counts(self) -> dict[str, int]:
        return {level: len(frame) for level, frame in self.frames.items()}

    def level(self, level: str) -> gpd.GeoDataFrame:
        return self.frames[check_level(level)]

    def name_of(self, level: str, code: str) -> str:
        return str(self.frames[level].at[code, "name"])

    def require(self, level: str, code: str, parameter: str) -> str:
        """A filter value: the code of a unit present in the data, else an error naming the parameter."""
        if code not in self.level(level).index:
            check_code(level, code)
            raise InvalidInputError(f"{parameter}={code!r}: no such {level} in the loaded data")
        return code

    def at(self, level: str, lon: float, lat: float) -> str | None:
        """The code of the unit of ``level`` containing the point, or None (outside the loaded data)."""
        frame = self.level(level)
        with self._trees_lock:
            if level not in self._trees:
                self._trees[level] = shapely.STRtree(np.asarray(frame.geometry.values, dtype=object))
            tree = self._trees[level]
        hits = tree.query(shapely.Point(lon, lat), predicate="intersects")
        return str(frame["code"].iloc[int(min(hits))]) if len(hits) else None

    def children(self, level: str, code: str) -> gpd.GeoDataFrame:
        """The units just below one (a département's arrondissements, an EPCI's communes...), by name."""
        child = CHILD_LEVEL[check_level(level)]
        if child is None:
            return self.frames["commune"].iloc[0:0]
        frame = self.frames[child]
        return frame[frame[level] == code].sort_values("name")

    def get(self, level: str, code: str) -> Territory:
        frame = self.level(level)
        check_code(level, code)
        if code not in frame.index:
            raise NotFoundError(f"no {level} with code {code!r} in the loaded data (région {self.manifest['region']})")
        row = frame.loc[code]
        parents = {
            field: {"code": row[field], "name": self.name_of(field, row[field])}
            for field in PARENT_FIELDS[level]
            if isinstance(row[field], str) and row[field] in self.frames[field].index
        }
        child = CHILD_LEVEL[level]
        geometry = row.geometry
        bbox = None if geometry is None else tuple(round(float(v), 6) for v in geometry.bounds)
        return Territory(
            level=level,
            code=code,
            name=row["name"],
            population=int(row["population"]),
            area_km2=None if geometry is None else float(row["area_km2"]),
            bbox=bbox,
            parents=parents,
            children_level=child,
            children_count=int(self._children.get(level, {}).get(code, 0)),
        )
