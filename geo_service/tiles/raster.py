"""PNG tiles drawn with Pillow, styled as the map's legend, transparent where there is no data.

Polygons are drawn at twice the tile size and scaled down, which smooths their edges. Coverage classes are
colours chosen to stay distinct for colour-blind readers, and zones blanches are also hatched, so that colour
never carries the meaning alone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from PIL import Image, ImageChops, ImageDraw

SUPERSAMPLE = 2
RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Style:
    fill: RGBA | None = None
    outline: RGBA | None = None
    width: float = 1.0
    hatch: RGBA | None = None


OUTLINES: dict[str, Style] = {
    "communes": Style(outline=(110, 110, 110, 200), width=0.6),
    "epci": Style(outline=(93, 64, 55, 230), width=1.2),
    "arrondissements": Style(outline=(106, 27, 154, 220), width=1.4),
    "departements": Style(outline=(38, 50, 56, 255), width=2.0),
    "region": Style(outline=(0, 0, 0, 255), width=2.5),
    "project-areas": Style(fill=(21, 101, 192, 45), outline=(21, 101, 192, 200), width=1.2),
}
# Coverage classes, also used by the map legend (label, style).
COVERAGE_CLASSES: dict[str, tuple[str, Style]] = {
    "local": (
        "Atteinte par une action locale",
        Style(fill=(26, 133, 90, 150), outline=(255, 255, 255, 120), width=0.4),
    ),
    "departement": (
        "Action départementale seulement",
        Style(fill=(240, 180, 41, 150), outline=(255, 255, 255, 120), width=0.4),
    ),
    "region": ("Action régionale seulement", Style(fill=(120, 144, 176, 120), outline=(255, 255, 255, 120), width=0.4)),
    "none": ("Aucune action", Style(fill=(200, 200, 200, 120), outline=(255, 255, 255, 120), width=0.4)),
    "zone_blanche": (
        "Zone blanche (hachurée)",
        Style(fill=(200, 30, 45, 110), outline=(160, 20, 35, 230), width=0.8, hatch=(160, 20, 35, 230)),
    ),
}
PROJECT_POINT = Style(fill=(21, 101, 192, 255), outline=(255, 255, 255, 255), width=1.5)
POINT_RADIUS = 6


def style_class(layer: str, properties: dict[str, Any]) -> tuple[str, Style]:
    if layer == "zones-blanches" or (layer == "coverage" and properties.get("zone_blanche")):
        return "zone_blanche", COVERAGE_CLASSES["zone_blanche"][1]
    if layer == "coverage":
        scope = properties.get("best_scope", "none")
        return scope, COVERAGE_CLASSES[scope][1]
    if layer == "projects":
        return "project", PROJECT_POINT
    return layer, OUTLINES[layer]


def _pixels(geometries: np.ndarray, bounds: tuple[float, float, float, float], width: int) -> np.ndarray:
    """Mercator to pixels, the same scale on both axes (``bounds`` has the image's aspect)."""
    minx, _, maxx, maxy = bounds
    scale = width / (maxx - minx)
    return shapely.transform(
        geometries, lambda c: np.column_stack([(c[:, 0] - minx) * scale, (maxy - c[:, 1]) * scale])
    )


def _ring(ring) -> list[tuple[float, float]]:
    return [tuple(p) for p in np.asarray(ring.coords)]


# Hatch spacing in output pixels: it divides the tile size (256, and 512 at @2x), so the diagonals of a tile meet
# those of its neighbours exactly; a spacing that does not left a dashed seam along every tile edge.
HATCH_STEP = 8


def _hatch(size: tuple[int, int], color: RGBA) -> Image.Image:
    width, height = size
    pattern = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(pattern)
    step = HATCH_STEP * SUPERSAMPLE
    for offset in range(-height, width, step):
        draw.line([(offset, height), (offset + height, 0)], fill=color, width=SUPERSAMPLE)
    return pattern


def draw(
    layer: str,
    kind: str,
    geometries: np.ndarray,
    properties: list[dict[str, Any]],
    bounds: tuple[float, float, float, float],
    width: int,
    height: int,
    pixel_ratio: float,
    style: Style | None = None,
) -> Image.Image:
    """An RGBA image of the features (Mercator ``bounds`` with the image's aspect), styled as the legend or with
    ``style``; line widths and points scale with ``pixel_ratio`` (1 for a 256-pixel tile)."""
    size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    pixels = _pixels(geometries, bounds, size[0])
    groups: dict[str, tuple[Style, list[int]]] = {}
    for i, props in enumerate(properties):
        name, chosen = ("custom", style) if style is not None else style_class(layer, props)
        groups.setdefault(name, (chosen, []))[1].append(i)
    lines = Image.new("RGBA", size, (0, 0, 0, 0))
    line_draw = ImageDraw.Draw(lines)
    for chosen, rows in groups.values():
        if kind == "point":
            _points(image, pixels[rows], chosen, pixel_ratio)
            continue
        if chosen.fill is not None:
            mask = _polygon_mask(pixels[rows], size)
            image.alpha_composite(_tinted(mask, chosen.fill))
            if chosen.hatch is not None:
                hatch = _hatch(size, chosen.hatch)
                hatch.putalpha(ImageChops.multiply(hatch.getchannel("A"), mask))
                image.alpha_composite(hatch)
        if chosen.outline is not None:
            line_width = max(1, round(chosen.width * SUPERSAMPLE * pixel_ratio))
            for geometry in pixels[rows]:
                for polygon in getattr(geometry, "geoms", [geometry]):
                    for ring in [polygon.exterior, *polygon.interiors]:
                        line_draw.line(_ring(ring), fill=chosen.outline, width=line_width, joint="curve")
    image.alpha_composite(lines)
    return image.resize((width, height), Image.Resampling.LANCZOS)


@lru_cache(maxsize=4)
def empty(size: int) -> bytes:
    """A fully transparent PNG tile: what a raster tile with nothing on it answers. A 204 (no body) is right for
    vector tiles, but an <img> cannot decode it: Leaflet reported a tile error for each."""
    buffer = io.BytesIO()
    Image.new("RGBA", (size, size), (0, 0, 0, 0)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render(
    layer: str,
    kind: str,
    geometries: np.ndarray,
    properties: list[dict[str, Any]],
    bounds: tuple[float, float, float, float],
    size: int,
) -> bytes:
    """The PNG of a tile ``size`` pixels wide; the caller passes only features that touch it."""
    image = draw(layer, kind, geometries, properties, bounds, size, size, size / 256)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _polygon_mask(geometries: np.ndarray, size: tuple[int, int]) -> Image.Image:
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for geometry in geometries:
        for polygon in getattr(geometry, "geoms", [geometry]):
            if polygon.is_empty:
                continue
            if not polygon.interiors:
                draw.polygon(_ring(polygon.exterior), fill=255)
                continue
            # holes: draw this polygon alone, then add it, so a hole never erases a neighbour drawn before
            own = Image.new("L", size, 0)
            own_draw = ImageDraw.Draw(own)
            own_draw.polygon(_ring(polygon.exterior), fill=255)
            for hole in polygon.interiors:
                own_draw.polygon(_ring(hole), fill=0)
            mask = ImageChops.lighter(mask, own)
            draw = ImageDraw.Draw(mask)
    return mask


def _tinted(mask: Image.Image, color: RGBA) -> Image.Image:
    layer = Image.new("RGBA", mask.size, (*color[:3], 0))
    layer.putalpha(mask.point(lambda v: v * color[3] // 255))
    return layer


def _points(image: Image.Image, points: np.ndarray, style: Style, pixel_ratio: float) -> None:
    pen = ImageDraw.Draw(image)
    radius = POINT_RADIUS * SUPERSAMPLE * pixel_ratio
    for point in points:
        if point is None or point.is_empty:
            continue
        x, y = point.x, point.y
        pen.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=style.fill,
            outline=style.outline,
            width=max(1, round(style.width * SUPERSAMPLE)),
        )
