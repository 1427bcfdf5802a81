"""Administrative territories (commune, EPCI, arrondissement, département, région) loaded from ``data/boundaries``.

Pure logic, no web framework: the API and the CLI both call ``Boundaries``. Files are checked against the
manifest's checksums at load time, so the data version (a hash of the manifest) changes whenever any file does.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_level_features(folder: Path, level: str, manifest: dict) -> list[dict]:
    """A level's GeoJSON features, once the file is checked against the manifest."""
    entry = manifest["files"][level]
    path = folder / entry["path"]
    if not path.is_file():
        raise DataError(f"{path} is listed in the manifest but missing; rebuild with 'geo-service build-boundaries'")
    if _sha256(path) != entry["sha256"]:
        raise DataError(f"{path} does not match the checksum in {folder / 'manifest.json'}; rebuild the boundaries")
    return json.loads(path.read_text("utf-8"))["features"]


def read_build(folder: Path) -> tuple[bytes, dict[str, list[dict]]]:
    """A build-boundaries output: its manifest's bytes and every level's features, checked against it."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise DataError(f"no boundaries in {folder}: {manifest_path.name} is missing")
    raw = manifest_path.read_bytes()
    manifest = json.loads(raw)
    return raw, {level: read_level_features(folder, level, manifest) for level in LEVELS}


def _frame(features: list[dict], geometries: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """A level's frame, indexed by code; ``geometries`` (in feature order) replace the features' own."""
    frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    if geometries is not None:
        frame["geometry"] = gpd.GeoSeries(geometries, index=frame.index, crs="EPSG:4326")
    return frame.set_index("code", drop=False).sort_index()


class Boundaries:
    """Every level's features, indexed by code, plus the manifest and the data version."""

    def __init__(self, frames: dict[str, gpd.GeoDataFrame], manifest: dict, version: str) -> None:
        self.frames = frames
        self.manifest = manifest
        self.version = version
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
        return cls.from_features(*read_build(folder))

    @classmethod
    def from_features(
        cls, manifest: bytes, features: dict[str, list[dict]], geometries: dict[str, np.ndarray] | None = None
    ) -> Boundaries:
        """From the manifest's bytes (the data version is their hash) and each level's features."""
        frames = {level: _frame(features[level], None if geometries is None else geometries[level]) for level in LEVELS}
        return cls(frames, json.loads(manifest), hashlib.sha256(manifest).hexdigest()[:16])

    @classmethod
    def from_rows(cls, manifest: bytes, rows: list[tuple[str, str, bytes | None]]) -> Boundaries:
        """The same data from a database: the manifest's bytes, then (level, properties JSON, WKB) rows."""
        features: dict[str, list[dict]] = {level: [] for level in LEVELS}
        wkbs: dict[str, list[bytes | None]] = {level: [] for level in LEVELS}
        for level, properties, wkb in rows:
            features[level].append({"type": "Feature", "properties": json.loads(properties), "geometry": None})
            wkbs[level].append(wkb)
        return cls.from_features(manifest, features, {level: shapely.from_wkb(wkbs[level]) for level in LEVELS})

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
