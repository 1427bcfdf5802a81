"""OGC API – Tiles metadata for the tiles the service already draws: the WebMercatorQuad tile matrix set, and for
each collection a vector tileset (MVT) and a map tileset (PNG).

The tiles stay where they are (``/tiles/{layer}/{z}/{x}/{y}.mvt`` and ``.png``): the tilesets' ``item`` links
are URI templates onto those routes, with the variables of the OGC standard (``{tileMatrix}`` is the zoom,
``{tileCol}`` the x, ``{tileRow}`` the y), and the layer's version in ``?v=`` as the TileJSON gives it, so a
client that follows them gets the immutable, cacheable URLs. The same tiles also answer at the standard's path,
``/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`` (the tileset conformance class).

The matrix set is computed from its definition (OGC 17-083r4, annex: a 256-pixel quadtree over the EPSG:3857
square, 0.28 mm pixels for the scale denominator) rather than pasted, zoom 0 to 24 as the standard lists.
"""

from __future__ import annotations

from typing import Any, Literal

from geo_service.errors import NotFoundError
from geo_service.ogc.collections import CollectionSpec
from geo_service.ogc.documents import JSON, REL, link
from geo_service.tiles.grid import HALF_WORLD, lonlat_to_mercator, tile_of

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
TMS_ZOOMS = 25  # 0 to 24
TILE_SIZE = 256
PIXEL_M = 0.00028  # the standardized rendering pixel (0.28 mm)
MEDIA = {"vector": "application/vnd.mapbox-vector-tile", "map": "image/png"}
Kind = Literal["vector", "map"]


def tile_matrix_set() -> dict[str, Any]:
    matrices = []
    for z in range(TMS_ZOOMS):
        cell = 2 * HALF_WORLD / TILE_SIZE / (1 << z)
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": cell / PIXEL_M,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD, HALF_WORLD],
                "tileWidth": TILE_SIZE,
                "tileHeight": TILE_SIZE,
                "matrixWidth": 1 << z,
                "matrixHeight": 1 << z,
            }
        )
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": MERCATOR,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }


def tile_matrix_sets(base: str) -> dict[str, Any]:
    url = f"{base}tileMatrixSets/{TMS_ID}"
    return {
        "tileMatrixSets": [
            {
                "id": TMS_ID,
                "title": "Google Maps Compatible for the World",
                "uri": TMS_URI,
                "links": [link(url, "self", JSON, "WebMercatorQuad")],
            }
        ],
        "links": [link(f"{base}tileMatrixSets", "self", JSON, "Grilles de tuiles")],
    }


def _tilesets_url(base: str, spec: CollectionSpec, kind: Kind) -> str:
    return f"{base}collections/{spec.id}/" + ("tiles" if kind == "vector" else "map/tiles")


def tilesets(base: str, spec: CollectionSpec, kind: Kind) -> dict[str, Any]:
    url = _tilesets_url(base, spec, kind)
    words = "vectorielles" if kind == "vector" else "raster"
    return {
        "links": [
            link(url, "self", JSON, f"{spec.title} : tuiles {words}"),
            link(f"{base}collections/{spec.id}", "collection", JSON, spec.title),
        ],
        "tilesets": [
            {
                "title": f"{spec.title} ({TMS_ID})",
                "dataType": kind,
                "crs": MERCATOR,
                "tileMatrixSetURI": TMS_URI,
                "links": [
                    link(f"{url}/{TMS_ID}", "self", JSON, f"{spec.title} : tuiles {words} {TMS_ID}"),
                    link(f"{base}tileMatrixSets/{TMS_ID}", REL + "tiling-scheme", JSON, TMS_ID),
                ],
            }
        ],
    }


def _limits(bounds: tuple[float, float, float, float], maxzoom: int) -> list[dict[str, Any]]:
    """The tiles each zoom has data in (outside them a client need not ask)."""
    west, south, east, north = bounds
    limits = []
    for z in range(maxzoom + 1):
        top_left, bottom_right = tile_of(west, north, z), tile_of(east, south, z)
        limits.append(
            {
                "tileMatrix": str(z),
                "minTileRow": top_left.y,
                "maxTileRow": bottom_right.y,
                "minTileCol": top_left.x,
                "maxTileCol": bottom_right.x,
            }
        )
    return limits


def tileset(
    base: str,
    spec: CollectionSpec,
    kind: Kind,
    *,
    bounds: tuple[float, float, float, float],
    maxzoom: int,
    version: str,
    fields: dict[str, dict[str, Any]],
    attribution: str,
) -> dict[str, Any]:
    """A tileset's metadata: where its tiles are (templated link), which tiles exist, what a vector tile holds."""
    url = f"{_tilesets_url(base, spec, kind)}/{TMS_ID}"
    suffix = ".mvt" if kind == "vector" else ".png"
    template = f"{base}tiles/{spec.id}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}{suffix}?v={version}"
    words = "vectorielles (Mapbox Vector Tile)" if kind == "vector" else "raster (PNG, 256 px)"
    left, bottom = (round(v, 2) for v in lonlat_to_mercator(bounds[0], bounds[1]))
    right, top = (round(v, 2) for v in lonlat_to_mercator(bounds[2], bounds[3]))
    document: dict[str, Any] = {
        "title": f"{spec.title} : tuiles {words}",
        "description": spec.description,
        "dataType": kind,
        "crs": MERCATOR,
        "tileMatrixSetURI": TMS_URI,
        "attribution": attribution,
        "links": [
            link(url, "self", JSON, f"{spec.title} : tuiles {words}"),
            link(f"{base}tileMatrixSets/{TMS_ID}", REL + "tiling-scheme", JSON, TMS_ID),
            link(f"{base}collections/{spec.id}", "collection", JSON, spec.title),
            link(template, "item", MEDIA[kind], f"Tuile {words}", templated=True),
        ],
        "tileMatrixSetLimits": _limits(bounds, maxzoom),
        # in the tiles' own CRS (metres): GDAL's OGCAPI driver reads these coordinates as the tile matrix set's
        "boundingBox": {"lowerLeft": [left, bottom], "upperRight": [right, top], "crs": MERCATOR},
        "centerPoint": {"coordinates": [(left + right) / 2, (bottom + top) / 2], "tileMatrix": "7", "crs": MERCATOR},
    }
    if kind == "vector":
        document["layers"] = [
            {
                "id": spec.id,
                "title": spec.title,
                "dataType": "vector",
                "geometryDimension": 0 if spec.geometry == "point" else 2,
                "minTileMatrix": "0",
                "maxTileMatrix": str(maxzoom),
                "propertiesSchema": {
                    "type": "object",
                    "properties": fields,
                },
            }
        ]
    return document


def check_tile_matrix_set(tms: str) -> None:
    if tms != TMS_ID:
        raise NotFoundError(f"unknown tile matrix set {tms!r}: this service tiles in {TMS_ID} only")
