"""The tile cache's size bound: a tile kept under two keys (request and content) counts once."""

from geo_service.tiles.service import EncodedTile, TileCache


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
