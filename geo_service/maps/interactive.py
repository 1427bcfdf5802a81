"""The interactive map, built with Folium and wired to our own assets, tiles and API.

Folium writes the Leaflet map (overlays, marker cluster, fullscreen); every script and style it would fetch from a
CDN is pointed at ``/static/vendor`` instead, where npm installed them. Polygons are our raster tiles, projects
are fetched from ``/api/v1/projects`` and place names from ``/api/v1/labels`` by ``/static/app/carte.js``, which
also adds the controls in French (zoom, the layer list folded, « Recentrer », the legend inside the map, metric
scale) and fits the territory at fractional zoom around them: nothing heavy is inlined
in the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class MapParts:
    header: str
    html: str
    script: str
    map_name: str
    cluster_name: str
    overlay_names: dict[str, str]  # URL layer name -> JavaScript variable of its Leaflet layer
    outline_name: str | None = None  # JavaScript variable of the territory's outline, when there is one


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
    """The Folium map fitted to ``bounds`` (west, south, east, north) with the overlays in ``layers`` shown;
    ``coverage_query`` (e.g. ``reach=all``) is added to the coverage layers' tile URLs, and each layer's version
    from ``versions`` (``?v=``), which makes its tiles cacheable for good: a second visit asks for none."""
    west, south, east, north = bounds
    fmap = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=8,
        tiles=None,
        control_scale=False,  # carte.js adds a metric-only scale (Leaflet's default shows miles too)
        min_zoom=5,
        max_zoom=14,
        width="100%",
        height="100%",
    )
    fmap.default_js, fmap.default_css = LEAFLET_JS, LEAFLET_CSS
    if basemap_url:
        folium.TileLayer(
            tiles=basemap_url,
            attr=basemap_attribution or "Fond de carte",
            name="Fond de carte",
            overlay=False,
            control=True,
        ).add_to(fmap)
    # Overlays start off the map: carte.js adds the chosen ones once the view is final, so that no tile is
    # requested for a view the page leaves at once (those requests would be cancelled).
    overlay_names = {}
    for key, (title, layer) in OVERLAYS.items():
        # Leaflet shows each attribution once, whichever layers carry it
        parts = [coverage_query] if coverage_query and layer in COVERAGE_OVERLAYS else []
        if versions and layer in versions:
            parts.append(f"v={versions[layer]}")
        query = "?" + "&".join(parts) if parts else ""
        tiles = folium.TileLayer(
            tiles=f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.png{query}",
            attr=ATTRIBUTION,
            name=title,
            overlay=True,
            control=False,
            show=False,
            max_zoom=14,
            detect_retina=True,
        )
        tiles.add_to(fmap)
        overlay_names[key] = tiles.get_name()
    outline_layer = None
    if outline is not None:
        # the territory of the page, one simplified polygon: a few kilobytes inlined
        outline_layer = folium.GeoJson(
            outline,
            name=outline_name,
            control=False,
            interactive=False,
            style_function=lambda _: {"color": "#111111", "weight": 4, "fill": False},
        )
        outline_layer.add_to(fmap)
    cluster = plugins.MarkerCluster(name="Projets financés", show=False, control=False)
    cluster.default_js, cluster.default_css = CLUSTER_JS, CLUSTER_CSS
    cluster.add_to(fmap)
    fullscreen = plugins.Fullscreen(
        position="topleft",
        title="Afficher la carte en plein écran",
        title_cancel="Quitter le plein écran",
        force_separate_button=True,
    )
    fullscreen.default_js, fullscreen.default_css = FULLSCREEN_JS, FULLSCREEN_CSS
    fullscreen.add_to(fmap)
    # no Folium layer control: carte.js builds one in French, folded or not by the room there is; and no Folium
    # fit either: carte.js fits the territory inside the controls without animation (an animated fit still
    # running when a view from the URL is set would undo it when it ends)
    root = fmap.get_root()
    root.render()
    # Folium forbids zooming the page on phones (user-scalable=no), which WCAG does not allow: the page template
    # brings its own viewport.
    header = re.sub(r"<meta name=\"viewport\"[^>]*>", "", root.header.render())
    return MapParts(
        header=header,
        html=root.html.render(),
        script=root.script.render(),
        map_name=fmap.get_name(),
        cluster_name=cluster.get_name(),
        overlay_names=overlay_names,
        outline_name=outline_layer.get_name() if outline_layer is not None else None,
    )
