"""A self-contained HTML map of a territory, for a report or a laptop without network (``geo-service render``).

The same front-end as the pages, not a page of its own: Folium writes the Leaflet map, the page's modules
(``geo_service/static/carte/``, entry ``offline.js``) make the layers, the controls in French, the legend inside
the map, the place names and the project cards, styled by the pages' ``carte.css``. What the pages ask the API for
is in the file: the communes of the territory's surroundings with their coverage (GeoJSON simplified for the map's
zoom), the territory's outline, its projects (as ``/api/v1/projects`` gives them) and the place names at the
map's zoom. Everything is inside the file, Leaflet's script and style included (read from node_modules, images as
data URIs): it opens from disk with no request at all.

A file cannot import modules by path (browsers refuse module scripts from ``file://``): the modules come bundled
into one classic script (``geo_service.maps.bundle``). The settings go in as JSON data, escaped for HTML
(``script_json``), and the template escapes every text it writes: what people typed (a project's name, its
organisation) stays text. The file's own policy allows its inline scripts only, by hash.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo_service.errors import DataError
from geo_service.formatting import fr_number
from geo_service.labels import place_labels
from geo_service.legend import LegendClass, hex_colour, legend, opacity
from geo_service.maps.bundle import bundle
from geo_service.maps.interactive import LEAFLET_CSS, LEAFLET_JS, leaflet_map, map_config, rendered, vendor_file
from geo_service.maps.pages import LEVEL_LABELS, area_project, legend_items, page_words, projects_reaching, script_json
from geo_service.maps.policy import offline_policy
from geo_service.parameters import CoverageParams
from geo_service.service import ServiceData
from geo_service.tiles.layers import LAYER_OF_LEVEL
from geo_service.tiles.service import ATTRIBUTION, TileService

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = Environment(loader=FileSystemLoader(PACKAGE / "templates"), autoescape=select_autoescape(["html"]))
STYLESHEET = PACKAGE / "static" / "carte.css"
LABEL_ZOOM = 10  # the offline map opens around zoom 9-11 on a territory: commune names as at zoom 10
COMMUNE_FIELDS = ["code", "name", "population", "best_scope", "local_projects", "zone_blanche"]


def _leaflet_style(item: LegendClass) -> dict[str, Any]:
    """A coverage class as Leaflet draws a polygon: the PNG tiles' own colours (geo_service.legend), the hatching
    of a zone blanche too (offline.js makes it an SVG pattern): the colour is not the only sign."""
    style: dict[str, Any] = {"weight": item.outline_width, "fillColor": "#000000", "fillOpacity": 0.0}
    if item.fill is not None:
        style.update(fillColor=hex_colour(item.fill), fillOpacity=opacity(item.fill))
    if item.outline is not None:
        style.update(color=hex_colour(item.outline), opacity=opacity(item.outline))
    if item.hatch is not None:
        style["hatch"] = {"color": hex_colour(item.hatch), "opacity": opacity(item.hatch)}
    return style


def coverage_styles() -> dict[str, dict[str, Any]]:
    """Class key (zone_blanche, else a best scope) -> its Leaflet style."""
    return {item.key: _leaflet_style(item) for item in legend("coverage").classes}


def _inline_assets(header: str, node_modules: Path) -> str:
    """Replace the vendor <script src> and <link href> with the files' contents."""
    for _, url in LEAFLET_JS:
        header = header.replace(
            f'<script src="{url}"></script>', f"<script>{_read(vendor_file(url, node_modules))}</script>"
        )
    for _, url in LEAFLET_CSS:
        css = _css_with_images(vendor_file(url, node_modules))
        header = header.replace(f'<link rel="stylesheet" href="{url}"/>', f"<style>{css}</style>")
    return header


def _read(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"{path} is missing: run 'npm ci' to install the front-end libraries")
    return path.read_text("utf-8")


def _css_with_images(path: Path) -> str:
    def inline(match: re.Match) -> str:
        image = path.parent / match.group(1)
        if not image.is_file():
            return "none"
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()})"

    return re.sub(r"url\((images/[^)]+\.png)\)", inline, _read(path))


def render_offline(data: ServiceData, tiles: TileService, level: str, code: str, node_modules: Path) -> str:
    territory = data.boundaries.get(level, code)
    west, south, east, north = territory.bbox
    pad_x, pad_y = (east - west) * 0.15, (north - south) * 0.15
    view = (west - pad_x, south - pad_y, east + pad_x, north + pad_y)  # the communes around it too
    rule = CoverageParams()
    fmap = leaflet_map(territory.bbox, control_scale=False)  # the modules add a metric-only scale
    header, map_html, map_script = rendered(fmap)
    outline = tiles.geojson(LAYER_OF_LEVEL[level], view, None, ["code", "name"], None)
    outline["features"] = [f for f in outline["features"] if f["properties"]["code"] == code]
    listed = projects_reaching(data, level, code)
    config = {
        **map_config(fmap, territory.bbox, outline, f"Limite : {territory.name}"),
        **page_words(),
        # links open a new tab, and the file's address is not the page's to rewrite (as in a partner's frame)
        "embed": True,
        "cluster": False,  # a few projects: each its marker
        "reach": rule.reach,
        "territoryName": territory.name,
        "commune": None,
        "projectIds": [p.id for p in listed],
        "projects": [
            {
                "type": "Feature",
                "id": p.id,
                "geometry": {"type": "Point", "coordinates": [p.point.lon, p.point.lat]},
                "properties": p.model_dump(mode="json"),  # what /api/v1/projects gives: the cards read the same
            }
            for p in listed
        ],
        "communes": tiles.geojson("coverage", view, None, COMMUNE_FIELDS, rule),
        "coverageStyles": coverage_styles(),
        "labels": [label.as_feature() for label in place_labels(data.boundaries).within(LABEL_ZOOM, view)],
    }
    frame = data.coverage.compute(rule)
    inside = frame[frame["code"].isin(data.geocoder.gazetteer.units[level, code].communes)]
    figures = (
        f"{fr_number(len(listed))} projets l'atteignent · {fr_number(len(inside))} communes, "
        f"{fr_number(int(inside['population'].sum()))} habitants · "
        f"{fr_number(int(inside['zone_blanche'].sum()))} communes en zone blanche"
    )
    document = TEMPLATES.get_template("carte_hors_ligne.html").render(
        title=f"{LEVEL_LABELS[level]} : {territory.name}",
        figures=figures,
        header=re.sub(r'<meta http-equiv="content-type"[^>]*>', "", _inline_assets(header, node_modules)),
        css=_read(STYLESHEET),
        map_html=map_html,
        page={"legend_items": legend_items(clusters=False), "chrome": False, "config": config},
        area_projects=[area_project(p) for p in listed if p.scope != "local"],
        attribution=ATTRIBUTION,
        version=data.version,
        config_json=script_json(config),
        map_script=map_script,
        bundle=bundle("offline.js"),
    )
    # the file's own inline scripts, by hash, and nothing else: an opened file can load and run nothing more
    policy = f'<meta http-equiv="Content-Security-Policy" content="{html.escape(offline_policy(document))}">'
    return document.replace('<meta charset="utf-8">', '<meta charset="utf-8">' + policy, 1)
