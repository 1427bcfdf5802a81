"""The interactive map, built with Folium and wired to our own assets, tiles and API.

Folium writes the Leaflet map itself (its view, a configured basemap, the fullscreen button); every script and style
it would fetch from a CDN is pointed at ``/static/vendor`` instead, where npm installed them. Everything else is
made by the page's own modules (``geo_service/static/carte/``, entry ``main.js``) from the settings the page writes
as JSON (``map_config``): the tile overlays, the territory's outline, the projects' marker cluster, the place names,
the controls in French (zoom, the layer list folded, « Recentrer », the legend inside the map, metric scale) and the
fit at fractional zoom around them. Those layers are not Folium's: Folium would give each a generated global name
that the page's script would have to look up; the one such name left is the map's, which the settings give.
Nothing heavy is inlined in the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
from folium import plugins

VENDOR = "/static/vendor"
# URL name under /static/vendor -> folder inside node_modules; only these are served, nothing else of node_modules.
VENDOR_FOLDERS = {
    "leaflet": "leaflet/dist",
    "leaflet.markercluster": "leaflet.markercluster/dist",
    "leaflet.fullscreen": "leaflet.fullscreen",
}
LEAFLET_JS = [("leaflet", f"{VENDOR}/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{VENDOR}/leaflet/leaflet.css")]
CLUSTER_JS = [("markerclusterjs", f"{VENDOR}/leaflet.markercluster/leaflet.markercluster.js")]
CLUSTER_CSS = [
    ("markerclustercss", f"{VENDOR}/leaflet.markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", f"{VENDOR}/leaflet.markercluster/MarkerCluster.Default.css"),
]
FULLSCREEN_JS = [("Control.Fullscreen.js", f"{VENDOR}/leaflet.fullscreen/Control.FullScreen.js")]
FULLSCREEN_CSS = [("Control.FullScreen.css", f"{VENDOR}/leaflet.fullscreen/Control.FullScreen.css")]

# One short line on the map (the full list of sources is in the page's footer, which it links to): on a small
# embedded map a long attribution would cover the territory.
ATTRIBUTION = '<a href="/carte#sources" target="_blank" rel="noopener">Sources</a> : INSEE, IGN, BANATIC, DREETS'

# Overlays: URL layer name -> (title in the layer control, tile layer)
OVERLAYS: dict[str, tuple[str, str]] = {
    "coverage": ("Couverture des communes", "coverage"),
    "zones-blanches": ("Zones blanches seules", "zones-blanches"),
    "project-areas": ("Territoires d'intervention", "project-areas"),
    "epci": ("Limites des intercommunalités", "epci"),
    "departements": ("Limites des départements", "departements"),
    "communes": ("Limites des communes", "communes"),
}
DEFAULT_LAYERS = ("projects", "coverage", "epci", "departements")
COVERAGE_OVERLAYS = ("coverage", "zones-blanches")
ALL_LAYERS = ("projects", *OVERLAYS)


def vendor_file(url: str, node_modules: Path) -> Path:
    """Where npm put the file served at ``url`` (/static/vendor/NAME/FILE)."""
    name, _, rest = url.removeprefix(f"{VENDOR}/").partition("/")
    return node_modules / VENDOR_FOLDERS[name] / rest


# The options of every tile overlay, as Leaflet's L.tileLayer takes them (what Folium's TileLayer wrote for them)
TILE_OPTIONS = {"minZoom": 0, "maxZoom": 14, "maxNativeZoom": 14, "detectRetina": True, "attribution": ATTRIBUTION}
OUTLINE_STYLE = {"color": "#111111", "weight": 4, "fill": False}


@dataclass(frozen=True)
class MapParts:
    """What Folium wrote (``header`` for <head>, ``html`` the map's element, ``script`` the inline script making the
    map) and the settings the page's modules make the rest from (``config``, merged into the page's settings)."""

    header: str
    html: str
    script: str
    config: dict[str, Any]


def leaflet_map(bounds: tuple[float, float, float, float], **options: Any) -> folium.Map:
    """Folium's map of ``bounds`` (west, south, east, north), with our Leaflet files and no basemap: the page's
    modules fit the territory and add the rest."""
    west, south, east, north = bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=8, tiles=None, **options)
    fmap.default_js, fmap.default_css = LEAFLET_JS, LEAFLET_CSS
    return fmap


def rendered(fmap: folium.Map) -> tuple[str, str, str]:
    """The map's (header, html, script). Folium forbids zooming the page on phones (user-scalable=no), which WCAG
    does not allow: the page template brings its own viewport."""
    root = fmap.get_root()
    root.render()
    header = re.sub(r"<meta name=\"viewport\"[^>]*>", "", root.header.render())
    return header, root.html.render(), root.script.render()


def map_config(
    fmap: folium.Map, bounds: tuple[float, float, float, float], outline: dict | None, outline_name: str
) -> dict[str, Any]:
    """The settings the page's modules read about the map: the name Folium gave it (config.js reads it, once), the
    territory's bounds to fit ([[south, west], [north, east]]) and its outline (drawn from the start)."""
    west, south, east, north = bounds
    return {
        "map": fmap.get_name(),
        "bounds": [[south, west], [north, east]],
        "outline": None if outline is None else {"title": outline_name, "geojson": outline, "style": OUTLINE_STYLE},
    }


def build_map(
    bounds: tuple[float, float, float, float],
    layers: tuple[str, ...],
    basemap_url: str = "",
    basemap_attribution: str = "",
    outline: dict | None = None,
    outline_name: str = "",
    coverage_query: str = "",
    versions: dict[str, str] | None = None,
) -> MapParts:
    """The map of a page, fitted to ``bounds`` (west, south, east, north) with the overlays in ``layers`` shown;
    ``coverage_query`` (e.g. ``reach=all``) is added to the coverage layers' tile URLs, and each layer's version
    from ``versions`` (``?v=``), which makes its tiles cacheable for good: a second visit asks for none."""
    # no Folium layer control: map.js builds one in French, folded behind its button; and no Folium fit either:
    # the page fits the territory inside the controls without animation (an animated fit still running when a
    # view from the URL is set would undo it when it ends); a metric-only scale (Leaflet's default shows miles too)
    fmap = leaflet_map(bounds, control_scale=False, min_zoom=5, max_zoom=14, width="100%", height="100%")
    if basemap_url:
        folium.TileLayer(
            tiles=basemap_url,
            attr=basemap_attribution or "Fond de carte",
            name="Fond de carte",
            overlay=False,
            control=True,
        ).add_to(fmap)
    # Overlays start off the map: the page adds the chosen ones once the view is final, so that no tile is
    # requested for a view the page leaves at once (those requests would be cancelled).
    overlays = []
    for key, (title, layer) in OVERLAYS.items():
        parts = [coverage_query] if coverage_query and layer in COVERAGE_OVERLAYS else []
        if versions and layer in versions:
            parts.append(f"v={versions[layer]}")
        query = "?" + "&".join(parts) if parts else ""
        overlays.append(
            {
                "key": key,
                "title": title,
                "url": f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.png{query}",
                "coverage": layer in COVERAGE_OVERLAYS,
            }
        )
    # the projects' marker cluster is the page's (projects.js): its files come with Leaflet's, after them
    fmap.default_js, fmap.default_css = LEAFLET_JS + CLUSTER_JS, LEAFLET_CSS + CLUSTER_CSS
    fullscreen = plugins.Fullscreen(
        position="topleft",
        title="Afficher la carte en plein écran",
        title_cancel="Quitter le plein écran",
        force_separate_button=True,
    )
    fullscreen.default_js, fullscreen.default_css = FULLSCREEN_JS, FULLSCREEN_CSS
    fullscreen.add_to(fmap)
    header, html, script = rendered(fmap)
    config = map_config(fmap, bounds, outline, outline_name)
    config.update(overlays=overlays, tileOptions=TILE_OPTIONS, cluster=True)
    return MapParts(header=header, html=html, script=script, config=config)
