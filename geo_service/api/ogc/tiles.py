"""What the OGC API – Tiles routes answer, for each kind of tile: a collection's tilesets, one tileset's metadata,
and a tile at the standard's path, served by the /tiles route itself (the same bytes). The two kinds, vector
(Mapbox Vector Tiles) and map (PNG), differ only by what ``TileKind`` says; ``factory.add_tile_routes`` registers
the same three routes for each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from geo_service.api import tiles as tile_routes
from geo_service.api.deps import current_snapshot
from geo_service.api.ogc.common import base_and_format, send_json
from geo_service.errors import BadRequestError, NotFoundError
from geo_service.ogc import documents
from geo_service.ogc.collections import CollectionSpec, check_collection, table
from geo_service.ogc.documents import JSON
from geo_service.ogc.tiles import Kind, check_tile_matrix_set, tileset, tilesets
from geo_service.parameters import CoverageParams
from geo_service.tiles.grid import tile_of
from geo_service.tiles.layers import LAYERS
from geo_service.tiles.service import ATTRIBUTION


@dataclass(frozen=True)
class TileKind:
    """One kind of tile: its name in the OGC documents, its path under a collection, the media type and the /tiles
    route's suffix of its tiles, and the summaries its three operations carry in the OpenAPI document."""

    name: Kind
    path: str
    media_type: str
    suffix: str
    tilesets_summary: str
    tileset_summary: str
    tile_summary: str


VECTOR = TileKind(
    "vector",
    "/tiles",
    "application/vnd.mapbox-vector-tile",
    "mvt",
    "A collection's vector tilesets",
    "A vector tileset: its tile URL template (/tiles/{layer}/{z}/{x}/{y}.mvt) and limits",
    "A vector tile (the same bytes as /tiles/{layer}/{z}/{x}/{y}.mvt)",
)
MAP = TileKind(
    "map",
    "/map/tiles",
    "image/png",
    "png",
    "A collection's map (PNG) tilesets",
    "A map tileset: its tile URL template (/tiles/{layer}/{z}/{x}/{y}.png) and limits",
    "A map tile, PNG 256 px (the same bytes as /tiles/{layer}/{z}/{x}/{y}.png)",
)


def tilesets_document(request: Request, collection_id: str, kind: TileKind) -> Response:
    spec = check_collection(collection_id)
    base, _ = base_and_format(request, allowed=("json",))
    return send_json(request, tilesets(base, spec, kind.name), JSON, spec.id, kind.name, "tilesets")


def tileset_document(request: Request, collection_id: str, tms: str, kind: TileKind) -> Response:
    spec = check_collection(collection_id)
    check_tile_matrix_set(tms)
    base, _ = base_and_format(request, allowed=("json",))
    snapshot = current_snapshot(request)
    version = snapshot.tiles.layer_version(spec.id)
    vector = snapshot.tiles.tilejson(spec.id, base, "mvt")["vector_layers"][0]["fields"]
    fields = _tile_fields(spec, table(snapshot.data, spec.id), vector)
    document = tileset(
        base, spec, kind.name, bounds=_bounds(request, spec), maxzoom=LAYERS[spec.id].maxzoom, version=version,
        fields=fields, attribution=ATTRIBUTION,
    )  # fmt: skip
    return send_json(request, document, JSON, spec.id, kind.name, version)


def _tile_fields(spec: CollectionSpec, features: Any, vector: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each field of the vector tiles as JSON Schema: the collection's type and coded values where the
    collection has the field (an integer stays an integer), else the TileJSON type (Number, Boolean, String);
    list fields are comma-separated text in tiles too."""
    tilejson_types = {"Number": "number", "Boolean": "boolean", "String": "string"}
    fields: dict[str, dict[str, Any]] = {}
    for name, kind in vector.items():
        info = features.fields.get(name)
        if info is not None:
            entry = documents.field_schema(spec, info)
            entry.pop("title", None)
            fields[name] = entry
        else:
            fields[name] = {"type": tilejson_types.get(kind, "string")}
    return fields


def _bounds(request: Request, spec: CollectionSpec) -> tuple[float, float, float, float]:
    """The collection's CRS84 extent (the région's when it has no geometry)."""
    snapshot = current_snapshot(request)
    extent = table(snapshot.data, spec.id).extent()
    return tuple(extent) if extent is not None else snapshot.tiles.bounds  # type: ignore[return-value]


async def tile(
    request: Request, collection_id: str, tms: str, matrix: str, row: str, col: str, kind: TileKind
) -> Response:
    """A tile at the standard's path (/req/tileset/tc-op), served by the tile route itself; outside the
    tileset's limits, a 404 as /req/tileset/tc-success D asks (the /tiles routes answer 204 there)."""
    spec = check_collection(collection_id)
    check_tile_matrix_set(tms)
    if not all(re.fullmatch(r"[0-9]+", part) for part in (matrix, row, col)):
        raise BadRequestError(
            f"tile {matrix!r}/{row!r}/{col!r}: tileMatrix, tileRow and tileCol are whole numbers (0 or more)"
        )
    if max(len(matrix), len(row), len(col)) > 10:  # beyond any grid (and beyond what int() reads at 4 300 digits)
        raise NotFoundError(f"tile {matrix[:12]}…: outside the limits of {spec.id!r}")
    z, y, x = int(matrix), int(row), int(col)
    if not 0 <= z <= LAYERS[spec.id].maxzoom:
        raise NotFoundError(f"tileMatrix {z} is outside 0 to {LAYERS[spec.id].maxzoom} for {spec.id!r}")
    west, south, east, north = _bounds(request, spec)
    top_left, bottom_right = tile_of(west, north, z), tile_of(east, south, z)
    if not (top_left.x <= x <= bottom_right.x and top_left.y <= y <= bottom_right.y):
        raise NotFoundError(f"tile {z}/{y}/{x} (tileMatrix/tileRow/tileCol) is outside the limits of {spec.id!r}")
    # the coverage parameters read as the /tiles route reads them (api.deps.coverage_params), a bad one its 422
    params = CoverageParams.from_query(request.query_params)
    return await tile_routes.tile(request, spec.id, z, x, f"{y}.{kind.suffix}", params)
