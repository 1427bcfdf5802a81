"""Pictures for reports: a territory (coverage, zones blanches, boundaries, projects) or a simulated action (the
communes it would take out of the zones blanches), with a title, a legend and the sources.

Drawn on the server with the same styles as the tiles (``tiles.raster``), from the per-zoom simplified layers.
"""

from __future__ import annotations

import functools
import io
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from PIL import Image, ImageDraw, ImageFont

from geo_service.coverage import CoverageParams
from geo_service.formatting import fr_number
from geo_service.labels import place_labels
from geo_service.maps.pages import LEVEL_LABELS, projects_reaching
from geo_service.planning import Simulation
from geo_service.projects.catalogue import selected
from geo_service.projects.models import STATUS_WORDS
from geo_service.service import ServiceData
from geo_service.tiles import raster
from geo_service.tiles.grid import lonlat_to_mercator, mercator_to_lonlat, tile_span
from geo_service.tiles.layers import LAYER_OF_LEVEL
from geo_service.tiles.service import TileService

logger = logging.getLogger("geo_service")
MAP_WIDTH = 1000
HEADER = 64
FOOTER = 48  # two lines of sources and rule
LEGEND_WIDTH = 290
PIXEL_RATIO = 1.4  # line widths and points, against a 256-pixel tile
TERRITORY = raster.Style(outline=(17, 17, 17, 255), width=2.2)
# The communes a simulated action takes out of the zones blanches: a solid, saturated colour that no coverage class
# uses (their fills are pale and translucent, the zones blanches red and hatched), so they stand out whatever they
# were drawn over; a darker outline of the same hue keeps neighbours apart.
LEAVING = raster.Style(fill=(0, 114, 178, 255), outline=(8, 48, 107, 255), width=0.9)
# The simulated action's outline: dark on a white halo, legible over the highlight and every coverage class.
ACTION_HALO = raster.Style(outline=(255, 255, 255, 255), width=4.4)
ACTION = raster.Style(outline=(17, 17, 17, 255), width=2.2)
TITLE_FONT = 26
SOURCES = "Sources : INSEE (COG {cog}), IGN, BANATIC, DREETS Hauts-de-France."


# DejaVu Sans (Debian's fonts-dejavu-core, installed by the README's commands and the Dockerfile) has every
# French letter; Pillow's own default font lacks accents, so it is only the last resort.
FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")
BOLD_FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf", *FONT_PATHS)


@functools.lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in BOLD_FONT_PATHS if bold else FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    logger.warning("DejaVu Sans not found (install fonts-dejavu-core): map pictures will lack accents")
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class MapFrame:
    """What the map part of a picture shows: Mercator ``bounds`` with the image's aspect, its size in pixels, and
    the zoom whose simplified geometries and place names it draws."""

    bounds: tuple[float, float, float, float]
    width: int
    height: int
    zoom: int


def map_frame(west: float, south: float, east: float, north: float) -> MapFrame:
    """A frame around a box in degrees, padded, its height following the box (within limits)."""
    minx, miny = lonlat_to_mercator(west, south)
    maxx, maxy = lonlat_to_mercator(east, north)
    pad = 0.06 * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    height = max(400, min(1200, round(MAP_WIDTH * (maxy - miny) / (maxx - minx))))
    # keep the aspect: widen the shorter side of the box rather than stretch the map
    span_x = max(maxx - minx, (maxy - miny) * MAP_WIDTH / height)
    span_y = span_x * height / MAP_WIDTH
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    bounds = (cx - span_x / 2, cy - span_y / 2, cx + span_x / 2, cy + span_y / 2)
    zoom = max(0, min(14, math.floor(math.log2(MAP_WIDTH * tile_span(0) / (256 * span_x)))))
    return MapFrame(bounds, MAP_WIDTH, height, zoom)


def _paint(
    canvas: Image.Image,
    frame: MapFrame,
    layer: str,
    kind: str,
    geometries: np.ndarray,
    properties: list[dict],
    style: raster.Style | None = None,
) -> None:
    """Draw Mercator geometries on the canvas, styled as their layer's tiles or with ``style``."""
    if len(geometries):
        canvas.alpha_composite(
            raster.draw(
                layer, kind, geometries, properties, frame.bounds, frame.width, frame.height, PIXEL_RATIO, style
            )
        )


def _paint_rows(
    canvas: Image.Image,
    frame: MapFrame,
    tiles: TileService,
    layer_name: str,
    rows: np.ndarray | None = None,
    style: raster.Style | None = None,
    params: CoverageParams | None = None,
) -> None:
    """Draw a layer's rows within the frame (all of them when ``rows`` is None), at the frame's zoom."""
    layer = tiles.layers.get(layer_name, params)
    shown = layer.query(*frame.bounds)
    if rows is not None:
        shown = np.intersect1d(shown, rows)
    if len(shown):
        _paint(
            canvas, frame, layer_name, "polygon", layer.geometries_at(frame.zoom, shown), layer.records(shown), style
        )


def _new_canvas(frame: MapFrame) -> Image.Image:
    return Image.new("RGBA", (frame.width, frame.height), (255, 255, 255, 255))


def territory_picture(
    data: ServiceData, tiles: TileService, level: str, code: str, params: CoverageParams | None = None
) -> bytes:
    """The territory's report picture under the coverage rule ``params`` (the defaults when None), its selection
    of projects by year or status included: only those projects are drawn and counted."""
    params = params or CoverageParams()
    territory = data.boundaries.get(level, code)
    frame = map_frame(*territory.bbox)
    canvas = _new_canvas(frame)
    # every EPCI and département outline in view, the neighbours' too: they place the territory among them
    for layer_name in ("coverage", "epci", "departements"):
        _paint_rows(canvas, frame, tiles, layer_name, params=params if layer_name == "coverage" else None)
    _paint_rows(
        canvas,
        frame,
        tiles,
        LAYER_OF_LEVEL[level],
        tiles.layers.get(LAYER_OF_LEVEL[level]).find("code", code),
        TERRITORY,
    )
    reaching = {p.id for p in projects_reaching(data, level, code) if selected(p, params.year, params.status)}
    points = tiles.layers.get("projects")
    rows = [r for r in points.query(*frame.bounds) if points.properties[r]["id"] in reaching]
    if rows:
        _paint(
            canvas,
            frame,
            "projects",
            "point",
            points.geometries_at(frame.zoom, rows),
            [points.properties[r] for r in rows],
        )
    _draw_names(canvas, data, frame)
    picture, pen = _page(
        canvas,
        f"{LEVEL_LABELS[level]} : {territory.name}",
        "Projets « Mieux manger pour tous » et zones blanches de l'aide alimentaire" + _selection_words(params),
    )
    x, y = _legend_classes(picture, pen)
    pen.ellipse([x + 4, y + 4, x + 18, y + 18], fill=raster.PROJECT_POINT.fill, outline="white")
    pen.text((x + 30, y + 2), "Projet local (point)", fill="#111111", font=_font(14))
    y += 30
    pen.rectangle([x, y + 10, x + 21, y + 12], fill="#111111")
    pen.text((x + 30, y + 2), "Limite du territoire", fill="#111111", font=_font(14))
    y += 44
    figures = data.coverage.compute(params)
    inside = figures[figures["code"].isin(data.geocoder.gazetteer.units[level, code].communes)]
    zones = inside["zone_blanche"]
    projects = len(reaching)
    _lines(
        pen,
        x,
        y,
        [
            f"{fr_number(projects)} projet{'s' if projects > 1 else ''} l'atteignent",
            f"{fr_number(len(inside))} commune{'s' if len(inside) > 1 else ''}, "
            f"{fr_number(int(inside['population'].sum()))} hab.",
            f"{fr_number(int(zones.sum()))} en zone blanche",
            f"({fr_number(int(inside.loc[zones, 'population'].sum()))} hab.)",
        ],
    )
    _sources(pen, data, params, picture.height)
    return _png(picture)


def simulation_picture(data: ServiceData, tiles: TileService, simulation: Simulation) -> bytes:
    """The simulated actions over today's coverage (under the simulation's parameters): the communes they would
    take out of the zones blanches highlighted, the actions' communes outlined, and the figures before and after.
    The map takes in both the actions' communes and the communes leaving."""
    communes = data.boundaries.level("commune")
    action_codes = sorted({code for action in simulation.actions for code in action.communes})
    leaving_codes = simulation.leaving["code"].tolist()
    shown = communes.geometry.reindex(pd.Index(action_codes + leaving_codes).unique()).dropna()
    extent = (
        shapely.total_bounds(shown.to_numpy())
        if len(shown)
        else shapely.total_bounds(communes.geometry.dropna().to_numpy())
    )
    frame = map_frame(*(float(v) for v in extent))
    canvas = _new_canvas(frame)
    _paint_rows(canvas, frame, tiles, "coverage", params=simulation.params)
    row_of = pd.Index(communes["code"])
    layer = tiles.layers.get("communes")
    _paint_rows(canvas, frame, tiles, "communes", _rows(row_of, leaving_codes), LEAVING)
    for layer_name in ("epci", "departements"):
        _paint_rows(canvas, frame, tiles, layer_name)
    # one outline around all the actions' communes (a union at the frame's zoom, whose simplified communes share
    # their borders), not one per commune: the action's extent is what the reader looks for
    action_rows = _rows(row_of, action_codes)
    if len(action_rows):
        outline = shapely.union_all(layer.geometries_at(frame.zoom, action_rows), grid_size=1.0)
        for style in (ACTION_HALO, ACTION):
            _paint(canvas, frame, "communes", "polygon", np.array([outline], dtype=object), [{}], style)
    _draw_names(canvas, data, frame)
    labels = " ; ".join(action.title or action.label for action in simulation.actions)
    picture, pen = _page(
        canvas,
        f"Simulation : {labels}",
        "Communes qui sortiraient des zones blanches de l'aide alimentaire (« Mieux manger pour tous »)",
    )
    x, y = _legend_classes(picture, pen)
    _swatch(picture, pen, x, y, "communes", LEAVING, "Sortent des zones blanches")
    y += 30
    pen.rectangle([x - 1, y + 8, x + 22, y + 14], fill="#ffffff", outline="#bbbbbb")
    pen.rectangle([x, y + 10, x + 21, y + 12], fill="#111111")
    pen.text((x + 30, y + 2), "Action simulée", fill="#111111", font=_font(14))
    y += 44
    before, after = simulation.before, simulation.after
    gained_communes = len(simulation.leaving)
    gained_people = int(simulation.leaving["population"].sum())
    y = _lines(
        pen,
        x,
        y,
        [
            ("En zone blanche, avant → après", True),
            f"Communes : {fr_number(before.communes_zone_blanche)} → {fr_number(after.communes_zone_blanche)}",
            f"Habitants : {fr_number(before.population_zone_blanche)} → {fr_number(after.population_zone_blanche)}",
        ],
    )
    y = _lines(
        pen,
        x,
        y + 12,
        [
            ("Sortent des zones blanches", True),
            f"{fr_number(gained_communes)} commune{'s' if gained_communes > 1 else ''}, "
            f"{fr_number(gained_people)} habitant{'s' if gained_people > 1 else ''}",
        ],
    )
    ignored = sum(not action.counted(simulation.params) for action in simulation.actions)
    if ignored:
        plural = "s" if ignored > 1 else ""
        note = (
            f"{fr_number(ignored)} action{plural} non comptée{plural} avec ces paramètres : action d'appui, "
            "action régionale, ou départementale (comptée sur demande seulement)."
        )
        _lines(pen, x, y + 12, _wrapped(pen, note, _font(13), LEGEND_WIDTH - 24), size=13)
    _sources(pen, data, simulation.params, picture.height)
    return _png(picture)


def _rows(row_of: pd.Index, codes: Iterable[str]) -> np.ndarray:
    """The communes layer's rows (those of ``boundaries.level("commune")``, in order) of these codes."""
    found = row_of.get_indexer(list(codes))
    return np.unique(found[found >= 0])


def _draw_names(canvas: Image.Image, data: ServiceData, frame: MapFrame) -> None:
    """Place names as on the web map (``geo_service.labels``), placed for the frame's zoom: the picture is drawn at
    that zoom's scale or a little larger, so names placed not to overlap there do not overlap here either."""
    minx, miny, maxx, maxy = frame.bounds
    west, south = mercator_to_lonlat(minx, miny)
    east, north = mercator_to_lonlat(maxx, maxy)
    scale = canvas.width / (maxx - minx)
    pen = ImageDraw.Draw(canvas)
    for label in place_labels(data.boundaries).within(frame.zoom, (west, south, east, north)):
        x, y = lonlat_to_mercator(label.lon, label.lat)
        font = _font(15 if label.rank <= 1 else 13)
        text = label.name.upper() if label.rank <= 1 else label.name
        pen.text(
            ((x - minx) * scale, (maxy - y) * scale),
            text,
            font=font,
            fill="#1b1b1b",
            anchor="mm",
            stroke_width=2,
            stroke_fill="#ffffff",
        )


def _fitted(
    pen: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float
) -> str:
    """``text`` on one line (a label someone sent may hold line breaks, which Pillow would draw as such), cut
    with an ellipsis where it would overflow ``width`` pixels (very long lists of actions)."""
    text = " ".join(text.split())
    if pen.textlength(text, font=font) <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with its ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        if pen.textlength(text[:middle].rstrip() + "…", font=font) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip(" ,;") + "…"


def _wrapped(
    pen: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float
) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels, broken between words."""
    lines: list[str] = []
    for word in text.split():
        if lines and pen.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _page(canvas: Image.Image, title: str, subtitle: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """The whole picture: the map under a title and a subtitle, a column on its right for the legend, room for
    the sources below."""
    width = canvas.width + LEGEND_WIDTH
    picture = Image.new("RGB", (width, HEADER + canvas.height + FOOTER), "white")
    picture.paste(canvas.convert("RGB"), (0, HEADER))
    pen = ImageDraw.Draw(picture)
    pen.text((16, 10), _fitted(pen, title, _font(TITLE_FONT), width - 32), fill="#111111", font=_font(TITLE_FONT))
    pen.text((16, 40), _fitted(pen, subtitle, _font(16), width - 32), fill="#333333", font=_font(16))
    return picture, pen


def _swatch(
    picture: Image.Image,
    pen: ImageDraw.ImageDraw,
    x: int,
    y: int,
    layer: str,
    style: raster.Style | None,
    label: str,
    properties: dict | None = None,
) -> None:
    """A legend entry: a square drawn as the layer's tiles draw it (or with ``style``), and its label."""
    swatch = raster.draw(
        layer,
        "polygon",
        np.array([shapely.box(0, 0, 1, 1)], dtype=object),
        [properties or {}],
        (0, 0, 1, 1),
        22,
        22,
        1.0,
        style,
    )
    background = Image.new("RGBA", (22, 22), (255, 255, 255, 255))
    background.alpha_composite(swatch)
    picture.paste(background.convert("RGB"), (x, y))
    pen.rectangle([x, y, x + 21, y + 21], outline="#555555")
    pen.text((x + 30, y + 2), label, fill="#111111", font=_font(14))


def _legend_classes(picture: Image.Image, pen: ImageDraw.ImageDraw) -> tuple[int, int]:
    """The legend's title and the coverage classes; where the next entry goes."""
    x, y = MAP_WIDTH + 16, HEADER + 8
    pen.text((x, y), "Légende", fill="#111111", font=_font(20))
    y += 32
    for key, (label, _) in raster.COVERAGE_CLASSES.items():
        _swatch(picture, pen, x, y, "coverage", None, label, {"best_scope": key, "zone_blanche": key == "zone_blanche"})
        y += 30
    return x, y


def _lines(pen: ImageDraw.ImageDraw, x: int, y: int, lines: list[str | tuple[str, bool]], size: int = 15) -> int:
    """Lines of figures under the legend (a ``(text, True)`` line is a heading, in bold); where the next line goes.
    A line too wide for the column is set smaller before it is cut: figures must stay whole."""
    width = LEGEND_WIDTH - 24
    for line in lines:
        text, heading = line if isinstance(line, tuple) else (line, False)
        smaller = size
        while smaller > 11 and pen.textlength(text, font=_font(smaller, heading)) > width:
            smaller -= 1
        font = _font(smaller, heading)
        pen.text((x, y), _fitted(pen, text, font, width), fill="#111111", font=font)
        y += 22
    return y


def _sources(pen: ImageDraw.ImageDraw, data: ServiceData, params: CoverageParams, height: int) -> None:
    """The sources and the rule the picture was drawn with, in its own words and figures (the parameters as
    given: 99,99 km is not rounded to 100), on at most two lines."""
    counted = "une action locale" + (" ou départementale" if params.count_departmental else "")
    kind = " d'accès direct" if params.reach == "direct" else ""
    measure = "de mairie à mairie" if params.distance_to == "townhall" else "jusqu'à la limite de la commune atteinte"
    text = (
        SOURCES.format(cog=data.boundaries.manifest["cog_year"])
        + f" Zone blanche : commune rurale (< {_as_given(params.rural_max_density)} hab/km²) à plus de "
        f"{_as_given(params.max_km)} km ({measure}) d'une commune atteinte par {counted}{kind}. "
        f"Données {data.version}."
    )
    font = _font(12)
    for number, line in enumerate(_wrapped(pen, text, font, pen.im.size[0] - 32)[:2]):
        pen.text((16, height - FOOTER + 6 + 18 * number), line, fill="#333333", font=font)


def _selection_words(params: CoverageParams) -> str:
    """The selection of projects the picture counts, in French ('' for all of them)."""
    parts = []
    if params.year is not None:
        parts.append(f"financées par l'appel {params.year}")
    if params.status is not None:
        parts.append(f"au statut « {STATUS_WORDS[params.status if params.status != 'unknown' else None]} »")
    return f" — seules les actions {' et '.join(parts)}" if parts else ""


def _as_given(value: float) -> str:
    """A parameter in French with the decimals it was given (up to three): 99.99 -> '99,99', 10 -> '10'."""
    decimals = len(f"{value:.3f}".rstrip("0").split(".")[1])
    return fr_number(value, decimals)


def _png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
