"""Tile archives for static hosting: MBTiles (SQLite) and PMTiles (one file served by HTTP range requests).

Both hold every non-empty tile of a layer over the région between two zooms, as the live service serves them;
MVT tiles are stored gzipped, as both formats expect.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from geo_service.errors import InvalidInputError
from geo_service.export import write_atomically
from geo_service.tiles.grid import Tile, tiles_covering
from geo_service.tiles.service import Format, TileRequest, TileService

Progress = Callable[[str], None]


def _tiles(
    service: TileService, layer: str, fmt: Format, minzoom: int, maxzoom: int, progress: Progress
) -> Iterator[tuple[Tile, bytes]]:
    west, south, east, north = service.bounds
    for z in range(minzoom, maxzoom + 1):
        covering = tiles_covering(west, south, east, north, z)
        written = 0
        for tile in covering:
            encoded = service.render(TileRequest(layer, tile, fmt))
            if encoded.body:
                written += 1
                yield tile, encoded.gzipped if encoded.gzipped is not None else encoded.body
        progress(f"  z{z}: {written} tiles of {len(covering)}")


def export_tiles(
    service: TileService,
    layer: str,
    out: Path,
    minzoom: int,
    maxzoom: int,
    fmt: Format = "mvt",
    progress: Progress = print,
) -> int:
    """Write the archive (format from the file's suffix); returns the number of tiles written."""
    if not 0 <= minzoom <= maxzoom <= 14:
        raise InvalidInputError(f"zooms must satisfy 0 <= minzoom <= maxzoom <= 14, got {minzoom} and {maxzoom}")
    kind = out.suffix.lower()
    if kind not in (".mbtiles", ".pmtiles"):
        raise InvalidInputError(f"--out {out}: the file must end in .mbtiles or .pmtiles")
    tilejson = service.tilejson(layer, "", fmt)
    count = 0

    def write_mbtiles(path: Path) -> None:
        nonlocal count
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
            db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
            db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
            for tile, data in _tiles(service, layer, fmt, minzoom, maxzoom, progress):
                # MBTiles rows count from the south (TMS)
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (tile.z, tile.x, (1 << tile.z) - 1 - tile.y, data))
                count += 1
            metadata = {
                "name": tilejson["name"],
                "description": tilejson["description"],
                "version": tilejson["version"],
                "attribution": tilejson["attribution"],
                "format": "pbf" if fmt == "mvt" else "png",
                "type": "overlay",
                "minzoom": str(minzoom),
                "maxzoom": str(maxzoom),
                "bounds": ",".join(map(str, service.bounds)),
                "center": ",".join(map(str, [*tilejson["center"][:2], minzoom])),
            }
            if fmt == "mvt":
                metadata["json"] = json.dumps({"vector_layers": _layers_as_built(tilejson, minzoom, maxzoom)})
            db.executemany("INSERT INTO metadata VALUES (?, ?)", metadata.items())

    def write_pmtiles(path: Path) -> None:
        nonlocal count
        tiles = sorted(
            _tiles(service, layer, fmt, minzoom, maxzoom, progress),
            key=lambda item: zxy_to_tileid(item[0].z, item[0].x, item[0].y),
        )
        if not tiles:
            raise InvalidInputError(f"layer {layer!r} has no tile between z{minzoom} and z{maxzoom}")
        west, south, east, north = service.bounds
        with path.open("wb") as fh:
            writer = Writer(fh)
            for tile, data in tiles:
                writer.write_tile(zxy_to_tileid(tile.z, tile.x, tile.y), data)
            count = len(tiles)
            writer.finalize(
                {
                    "tile_type": TileType.MVT if fmt == "mvt" else TileType.PNG,
                    "tile_compression": Compression.GZIP if fmt == "mvt" else Compression.NONE,
                    "min_lon_e7": int(west * 1e7),
                    "min_lat_e7": int(south * 1e7),
                    "max_lon_e7": int(east * 1e7),
                    "max_lat_e7": int(north * 1e7),
                    "center_zoom": minzoom,
                    "center_lon_e7": int(tilejson["center"][0] * 1e7),
                    "center_lat_e7": int(tilejson["center"][1] * 1e7),
                },
                {key: tilejson[key] for key in ("name", "description", "version", "attribution")}
                | ({"vector_layers": _layers_as_built(tilejson, minzoom, maxzoom)} if fmt == "mvt" else {}),
            )

    write_atomically(out, write_mbtiles if kind == ".mbtiles" else write_pmtiles)
    return count


def _layers_as_built(tilejson: dict, minzoom: int, maxzoom: int) -> list[dict]:
    """The TileJSON's vector layers with the zooms the archive holds (not the live layer's 0 to 14)."""
    return [layer | {"minzoom": minzoom, "maxzoom": maxzoom} for layer in tilejson["vector_layers"]]
