"""The tile caches: a tile kept under two keys (request and content) counts once; coverage tiles encoded again
after a write from their cached geometry; the caches and layers a snapshot shares with the one before are the
memo's, not taken from the service before."""

import inspect
from dataclasses import replace
from pathlib import Path

from geo_service.memo import Memo
from geo_service.projects.models import ProjectRecord
from geo_service.settings import REPO_DATA_DIR
from geo_service.snapshot import Publisher
from geo_service.tiles.grid import Tile
from geo_service.tiles.layers import LayerSet
from geo_service.tiles.service import EncodedTile, TileCache, TileRequest, TileService
from tests.conftest import settings_for, sqlite_url


def tile(n: int) -> EncodedTile:
    return EncodedTile(b"x" * n, None, f'"{n}"')


def test_one_tile_under_two_keys_counts_once() -> None:
    cache = TileCache(max_bytes=250)
    shared = tile(100)
    cache.put("request", shared)
    cache.put("content", shared)
    assert cache.bytes == 100 and cache.get("request") is cache.get("content") is shared
    cache.put("other", tile(100))
    assert cache.bytes == 200  # both fit: 100 + 100, not 300


def test_eviction_frees_a_tile_once_no_key_holds_it() -> None:
    cache = TileCache(max_bytes=250)
    shared = tile(100)
    cache.put("request", shared)
    cache.put("content", shared)
    cache.put("b", tile(100))
    # 300 bytes: over the bound. Dropping the oldest key frees nothing (the tile is still held under "content"),
    # so the next key goes too, and then the tile's 100 bytes are freed
    cache.put("c", tile(100))
    assert cache.get("request") is None and cache.get("content") is None
    assert cache.get("b") is not None and cache.get("c") is not None and cache.bytes == 200


def test_a_coverage_tile_encoded_again_from_its_cached_geometry_is_the_tile_drawn_afresh(tmp_path: Path) -> None:
    """After a write that changes Amiens's figures, its coverage tiles are re-encoded at once from the geometry
    kept from before (no thread, no decoding): the bytes must be those a service with empty caches draws."""
    publisher = Publisher(settings_for(REPO_DATA_DIR, sqlite_url(tmp_path)))
    before = publisher.start().tiles
    requests = [  # Amiens (2.296 E, 49.894 N) and its neighbours
        TileRequest(layer, tile, "mvt")
        for layer in ("coverage", "zones-blanches")
        for tile in (Tile(8, 129, 86), Tile(10, 518, 347), Tile(10, 517, 347), Tile(10, 518, 348))
    ]
    old = {request: before.render(request).body for request in requests}
    record = ProjectRecord.model_validate(
        {
            "id": "epicerie-amiens",
            "organisation": "Association Test",
            "name": "Épicerie solidaire",
            "duration_years": 1,
            "place_text": "Ville d'Amiens",
            "actions": ["Ouverture d'une épicerie solidaire"],
        }
    )
    after = publisher.write(lambda: publisher.store.create(record, "test"))
    afresh = TileService(replace(after.data, memo=Memo()), 2**26)  # nothing shared with the snapshots before
    changed = 0
    for request in requests:
        encoded = after.tiles.cached(request)
        assert encoded is not None, request  # the geometry was at hand: no need for a thread
        assert encoded.body == afresh.render(request).body, request
        changed += encoded.body != old[request]
    assert changed  # Amiens's tiles now count one more local project
    publisher.close()


def test_a_snapshot_shares_what_did_not_change_through_the_memo_alone(tmp_path: Path) -> None:
    """Neither a tile service nor a layer set is given the one before it: after a write, the encoded tiles,
    the boundary layers and a boundary tile's bytes are found in the memo the snapshots share."""
    assert list(inspect.signature(TileService).parameters) == ["data", "cache_bytes"]
    assert list(inspect.signature(LayerSet).parameters) == ["boundaries", "projects", "coverage", "memo"]
    publisher = Publisher(settings_for(REPO_DATA_DIR, sqlite_url(tmp_path)))
    before = publisher.start()
    request = TileRequest("communes", Tile(8, 129, 86), "mvt")
    drawn = before.tiles.render(request)
    record = ProjectRecord.model_validate(
        {
            "id": "epicerie-amiens",
            "organisation": "Association Test",
            "name": "Épicerie solidaire",
            "duration_years": 1,
            "place_text": "Ville d'Amiens",
            "actions": ["Ouverture d'une épicerie solidaire"],
        }
    )
    after = publisher.write(lambda: publisher.store.create(record, "test"))
    assert after.data.memo is before.data.memo
    assert after.tiles.cache is before.tiles.cache
    assert after.tiles.layers.get("communes") is before.tiles.layers.get("communes")
    assert after.tiles.cached(request) is drawn  # the boundaries did not change: the same tile, at once
    assert after.tiles.layer_version("projects") != before.tiles.layer_version("projects")
    publisher.close()
