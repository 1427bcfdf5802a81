"""Raster tiles join without a seam: the zones blanches' hatching runs on from one tile into the next."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image


def _tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _png(client: TestClient, z: int, x: int, y: int) -> np.ndarray:
    response = client.get(f"/tiles/zones-blanches/{z}/{x}/{y}.png")
    assert response.status_code == 200
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA")).astype(int)


@pytest.mark.parametrize("zoom", [11, 12])
def test_hatching_continues_across_tile_edges(client: TestClient, zoom: int) -> None:
    # inside the large zone blanche of the south of the Aisne (between Château-Thierry and Fère-en-Tardenois)
    x, y = _tile_of(3.47, 49.12, zoom)
    left, right = _png(client, zoom, x, y), _png(client, zoom, x + 1, y)
    top, bottom = left, _png(client, zoom, x, y + 1)
    # the hatch lines rise to the right at 45°: a line leaving column 255 at row r enters column 0 at row r - 1
    darker_left = left[:, 255, 3] > left[:, 255, 3].mean() + 20
    darker_right = right[:, 0, 3] > right[:, 0, 3].mean() + 20
    assert darker_left.sum() > 10, "no hatching where a zone blanche was expected"
    assert (darker_left[1:] == darker_right[:-1]).mean() > 0.9
    # and across a horizontal edge: leaving row 255 at column c, entering row 0 at column c + 1
    darker_top = top[255, :, 3] > top[255, :, 3].mean() + 20
    darker_bottom = bottom[0, :, 3] > bottom[0, :, 3].mean() + 20
    assert (darker_top[1:] == darker_bottom[:-1]).mean() > 0.9
