"""A self-contained HTML map of a territory, for a report or a laptop without network.

Everything is inside the file: Leaflet's script and style (read from node_modules, images as data URIs), the
communes of the territory's surroundings with their coverage (GeoJSON simplified for the map's zoom), the
territory's outline and its projects with their cards. It opens from disk, with no request at all.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import folium

from geo_service.errors import DataError
from geo_service.formatting import fr_number
from geo_service.labels import place_labels
from geo_service.maps.interactive import LEAFLET_CSS, LEAFLET_JS, vendor_file
from geo_service.maps.pages import LEVEL_LABELS, REACH_LABELS, grant_facts, projects_reaching, script_json
from geo_service.maps.policy import offline_policy
from geo_service.parameters import CoverageParams
from geo_service.projects.derive import ACTION_TYPES
from geo_service.projects.models import Project
from geo_service.service import ServiceData
from geo_service.tiles.layers import LAYER_OF_LEVEL
from geo_service.tiles.raster import COVERAGE_CLASSES
from geo_service.tiles.service import ATTRIBUTION, TileService


def _colour(key: str) -> str:
    red, green, blue, _ = COVERAGE_CLASSES[key][1].fill or (0, 0, 0, 0)
    return f"#{red:02x}{green:02x}{blue:02x}"


def _style(feature: dict) -> dict:
    props = feature["properties"]
    if props.get("zone_blanche"):
        # dashed as well as red: the colour is not the only sign
        return {
            "fillColor": _colour("zone_blanche"),
            "color": "#a01423",
            "weight": 1.5,
            "dashArray": "4 3",
            "fillOpacity": 0.55,
        }
    return {
        "fillColor": _colour(props.get("best_scope", "none")),
        "color": "#ffffff",
        "weight": 0.5,
        "fillOpacity": 0.6,
    }


def _card(project: Project) -> str:
    def items(values: list[str]) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in values) + "</ul>" if values else "—"

    def fact(text: str, link: bool) -> str:
        # a web address (http or https only, as the record's model checks) opens outside the file
        if link and text.lower().startswith(("http://", "https://")):
            address = html.escape(text)
            return f'<a href="{address}" rel="noopener noreferrer" target="_blank">{address}</a>'
        return html.escape(text)

    types = ", ".join(ACTION_TYPES[t][0] for t in project.action_types) or "—"
    facts = "".join(
        f"<dt>{html.escape(f.label)}</dt><dd>{'<strong>' if f.warning else ''}{fact(f.text, f.link)}"
        f"{'</strong>' if f.warning else ''}</dd>"
        for f in grant_facts(project)
    )
    return (
        f"<h3>{html.escape(project.name)}</h3><dl><dt>Porteur</dt><dd>{html.escape(project.organisation)}</dd>"
        f"<dt>Lieu d'intervention</dt><dd>{html.escape(project.place_text)}</dd>{facts}"
        f"<dt>Actions</dt><dd>{items(project.actions)}</dd><dt>Types</dt><dd>{html.escape(types)}</dd>"
        f"<dt>Axes</dt><dd>{', '.join(map(str, project.axes))} "
        f"({'choisis par l’équipe' if project.axes_source == 'manual' else 'déduits des actions'})</dd>"
        f"<dt>Accès</dt><dd>{REACH_LABELS[project.reach]}</dd></dl>"
    )


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


LABEL_ZOOM = 10  # the offline map opens around zoom 9-11 on a territory: commune names as at zoom 10


def render_offline(data: ServiceData, tiles: TileService, level: str, code: str, node_modules: Path) -> str:
    territory = data.boundaries.get(level, code)
    west, south, east, north = territory.bbox
    pad_x, pad_y = (east - west) * 0.15, (north - south) * 0.15
    view = (west - pad_x, south - pad_y, east + pad_x, north + pad_y)
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=9, tiles=None, control_scale=True)
    fmap.default_js, fmap.default_css = LEAFLET_JS, LEAFLET_CSS
    communes = tiles.geojson(
        "coverage",
        view,
        None,
        ["code", "name", "population", "best_scope", "local_projects", "zone_blanche"],
        CoverageParams(),
    )
    folium.GeoJson(
        communes,
        name="Couverture des communes",
        style_function=_style,
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "population", "local_projects"], aliases=["Commune", "Habitants", "Actions locales"]
        ),
    ).add_to(fmap)
    outline = tiles.geojson(LAYER_OF_LEVEL[level], view, None, ["code", "name"], None)
    outline["features"] = [f for f in outline["features"] if f["properties"]["code"] == code]
    folium.GeoJson(
        outline,
        name=f"Limite : {territory.name}",
        style_function=lambda _: {"color": "#111111", "weight": 3, "fill": False},
    ).add_to(fmap)
    listed = projects_reaching(data, level, code)
    # Folium's popups need jQuery; a few lines of Leaflet draw the projects without it. Only local projects get a
    # point: a département- or région-wide one is listed under the map instead.
    projects = folium.FeatureGroup(name="Projets financés (actions locales)").add_to(fmap)
    markers = [
        {"lat": p.point.lat, "lon": p.point.lon, "name": p.name, "card": _card(p)} for p in listed if p.scope == "local"
    ]
    area_wide = [p for p in listed if p.scope != "local"]
    names = folium.FeatureGroup(name="Noms des communes").add_to(fmap)
    labels = [
        {"lat": label.lat, "lon": label.lon, "name": label.name, "rank": label.rank}
        for label in place_labels(data.boundaries, data.memo).within(LABEL_ZOOM, view)
    ]
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[view[1], view[0]], [view[3], view[2]]])
    root = fmap.get_root()
    root.render()
    header = re.sub(r'<meta name="viewport"[^>]*>', "", _inline_assets(root.header.render(), node_modules))
    frame = data.coverage.compute(CoverageParams())
    inside = frame[frame["code"].isin(data.geocoder.gazetteer.units[level, code].communes)]
    legend = "".join(
        f'<li><span class="p" style="background:{_colour(key)}"></span>{html.escape(label)}</li>'
        for key, (label, _) in COVERAGE_CLASSES.items()
    )
    title = f"{LEVEL_LABELS[level]} : {territory.name}"
    extended = "".join(
        f"<li>{html.escape(p.name)} ({html.escape(p.organisation)}) : "
        f"{html.escape(', '.join(t.name for t in p.territories))}</li>"
        for p in area_wide
    )
    extended_section = (
        f'<section class="legende"><h2>Actions à l\'échelle du département ou de la région</h2>'
        f"<p>Elles n'ont pas de point sur la carte.</p><ul>{extended}</ul></section>"
        if area_wide
        else ""
    )
    figures = (
        f"{fr_number(len(listed))} projets l'atteignent · {fr_number(len(inside))} communes, "
        f"{fr_number(int(inside['population'].sum()))} habitants · "
        f"{fr_number(int(inside['zone_blanche'].sum()))} communes en zone blanche"
    )
    document = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} — Mieux manger pour tous</title>{header}
<style>body{{font-family:system-ui,sans-serif;margin:0}} header{{padding:.5rem 1rem}} h1{{margin:0;font-size:1.3rem}}
.carte{{height:75vh;position:relative}} .legende{{padding:.5rem 1rem}} .legende ul{{list-style:none;padding:0}}
.p{{display:inline-block;width:1rem;height:1rem;margin-right:.4rem;border:1px solid #555;vertical-align:middle}}
footer{{font-size:.8rem;padding:.5rem 1rem}} h3{{font-size:1rem;margin:0}} dt{{font-weight:700}} dd{{margin:0}}
.etiquette span{{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;font:600 12px sans-serif;
color:#1b1b1b;text-shadow:-1px -1px 0 #fff,1px -1px 0 #fff,-1px 1px 0 #fff,1px 1px 0 #fff,0 0 3px #fff}}
.etiquette-rang-0 span,.etiquette-rang-1 span{{font-size:13px;font-weight:700;text-transform:uppercase}}</style>
</head><body><header><h1>{html.escape(title)}</h1><p>{html.escape(figures)}</p></header>
<main><div class="carte">{root.html.render()}</div>
<section class="legende"><h2>Légende</h2><ul>{legend}</ul>
<p>Zone blanche (rouge, contour en tirets) : commune rurale qu'aucune action locale n'atteint, à plus de
{CoverageParams().max_km:g} km d'une commune atteinte.</p></section>{extended_section}</main>
<footer>{html.escape(ATTRIBUTION)}. Données {data.version}.</footer>
<script>{root.script.render()}
(function () {{
  const group = window["{projects.get_name()}"];
  const names = window["{names.get_name()}"];
  for (const l of {script_json(labels)}) {{
    const span = document.createElement("span");
    span.textContent = l.name;
    const icon = L.divIcon({{className: "etiquette etiquette-rang-" + l.rank, html: span, iconSize: [0, 0]}});
    L.marker([l.lat, l.lon], {{interactive: false, keyboard: false, icon: icon}}).addTo(names);
  }}
  for (const p of {script_json(markers)}) {{
    L.circleMarker([p.lat, p.lon], {{radius: 8, color: "#ffffff", weight: 2, fillColor: "#1565c0", fillOpacity: 1}})
      .bindTooltip(text(p.name)).bindPopup(p.card, {{maxWidth: 360}}).addTo(group);
  }}
  function text(value) {{  // Leaflet writes a string tooltip as HTML: a project's name must stay text
    const span = document.createElement("span");
    span.textContent = value;
    return span;
  }}
}})();</script></body></html>
"""
    # the file's own inline scripts, by hash, and nothing else: an opened file can load and run nothing more
    policy = f'<meta http-equiv="Content-Security-Policy" content="{html.escape(offline_policy(document))}">'
    return document.replace('<meta charset="utf-8">', '<meta charset="utf-8">' + policy, 1)
