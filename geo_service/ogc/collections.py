"""The feature collections of the OGC API: what each holds, and its features as a table to page, filter and write.

One collection per map layer (``geo_service.tiles.layers.LAYERS``), under the same name, so that a QGIS analyst
finds the same nine things in the OGC API as in the tiles. What differs from the tiles, on purpose:

* **Full detail, lon/lat.** Geometries are the boundaries' own CRS84 polygons (the packed files' lon/lat level,
  exactly as the published GeoJSON), not a tile zoom's simplification: an analyst measures areas and joins
  on them. Exterior rings are counter-clockwise (RFC 7946 §3.1.6), whatever order the source rings had.
* **Feature ids** are the INSEE or SIREN code for boundaries and coverage (strings: "02001" keeps its zero) and
  the project id for projects.
* **Flat properties.** GDAL and QGIS need one type per field: lists (postal codes, axes, action types, funding
  years) are written as comma-separated text, and a simple filter on such a field keeps the features where one
  element equals the value asked; so does a CQL2 ``=`` (``geo_service.ogc.cql2``), whose ``<>`` is its
  negation. The commune's town-hall point, a second geometry, is left out (it is in ``/api/v1/territories``).
* **Projects.** ``projects`` holds the points of the local projects only, like the map layer: a project covering
  a whole département or the région has no honest point. ``project-areas`` holds every project with its area.
* **Coverage** is computed with the rule's default parameters (the map's), like the layer's plain URL, or with
  the parameters the request gives (``?max_km=20``: ``CoverageParams``); such a table borrows the communes
  collection's geometries (the same objects, not copies), so that each costs its properties only.

Tables are built once per content they come from (the boundaries' version, the projects' version, the coverage
parameters) and kept in the snapshot's memo (``geo_service.memo``): a project write makes new projects and coverage
tables and leaves the boundary ones found; of the coverage tables under other parameters, the ``PARAMS_KEPT`` last
used are kept, like the coverage's own results.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely

from geo_service.coverage import COLUMNS
from geo_service.errors import BadRequestError, NotFoundError
from geo_service.ogc import cql2
from geo_service.ogc.params import read_number
from geo_service.parameters import CoverageParams
from geo_service.service import ServiceData

FieldKind = Literal["string", "integer", "number", "boolean", "list"]


@dataclass(frozen=True)
class CollectionSpec:
    id: str
    title: str  # French: what QGIS's browser and the pages show
    description: str  # French
    geometry: Literal["polygon", "point"]
    level: str | None = None  # the boundary level, for boundary collections
    coverage: bool = False  # computed by the coverage rule: takes its parameters (CoverageParams)


DEFAULTS = CoverageParams()  # the rule the descriptions state
SPECS: dict[str, CollectionSpec] = {
    spec.id: spec
    for spec in [
        CollectionSpec(
            "communes",
            "Communes",
            "Contours des communes de la région (code INSEE, nom, population, EPCI, arrondissement, département, "
            "codes postaux), au détail complet.",
            "polygon",
            "commune",
        ),
        CollectionSpec(
            "epci",
            "Intercommunalités (EPCI)",
            "Contours des EPCI à fiscalité propre (SIREN, nom, nature, population, nombre de communes).",
            "polygon",
            "epci",
        ),
        CollectionSpec(
            "arrondissements",
            "Arrondissements",
            "Contours des arrondissements (code INSEE, chef-lieu).",
            "polygon",
            "arrondissement",
        ),
        CollectionSpec(
            "departements",
            "Départements",
            "Contours des départements (code INSEE, chef-lieu).",
            "polygon",
            "departement",
        ),
        CollectionSpec("region", "Région", "Contour de la région Hauts-de-France.", "polygon", "region"),
        CollectionSpec(
            "projects",
            "Projets financés (actions locales)",
            "Un point par projet local (communes, EPCI, arrondissements) : la mairie du porteur quand elle est "
            "connue, sinon un point dans la zone d'intervention. Un projet couvrant tout un département ou la "
            "région n'a pas de point : sa zone est dans la collection « project-areas ».",
            "point",
        ),
        CollectionSpec(
            "project-areas",
            "Territoires d'intervention",
            "La zone d'intervention de chaque projet (l'union de ses territoires), tous projets confondus.",
            "polygon",
        ),
        CollectionSpec(
            "coverage",
            "Couverture des communes",
            "Chaque commune avec sa couverture par les projets (règle par défaut : action directe, commune rurale "
            f"sous {DEFAULTS.rural_max_density:g} hab/km², zone blanche au-delà de {DEFAULTS.max_km:g} km d'une "
            "commune atteinte) et la raison en clair.",
            "polygon",
            coverage=True,
        ),
        CollectionSpec(
            "zones-blanches",
            "Zones blanches",
            f"Les communes rurales qu'aucune action locale n'atteint, à plus de {DEFAULTS.max_km:g} km d'une commune "
            "atteinte (règle par défaut).",
            "polygon",
            coverage=True,
        ),
    ]
}

# What the pages and the queryables say of each field (French); a field not listed is described by its name.
FIELD_TITLES = {
    "code": "Code officiel (INSEE, ou SIREN pour un EPCI)",
    "name": "Nom",
    "population": "Population municipale",
    "area_km2": "Superficie (km²)",
    "epci": "SIREN de l'EPCI",
    "arrondissement": "Code de l'arrondissement",
    "departement": "Code du département",
    "region": "Code de la région",
    "postal_codes": "Codes postaux",
    "townhall_source": "Source de la position de la mairie",
    "full_name": "Nom complet",
    "kind": "Nature de l'EPCI (CC, CA, CU, ME)",
    "departements": "Départements touchés",
    "communes_outside": "Communes hors de la région",
    "communes_count": "Nombre de communes",
    "chef_lieu": "Code INSEE du chef-lieu",
    "organisation": "Porteur du projet",
    "place_text": "Lieu d'intervention (texte de la plaquette)",
    "duration_years": "Durée (années) ; vide : non renseignée",
    "funding_years": "Années des appels à projets qui l'ont financé ; vide : non renseigné",
    "amount_eur": "Montant accordé (euros) ; vide : non renseigné",
    "status": "Statut : planned (prévue), active (en cours), ended (terminée) ; vide : non renseigné",
    "end_date": "Fin de l'action (AAAA-MM-JJ) ; vide : non renseignée",
    "end_date_source": "Origine de la date de fin : given (donnée) ou derived (déduite de l'année et de la durée)",
    "website": "Site internet de l'action",
    "contact": "Contact public",
    "last_checked": "Informations vérifiées le (AAAA-MM-JJ)",
    "to_check": "À vérifier : le statut contredit la date de fin (voir /api/v1/projects pour la raison)",
    "axes": "Axes du programme (1 à 4)",
    "action_types": "Types d'action",
    "mobile": "Action mobile",
    "reach": "Portée : direct (aide reçue sur place) ou support (appui aux acteurs)",
    "scope": "Échelle : local, departement ou region",
    "territories": "Territoires (niveau:code)",
    "communes": "Nombre de communes couvertes",
    "point_source": "Origine du point (mairie du porteur ou point dans la zone)",
    "density": "Densité (hab/km²)",
    "rural": "Commune rurale",
    "projects": "Projets qui l'atteignent",
    "local_projects": "Projets locaux comptés",
    "best_scope": "Meilleure échelle d'action (local, departement, region, none)",
    "support_projects": "Projets locaux d'appui",
    "distance_km": "Distance à la commune atteinte la plus proche (km)",
    "zone_blanche": "Zone blanche",
    "reason": "Raison, en clair",
}
LEFT_OUT = ("geometry", "townhall")  # the geometry is the feature's own; the town hall is a second point


@dataclass
class FieldInfo:
    name: str
    kind: FieldKind
    title: str

    @property
    def json_type(self) -> str:
        return "string" if self.kind == "list" else self.kind


@dataclass
class Table:
    """A collection's features: ids, CRS84 geometries (oriented), their bounds, and properties by column."""

    ids: list[str]
    geometries: np.ndarray
    columns: dict[str, list[Any]]
    fields: dict[str, FieldInfo]
    oriented: bool = False  # the geometries are another table's, already oriented
    bounds: np.ndarray = field(init=False)
    _index: dict[str, int] = field(init=False)
    # each column as numpy compares it, made on the first filter naming it (see cql2.column_array)
    _arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.oriented:
            self.geometries = shapely.orient_polygons(np.asarray(self.geometries, dtype=object), exterior_cw=False)
        self.bounds = shapely.bounds(self.geometries)  # NaN for a feature without geometry
        self._index = {feature_id: i for i, feature_id in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, feature_id: str) -> int | None:
        return self._index.get(feature_id)

    def extent(self) -> list[float] | None:
        """The CRS84 box of every geometry, widened to the 6th decimal (the data's grid) so that it holds them."""
        present = ~np.isnan(self.bounds[:, 0])
        if not present.any():
            return None
        b = self.bounds[present]
        return [
            math.floor(b[:, 0].min() * 1e6) / 1e6,
            math.floor(b[:, 1].min() * 1e6) / 1e6,
            math.ceil(b[:, 2].max() * 1e6) / 1e6,
            math.ceil(b[:, 3].max() * 1e6) / 1e6,
        ]

    def properties(self, row: int) -> dict[str, Any]:
        return {name: values[row] for name, values in self.columns.items()}

    def column_array(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The column ``name`` as numpy compares it, and where it is null."""
        found = self._arrays.get(name)
        if found is None:  # two requests may both make it: the same arrays, either kept
            found = self._arrays[name] = cql2.column_array(self.fields[name].kind, self.columns[name])
        return found

    def select(
        self,
        areas: Sequence[shapely.Geometry] | None,
        filters: dict[str, str],
        chosen: cql2.Filter | None = None,
    ) -> np.ndarray:
        """The rows, in table order, whose geometry intersects one of ``areas`` (all when None; a feature without
        geometry always matches, as /req/core/fc-bbox-response says), whose properties pass ``filters`` and
        for which the CQL2 filter ``chosen`` holds (all three combined with AND, /req/filter/mixing-expressions)."""
        keep = np.ones(len(self), dtype=bool)
        if chosen is not None:  # first: its type errors are 400s, given before any geometry work
            keep &= cql2.evaluate(chosen, self)
        for name, wanted in filters.items():
            keep &= self._matches(name, wanted)
        if areas is not None:
            missing = np.isnan(self.bounds[:, 0])
            hit = missing.copy()
            for area in areas:
                minx, miny, maxx, maxy = shapely.bounds(area)
                b = self.bounds
                near = np.flatnonzero(
                    keep & ~missing & (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
                )
                if len(near):
                    hit[near[shapely.intersects(self.geometries[near], area)]] = True
            keep &= hit
        return np.flatnonzero(keep)

    def _matches(self, name: str, wanted: str) -> np.ndarray:
        """Equality on one property, the value read as the field's type (a 400 when it cannot be)."""
        info = self.fields[name]
        values = self.columns[name]
        if info.kind == "list":
            return np.array([v is not None and wanted in v.split(",") for v in values], dtype=bool)
        if info.kind == "string":
            return np.array([v == wanted for v in values], dtype=bool)
        if info.kind == "boolean":
            # 1 and 0 too: GDAL reads booleans as integers and sends its filters so
            if wanted.lower() not in ("true", "false", "1", "0"):
                raise BadRequestError(f"{name}={wanted!r}: expected true or false")
            truth = wanted.lower() in ("true", "1")
            return np.array([v is truth for v in values], dtype=bool)
        number = read_number(wanted)
        if number is None:
            raise BadRequestError(f"{name}={wanted!r}: expected a number")
        return np.array([v is not None and v == number for v in values], dtype=bool)

    def sort(self, rows: np.ndarray, keys: Sequence[tuple[str, bool]]) -> np.ndarray:
        """``rows`` ordered by ``keys`` ((property, descending), first key first); nulls last whatever the
        direction; ties keep their order (a stable sort, key by key from the last)."""
        rows = np.asarray(rows, dtype=np.int64)
        for name, descending in reversed(keys):
            kind = self.fields[name].kind
            raw = self.columns[name]
            values = [raw[row] for row in rows.tolist()]
            missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
            if kind in ("integer", "number", "boolean"):
                array = np.array([0.0 if v is None else float(v) for v in values], dtype=float)
                order = np.argsort(-array if descending else array, kind="stable")
            else:
                array = np.array(["" if v is None else str(v) for v in values], dtype=object)
                # text has no negation: a stable descending order is the ascending one of the reversed list,
                # reversed back (equal texts then keep their order)
                if descending:
                    flipped = np.argsort(array[::-1], kind="stable")[::-1]
                    order = len(array) - 1 - flipped
                else:
                    order = np.argsort(array, kind="stable")
            order = np.concatenate([order[~missing[order]], order[missing[order]]])
            rows = rows[order]
        return rows

    def feature_json(
        self,
        rows: np.ndarray,
        geometries: np.ndarray | None = None,
        properties: Sequence[str] | None = None,
        skip_geometry: bool = False,
    ) -> list[str]:
        """Each row as a GeoJSON Feature's text; ``geometries``: the rows' geometries in another CRS;
        ``properties``: those kept (all when None); ``skip_geometry``: a null geometry (lighter pages)."""
        rows = np.asarray(rows, dtype=np.int64)
        if skip_geometry:
            texts = [None] * len(rows)
        else:
            shapes = self.geometries[rows] if geometries is None else geometries
            texts = shapely.to_geojson(shapes).tolist()
        kept = list(self.columns) if properties is None else list(properties)
        out = []
        for row, geometry in zip(rows.tolist(), texts, strict=True):
            values = {name: self.columns[name][row] for name in kept}
            head = json.dumps(
                {"type": "Feature", "id": self.ids[row], "properties": values},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            out.append(f'{head[:-1]},"geometry":{geometry or "null"}}}')
        return out


def _plain(value: Any) -> Any:
    """A value as JSON writes it: numpy scalars as Python ones, NaN as null, lists as comma-separated text."""
    if value is None:
        return None
    if isinstance(value, list | tuple | np.ndarray):
        return ",".join(str(v) for v in value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _kind(values: list[Any], raw: Sequence[Any]) -> FieldKind:
    sample = next((v for v in raw if v is not None and not (isinstance(v, float) and math.isnan(v))), None)
    if isinstance(sample, list | tuple | np.ndarray):
        return "list"
    if isinstance(sample, bool | np.bool_):
        return "boolean"
    if isinstance(sample, int | np.integer):
        return "integer"
    if isinstance(sample, float | np.floating):
        return "number"
    return "string"


def _as_multi(geometries: Sequence[Any]) -> np.ndarray:
    """Polygons as one-part MultiPolygons, so that a layer has one geometry type (GDAL and QGIS fix a layer's type
    from its first features; a union of communes is sometimes one polygon, sometimes several)."""
    shapes = np.asarray(geometries, dtype=object)
    single = shapely.get_type_id(shapes) == shapely.GeometryType.POLYGON
    if single.any():
        shapes = shapes.copy()
        shapes[single] = [shapely.MultiPolygon([polygon]) for polygon in shapes[single]]
    return shapes


def _table(
    ids: list[str],
    geometries: Sequence[Any],
    raw_columns: dict[str, Sequence[Any]],
    *,
    oriented: bool = False,
    kinds: dict[str, FieldKind] | None = None,
) -> Table:
    """``geometries``: polygons (made MultiPolygons) or points, in CRS84; ``oriented``: another table's
    geometries, taken as they are; ``kinds``: the type of fields that may be null in every feature (otherwise
    read from the first value)."""
    columns, fields = {}, {}
    for name, raw in raw_columns.items():
        raw = list(raw)
        values = [_plain(v) for v in raw]
        columns[name] = values
        kind = (kinds or {}).get(name) or _kind(values, raw)
        fields[name] = FieldInfo(name, kind, FIELD_TITLES.get(name, name))
    if oriented:
        return Table(ids, np.asarray(geometries, dtype=object), columns, fields, oriented=True)
    return Table(ids, _as_multi(geometries), columns, fields)


def _boundary_table(data: ServiceData, level: str) -> Table:
    frame = data.boundaries.level(level)
    columns = {c: frame[c].to_numpy(dtype=object) for c in frame.columns if c not in LEFT_OUT}
    return _table([str(c) for c in frame["code"]], frame.geometry.to_numpy(), columns)


PROJECT_FIELDS = (
    "name", "organisation", "place_text", "duration_years", "scope", "reach", "mobile", "axes", "action_types",
    "territories", "communes", "point_source", "funding_years", "amount_eur", "status", "end_date",
    "end_date_source", "website", "contact", "last_checked", "to_check",
)  # fmt: skip
# The facts of a grant are often unknown (null) in every record, the brochure's among them: their types are
# fixed here, not read from the data, so that QGIS sees the same fields whatever the records hold.
PROJECT_KINDS: dict[str, FieldKind] = {
    "duration_years": "integer",
    "funding_years": "list",
    "amount_eur": "number",
    "status": "string",
    "end_date": "string",
    "end_date_source": "string",
    "website": "string",
    "contact": "string",
    "last_checked": "string",
    "to_check": "boolean",
}


def _project_values(project: Any) -> dict[str, Any]:
    return {
        "name": project.name,
        "organisation": project.organisation,
        "place_text": project.place_text,
        "duration_years": project.duration_years,
        "scope": project.scope,
        "reach": project.reach,
        "mobile": project.mobile,
        "axes": list(project.axes),
        "action_types": list(project.action_types),
        "territories": [f"{t.level}:{t.code}" for t in project.territories],
        "communes": len(project.communes),
        "point_source": project.point.source,
        # lists as text (see _plain); no year given: null, not an empty text
        "funding_years": list(project.funding_years) or None,
        "amount_eur": project.amount_eur,
        "status": project.status,
        "end_date": project.end_date.isoformat() if project.end_date is not None else None,
        "end_date_source": project.end_date_source,
        "website": project.website,
        "contact": project.contact,
        "last_checked": project.last_checked.isoformat() if project.last_checked is not None else None,
        "to_check": bool(project.to_check),
    }


def _projects_table(data: ServiceData, areas: bool) -> Table:
    listed = list(data.projects.projects.values())
    if not areas:
        listed = [p for p in listed if p.scope == "local"]
    rows = [_project_values(p) for p in listed]
    columns = {name: [row[name] for row in rows] for name in PROJECT_FIELDS}
    if areas:
        geometries = [data.projects.areas[p.id] for p in listed]
    else:
        geometries = [shapely.Point(p.point.lon, p.point.lat) for p in listed]
    return _table([p.id for p in listed], geometries, columns, kinds=PROJECT_KINDS)


def _coverage_table(data: ServiceData, blanches_only: bool, params: CoverageParams | None = None) -> Table:
    """The coverage of every commune (or of the zones blanches) under ``params`` (the defaults when None), with
    the communes collection's own geometries."""
    frame = data.coverage.compute(params or CoverageParams())
    if blanches_only:
        frame = frame[frame["zone_blanche"].to_numpy(dtype=bool)]
    communes = table(data, "communes")
    codes = [str(c) for c in frame["code"]]
    rows = [communes.row_of(code) for code in codes]
    if None in rows:  # pragma: no cover - the coverage is computed on these very communes
        raise ValueError("a coverage row names a commune the boundaries do not hold")
    columns = {c: frame[c].to_numpy(dtype=object) for c in COLUMNS}
    return _table(codes, communes.geometries[np.asarray(rows, dtype=np.int64)], columns, oriented=True)


# how each collection's table is made
_BUILDS: dict[str, Callable[[ServiceData], Table]] = {
    **{
        spec.id: lambda data, level=spec.level: _boundary_table(data, level)
        for spec in SPECS.values()
        if spec.level is not None
    },
    "projects": lambda data: _projects_table(data, areas=False),
    "project-areas": lambda data: _projects_table(data, areas=True),
    "coverage": lambda data: _coverage_table(data, blanches_only=False),
    "zones-blanches": lambda data: _coverage_table(data, blanches_only=True),
}


def check_collection(collection_id: str) -> CollectionSpec:
    spec = SPECS.get(collection_id)
    if spec is None:
        raise NotFoundError(f"unknown collection {collection_id!r}: expected one of {', '.join(SPECS)}")
    return spec


def _varies(collection_id: str, params: CoverageParams | None) -> bool:
    """Whether these parameters make a table other than the collection's default one."""
    return params is not None and params != CoverageParams() and SPECS[collection_id].coverage


def _entry(data: ServiceData, collection_id: str, params: CoverageParams | None) -> tuple[str, tuple]:
    """The memo kind and key of a collection's table: the content it is made from (the boundaries alone for a
    boundary level; the projects too for the others), and the parameters when they vary it."""
    spec = SPECS[collection_id]
    if spec.level is not None:
        return "ogc.boundary_table", (data.boundaries.version, collection_id)
    content = (data.boundaries.version, data.projects.version, collection_id)
    if _varies(collection_id, params):
        return "ogc.coverage_table_by_params", (*content, params)
    return ("ogc.coverage_table" if spec.coverage else "ogc.projects_table"), content


def is_built(data: ServiceData, collection_id: str, params: CoverageParams | None = None) -> bool:
    """Whether ``table`` would answer at once (nothing to compute): the web layer holds a place for costly
    work only when it would not."""
    check_collection(collection_id)
    return data.memo.peek(*_entry(data, collection_id, params)) is not None


def table(data: ServiceData, collection_id: str, params: CoverageParams | None = None) -> Table:
    """The collection's table for this content, built on first use; ``params``: the coverage rule's parameters,
    for the coverage collections (ignored by the others, whose features do not depend on them). Two requests
    asking for the same missing table build it once (see ``Memo.get``); another table is not held up meanwhile."""
    check_collection(collection_id)
    kind, key = _entry(data, collection_id, params)
    if kind == "ogc.coverage_table_by_params":
        return data.memo.get(kind, key, lambda: _coverage_table(data, collection_id == "zones-blanches", params))
    return data.memo.get(kind, key, lambda: _BUILDS[collection_id](data))
