"""Coordinate reference systems of OGC API – Features Part 2 (``crs``, ``bbox-crs``): which are offered, how their
names are read, and geometries moved between them.

The data are stored in lon/lat (CRS84, what GeoJSON means by default). Offered besides: EPSG:4326 (the same datum
with the axes in the EPSG order, latitude first: the standard asks for the authority's axis order, and GDAL and
QGIS swap them back), EPSG:2154 (Lambert-93, the French official projection analysts measure in) and EPSG:3857
(Web Mercator, the tiles' projection). Coordinates are always written in the CRS's own axis order, which is what
pyproj's non-``always_xy`` transformers give.

pyproj's transformers are not safe to share between threads (FastAPI runs plain handlers in a pool), so each
thread keeps its own, made once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo_service.errors import BadRequestError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"


@dataclass(frozen=True)
class Crs:
    uri: str
    pyproj_name: str  # what pyproj understands
    decimals: int  # coordinates rounded to this: 6 for degrees (0.1 m, the data's own grid), 2 for metres (1 cm)
    bounds: tuple[float, float, float, float] | None  # what a bbox in this CRS may span (axis order of the CRS)
    title: str  # French, shown on pages

    @cached_property
    def domain(self) -> tuple[float, float, float, float]:
        """Where a projected CRS is defined, in its own coordinates: its EPSG area of use, projected. A box is
        cut to it before being moved to lon/lat, since coordinates far outside go through the projection's
        formulas as nonsense (a Lambert-93 box of ±1e10 m came back as no area at all) while every feature
        here lies well inside."""
        if self.bounds is not None:
            return self.bounds
        area = CRS(self.pyproj_name).area_of_use
        if area is None:  # pragma: no cover - every CRS offered has one
            raise ValueError(f"{self.pyproj_name} has no area of use")
        to_crs = Transformer.from_crs("OGC:CRS84", self.pyproj_name, always_xy=True)
        return tuple(to_crs.transform_bounds(*area.bounds, densify_pts=21))  # type: ignore[return-value]


SUPPORTED: dict[str, Crs] = {
    crs.uri: crs
    for crs in [
        Crs(CRS84, "OGC:CRS84", 6, (-180.0, -90.0, 180.0, 90.0), "WGS 84 longitude/latitude (CRS84)"),
        Crs(EPSG_URI + "4326", "EPSG:4326", 6, (-90.0, -180.0, 90.0, 180.0), "WGS 84 latitude/longitude (EPSG:4326)"),
        Crs(EPSG_URI + "2154", "EPSG:2154", 2, None, "RGF93 v1 / Lambert-93 (EPSG:2154)"),
        Crs(EPSG_URI + "3857", "EPSG:3857", 2, None, "WGS 84 / Pseudo-Mercator (EPSG:3857)"),
    ]
}
# Other spellings of the same CRS: short forms clients write by hand (EPSG:2154, [EPSG:2154], CRS84), the OGC URNs
# older clients (WFS-era OWSLib, ArcGIS) send, and the https form of the URIs; each read as the URI it stands for.
_CODES = ("4326", "2154", "3857")
_ALIASES = {
    **{
        spelling: CRS84
        for spelling in (
            "crs84", "ogc:crs84", "[ogc:crs84]", "urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84",
            "http://www.opengis.net/def/crs/ogc/1.3/crs84", "https://www.opengis.net/def/crs/ogc/1.3/crs84",
        )
    },
    **{f"epsg:{code}": EPSG_URI + code for code in _CODES},
    **{f"[epsg:{code}]": EPSG_URI + code for code in _CODES},
    **{f"urn:ogc:def:crs:epsg::{code}": EPSG_URI + code for code in _CODES},
    **{(EPSG_URI + code).lower(): EPSG_URI + code for code in _CODES},
    **{(EPSG_URI + code).lower().replace("http:", "https:", 1): EPSG_URI + code for code in _CODES},
}  # fmt: skip


def parse_crs(text: str, parameter: str) -> Crs:
    """The CRS a ``crs`` or ``bbox-crs`` value names; a 400 naming the parameter and the CRS offered otherwise."""
    uri = _ALIASES.get(text.strip().lower())
    if uri is None:
        offered = ", ".join(SUPPORTED)
        raise BadRequestError(f"{parameter}={text!r}: this service offers {offered}")
    return SUPPORTED[uri]


_local = threading.local()


def _transformer(source: str, target: str) -> Transformer:
    cache = getattr(_local, "transformers", None)
    if cache is None:
        cache = _local.transformers = {}
    found = cache.get((source, target))
    if found is None:
        found = cache[(source, target)] = Transformer.from_crs(source, target, always_xy=False)
    return found


def _moved(geometries: np.ndarray, source: Crs, target: Crs) -> np.ndarray:
    transformer = _transformer(source.pyproj_name, target.pyproj_name)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometries, move)


def from_crs84(geometries: np.ndarray, target: Crs) -> np.ndarray:
    """CRS84 geometries in ``target``, in its axis order, rounded to its precision, each polygon's exterior ring
    counter-clockwise in the coordinates as written (RFC 7946's rule, applied to the output's own axes)."""
    if target.uri == CRS84:
        return geometries
    moved = _moved(np.asarray(geometries, dtype=object), SUPPORTED[CRS84], target)
    moved = shapely.transform(moved, lambda coords: np.round(coords, target.decimals))
    return shapely.orient_polygons(moved, exterior_cw=False)


def _box(minx: float, miny: float, maxx: float, maxy: float) -> shapely.Geometry:
    """The box as the geometry it really is: a polygon, or the line or point a flat box is reduced to (a
    polygon of zero area intersects nothing once densified and repaired: a line-shaped box used to select no
    commune at all)."""
    if minx == maxx and miny == maxy:
        return shapely.Point(minx, miny)
    if minx == maxx or miny == maxy:
        return shapely.LineString([(minx, miny), (maxx, maxy)])
    return shapely.box(minx, miny, maxx, maxy)


def bbox_area(values: tuple[float, ...], crs: Crs) -> list[shapely.Geometry]:
    """A ``bbox`` (four numbers, in ``crs``'s axis order) as the CRS84 areas features must intersect; none when
    the box lies outside where its CRS is defined (so nothing can meet it).

    In CRS84 a box whose west edge is east of its east edge crosses the antimeridian (as the standard allows):
    it is two boxes. A projected box is first cut to its CRS's domain (``Crs.domain``): a client zoomed far out
    asks for a box wider than the projection, and must still get every feature inside. Its outline is then
    densified before it is moved (a straight edge in Lambert-93 is curved in lon/lat), so the test stays exact
    to a few metres."""
    minx, miny, maxx, maxy = values
    if crs.uri == CRS84:
        if minx > maxx:
            return [_box(minx, miny, 180.0, maxy), _box(-180.0, miny, maxx, maxy)]
        return [_box(minx, miny, maxx, maxy)]
    west, south, east, north = crs.domain
    minx, miny, maxx, maxy = max(minx, west), max(miny, south), min(maxx, east), min(maxy, north)
    if minx > maxx or miny > maxy:
        return []
    shape, span = _box(minx, miny, maxx, maxy), max(maxx - minx, maxy - miny)
    if span > 0:  # a point has no edge to bend (GEOS refuses a zero tolerance)
        shape = shapely.segmentize(shape, span / 64)
    moved = _moved(np.array([shape], dtype=object), crs, SUPPORTED[CRS84])[0]
    if not np.isfinite(shapely.get_coordinates(moved)).all():
        raise BadRequestError(f"bbox {list(values)}: outside the domain of {crs.uri}")
    return [shapely.make_valid(moved) if isinstance(moved, shapely.Polygon) else moved]


def check_bbox(values: tuple[float, ...], crs: Crs, text: str) -> None:
    """A 400 for a box that is inverted or outside the CRS's domain (an antimeridian crossing in CRS84 is allowed:
    only the latitudes must be in order there)."""
    minx, miny, maxx, maxy = values
    crossing = crs.uri == CRS84 and minx > maxx
    if miny > maxy or (minx > maxx and not crossing):
        raise BadRequestError(f"bbox={text!r}: the lower corner comes first (minx,miny,maxx,maxy)")
    if crs.bounds is not None:
        west, south, east, north = crs.bounds
        if not all(west <= x <= east for x in (minx, maxx)) or not all(south <= y <= north for y in (miny, maxy)):
            raise BadRequestError(f"bbox={text!r}: outside the domain of {crs.uri} ({west},{south},{east},{north})")
