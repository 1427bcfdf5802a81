"""Report pictures: no place name over a project marker or cut at the frame, the data's date in the footer (not a
version hash), and the hatching and figures following count_departmental.

Names are checked through the function that places them (``place_names``, pure: boxes and discs in, boxes out) and
on real territories through ``territory_layout``, which ``territory_picture`` draws exactly; the PNG itself is
decoded to check that each marker is still visible at its centre."""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFont

from geo_service.main import create_app
from geo_service.maps.picture import (
    FONT_PATHS,
    FOOTER,
    HEADER,
    LEGEND_WIDTH,
    MAP_WIDTH,
    Disc,
    NameLayout,
    footer_text,
    place_names,
    territory_layout,
)
from geo_service.parameters import CoverageParams
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for, sqlite_url

MARKER_BLUE = (21, 101, 192)  # the projects' marker fill (tiles.raster.PROJECT_POINT)
HATCH_RED = (160, 20, 35)  # the zone-blanche hatching (tiles.raster.COVERAGE_CLASSES)
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin")
MONTHS += ("juillet", "août", "septembre", "octobre", "novembre", "décembre")
TOKEN = {"Authorization": "Bearer s3cret-pictures-token"}


def _check(layout: NameLayout) -> None:
    """Every name inside the frame, clear of every marker's disc and of every other name (measured here)."""
    for name in layout.names:
        left, top, right, bottom = name.box
        assert 0 <= left < right <= layout.width and 0 <= top < bottom <= layout.height, name
        for disc in layout.markers:
            # the nearest point of the box to the disc's centre is farther than the radius
            nx, ny = min(max(disc.x, left), right), min(max(disc.y, top), bottom)
            assert math.hypot(nx - disc.x, ny - disc.y) > disc.r, (name, disc)
    boxes = [n.box for n in layout.names]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def _measure(text: str, size: int) -> tuple[float, float, float, float]:
    half_w, half_h = len(text) * size * 0.3, size * 0.6
    return (-half_w, -half_h, half_w, half_h)


def test_a_name_on_a_marker_moves_beside_it() -> None:
    marker = Disc(200, 150, 8.4)
    layout = place_names([("Amiens", 200, 150, 13)], [marker], 400, 300, _measure)
    assert [n.text for n in layout.names] == ["Amiens"]
    assert (layout.names[0].x, layout.names[0].y) != (200, 150)
    _check(layout)


def test_a_name_at_the_edge_moves_inside_or_is_left_out() -> None:
    layout = place_names([("Longueville-sur-Mer", 395, 150, 13), ("Eu", 2, 2, 13)], [], 400, 300, _measure)
    _check(layout)
    placed = {n.text: n for n in layout.names}
    assert "Longueville-sur-Mer" in placed and placed["Longueville-sur-Mer"].x < 395  # moved to the left
    assert len(layout.names) + len(layout.skipped) == 2


def test_random_names_and_markers_never_collide() -> None:
    chance = random.Random(27)
    for _ in range(30):
        markers = [Disc(chance.uniform(0, 500), chance.uniform(0, 400), 8.4) for _ in range(chance.randint(0, 25))]
        names = [
            ("x" * chance.randint(2, 20), chance.uniform(-10, 510), chance.uniform(-10, 410), chance.choice((13, 15)))
            for _ in range(chance.randint(0, 60))
        ]
        layout = place_names(names, markers, 500, 400, _measure)
        _check(layout)
        assert len(layout.names) + len(layout.skipped) == len(names)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = sqlite_url(tmp_path_factory.mktemp("pictures-store"))
    settings = settings_for(REPO_DATA_DIR, store, admin_tokens={"test": TOKEN["Authorization"][7:]})
    with TestClient(create_app(settings)) as client:
        yield client


def _snapshot(api: TestClient):
    return api.app.state.publisher.current


@pytest.mark.parametrize(
    ("level", "code"),
    [("epci", "200093201"), ("commune", "80021"), ("departement", "02"), ("epci", "200035442"), ("region", "32")],
)
def test_territory_names_clear_markers_and_frame(api: TestClient, level: str, code: str) -> None:
    snapshot = _snapshot(api)
    layout = territory_layout(snapshot.data, snapshot.tiles, level, code, CoverageParams())
    assert layout.names.names, "a map without names reads badly"
    _check(layout.names)
    response = api.get(f"/api/v1/maps/{level}/{code}.png")
    assert response.status_code == 200
    picture = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert picture.size == (MAP_WIDTH + LEGEND_WIDTH, HEADER + layout.frame.height + FOOTER)
    # the markers as the PNG shows them (found here, by their colour): each a whole disc, no name's box on it
    discs = _blue_discs(picture, layout.frame.height)
    assert len(discs) >= (1 if layout.marker_rows else 0)
    for left, top, right, bottom, size in discs:
        assert size >= 0.8 * math.pi * 6.5**2, "a marker partly hidden"
        for name in layout.names.names:
            a = name.box
            assert a[2] <= left or right <= a[0] or a[3] <= top or bottom <= a[1], (name, (left, top, right, bottom))


def _blue_discs(picture: Image.Image, map_height: int) -> list[tuple[int, int, int, int, int]]:
    """The connected areas of the marker's colour on the map (left, top, right, bottom, pixels)."""
    pixels = np.asarray(picture).astype(int)[HEADER : HEADER + map_height, :MAP_WIDTH]
    blue = np.abs(pixels - MARKER_BLUE).max(axis=2) <= 12
    seen = np.zeros_like(blue)
    found = []
    for y, x in zip(*np.nonzero(blue), strict=True):
        if seen[y, x]:
            continue
        stack, members = [(y, x)], []
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            members.append((cy, cx))
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < blue.shape[0] and 0 <= nx < blue.shape[1] and blue[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        if len(members) >= 20:  # a marker, not a stray pixel of a blended edge
            ys, xs = zip(*members, strict=True)
            found.append((min(xs), min(ys), max(xs) + 1, max(ys) + 1, len(members)))
    return found


def test_markers_are_checked_somewhere(api: TestClient) -> None:
    """The Métropole européenne de Lille has funded projects: its picture has markers to keep clear."""
    snapshot = _snapshot(api)
    layout = territory_layout(snapshot.data, snapshot.tiles, "epci", "200093201")
    assert layout.names.markers


def test_the_footer_gives_dates_not_a_hash(api: TestClient) -> None:
    record = {
        "id": "test-picture-date",
        "organisation": "Association de test",
        "name": "Épicerie solidaire de test",
        "place_text": "Amiens",
        "actions": ["Ouverture d'une épicerie solidaire"],
    }
    assert api.post("/api/v1/projects", json=record, headers=TOKEN).status_code == 201
    written = datetime.now(ZoneInfo("Europe/Paris")).date()  # the write just made is the latest
    data = _snapshot(api).data
    manifest = json.loads((REPO_DATA_DIR / "boundaries" / "manifest.json").read_text(encoding="utf-8"))
    day = "1er" if written.day == 1 else str(written.day)
    for params in (CoverageParams(), CoverageParams(distance_to="territory", count_departmental=True, max_km=12.25)):
        text = footer_text(data, params)
        assert f"COG {manifest['cog_year']}" in text
        assert f"Projets enregistrés au {day} {MONTHS[written.month - 1]} {written.year}." in text
        assert data.version not in text
        # on the picture's two footer lines (12 px, 16 px margins): nothing cut
        assert _lines_needed(text, 12, MAP_WIDTH + LEGEND_WIDTH - 32) <= 2


def _lines_needed(text: str, size: int, width: float) -> int:
    """How many lines ``text`` needs, broken between words, at ``width`` pixels in the pictures' font (DejaVu Sans,
    Pillow's own font where it is missing, as the pictures do): measured here, not by the picture module."""
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.load_default(size=size)
    for path in FONT_PATHS:
        try:
            font = ImageFont.truetype(path, size)
            break
        except OSError:
            continue
    lines, current = 0, ""
    for word in filter(None, text.split(" ")):
        if current and font.getlength(f"{current} {word}") > width:
            lines, current = lines + 1, word
        else:
            current = f"{current} {word}" if current else word
    return lines + bool(current)


def _hatched(content: bytes, map_height: int) -> int:
    pixels = np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).astype(int)
    area = pixels[HEADER : HEADER + map_height, :MAP_WIDTH]
    return int((np.abs(area - HATCH_RED).max(axis=2) <= 20).sum())


def test_the_hatching_follows_count_departmental(api: TestClient) -> None:
    """In the Aisne, département-wide direct actions reach every commune: counted, no zone blanche is left there
    (recounted from the project records), and the picture's hatching nearly vanishes."""
    projects = [f["properties"] for f in api.get("/api/v1/projects").json()["features"]]
    aisne = {c for p in projects if p["scope"] == "departement" and p["reach"] == "direct" for c in p["communes"]}
    rows = api.get("/api/v1/coverage/communes?departement=02").json()["features"]
    assert {f["properties"]["code"] for f in rows} <= aisne
    counted = api.get("/api/v1/coverage/communes?departement=02&count_departmental=true").json()["features"]
    assert not any(f["properties"]["zone_blanche"] for f in counted)
    assert sum(f["properties"]["zone_blanche"] for f in rows) > 300
    snapshot = _snapshot(api)
    height = territory_layout(snapshot.data, snapshot.tiles, "departement", "02").frame.height
    default = _hatched(api.get("/api/v1/maps/departement/02.png").content, height)
    departmental = _hatched(api.get("/api/v1/maps/departement/02.png?count_departmental=true").content, height)
    assert departmental < default / 3, (departmental, default)


def test_the_date_is_the_stores_latest_write_in_france(api: TestClient) -> None:
    data = _snapshot(api).data
    # 23:30 UTC on 1 March 2025 is already 2 March in Paris
    late = replace(data, written_at="2025-03-01T23:30:00+00:00")
    assert "Projets enregistrés au 2 mars 2025." in footer_text(late, CoverageParams())
    summer = replace(data, written_at="2025-06-01T09:00:00+02:00")
    assert "Projets enregistrés au 1er juin 2025." in footer_text(summer, CoverageParams())


def test_the_served_data_carries_the_stores_last_write(api: TestClient) -> None:
    publisher = api.app.state.publisher
    written_at = publisher.store.state().written_at
    assert written_at is not None and publisher.current.data.written_at == written_at
