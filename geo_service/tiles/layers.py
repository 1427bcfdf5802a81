"""The map layers: what each shows, its features in Web Mercator, and their geometry simplified for each zoom.

Polygon layers that tile the région (communes, EPCI, arrondissements, départements, région, and the coverage and
zones blanches, which are rows of the communes) come simplified for each zoom from the boundaries' packed files
(``boundaries.packed``: computed once by build-boundaries, as a coverage, so neighbours keep the same border);
above ``SIMPLIFY_MAX_ZOOM`` the full geometry is used. Geometries stay encoded until a tile asks for its rows.
Project areas overlap each other, so each is simplified on its own, here, and kept by the territories it is the
union of.

The layers are a function of the boundaries, projects and coverage: no layer set reads another. What the layer
sets of one snapshot line share (boundary layers, each project's rows, the areas, the coverage layers of each
parameter set) lives in the snapshot's memo (``geo_service.memo``, kinds ``tiles.*``) under keys naming the content
it is made from, so a write re-derives only what it changed, and a result is never served for other content.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
import shapely

from boundaries.packed import SIMPLIFY_MAX_ZOOM, ZoomGeometries, simplify_each
from geo_service.coverage import Coverage
from geo_service.errors import NotFoundError
from geo_service.memo import PARAMS_KEPT, HashedOnce, Memo
from geo_service.parameters import CoverageParams
from geo_service.projects.catalogue import ProjectCatalogue, selected
from geo_service.projects.models import Project
from geo_service.territories import Boundaries
from geo_service.tiles.grid import to_mercator
from geo_service.tiles.mvt import PreparedColumns, RowTags, TagTable

# Below this zoom a commune is a few pixels wide: vector tile features carry only what styling needs; their
# other fields, and their INSEE/SIREN code as feature id, come from this zoom on (half the bytes at z6-z8).
DETAIL_ZOOM = 9


@dataclass(frozen=True)
class LayerInfo:
    name: str
    title: str  # French, shown on maps
    kind: Literal["polygon", "point"]
    description: str
    maxzoom: int = 14
    depends_on_coverage: bool = False


LAYERS: dict[str, LayerInfo] = {
    info.name: info
    for info in [
        LayerInfo("communes", "Communes", "polygon", "Commune outlines: code, name, population, EPCI."),
        LayerInfo("epci", "Intercommunalités (EPCI)", "polygon", "EPCI outlines: code, name, population, kind."),
        LayerInfo("arrondissements", "Arrondissements", "polygon", "Arrondissement outlines."),
        LayerInfo("departements", "Départements", "polygon", "Département outlines."),
        LayerInfo("region", "Région", "polygon", "The région's outline."),
        LayerInfo(
            "projects",
            "Projets financés (actions locales)",
            "point",
            "One point per local project (communes, EPCI, arrondissements), with its main fields. A project covering a "
            "whole département or the région has no point: where it helps is its area (layer project-areas).",
        ),
        LayerInfo("project-areas", "Territoires d'intervention", "polygon", "Each project's intervention area."),
        LayerInfo(
            "coverage",
            "Couverture des communes",
            "polygon",
            "Communes with coverage fields: best scope, local projects, distance, rural, zone blanche.",
            depends_on_coverage=True,
        ),
        LayerInfo(
            "zones-blanches",
            "Zones blanches",
            "polygon",
            "Rural communes no local action reaches, farther than max_km from one.",
            depends_on_coverage=True,
        ),
    ]
}
BOUNDARY_LEVELS = {
    "communes": "commune",
    "epci": "epci",
    "arrondissements": "arrondissement",
    "departements": "departement",
    "region": "region",
}
LAYER_OF_LEVEL = {level: layer for layer, level in BOUNDARY_LEVELS.items()}
BOUNDARY_PROPERTIES = {
    "communes": ("code", "name", "population", "epci"),
    "epci": ("code", "name", "population", "kind"),
    "arrondissements": ("code", "name", "population", "departement"),
    "departements": ("code", "name", "population"),
    "region": ("code", "name", "population"),
}
COVERAGE_PROPERTIES = (
    "code",
    "name",
    "population",
    "density",
    "rural",
    "best_scope",
    "local_projects",
    "distance_km",
    "zone_blanche",
)
LOW_ZOOM_PROPERTIES = {"coverage": ("best_scope", "local_projects", "zone_blanche")}
# the coverage fields that come from the boundaries: no write changes them
COVERAGE_STATIC = ("code", "name", "population", "density")
COVERAGE_CHANGING = tuple(c for c in COVERAGE_PROPERTIES if c not in COVERAGE_STATIC)
# After a write, the coverage layers are made from the ones before it when at most this share of their rows changed
# (and while the values those rows no longer use are fewer than that): past it, afresh is as quick
REPLACE_MAX_SHARE = 0.25
# The project layers' TagTable is started afresh when it holds more than this many values and more than this
# share of them belong to no project any more (projects gone, or edited since)
TAG_TABLE_SLACK = 256
TAG_TABLE_STALE_SHARE = 0.5
# Project areas kept in the memo that no current project uses (an edit undone, a project deleted then restored)
AREAS_SPARE = 16
LOW_ZOOM_FIELDS: tuple[str, ...] = ()  # boundary layers below DETAIL_ZOOM: outlines only


def check_layer(name: str) -> LayerInfo:
    info = LAYERS.get(name)
    if info is None:
        raise NotFoundError(f"unknown layer {name!r}: expected one of {', '.join(LAYERS)}")
    return info


@dataclass
class LayerData:
    """Features of one layer: Mercator geometries per zoom (encoded), properties, index."""

    info: LayerInfo
    zooms: ZoomGeometries
    properties: Sequence[dict[str, Any]]  # a list, or Records (made on demand) for the large layers
    # what the geometries are made of: the boundaries' version for boundary layers and their subsets, one tag
    # per row (the project's record digest) for project layers; tiles are cached by content (see content_key)
    geometry_tags: list[str] | str = ""
    # given by subset() (taken from the layer it is cut from), else worked out here
    ids: np.ndarray | None = None
    _row_hashes: dict[bool, np.ndarray] = field(init=False, default_factory=dict)
    # the rows' vector tile tags, detail (True) and below DETAIL_ZOOM (False): worked out here, when the layer is
    # built (at start or while publishing), so no tile request pays for it; given by a subset's maker
    tags: dict[bool, RowTags] | None = None

    def __post_init__(self) -> None:
        if self.ids is None:
            codes = (
                [str(c) for c in self.properties.columns["code"].tolist()]
                if isinstance(self.properties, Records) and "code" in self.properties.columns
                else [str(p.get("code", "")) for p in self.properties]
            )
            # INSEE and SIREN codes are digits (but Corsica's 2A/2B): those make stable feature ids
            if all(c.isdigit() for c in codes):
                self.ids = np.array([int(c) for c in codes], dtype=np.uint64)
        tags = self.tags = dict(self.tags or {})
        if True not in tags:
            tags[True] = RowTags.of(self.properties)
        if False not in tags:
            keep = low_zoom_fields(self.info)
            if keep is None:
                tags[False] = tags[True]
            elif isinstance(self.properties, Records):
                columns = {k: self.properties.columns[k] for k in keep if k in self.properties.columns}
                tags[False] = RowTags.from_columns(columns, len(self))
            else:
                tags[False] = RowTags.of(self.low_zoom_properties())

    @property
    def thinned(self) -> bool:
        """Whether tiles below DETAIL_ZOOM carry fewer fields than the others."""
        return low_zoom_fields(self.info) is not None

    def low_zoom_properties(self) -> list[dict[str, Any]]:
        """What tiles below DETAIL_ZOOM carry of each row (made when asked: tiles read the tags)."""
        keep = low_zoom_fields(self.info)
        if keep is None:
            return self.properties
        return [{k: p[k] for k in keep if k in p} for p in self.records(np.arange(len(self)))]

    def __len__(self) -> int:
        return len(self.zooms)

    def query(self, minx: float, miny: float, maxx: float, maxy: float) -> np.ndarray:
        """The rows whose bounding box meets the box, in row order. A comparison over the rows' bounds (about
        0.1 ms for the 35 000 communes of France, against tens of ms to encode a tile) rather than a spatial
        index, which would hold one box polygon per row for every layer and every coverage parameter set."""
        bounds = self.zooms.bounds
        return np.flatnonzero(
            (bounds[:, 0] <= maxx) & (bounds[:, 2] >= minx) & (bounds[:, 1] <= maxy) & (bounds[:, 3] >= miny)
        )

    def geometries_at(self, z: int, rows: np.ndarray | list[int] | None = None) -> np.ndarray:
        """The geometries of ``rows`` (all when None) as drawn at zoom ``z``."""
        return self.zooms.take(z, rows)

    def tags_at(self, z: int) -> RowTags:
        """The rows' properties at zoom ``z`` as vector tile tags."""
        return self.tags[z >= DETAIL_ZOOM]

    def set_row_hashes(self, detail: np.ndarray, low: np.ndarray) -> None:
        """Row hashes computed by the caller (from the columns the properties were made of)."""
        self._row_hashes = {True: detail.astype(np.uint64), False: low.astype(np.uint64)}

    def row_hashes(self, z: int) -> np.ndarray | None:
        """A stable 64-bit hash of each row as a tile at zoom ``z`` shows it (its properties there, and its
        geometry's tag): two tiles with the same rows and hashes have the same bytes, whatever the version.
        None for a boundary layer: its one tag (the boundaries' version) fixes every row's content already."""
        detail = z >= DETAIL_ZOOM or not self.thinned
        found = self._row_hashes.get(detail)
        if found is None and isinstance(self.geometry_tags, str):
            return None
        if found is None:
            properties = self.properties if detail else self.low_zoom_properties()
            tags = self.geometry_tags
            found = np.array(
                [
                    int.from_bytes(
                        hashlib.blake2b(
                            json.dumps([p, tags[i]], sort_keys=True, default=str).encode(), digest_size=8
                        ).digest(),
                        "little",
                    )
                    for i, p in enumerate(properties)
                ],
                dtype=np.uint64,
            )
            self._row_hashes[detail] = found
        return found

    def ids_at(self, z: int) -> np.ndarray | None:
        return self.ids if z >= DETAIL_ZOOM or not self.thinned else None

    def property_names(self) -> list[str]:
        return list(self.properties[0]) if len(self.properties) else []

    def records(self, rows: np.ndarray | Sequence[int]) -> list[dict[str, Any]]:
        """The property dicts of some rows."""
        if isinstance(self.properties, Records):
            return self.properties.take(rows)
        return [self.properties[i] for i in rows]

    def find(self, column: str, value: Any) -> np.ndarray:
        """The rows whose property ``column`` equals ``value``."""
        if isinstance(self.properties, Records):
            return self.properties.find(column, value)
        return np.array([i for i, p in enumerate(self.properties) if p.get(column) == value], dtype=np.int64)

    def subset(
        self,
        rows: np.ndarray,
        info: LayerInfo,
        properties: Sequence[dict[str, Any]],
        tags: dict[bool, RowTags] | None = None,
    ) -> LayerData:
        """Some rows of this layer, reusing its simplifications (they stay a valid coverage) and feature ids;
        ``properties`` and ``tags``: the subset's own (tags worked out from ``properties`` when not given)."""
        geometry_tags = (
            [self.geometry_tags[i] for i in rows] if isinstance(self.geometry_tags, list) else self.geometry_tags
        )
        ids = None if self.ids is None else self.ids[rows]
        return LayerData(info, self.zooms.subset(rows), properties, geometry_tags, ids, tags)


def low_zoom_fields(info: LayerInfo) -> tuple[str, ...] | None:
    """The fields tiles below DETAIL_ZOOM keep, or None when they keep everything."""
    if info.kind == "point" or info.name == "project-areas":
        return None  # a few dozen features: no need to thin them
    return LOW_ZOOM_PROPERTIES.get(info.name, ())


class Records(Sequence[dict[str, Any]]):
    """Rows of a frame's columns as the dicts the code reads (a value that is None or NaN left out: MVT has no
    null), each made when asked. The columns stay numpy arrays: one dict per row for the 35 000 communes of
    France, in the boundary layers and again in each coverage layer, held tens of megabytes for nothing."""

    def __init__(self, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
        self.columns = {column: frame[column].to_numpy() for column in columns}
        self._count = len(frame)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.take(np.arange(self._count)[index])
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return self.take([index])[0]

    def take(self, rows: np.ndarray | Sequence[int]) -> list[dict[str, Any]]:
        """The dicts of some rows, made column by column."""
        rows = np.asarray(rows, dtype=np.int64)
        names = list(self.columns)
        values = [self.columns[name][rows].tolist() for name in names]
        return [
            {k: v for k, v in zip(names, row, strict=True) if v is not None and v == v}
            for row in zip(*values, strict=True)
        ]

    def find(self, column: str, value: Any) -> np.ndarray:
        """The rows whose ``column`` equals ``value``."""
        return np.flatnonzero(self.columns[column] == value)

    def subset(self, rows: np.ndarray) -> Records:
        """Some rows, as their own Records."""
        kept = Records.__new__(Records)
        kept.columns = {name: values[rows] for name, values in self.columns.items()}
        kept._count = len(rows)
        return kept


def _territory_key(project: Project) -> tuple[tuple[str, str], ...]:
    """What a project's area is the union of (see catalogue._build_project)."""
    return tuple(sorted((t.level, t.code) for t in project.territories))


def _simplified_area(area: shapely.Geometry) -> ZoomGeometries:
    """A project's area (WGS84) in Web Mercator, simplified for each zoom and encoded."""
    mercator = to_mercator(np.array([area], dtype=object))
    return ZoomGeometries.encode([*simplify_each(mercator), mercator])


def _grant_properties(p: Project) -> dict[str, Any]:
    """The facts of a project's grant in both project layers. A vector tile has no null: a fact not given is a
    field left out (the feature lacks it), never a made-up value; ``to_check`` is always there."""
    facts: dict[str, Any] = {}
    if p.funding_years:
        facts["funding_years"] = ",".join(map(str, p.funding_years))  # no list in a tile: "2023,2024"
    if p.amount_eur is not None:
        facts["amount_eur"] = float(p.amount_eur)
    if p.status is not None:
        facts["status"] = p.status
    if p.end_date is not None:
        facts["end_date"] = p.end_date.isoformat()
    if p.duration_years is not None:
        facts["duration_years"] = p.duration_years
    facts["to_check"] = bool(p.to_check)
    return facts


def _point_properties(p: Project) -> dict[str, Any]:
    """A project's properties in the projects layer."""
    return {
        "id": p.id,
        "name": p.name,
        "organisation": p.organisation,
        "place": p.place_text,
        "axes": ",".join(map(str, p.axes)),
        "action_types": ",".join(p.action_types),
        "mobile": p.mobile,
        "reach": p.reach,
        "communes": len(p.communes),
        **_grant_properties(p),
    }


def _area_properties(p: Project) -> dict[str, Any]:
    """A project's properties in the project-areas layer."""
    return {
        "id": p.id,
        "name": p.name,
        "organisation": p.organisation,
        "main_type": p.action_types[0] if p.action_types else "",
        "scope": p.scope,
        "reach": p.reach,
        **_grant_properties(p),
    }


@dataclass(frozen=True)
class _ProjectRow:
    """What the project layers hold of one project: made once per project content (and tag table), in the memo."""

    territories: tuple[tuple[str, str], ...]
    point: dict[str, Any]
    area: dict[str, Any]
    point_pairs: np.ndarray  # the tags of point and area, numbered in one TagTable (see _TagTables)
    area_pairs: np.ndarray

    @classmethod
    def of(cls, project: Project, table: TagTable) -> _ProjectRow:
        point, area = _point_properties(project), _area_properties(project)
        return cls(_territory_key(project), point, area, table.pairs(point), table.pairs(area))


class _TagTables:
    """The TagTable the project layers' rows are numbered in, one for the memo's life (``Memo.shared``), until
    most of its values belong to no project any more: then a new one, of the next generation. A row's pairs are
    valid in the table they were numbered in only, so the rows are kept in the memo under the generation too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._table = TagTable()

    def current(self) -> tuple[int, TagTable]:
        with self._lock:
            return self._generation, self._table

    def restart(self, generation: int) -> tuple[int, TagTable]:
        """A new table, unless another build has started one since ``generation`` (then that one)."""
        with self._lock:
            if self._generation == generation:
                self._generation, self._table = generation + 1, TagTable()
            return self._generation, self._table


def _tags(frame: pd.DataFrame, columns: tuple[str, ...], prepared: PreparedColumns | None = None) -> RowTags:
    return RowTags.from_columns({column: frame[column].to_numpy() for column in columns}, len(frame), prepared)


def _short_hash(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:12]


def _boundary_layers(boundaries: Boundaries) -> tuple[dict[str, LayerData], pd.Index]:
    """The boundary layers of these boundaries, and the communes' codes (what coverage rows are matched by)."""
    layers = {}
    for name, level in BOUNDARY_LEVELS.items():
        frame = boundaries.level(level)
        layers[name] = LayerData(
            LAYERS[name],
            boundaries.zooms[level],
            Records(frame, BOUNDARY_PROPERTIES[name]),
            boundaries.version,
            tags={True: _tags(frame, BOUNDARY_PROPERTIES[name]), False: _tags(frame, LOW_ZOOM_FIELDS)},
        )
    return layers, pd.Index(boundaries.level("commune")["code"])


def _project_content(boundaries: Boundaries, projects: ProjectCatalogue, project: Project) -> tuple[object, ...]:
    """What a project's rows and area in the layers are made from: the boundaries, its record's content and the
    day's « à vérifier » reasons (the catalogue's own content key; a project without a store digest is keyed by
    its JSON)."""
    digest = projects.digests.get(project.id) or hashlib.sha256(project.model_dump_json().encode()).hexdigest()
    reasons = None if project.to_check is None else tuple(project.to_check)
    return boundaries.version, digest, reasons


# Coverage layers entry: the layers, their version, the figures they were made from
CoverageSet = tuple[dict[str, LayerData], str, pd.DataFrame]
# Its key in the memo: boundaries version, the coverage's key, the projects a selection keeps, the parameters
CoverageKey = tuple[str, HashedOnce, tuple[str, ...] | None, CoverageParams]


class LayerSet:
    """Every layer, with its version: boundary layers change with the boundaries only, the project layers with the
    projects, the coverage layers with their content (a write that reaches no new commune leaves them as they
    were). The coverage layers are built once per parameter set.

    A function of the boundaries, projects and coverage alone: what two layer sets of the same content share is
    found in ``memo`` under content keys (kinds ``tiles.*``), never taken from another layer set. Boundary layers
    by the boundaries' version; each project's rows by its content and its area by the territories it is the
    union of; the coverage layers by the boundaries, the figures' content and the parameters, and those of other
    figures under the same parameters are where new figures' layers are made from (``_changed_coverage_layers``)."""

    def __init__(
        self, boundaries: Boundaries, projects: ProjectCatalogue, coverage: Coverage, memo: Memo | None = None
    ) -> None:
        """``memo``: the snapshot's (``ServiceData.memo``); a new one when not given (nothing shared)."""
        self._memo = memo = memo if memo is not None else Memo()
        self._coverage, self._projects = coverage, projects
        self._lock = threading.Lock()
        self._boundaries_version = version = boundaries.version
        boundary_layers, self._commune_codes = memo.get(
            "tiles.boundary_layers", version, lambda: _boundary_layers(boundaries)
        )
        self.layers: dict[str, LayerData] = dict(boundary_layers)
        self.versions: dict[str, str] = {name: _short_hash(version) for name in BOUNDARY_LEVELS}
        listed = list(projects.projects.values())
        contents = {p.id: _project_content(boundaries, projects, p) for p in listed}
        rows = self._project_rows(listed, contents)
        # a département- or région-wide project is not drawn as a point: any point would say the aid is there
        local = [p for p in listed if p.scope == "local"]
        # (no local project at all, every one département- or région-wide or set aside: an empty layer)
        points = (
            to_mercator(shapely.points([[p.point.lon, p.point.lat] for p in local]))
            if local
            else np.empty(0, dtype=object)
        )
        point_tags = self._tag_table.tags([rows[p.id].point_pairs for p in local])
        self.layers["projects"] = LayerData(
            LAYERS["projects"],
            ZoomGeometries.encode([np.asarray(points, dtype=object)]),
            [rows[p.id].point for p in local],
            geometry_tags=[f"{version}:{projects.digests.get(p.id, p.id)}" for p in local],
            tags={True: point_tags, False: point_tags},  # a few dozen points: tiles of every zoom show everything
        )
        # each project's area simplified per zoom and encoded, by the territories it is the union of: projects on
        # the same territories (several in one city, every région-wide one) share it, and so do layer sets
        areas = {}
        for p in listed:
            territories = rows[p.id].territories
            if territories not in areas:
                areas[territories] = memo.get(
                    "tiles.area", (version, territories), lambda p=p: _simplified_area(projects.areas[p.id])
                )
        # what no project uses any more goes (an area weighs megabytes for a région-wide project), but a few
        # (an edit undone, a project deleted then restored)
        memo.retain("tiles.area", {(version, territories) for territories in areas}, spare=AREAS_SPARE)
        area_tags = self._tag_table.tags([rows[p.id].area_pairs for p in listed])
        self.layers["project-areas"] = LayerData(
            LAYERS["project-areas"],
            ZoomGeometries.concat([areas[rows[p.id].territories] for p in listed], SIMPLIFY_MAX_ZOOM + 2),
            [rows[p.id].area for p in listed],
            [f"{version}:{projects.digests.get(p.id, p.id)}" for p in listed],
            tags={True: area_tags, False: area_tags},
        )
        for name in ("projects", "project-areas"):
            self.versions[name] = _short_hash(version, projects.version)
        self._figures_key = coverage.content
        # per selection of projects (year, status), which ones it keeps: worked out when first asked
        self._selections: dict[tuple[int | None, str | None], tuple[str, ...]] = {}
        # the coverage layers this layer set was asked for, by parameters (a dictionary lookup for every tile
        # request, which asks for the layer's version, rather than the memo's lock)
        self._sets: dict[CoverageParams, CoverageSet] = {}
        self._static: tuple[np.ndarray, PreparedColumns] | None = None

    def _project_rows(self, listed: list[Project], contents: dict[str, tuple[object, ...]]) -> dict[str, _ProjectRow]:
        """Each project's properties in the two project layers and their tags, from the memo by the project's
        content (made for a new or edited project only). Sets ``_tag_table``, which the rows' tags are numbered in:
        the memo's, until most of its values belong to projects gone or edited since, then a new one."""
        tables = self._memo.shared("tiles.tag_tables", _TagTables)
        generation, table = tables.current()
        for attempt in range(2):
            rows = {
                p.id: self._memo.get(
                    "tiles.project_row", (generation, *contents[p.id]), lambda p=p, t=table: _ProjectRow.of(p, t)
                )
                for p in listed
            }
            every = [pairs[:, 1] for row in rows.values() for pairs in (row.point_pairs, row.area_pairs)]
            used = len(np.unique(np.concatenate(every))) if every else 0
            stale = len(table) > TAG_TABLE_SLACK and len(table) - used > TAG_TABLE_STALE_SHARE * len(table)
            if not stale or attempt:
                break
            # most of the table's values belong to projects gone or edited: number the rows afresh
            generation, table = tables.restart(generation)
        self._memo.retain("tiles.project_row", {(generation, *content) for content in contents.values()})
        self._tag_table = table
        return rows

    def get(self, name: str, params: CoverageParams | None = None) -> LayerData:
        info = check_layer(name)
        if not info.depends_on_coverage:
            return self.layers[name]
        return self._coverage_set(params)[0][name]

    def ready(self, name: str, params: CoverageParams | None = None) -> bool:
        """Whether the layer exists already (the coverage layers of a parameter set are built on first use)."""
        if not check_layer(name).depends_on_coverage:
            return True
        params = params or CoverageParams()
        return params in self._sets or self._memo.peek("tiles.coverage", self._coverage_key(params)) is not None

    def version(self, name: str, params: CoverageParams | None = None) -> str:
        """The layer's version: what its tiles' ETags and versioned URLs carry."""
        info = check_layer(name)
        if not info.depends_on_coverage:
            return self.versions[name]
        return self._coverage_set(params)[1]

    def _coverage_key(self, params: CoverageParams) -> CoverageKey:
        """What the coverage layers of ``params`` are made from: the boundaries, the figures' content (the
        coverage's ``key``: each project's id, scope, reach and communes; and the projects a selection by year or
        status keeps) and the parameters. The key itself, not a digest of it: equal keys are equal content."""
        kept = None
        if params.selects:
            selection = (params.year, params.status)
            kept = self._selections.get(selection)
            if kept is None:
                projects = self._projects.projects.values()
                kept = tuple(p.id for p in projects if selected(p, params.year, params.status))
                with self._lock:
                    self._selections[selection] = kept
        return self._boundaries_version, self._figures_key, kept, params

    def _coverage_set(self, params: CoverageParams | None) -> CoverageSet:
        params = params or CoverageParams()
        found = self._sets.get(params)
        if found is None:
            key = self._coverage_key(params)
            found = self._memo.get("tiles.coverage", key, lambda: self._coverage_layers(params, key))
            with self._lock:
                self._sets[params] = found
                while len(self._sets) > PARAMS_KEPT:
                    self._sets.pop(next(iter(self._sets)))
        return found

    def _coverage_layers(self, params: CoverageParams, key: CoverageKey) -> CoverageSet:
        frame = self._coverage.figures(params)
        # the coverage layers of other figures under the same parameters, the most recently used: rows whose
        # content did not change keep their hashes, tags and geometries (compared, see _changed_coverage_layers)
        base_key, base = next(
            (
                (other, entry)
                for other, entry in reversed(self._memo.entries("tiles.coverage"))
                if other[0] == key[0] and other[3] == params and other != key
            ),
            (None, None),
        )
        self._forget_older_coverage(key, base_key)
        if base is not None and base[2] is frame:
            return base  # the same figures (a selection that keeps the same projects): the same layers
        # row hashes straight from the columns (vectorised, stable across processes): what tiles are cached by;
        # the columns that come from the boundaries are hashed once per boundaries, those a write can change every time
        self._static = self._memo.get(
            "tiles.coverage_static",
            self._boundaries_version,
            lambda: (
                pd.util.hash_pandas_object(frame[list(COVERAGE_STATIC)], index=False).to_numpy(),
                PreparedColumns.of({c: frame[c].to_numpy() for c in COVERAGE_STATIC}, len(frame)),
            ),
        )
        if base is not None:
            changed = self._changed_coverage_layers(params, frame, base)
            if changed is not None:
                return changed
        static_hashes, static_tags = self._static
        full = _hashed(frame, COVERAGE_CHANGING, static=static_hashes)
        low = _hashed(frame, LOW_ZOOM_PROPERTIES["coverage"])
        tags = {
            True: _tags(frame, COVERAGE_PROPERTIES, static_tags),
            False: _tags(frame, LOW_ZOOM_PROPERTIES["coverage"]),
        }
        return self._coverage_pair(params, frame, full, low, tags)

    def _forget_older_coverage(self, key: CoverageKey, base_key: Hashable | None) -> None:
        """Drop from the memo the coverage layers of the same boundaries and parameters but for ``key`` (being
        made) and ``base_key`` (those of the snapshot before, which may still serve a request begun before the
        swap): a layer set per parameters and write would otherwise pile up to the kind's bound, megabytes each."""
        keep = {
            other
            for other, _ in self._memo.entries("tiles.coverage")
            if other[0] != key[0] or other[3] != key[3] or other is base_key
        }
        self._memo.retain("tiles.coverage", keep | {key})

    def _changed_coverage_layers(
        self, params: CoverageParams, frame: pd.DataFrame, base: CoverageSet
    ) -> CoverageSet | None:
        """The coverage layers of ``frame`` made from those of other figures of the same communes and parameters
        (``base``: the memo's latest, most often those before a write), or None when they are better made
        afresh. Their figures are compared column by column: only the rows that differ are made again.

        A new project changes the figures of the communes it reaches (and of those it brings nearer to a reached
        one): a few dozen rows of thousands. Their row hashes and tags are made again; every other row keeps its
        own (a row's hash and tags depend on that row's values only), so the layers, their version and their tiles
        are those a fresh build gives, for a fraction of its cost. The tests compare both."""
        layers, version, before = base
        everything = layers["coverage"]
        if len(before) != len(frame) or not before.index.equals(frame.index):
            return None  # other communes: nothing to reuse
        differs = np.zeros(len(frame), dtype=bool)
        for column in COVERAGE_CHANGING:
            now, then = frame[column].to_numpy(), before[column].to_numpy()
            if now.dtype != then.dtype:
                return None
            if now.dtype == object and pd.api.types.infer_dtype(now, skipna=False) != "string":
                # the kind of an object column's values is read from the rows replaced alone (RowTags.replaced):
                # a column mixing kinds would be encoded otherwise than afresh; none does today
                return None
            same = now == then
            if now.dtype.kind == "f":
                same |= np.isnan(now) & np.isnan(then)  # no distance on either side
            differs |= ~same
        rows = np.flatnonzero(differs)
        if len(rows) == 0:
            return layers, version, frame  # figures made again, to the same values
        tags = everything.tags or {}
        detail, thin = tags.get(True), tags.get(False)
        if (
            len(rows) > len(frame) * REPLACE_MAX_SHARE
            or detail is None
            or thin is None
            or detail.kinds is None
            or thin.kinds is None
            or detail.appended + thin.appended > len(frame) * REPLACE_MAX_SHARE  # values no row may use any more
        ):
            return None
        full, low = everything.row_hashes(DETAIL_ZOOM).copy(), everything.row_hashes(0).copy()
        full[rows] = _hashed(frame, COVERAGE_CHANGING, rows, self._static[0][rows])
        low[rows] = _hashed(frame, LOW_ZOOM_PROPERTIES["coverage"], rows)
        changed = {c: frame[c].to_numpy()[rows] for c in COVERAGE_CHANGING}
        tags = {
            True: detail.replaced(rows, changed),
            False: thin.replaced(rows, {c: changed[c] for c in LOW_ZOOM_PROPERTIES["coverage"]}),
        }
        return self._coverage_pair(params, frame, full, low, tags, layers)

    def _coverage_pair(
        self,
        params: CoverageParams,
        frame: pd.DataFrame,
        full: np.ndarray,
        low: np.ndarray,
        tags: dict[bool, RowTags],
        before: dict[str, LayerData] | None = None,
    ) -> tuple[dict[str, LayerData], str, pd.DataFrame]:
        """The coverage and zones-blanches layers of ``frame``, from its rows' hashes and tags. ``before``: the
        layers of the same communes' previous figures, whose geometries (and feature ids) are taken as they are
        where the rows are the same."""
        version = _short_hash(self._boundaries_version, repr(params), hashlib.sha256(full.tobytes()).hexdigest())
        communes = self.layers["communes"]
        records = Records(frame, COVERAGE_PROPERTIES)
        blanches = frame["zone_blanche"].to_numpy()
        kept = np.flatnonzero(blanches)
        zone_tags = {True: tags[True].take(kept)}  # the same rows' tags; below DETAIL_ZOOM, its own
        if before is None:
            rows = self._commune_codes.get_indexer(frame["code"])
            everything = communes.subset(rows, LAYERS["coverage"], records, tags)
        else:
            # the same communes in the same order: the same geometries, ids and geometry tags
            like = before["coverage"]
            everything = LayerData(LAYERS["coverage"], like.zooms, records, like.geometry_tags, like.ids, tags)
            rows = None
        like = before["zones-blanches"] if before is not None else None
        if like is not None and np.array_equal(before["coverage"].find("zone_blanche", True), kept):
            zones = LayerData(
                LAYERS["zones-blanches"], like.zooms, records.subset(kept), like.geometry_tags, like.ids, zone_tags
            )
        else:
            rows = self._commune_codes.get_indexer(frame["code"]) if rows is None else rows
            zones = communes.subset(rows[kept], LAYERS["zones-blanches"], records.subset(kept), tags=zone_tags)
        everything.set_row_hashes(full, low)
        zones.set_row_hashes(full[blanches], low[blanches])
        return {"coverage": everything, "zones-blanches": zones}, version, frame


def _hashed(
    frame: pd.DataFrame, columns: Sequence[str], rows: np.ndarray | None = None, static: np.ndarray | None = None
) -> np.ndarray:
    """Each row's 64-bit hash of ``columns`` (of ``rows`` only, when given), combined with the ``static`` columns'
    hashes when given: the hashes ``pd.util.hash_pandas_object(frame[columns], index=False)`` gives (stable across
    processes; a test checks they agree), column by column, without making a frame of the columns (for the few
    rows a write changes, that cost more than the hashing)."""
    arrays = [frame[column].to_numpy() for column in columns]
    hashes = _combined([pd.util.hash_array(a if rows is None else a[rows]) for a in arrays])
    return hashes if static is None else (hashes * np.uint64(0x9E3779B97F4A7C15)) ^ static


def _combined(hashes: list[np.ndarray]) -> np.ndarray:
    """Row hashes from their columns' hashes, combined as pandas combines those of a frame's columns (like
    CPython's tuple hash)."""
    count = len(hashes)
    out = np.full(len(hashes[0]), 0x345678, dtype=np.uint64)
    multiplier = np.uint64(1000003)
    for i, column in enumerate(hashes):
        inverse = count - i
        out ^= column
        out *= multiplier
        multiplier += np.uint64(82520 + inverse + inverse)
    return out + np.uint64(97531)
