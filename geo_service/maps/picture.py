"""A picture of a territory for reports: coverage, zones blanches, boundaries, projects, title, legend, sources.

Drawn on the server with the same styles as the tiles (``tiles.raster``), from the per-zoom simplified layers.
"""

from __future__ import annotations

import functools
import io
import logging
import math

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont

from geo_service.coverage import CoverageParams
from geo_service.formatting import fr_number
from geo_service.labels import place_labels
from geo_service.maps.pages import LEVEL_LABELS, projects_reaching
from geo_service.service import ServiceData
from geo_service.tiles import raster
from geo_service.tiles.grid import lonlat_to_mercator, mercator_to_lonlat, tile_span
from geo_service.tiles.layers import LAYER_OF_LEVEL
from geo_service.tiles.service import TileService

logger = logging.getLogger("geo_service")
MAP_WIDTH = 1000
HEADER = 64
FOOTER = 40
LEGEND_WIDTH = 290
TERRITORY = raster.Style(outline=(17, 17, 17, 255), width=2.2)


# DejaVu Sans (Debian's fonts-dejavu-core, installed by the README's commands and the Dockerfile) has every
# French letter; Pillow's own default font lacks accents, so it is only the last resort.
FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    logger.warning("DejaVu Sans not found (install fonts-dejavu-core): map pictures will lack accents")
    return ImageFont.load_default(size=size)


def territory_picture(data: ServiceData, tiles: TileService, level: str, code: str) -> bytes:
    territory = data.boundaries.get(level, code)
    west, south, east, north = territory.bbox
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
    canvas = Image.new("RGBA", (MAP_WIDTH, height), (255, 255, 255, 255))
    for layer_name, style in [
        ("coverage", None),
        ("epci", None),
        ("departements", None),
        (LAYER_OF_LEVEL[level], TERRITORY),
    ]:
        layer = tiles.layers.get(layer_name)
        rows = layer.query(*bounds)
        if layer_name == LAYER_OF_LEVEL[level]:
            rows = np.intersect1d(rows, layer.find("code", code))
        if len(rows):
            canvas.alpha_composite(
                raster.draw(
                    layer_name,
                    "polygon",
                    layer.geometries_at(zoom, rows),
                    layer.records(rows),
                    bounds,
                    MAP_WIDTH,
                    height,
                    1.4,
                    style,
                )
            )
    reaching = {p.id for p in projects_reaching(data, level, code)}
    points = tiles.layers.get("projects")
    rows = [r for r in points.query(*bounds) if points.properties[r]["id"] in reaching]
    if rows:
        canvas.alpha_composite(
            raster.draw(
                "projects",
                "point",
                points.geometries_at(zoom, rows),
                [points.properties[r] for r in rows],
                bounds,
                MAP_WIDTH,
                height,
                1.4,
            )
        )
    _draw_names(canvas, data, bounds, zoom)
    return _compose(data, territory, canvas, len(reaching), level, code)


def _draw_names(canvas: Image.Image, data: ServiceData, bounds: tuple[float, float, float, float], zoom: int) -> None:
    """Place names as on the web map (``geo_service.labels``), placed for ``zoom``: the picture is drawn at that
    zoom's scale or a little larger, so names placed not to overlap there do not overlap here either."""
    minx, miny, maxx, maxy = bounds
    west, south = mercator_to_lonlat(minx, miny)
    east, north = mercator_to_lonlat(maxx, maxy)
    scale = canvas.width / (maxx - minx)
    pen = ImageDraw.Draw(canvas)
    for label in place_labels(data.boundaries).within(zoom, (west, south, east, north)):
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


def _compose(data: ServiceData, territory, canvas: Image.Image, projects: int, level: str, code: str) -> bytes:
    width = MAP_WIDTH + LEGEND_WIDTH
    picture = Image.new("RGB", (width, HEADER + canvas.height + FOOTER), "white")
    picture.paste(canvas.convert("RGB"), (0, HEADER))
    pen = ImageDraw.Draw(picture)
    pen.text((16, 10), f"{LEVEL_LABELS[level]} : {territory.name}", fill="#111111", font=_font(26))
    pen.text(
        (16, 40),
        "Projets « Mieux manger pour tous » et zones blanches de l'aide alimentaire",
        fill="#333333",
        font=_font(16),
    )
    frame = data.coverage.compute(CoverageParams())
    inside = frame[frame["code"].isin(data.geocoder.gazetteer.units[level, code].communes)]
    x, y = MAP_WIDTH + 16, HEADER + 8
    pen.text((x, y), "Légende", fill="#111111", font=_font(20))
    y += 32
    for key, (label, _) in raster.COVERAGE_CLASSES.items():
        swatch = raster.draw(
            "coverage",
            "polygon",
            np.array([shapely.box(0, 0, 1, 1)], dtype=object),
            [{"best_scope": key, "zone_blanche": key == "zone_blanche"}],
            (0, 0, 1, 1),
            22,
            22,
            1.0,
        )
        background = Image.new("RGBA", (22, 22), (255, 255, 255, 255))
        background.alpha_composite(swatch)
        picture.paste(background.convert("RGB"), (x, y))
        pen.rectangle([x, y, x + 21, y + 21], outline="#555555")
        pen.text((x + 30, y + 2), label, fill="#111111", font=_font(14))
        y += 30
    pen.ellipse([x + 4, y + 4, x + 18, y + 18], fill=raster.PROJECT_POINT.fill, outline="white")
    pen.text((x + 30, y + 2), "Projet local (point)", fill="#111111", font=_font(14))
    y += 30
    pen.rectangle([x, y + 10, x + 21, y + 12], fill="#111111")
    pen.text((x + 30, y + 2), "Limite du territoire", fill="#111111", font=_font(14))
    y += 44
    zones = inside["zone_blanche"]
    for line in [
        f"{fr_number(projects)} projet{'s' if projects > 1 else ''} l'atteignent",
        f"{fr_number(len(inside))} commune{'s' if len(inside) > 1 else ''}, "
        f"{fr_number(int(inside['population'].sum()))} hab.",
        f"{fr_number(int(zones.sum()))} en zone blanche",
        f"({fr_number(int(inside.loc[zones, 'population'].sum()))} hab.)",
    ]:
        pen.text((x, y), line, fill="#111111", font=_font(15))
        y += 22
    pen.text(
        (16, HEADER + canvas.height + 10),
        f"Sources : INSEE (COG {data.boundaries.manifest['cog_year']}), IGN, BANATIC, DREETS Hauts-de-France. "
        f"Zone blanche : commune rurale (< 150 hab/km²) à plus de 10 km d'une action locale. "
        f"Données {data.version}.",
        fill="#333333",
        font=_font(13),
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
