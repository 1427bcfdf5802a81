"""The sprite of our MapLibre styles: the hatching of zones blanches as a repeating pattern (``fill-pattern``).

The pattern is drawn by the PNG renderer's own hatching (``raster._hatch``), at its spacing and colour, on a
field several periods wide, and one period is cut from the middle: the renderer's diagonals meet at the edges
of every ``HATCH_STEP`` square, so one period repeats seamlessly, and cutting it away from the field's edges
keeps the downscaling's smoothing the same on every side. Made once per process (a few milliseconds).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image

from geo_service.legend import HATCH_PATTERN, LEGENDS
from geo_service.tiles import raster

PIXEL_RATIOS = (1, 2)
PERIODS = 4  # the field the pattern is cut from, in periods on each side


@dataclass(frozen=True)
class Sprite:
    png: bytes
    index: dict[str, dict[str, int]]

    @property
    def json(self) -> bytes:
        return json.dumps(self.index, separators=(",", ":")).encode()


def hatch_tile(pixel_ratio: int) -> Image.Image:
    """One period of the zones blanches' hatching, ``HATCH_STEP`` CSS pixels square, at ``pixel_ratio``.

    The renderer draws its hatching at SUPERSAMPLE times the CSS size (lines SUPERSAMPLE wide) and scales down:
    scaled to ``pixel_ratio`` times the CSS size instead, the same drawing gives the @2x sprite (one CSS pixel
    wide lines every HATCH_STEP CSS pixels, on any screen)."""
    colour = next(c.hatch for c in LEGENDS["coverage"].classes if c.hatch is not None)
    field = raster.HATCH_STEP * PERIODS  # CSS pixels
    drawn = raster._hatch((field * raster.SUPERSAMPLE, field * raster.SUPERSAMPLE), colour)
    size = field * pixel_ratio
    image = drawn if drawn.size == (size, size) else drawn.resize((size, size), Image.Resampling.LANCZOS)
    step = raster.HATCH_STEP * pixel_ratio
    middle = step * (PERIODS // 2)
    return image.crop((middle, middle, middle + step, middle + step))


@lru_cache(maxsize=len(PIXEL_RATIOS))
def sprite(pixel_ratio: int) -> Sprite:
    """The sprite sheet and its index (the format MapLibre reads: name -> x, y, width, height, pixelRatio)."""
    if pixel_ratio not in PIXEL_RATIOS:
        raise ValueError(f"pixel ratio {pixel_ratio}: expected one of {PIXEL_RATIOS}")
    tile = hatch_tile(pixel_ratio)
    sheet = Image.new("RGBA", tile.size, (0, 0, 0, 0))
    sheet.paste(tile, (0, 0))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    index = {HATCH_PATTERN: {"x": 0, "y": 0, "width": tile.width, "height": tile.height, "pixelRatio": pixel_ratio}}
    return Sprite(buffer.getvalue(), index)
