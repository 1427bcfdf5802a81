"""Place names for the maps, from our own boundaries: no third-party basemap needed to know where one is.

Which names show at which zoom, decided once per set of boundaries and zoom, so that every map (the pages, the PNG
pictures, the offline file) shows the same names:

* the chef-lieu of the région and the préfectures from the lowest zoom, the sous-préfectures and towns of more than
  ``LARGE_TOWN`` people from ``SUBPREFECTURE_ZOOM``, the other communes from ``COMMUNE_ZOOM``, each at its town hall
  (where the bourg is);
* more important first (chef-lieu of the région, préfectures, sous-préfectures, then by population), a name is kept
  only if its box does not overlap a name already kept at that zoom: the most populous places win, names never
  overlap. The box is estimated from the name's length at the label font's size (``CHAR_WIDTH_PX``), in Web
  Mercator pixels of that zoom, plus a margin.

Pure computation: nothing here knows about the web.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from geo_service.memo import Memo
from geo_service.territories import Boundaries

MIN_ZOOM, MAX_ZOOM = 5, 14
SUBPREFECTURE_ZOOM = 8
COMMUNE_ZOOM = 10
LARGE_TOWN = 15_000  # communes this populous show from SUBPREFECTURE_ZOOM, with the sous-préfectures
FONT_PX = {0: 14, 1: 13, 2: 12, 3: 12}  # by rank: région seat, préfecture, sous-préfecture, commune
CHAR_WIDTH_PX = 0.62  # average glyph width of a sans-serif font, in ems
MARGIN_PX = 6
RANKS = ("chef-lieu de région", "préfecture", "sous-préfecture", "commune")


@dataclass(frozen=True)
class Label:
    code: str
    name: str
    lon: float
    lat: float
    rank: int  # index in RANKS
    population: int

    def as_feature(self) -> dict:
        return {
            "type": "Feature",
            "id": self.code,
            "properties": {
                "code": self.code,
                "name": self.name,
                "rank": RANKS[self.rank],
                "population": self.population,
            },
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
        }


def _world_px(lon: np.ndarray, lat: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator pixel coordinates at ``zoom`` (256-pixel tiles)."""
    scale = 256 * 2**zoom
    x = (lon + 180.0) / 360.0 * scale
    sin = np.sin(np.radians(np.clip(lat, -85.05, 85.05)))
    y = (0.5 - np.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * scale
    return x, y


class PlaceLabels:
    """The communes' names and, per zoom, which of them fit without overlapping."""

    def __init__(self, boundaries: Boundaries) -> None:
        communes = boundaries.level("commune")
        seats_of_region = {c for c in boundaries.level("region").get("chef_lieu", []) if isinstance(c, str)}
        prefectures = {c for c in boundaries.level("departement").get("chef_lieu", []) if isinstance(c, str)}
        subprefectures = {c for c in boundaries.level("arrondissement").get("chef_lieu", []) if isinstance(c, str)}
        labels = []
        for code, name, population, townhall in zip(
            communes["code"], communes["name"], communes["population"], communes["townhall"], strict=True
        ):
            if townhall is None:
                continue
            rank = 0 if code in seats_of_region else 1 if code in prefectures else 2 if code in subprefectures else 3
            labels.append(Label(code, name, float(townhall[0]), float(townhall[1]), rank, int(population or 0)))
        # most important first: what the greedy placement keeps when two names collide
        self.labels = sorted(labels, key=lambda label: (label.rank, -label.population, label.code))
        self._row = {label.code: i for i, label in enumerate(self.labels)}
        self._lon = np.array([label.lon for label in self.labels])
        self._lat = np.array([label.lat for label in self.labels])
        self._by_zoom: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def shown(self, zoom: int) -> np.ndarray:
        """Indices (into ``labels``) of the names shown at ``zoom``, placed once and kept."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        with self._lock:
            if zoom not in self._by_zoom:
                self._by_zoom[zoom] = self._place(zoom)
            return self._by_zoom[zoom]

    @staticmethod
    def min_zoom(label: Label) -> int:
        if label.rank <= 1:
            return MIN_ZOOM
        if label.rank == 2 or label.population >= LARGE_TOWN:
            return SUBPREFECTURE_ZOOM
        return COMMUNE_ZOOM

    def _place(self, zoom: int, order: np.ndarray | None = None) -> np.ndarray:
        """Greedy placement over ``order`` (indices into ``labels``; all of them, most important first, if None)."""
        order = np.arange(len(self.labels)) if order is None else order
        x, y = _world_px(self._lon, self._lat, zoom)
        cell = 128.0
        grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
        kept = []
        for i in order:
            label = self.labels[i]
            if zoom < self.min_zoom(label) and i != order[0]:
                continue
            half_w = len(label.name) * FONT_PX[label.rank] * CHAR_WIDTH_PX / 2 + MARGIN_PX
            half_h = FONT_PX[label.rank] * 0.7 + MARGIN_PX
            box = (x[i] - half_w, y[i] - half_h, x[i] + half_w, y[i] + half_h)
            cells = [
                (cx, cy)
                for cx in range(int(box[0] // cell), int(box[2] // cell) + 1)
                for cy in range(int(box[1] // cell), int(box[3] // cell) + 1)
            ]
            if any(_overlap(box, other) for c in cells for other in grid.get(c, ())):
                continue
            for c in cells:
                grid.setdefault(c, []).append(box)
            kept.append(i)
        return np.array(kept, dtype=int)

    def within(
        self, zoom: int, bbox: tuple[float, float, float, float] | None, focus: str | None = None
    ) -> list[Label]:
        """The names shown at ``zoom`` whose anchor lies in ``bbox`` (west, south, east, north), important first.

        ``focus``: a commune code whose name must show (the place a person searched for): the names in the bbox
        are placed again with it first, so it shows and still overlaps none."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        if focus is not None and focus in self._row and bbox is not None:
            inside = self._inside(np.arange(len(self.labels)), bbox)
            first = self._row[focus]
            rows = self._place(zoom, np.concatenate([[first], inside[inside != first]]))
        else:
            rows = self.shown(zoom)
        if bbox is not None:
            rows = self._inside(rows, bbox)
        return [self.labels[i] for i in rows]

    def _inside(self, rows: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
        west, south, east, north = bbox
        lon, lat = self._lon[rows], self._lat[rows]
        return rows[(lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(boundaries: Boundaries, memo: Memo | None = None) -> PlaceLabels:
    """The labels of one set of boundaries, placed once per boundaries version in ``memo`` (the snapshot's)."""
    if memo is None:
        return PlaceLabels(boundaries)
    return memo.get("labels", boundaries.version, lambda: PlaceLabels(boundaries))
