"""Pictures for reports: a territory (coverage, zones blanches, boundaries, projects) or a simulated action (the
communes it would take out of the zones blanches), with a title, a legend and the sources.

Drawn on the server with the same styles as the tiles (``tiles.raster``), from the per-zoom simplified layers.
"""

from __future__ import annotations

import functools
import io
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import shapely
from PIL import Image, ImageDraw, ImageFont

from geo_service.formatting import fr_number
from geo_service.labels import place_labels
from geo_service.maps.pages import LEVEL_LABELS, projects_reaching
from geo_service.parameters import CoverageParams
from geo_service.planning import Simulation, leaving_sentence
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
LEGEND_WIDTH = 310
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
MIN_MAP_HEIGHT = 520  # the legend column's height at most (classes, figures, what is counted, a simulation's notes)
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
    height = max(MIN_MAP_HEIGHT, min(1200, round(MAP_WIDTH * (maxy - miny) / (maxx - minx))))
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


@dataclass(frozen=True)
class Disc:
    """A project marker as drawn: its centre and radius, in pixels of the map part of the picture."""

    x: float
    y: float
    r: float


Box = tuple[float, float, float, float]  # left, top, right, bottom, in pixels of the map part


@dataclass(frozen=True)
class PlacedName:
    """A place name as drawn: its text and size, the centre it is drawn at, and its box (halo included)."""

    text: str
    size: int
    x: float
    y: float
    box: Box


@dataclass(frozen=True)
class NameLayout:
    """Where the names of a picture go: each clear of every marker's disc, of the other names and of the frame's
    edges; the names that fit nowhere are left out (``skipped``)."""

    width: int
    height: int
    markers: list[Disc]
    names: list[PlacedName]
    skipped: list[str]


MARKER_RADIUS = raster.POINT_RADIUS * PIXEL_RATIO  # as raster.draw draws a point at this pixel ratio
NAME_GAP = 2.0  # pixels kept clear between a name's box and a marker's disc or the frame's edge
NAME_HALO = 2  # the white stroke around the letters


def _clear_of(box: Box, disc: Disc) -> bool:
    """Whether a box keeps NAME_GAP pixels from a disc: the distance from the centre to the box, against r."""
    dx = max(box[0] - disc.x, 0.0, disc.x - box[2])
    dy = max(box[1] - disc.y, 0.0, disc.y - box[3])
    return math.hypot(dx, dy) >= disc.r + NAME_GAP


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_names(
    candidates: Sequence[tuple[str, float, float, int]],
    markers: Sequence[Disc],
    width: int,
    height: int,
    measure: Callable[[str, int], Box],
) -> NameLayout:
    """Place names (``(text, x, y, size)``, most important first, at their town hall) on a map of ``width`` x
    ``height`` pixels with project ``markers``: each name centred on its town hall, or else just above, below,
    right or left of it, at the first of these places where its box (``measure(text, size)``: relative to the
    centre it is drawn at) crosses no marker's disc, no name already placed and no edge of the frame; a name that
    fits at none is left out. A marker sits where a project is, often at a town hall: a name over it would hide
    the project, and a name cut at the frame reads as another name."""
    placed: list[PlacedName] = []
    skipped: list[str] = []
    for text, x, y, size in candidates:
        left, top, right, bottom = measure(text, size)
        half_w, half_h = (right - left) / 2, (bottom - top) / 2
        beside = MARKER_RADIUS + NAME_GAP + 1
        offsets = [
            (0.0, 0.0),
            (0.0, -(half_h + beside)),
            (0.0, half_h + beside),
            (half_w + beside, 0.0),
            (-(half_w + beside), 0.0),
        ]
        for dx, dy in offsets:
            cx, cy = x + dx, y + dy
            box = (cx + left, cy + top, cx + right, cy + bottom)
            inside = (
                box[0] >= NAME_GAP and box[1] >= NAME_GAP and box[2] <= width - NAME_GAP and box[3] <= height - NAME_GAP
            )
            if (
                inside
                and all(_clear_of(box, disc) for disc in markers)
                and not any(_overlaps(box, other.box) for other in placed)
            ):
                placed.append(PlacedName(text, size, cx, cy, box))
                break
        else:
            skipped.append(text)
    return NameLayout(width, height, list(markers), placed, skipped)


def _measure(text: str, size: int) -> Box:
    """A name's box as Pillow draws it centred (anchor "mm") with its halo, relative to that centre."""
    pen = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    return tuple(  # type: ignore[return-value]
        float(v) for v in pen.textbbox((0, 0), text, font=_font(size), anchor="mm", stroke_width=NAME_HALO)
    )


def name_layout(data: ServiceData, frame: MapFrame, markers: Sequence[Disc] = ()) -> NameLayout:
    """The place names of the frame (as on the web map, ``geo_service.labels``, for the frame's zoom: the
    picture is drawn at that zoom's scale or a little larger, so names that do not overlap there do not here
    either), placed clear of the markers and the frame's edges by ``place_names``."""
    minx, miny, maxx, maxy = frame.bounds
    west, south = mercator_to_lonlat(minx, miny)
    east, north = mercator_to_lonlat(maxx, maxy)
    scale = frame.width / (maxx - minx)
    candidates = []
    for label in place_labels(data.boundaries, data.memo).within(frame.zoom, (west, south, east, north)):
        x, y = lonlat_to_mercator(label.lon, label.lat)
        text = label.name.upper() if label.rank <= 1 else label.name
        candidates.append((text, (x - minx) * scale, (maxy - y) * scale, 15 if label.rank <= 1 else 13))
    return place_names(candidates, markers, frame.width, frame.height, _measure)


@dataclass(frozen=True)
class TerritoryLayout:
    """What a territory's picture draws on its map, before drawing: the frame, the projects reaching the territory
    (ids) and the map rows of their markers, and the names placed around them."""

    frame: MapFrame
    reaching: set[str]
    marker_rows: list[int]
    names: NameLayout


def territory_layout(
    data: ServiceData, tiles: TileService, level: str, code: str, params: CoverageParams | None = None
) -> TerritoryLayout:
    """The frame, markers and names of the territory's picture (``territory_picture`` draws exactly these)."""
    params = params or CoverageParams()
    territory = data.boundaries.get(level, code)
    frame = map_frame(*territory.bbox)
    reaching = {p.id for p in projects_reaching(data, level, code) if selected(p, params.year, params.status)}
    points = tiles.layers.get("projects")
    rows = [int(r) for r in points.query(*frame.bounds) if points.properties[r]["id"] in reaching]
    minx, _, maxx, maxy = frame.bounds
    scale = frame.width / (maxx - minx)
    markers = [
        Disc((point.x - minx) * scale, (maxy - point.y) * scale, MARKER_RADIUS)
        for point in points.geometries_at(frame.zoom, rows)
        if point is not None and not point.is_empty
    ]
    return TerritoryLayout(frame, reaching, rows, name_layout(data, frame, markers))


def territory_picture(
    data: ServiceData, tiles: TileService, level: str, code: str, params: CoverageParams | None = None
) -> bytes:
    """The territory's report picture under the coverage rule ``params`` (the defaults when None), its selection
    of projects by year or status included: only those projects are drawn and counted."""
    params = params or CoverageParams()
    territory = data.boundaries.get(level, code)
    layout = territory_layout(data, tiles, level, code, params)
    frame = layout.frame
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
    points = tiles.layers.get("projects")
    rows = layout.marker_rows
    if rows:
        _paint(
            canvas,
            frame,
            "projects",
            "point",
            points.geometries_at(frame.zoom, rows),
            [points.properties[r] for r in rows],
        )
    _draw_names(canvas, layout.names)
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
    projects = len(layout.reaching)
    counted = sum(_counts(data, pid, params) for pid in layout.reaching)
    y = _lines(
        pen,
        x,
        y,
        [
            f"{fr_number(projects)} projet{'s' if projects > 1 else ''} l'atteigne{'nt' if projects > 1 else ''}, "
            f"dont {fr_number(counted)} compté{'s' if counted > 1 else ''}",
            f"{fr_number(len(inside))} commune{'s' if len(inside) > 1 else ''}, "
            f"{fr_number(int(inside['population'].sum()))} hab.",
            f"{fr_number(int(zones.sum()))} en zone blanche",
            f"({fr_number(int(inside.loc[zones, 'population'].sum()))} hab.)",
        ],
    )
    _lines(pen, x, y + 8, _wrapped(pen, counted_words(params), _font(13), LEGEND_WIDTH - 24), size=13)
    _sources(pen, data, params, picture.height)
    return _png(picture)


def _counts(data: ServiceData, project_id: str, params: CoverageParams) -> bool:
    """Whether a project counts as reaching its communes under ``params`` (the rule of geo_service.coverage)."""
    coverage = data.coverage.selection(params) if params.selects else data.coverage
    scope = coverage.scope_of_project.get(project_id)
    scope_counts = scope == "local" or (scope == "departement" and params.count_departmental)
    return scope_counts and coverage.counted(project_id, params.unselected())


def counted_words(params: CoverageParams) -> str:
    """What the figures and the hatching count, in French."""
    kind = " d'accès direct" if params.reach == "direct" else " (d'accès direct ou d'appui)"
    if params.count_departmental:
        return f"Comptées : actions locales et départementales{kind} ; les actions régionales ne le sont jamais."
    return f"Comptées : actions locales{kind} seulement (ni départementales, ni régionales)."


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
    _draw_names(canvas, name_layout(data, frame))
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
    # whole communes count, with their neighbours brought within max_km: say how many live outside the action
    sentence = leaving_sentence(simulation, data.geocoder.gazetteer.units) + "."
    y = _lines(pen, x, y + 4, _wrapped(pen, sentence, _font(13), LEGEND_WIDTH - 24), size=13)
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


def _draw_names(canvas: Image.Image, layout: NameLayout) -> None:
    """Draw the names where ``place_names`` put them."""
    pen = ImageDraw.Draw(canvas)
    for name in layout.names:
        pen.text(
            (name.x, name.y),
            name.text,
            font=_font(name.size),
            fill="#1b1b1b",
            anchor="mm",
            stroke_width=NAME_HALO,
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
    for word in text.split(" "):  # not at the narrow no-break space of French numbers (« 80 112 »)
        if not word:
            continue
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
        y += size + 7
    return y


def footer_text(data: ServiceData, params: CoverageParams) -> str:
    """The sources, the rule the picture was drawn with, in its own words and figures (the parameters as given:
    99,99 km is not rounded to 100), and the data's date: the boundaries' COG year and the day the projects last
    changed (a reader compares two pictures by their dates, not by a version hash)."""
    counted = "une action locale" + (" ou départementale" if params.count_departmental else "")
    kind = " d'accès direct" if params.reach == "direct" else ""
    measure = "de mairie à mairie" if params.distance_to == "townhall" else "jusqu'à la limite de la commune atteinte"
    return (
        SOURCES.format(cog=data.boundaries.manifest["cog_year"])
        + f" Zone blanche : commune rurale (< {_as_given(params.rural_max_density)} hab/km²) à plus de "
        f"{_as_given(params.max_km)} km ({measure}) d'une commune atteinte par {counted}{kind}. "
        f"Projets enregistrés au {fr_long_date(projects_date(data))}."
    )


def _sources(pen: ImageDraw.ImageDraw, data: ServiceData, params: CoverageParams, height: int) -> None:
    """The footer (``footer_text``), on at most two lines."""
    font = _font(12)
    for number, line in enumerate(_wrapped(pen, footer_text(data, params), font, pen.im.size[0] - 32)[:2]):
        pen.text((16, height - FOOTER + 6 + 18 * number), line, fill="#333333", font=font)


MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


# the projects' date per store and data version (a picture per version, a simulation per click)
def fr_long_date(day: date) -> str:
    """A date in French words: « 5 décembre 2026 », « 1er mars 2025 »."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def projects_date(data: ServiceData) -> date:
    """When the projects last changed: the store's latest write (a create, an edit, an import, a deletion) as the
    publisher read it with them, as a day in France; today when the data was served without a store."""
    if data.written_at is not None:
        return datetime.fromisoformat(data.written_at).astimezone(_paris()).date()
    return datetime.now(_paris()).date()


def _paris() -> ZoneInfo | None:
    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:  # a system without time zone data: the day in UTC
        return None


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
