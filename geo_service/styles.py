"""MapLibre style documents (style specification v8) of our vector tiles, drawn as our PNG tiles are.

Each style reads the layer's TileJSON (``/tiles/{layer}.json``), and its layers are made from the legend
(``geo_service.legend``, itself read from the PNG renderer's styles): a fill per class, the zones blanches'
hatching as a ``fill-pattern`` from our sprite, then the outlines, in the order the renderer draws them. A class
is told by the fields the vector tiles carry at every zoom (``best_scope``, ``zone_blanche``), and the first class
of the legend's precedence that matches wins, as in the renderer.

No text layer: MapLibre draws text only from glyph PBFs, and no tool that builds them from a font package
installs without a download (fontnik fetches a prebuilt binary), so place names are left to the host map.
"""

from __future__ import annotations

from typing import Any

from geo_service.legend import LEGENDS, Legend, LegendClass, css_colour
from geo_service.tiles.layers import LAYERS

# The styles served under /styles/{id}.json: id -> the layer it draws.
STYLES: dict[str, str] = {"coverage": "coverage", "zones-blanches": "zones-blanches"}
BACKGROUND = "#ffffff"


def _condition(item: LegendClass) -> list[Any]:
    tests: list[Any] = [["==", ["get", field], value] for field, value in item.when]
    if not tests:
        return ["literal", True]
    return tests[0] if len(tests) == 1 else ["all", *tests]


def _by_class(legend: Legend, value: Any) -> Any:
    """A data-driven value: ``value(class)`` for the first class of the legend's precedence that matches."""
    by_key = {c.key: c for c in legend.classes}
    ordered = [by_key[key] for key in legend.precedence]
    if len(ordered) == 1:
        return value(ordered[0])
    expression: list[Any] = ["case"]
    for item in ordered[:-1]:
        expression += [_condition(item), value(item)]
    return [*expression, value(ordered[-1])]


def style_layers(legend: Legend, source: str) -> list[dict[str, Any]]:
    """The style's layers for one of our vector layers: fills, hatching, outlines (the renderer's order)."""
    layer_id = legend.layer
    prefix = layer_id
    layers: list[dict[str, Any]] = []
    filled = [c for c in legend.classes if c.fill is not None]
    if legend.kind == "point":
        item = legend.classes[0]
        return [
            {
                "id": f"{prefix}-points",
                "type": "circle",
                "source": source,
                "source-layer": layer_id,
                "paint": {
                    "circle-radius": item.point_radius,
                    "circle-color": css_colour(item.fill),
                    "circle-stroke-color": css_colour(item.outline),
                    "circle-stroke-width": item.outline_width,
                },
            }
        ]
    if filled:
        layers.append(
            {
                "id": f"{prefix}-fond",
                "type": "fill",
                "source": source,
                "source-layer": layer_id,
                # the outlines are a layer of their own, as the renderer draws them: no antialiasing seam here
                "paint": {
                    "fill-color": _by_class(legend, lambda c: css_colour(c.fill or (0, 0, 0, 0))),
                    "fill-antialias": False,
                },
            }
        )
    for item in legend.classes:
        if item.pattern is None:
            continue
        hatch: dict[str, Any] = {
            "id": f"{prefix}-hachures",
            "type": "fill",
            "source": source,
            "source-layer": layer_id,
            "paint": {"fill-pattern": item.pattern, "fill-antialias": False},
        }
        if item.when:
            hatch["filter"] = _condition(item)
        layers.append(hatch)
    outlined = [c for c in legend.classes if c.outline is not None]
    if outlined:
        layers.append(
            {
                "id": f"{prefix}-contours",
                "type": "line",
                "source": source,
                "source-layer": layer_id,
                "layout": {"line-join": "round"},
                "paint": {
                    "line-color": _by_class(legend, lambda c: css_colour(c.outline or (0, 0, 0, 0))),
                    "line-width": _by_class(legend, lambda c: c.outline_width),
                },
            }
        )
    return layers


def style_document(
    style_id: str, base_url: str, query: str = "", bounds: tuple[float, ...] | None = None
) -> dict[str, Any]:
    """The style ``style_id`` with absolute URLs under ``base_url`` (ending with '/'); ``query`` (already encoded)
    is added to the TileJSON URL: the coverage rule's parameters. ``bounds`` (lon/lat): the data's extent, whose
    middle is where the style opens."""
    layer = STYLES[style_id]
    legend = LEGENDS[layer]
    info = LAYERS[layer]
    tilejson = f"{base_url}tiles/{layer}.json" + (f"?{query}" if query else "")
    return {
        "version": 8,
        "name": info.title,
        "metadata": {
            "geo-service:legend": f"{base_url}api/v1/legend?layer={layer}" + (f"&{query}" if query else ""),
            "geo-service:description": "Mieux manger pour tous — " + info.title,
        },
        **(
            {"center": [round((bounds[0] + bounds[2]) / 2, 4), round((bounds[1] + bounds[3]) / 2, 4)], "zoom": 7}
            if bounds is not None
            else {}
        ),
        "sources": {layer: {"type": "vector", "url": tilejson}},
        "sprite": f"{base_url}styles/sprite",
        "layers": [
            {"id": "fond-de-carte", "type": "background", "paint": {"background-color": BACKGROUND}},
            *style_layers(legend, layer),
        ],
    }


def style_list(base_url: str) -> dict[str, Any]:
    """``/styles``: every style with its URL, and the sprite's."""
    return {
        "styles": [
            {
                "id": style_id,
                "title": LAYERS[layer].title,
                "layer": layer,
                "url": f"{base_url}styles/{style_id}.json",
                "tilejson": f"{base_url}tiles/{layer}.json",
                "legend": f"{base_url}api/v1/legend?layer={layer}",
                "qgis_features": f"{base_url}styles/{layer}.qml",
                "qgis_tiles": f"{base_url}styles/{layer}-tuiles.qml",
            }
            for style_id, layer in STYLES.items()
        ],
        "sprite": f"{base_url}styles/sprite",
        "example": f"{base_url}exemples/maplibre",
    }
