"""The map layers: what each shows, its features in Web Mercator, and their geometry simplified for each zoom.

Polygon layers that tile the région (communes, EPCI, arrondissements, départements, région, coverage, zones
blanches) are simplified per layer as a coverage (GEOS coverage simplification): neighbours keep exactly the
same border at every zoom, so simplification never opens a gap. The tolerance is ``SIMPLIFY_PIXELS`` screen pixels
of a 256-pixel tile at that zoom; above ``SIMPLIFY_MAX_ZOOM`` the full geometry is used. Project areas overlap
each other, so each is simplified on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely

from geo_service.coverage import Coverage, CoverageParams
from geo_service.errors import NotFoundError
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.territories import Boundaries
from geo_service.tiles.grid import tile_span, to_mercator

# Visvalingam-Whyatt tolerance: triangles smaller than about SIMPLIFY_PIXELS² square pixels go, which moves a
# border by about one pixel at most on the usual edge lengths.
SIMPLIFY_PIXELS = 2.0
SIMPLIFY_MAX_ZOOM = 12
TILE_PIXELS = 256
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


def check_layer(name: str) -> LayerInfo:
    info = LAYERS.get(name)
    if info is None:
        raise NotFoundError(f"unknown layer {name!r}: expected one of {', '.join(LAYERS)}")
    return info


def tolerance_m(z: int) -> float:
    return tile_span(z) / TILE_PIXELS * SIMPLIFY_PIXELS


@dataclass
class LayerData:
    """Features of one layer: full Mercator geometries, their per-zoom simplifications, properties, index."""

    info: LayerInfo
    geometries: np.ndarray
    properties: list[dict[str, Any]]
    by_zoom: list[np.ndarray] = field(default_factory=list)
    tree: shapely.STRtree = field(init=False)
    ids: np.ndarray | None = field(init=False)
    low_zoom_properties: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.geometries)
        codes = [str(p.get("code", "")) for p in self.properties]
        # INSEE and SIREN codes are digits (but Corsica's 2A/2B): those make stable feature ids
        self.ids = np.array([int(c) for c in codes], dtype=np.uint64) if all(c.isdigit() for c in codes) else None
        if self.info.kind == "point" or self.info.name == "project-areas":
            self.low_zoom_properties = self.properties  # a few dozen features: no need to thin them
        else:
            keep = LOW_ZOOM_PROPERTIES.get(self.info.name, ())
            self.low_zoom_properties = [{k: p[k] for k in keep if k in p} for p in self.properties]

    def at_zoom(self, z: int) -> np.ndarray:
        return self.by_zoom[z] if z < len(self.by_zoom) else self.geometries

    def properties_at(self, z: int) -> list[dict[str, Any]]:
        return self.properties if z >= DETAIL_ZOOM else self.low_zoom_properties

    def ids_at(self, z: int) -> np.ndarray | None:
        return self.ids if z >= DETAIL_ZOOM or self.low_zoom_properties is self.properties else None

    def property_names(self) -> list[str]:
        return list(self.properties[0]) if self.properties else []

    def subset(self, rows: np.ndarray, info: LayerInfo, properties: list[dict[str, Any]]) -> LayerData:
        """Some rows of this layer, reusing its simplifications (they stay a valid coverage)."""
        return LayerData(info, self.geometries[rows], properties, [g[rows] for g in self.by_zoom])


def simplify_coverage(geometries: np.ndarray) -> list[np.ndarray]:
    present = np.array([g is not None for g in geometries])
    levels = []
    for z in range(SIMPLIFY_MAX_ZOOM + 1):
        simplified = geometries.copy()
        simplified[present] = shapely.coverage_simplify(geometries[present], tolerance_m(z))
        levels.append(simplified)
    return levels


def simplify_each(geometries: np.ndarray) -> list[np.ndarray]:
    return [shapely.simplify(geometries, tolerance_m(z), preserve_topology=True) for z in range(SIMPLIFY_MAX_ZOOM + 1)]


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    records = frame[list(columns)].to_dict(orient="records")
    for record in records:
        for key, value in list(record.items()):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                del record[key]  # absent rather than null: MVT has no null
    return records


class LayerSet:
    """Every layer, built once per data version; the coverage layers once per parameter set."""

    def __init__(
        self, boundaries: Boundaries, projects: ProjectCatalogue, coverage: Coverage, reuse: LayerSet | None = None
    ) -> None:
        """``reuse``: a layer set on the same boundaries, whose simplified boundary layers are taken as they are
        (simplifying them is the slow part, and a project write does not change them)."""
        self._coverage = coverage
        self.layers: dict[str, LayerData] = {}
        for name, level in BOUNDARY_LEVELS.items():
            if reuse is not None:
                self.layers[name] = reuse.layers[name]
                continue
            frame = boundaries.level(level)
            geometries = to_mercator(np.asarray(frame.geometry.values, dtype=object))
            self.layers[name] = LayerData(
                LAYERS[name], geometries, _records(frame, BOUNDARY_PROPERTIES[name]), simplify_coverage(geometries)
            )
        self._commune_row = {code: i for i, code in enumerate(boundaries.level("commune")["code"])}
        listed = list(projects.projects.values())
        # a département- or région-wide project is not drawn as a point: any point would say the aid is there
        local = [p for p in listed if p.scope == "local"]
        points = to_mercator(shapely.points([[p.point.lon, p.point.lat] for p in local]))
        self.layers["projects"] = LayerData(
            LAYERS["projects"],
            np.asarray(points, dtype=object),
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "organisation": p.organisation,
                    "place": p.place_text,
                    "axes": ",".join(map(str, p.axes)),
                    "action_types": ",".join(p.action_types),
                    "mobile": p.mobile,
                    "reach": p.reach,
                    "communes": len(p.communes),
                }
                for p in local
            ],
        )
        areas = to_mercator(np.array([projects.areas[p.id] for p in listed], dtype=object))
        self.layers["project-areas"] = LayerData(
            LAYERS["project-areas"],
            areas,
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "organisation": p.organisation,
                    "main_type": p.action_types[0] if p.action_types else "",
                    "scope": p.scope,
                    "reach": p.reach,
                }
                for p in listed
            ],
            simplify_each(areas),
        )
        self._by_params: dict[CoverageParams, dict[str, LayerData]] = {}

    def get(self, name: str, params: CoverageParams | None = None) -> LayerData:
        info = check_layer(name)
        if not info.depends_on_coverage:
            return self.layers[name]
        params = params or CoverageParams()
        if params not in self._by_params:
            if len(self._by_params) > 32:
                self._by_params.pop(next(iter(self._by_params)))
            self._by_params[params] = self._coverage_layers(params)
        return self._by_params[params][name]

    def _coverage_layers(self, params: CoverageParams) -> dict[str, LayerData]:
        frame = self._coverage.compute(params)
        communes = self.layers["communes"]
        rows = np.array([self._commune_row[c] for c in frame["code"]])
        everything = communes.subset(rows, LAYERS["coverage"], _records(frame, COVERAGE_PROPERTIES))
        blanches = frame["zone_blanche"].to_numpy()
        zones = communes.subset(
            rows[blanches], LAYERS["zones-blanches"], _records(frame[blanches], COVERAGE_PROPERTIES)
        )
        return {"coverage": everything, "zones-blanches": zones}
