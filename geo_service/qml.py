"""QGIS style files (``.qml``) of our layers, made from the legend (``geo_service.legend``): the colours, outlines
and hatching of our PNG tiles, for a layer opened from OGC API – Features, GeoJSON or GeoPackage (a vector layer:
categorized renderer on the legend's class expression) or from our vector tiles (a vector tile layer: QGIS's
basic renderer, one style per class with its filter expression).

The XML is QGIS's own style format (as QGIS 3.22 writes it, which later versions read): only the options that
differ from QGIS's defaults are written, each both as ``<Option>`` and as the older ``<prop>``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

from geo_service.legend import LEGENDS, Legend, LegendClass
from geo_service.tiles import raster

# URL suffix -> what the file styles (``/styles/coverage.qml``, ``/styles/coverage-tuiles.qml``)
QML_KINDS = {"-tuiles": "tiles", "": "features"}
QGIS_VERSION = "3.22.0"


def _colour(colour: tuple[int, int, int, int] | None) -> str:
    return ",".join(map(str, colour)) if colour is not None else "0,0,0,0"


def _options(parent: ET.Element, options: dict[str, Any]) -> None:
    mapping = ET.SubElement(parent, "Option", type="Map")
    for name, value in options.items():
        ET.SubElement(mapping, "Option", type="QString", name=name, value=str(value))
    for name, value in options.items():
        ET.SubElement(parent, "prop", k=name, v=str(value))


def _symbol_layer(parent: ET.Element, kind: str, options: dict[str, Any]) -> ET.Element:
    layer = ET.SubElement(parent, "layer", attrib={"class": kind, "enabled": "1", "locked": "0", "pass": "0"})
    _options(layer, options)
    return layer


def _symbol(parent: ET.Element, name: str, item: LegendClass, geometry: str) -> None:
    symbol_type = "marker" if geometry == "point" else "fill"
    symbol = ET.SubElement(parent, "symbol", type=symbol_type, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    if geometry == "point":
        _symbol_layer(
            symbol,
            "SimpleMarker",
            {
                "name": "circle",
                "color": _colour(item.fill),
                "outline_color": _colour(item.outline),
                "outline_style": "solid",
                "outline_width": item.outline_width,
                "outline_width_unit": "Pixel",
                "size": 2 * (item.point_radius or raster.POINT_RADIUS),
                "size_unit": "Pixel",
            },
        )
        return
    _symbol_layer(
        symbol,
        "SimpleFill",
        {
            "color": _colour(item.fill),
            "style": "solid" if item.fill is not None else "no",
            "outline_color": _colour(item.outline),
            "outline_style": "solid" if item.outline is not None else "no",
            "outline_width": item.outline_width,
            "outline_width_unit": "Pixel",
            "joinstyle": "round",
        },
    )
    if item.hatch is not None:
        # the renderer's diagonals rise to the right, HATCH_STEP pixels apart along a row: that is a distance of
        # HATCH_STEP / sqrt(2) between the lines, at 45 degrees
        pattern = _symbol_layer(
            symbol,
            "LinePatternFill",
            {
                "angle": 45,
                "color": _colour(item.hatch),
                "distance": round(raster.HATCH_STEP / math.sqrt(2), 3),
                "distance_unit": "Pixel",
                "line_width": 1,
                "line_width_unit": "Pixel",
            },
        )
        line = ET.SubElement(pattern, "symbol", type="line", name=f"@{name}@1", alpha="1", clip_to_extent="1")
        line.set("force_rhr", "0")
        _symbol_layer(
            line,
            "SimpleLine",
            {
                "line_color": _colour(item.hatch),
                "line_style": "solid",
                "line_width": 1,
                "line_width_unit": "Pixel",
                "capstyle": "flat",
            },
        )


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def condition(item: LegendClass) -> str:
    """A QGIS expression true for the features of this class."""
    if not item.when:
        return "true"
    return " AND ".join(f'"{field}" = {_literal(value)}' for field, value in item.when)


def class_expression(legend: Legend) -> str:
    """A QGIS expression giving each feature's class key, by the legend's precedence (as the renderer)."""
    by_key = {c.key: c for c in legend.classes}
    ordered = [by_key[key] for key in legend.precedence]
    if len(ordered) == 1:
        return _literal(ordered[0].key)
    cases = " ".join(f"WHEN {condition(item)} THEN {_literal(item.key)}" for item in ordered[:-1])
    return f"CASE {cases} ELSE {_literal(ordered[-1].key)} END"


def _features_renderer(root: ET.Element, legend: Legend) -> None:
    if len(legend.classes) == 1:
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", symbollevels="0", forceraster="0")
        symbols = ET.SubElement(renderer, "symbols")
        _symbol(symbols, "0", legend.classes[0], legend.kind)
        return
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="categorizedSymbol",
        attr=class_expression(legend),
        symbollevels="0",
        forceraster="0",
        enableorderby="0",
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for number, item in enumerate(legend.classes):
        ET.SubElement(categories, "category", render="true", symbol=str(number), value=item.key, label=item.label)
        _symbol(symbols, str(number), item, legend.kind)


def _tiles_renderer(root: ET.Element, legend: Legend) -> None:
    renderer = ET.SubElement(root, "renderer", type="basic")
    styles = ET.SubElement(renderer, "styles")
    geometry = "0" if legend.kind == "point" else "2"  # QgsWkbTypes::GeometryType
    by_key = {c.key: c for c in legend.classes}
    expression = class_expression(legend)
    for item in legend.classes:
        # each class once, with the whole precedence: a zone blanche is drawn as one, never also as its scope
        chosen = "true" if len(legend.classes) == 1 else f"({expression}) = {_literal(item.key)}"
        style = ET.SubElement(
            styles,
            "style",
            name=item.label,
            layer=legend.layer,
            geometry=geometry,
            enabled="1",
            expression=chosen,
            attrib={"min-zoom": "-1", "max-zoom": "-1"},
        )
        symbols = ET.SubElement(style, "symbols")
        _symbol(symbols, "0", by_key[item.key], legend.kind)


def qml_document(layer: str, kind: str) -> str:
    """The ``.qml`` of ``layer`` for ``kind``: ``features`` (vector layer) or ``tiles`` (vector tile layer)."""
    legend = LEGENDS[layer]
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    if kind == "tiles":
        _tiles_renderer(root, legend)
    else:
        _features_renderer(root, legend)
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"
