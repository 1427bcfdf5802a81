"""The pure comparison of bench/compare_answers.py (two servers' answers to one request), on hand-written answers:
JSON compared as data with ignored keys, error bodies by status only when asked, each server's origin and Folium's
random ids normalized away. The servers themselves are not started here (the script is run by hand)."""

from __future__ import annotations

import importlib.util
import sys

from geo_service.settings import REPO_DIR

# the script imports its sibling benchmarks as a run from bench/ does
sys.path.insert(0, str(REPO_DIR / "bench"))
_spec = importlib.util.spec_from_file_location("compare_answers", REPO_DIR / "bench" / "compare_answers.py")
assert _spec is not None and _spec.loader is not None
compare = importlib.util.module_from_spec(_spec)
sys.modules["compare_answers"] = compare  # dataclasses look their module up while the class is made
_spec.loader.exec_module(compare)

JSON = "application/json"


def answer(status: int, body: str | bytes, content_type: str = JSON) -> compare.Answer:
    return compare.Answer(status, content_type, body.encode() if isinstance(body, str) else body)


def test_equal_json_whatever_the_ignored_keys_and_the_spacing() -> None:
    before = '{"features": [{"id": "a", "timeStamp": "2026-01-01T00:00:00Z"}], "n": 1}'
    after = '{"n":1,"features":[{"timeStamp":"2026-12-31T23:59:59Z","id":"a"}]}'
    assert compare.compare_answers(answer(200, before), answer(200, after), ignore={"timeStamp"}) == []
    assert compare.compare_answers(answer(200, before), answer(200, after)) == [
        "$.features[0].timeStamp: '2026-01-01T00:00:00Z' -> '2026-12-31T23:59:59Z'"
    ]


def test_json_differences_name_the_place_and_both_values() -> None:
    before = {"a": {"b": [1, 2]}, "gone": True, "l": [1, 2], "n": 1}
    after = {"a": {"b": [1, 3]}, "new": "x", "l": [1, 2, 3], "n": 1.0}
    assert compare.json_differences(before, after, limit=10) == [
        "$.a.b[1]: 2 -> 3",
        "$.gone: only before (true)",
        "$.l: 2 items before, 3 after",
        "$.n: 1 -> 1.0",  # a client sees another type
        "$.new: only after ('x')",
    ]
    assert len(compare.json_differences(before, after, limit=2)) == 2


def test_status_and_content_type_come_first() -> None:
    ok = answer(200, '{"a": 1}')
    assert compare.compare_answers(ok, answer(500, "Internal Server Error", "text/plain; charset=utf-8")) == [
        "status 200 -> 500; before: '{\"a\": 1}'; after: 'Internal Server Error'"
    ]
    assert compare.compare_answers(ok, answer(200, '{"a": 1}', "application/geo+json")) == [
        "Content-Type 'application/json' -> 'application/geo+json'"
    ]


def test_errors_shape_only_compares_4xx_answers_by_status() -> None:
    before = answer(404, '{"detail": "unknown project"}')
    after = answer(404, '{"detail": "project not found", "code": "not-found"}')
    assert compare.compare_answers(before, after) != []
    assert compare.compare_answers(before, after, errors_shape_only=True) == []
    assert compare.compare_answers(before, answer(422, "{}"), errors_shape_only=True) == ["status 404 -> 422"]
    # a 200 body is still compared in full
    assert compare.compare_answers(answer(200, "[1]"), answer(200, "[2]"), errors_shape_only=True) == ["$[0]: 1 -> 2"]


def test_other_bodies_byte_for_byte() -> None:
    png = "image/png"
    assert compare.compare_answers(answer(200, b"\x89PNG1", png), answer(200, b"\x89PNG1", png)) == []
    (difference,) = compare.compare_answers(answer(200, b"\x89PNG1", png), answer(200, b"\x89PNG22", png))
    assert difference.startswith("bytes differ: 5 B sha256 ") and " -> 6 B sha256 " in difference
    csv = "text/csv; charset=utf-8"
    (difference,) = compare.compare_answers(
        answer(200, "code,name\n80021,Amiens\n", csv), answer(200, "code,name\n80021,AMIENS\n", csv)
    )
    assert difference.startswith("from character 17: ")


def test_each_servers_origin_and_folium_ids_are_normalized() -> None:
    origin = "http://127.0.0.1:20001"
    body = (
        b'{"href": "http://127.0.0.1:20001/tiles/x.json", "oembed": "/oembed?url=http%3A%2F%2F127.0.0.1%3A20001%2Fc"}'
    )
    assert compare.normalize_body(body, JSON, origin) == (
        b'{"href": "http://server/tiles/x.json", "oembed": "/oembed?url=http://server%2Fc"}'
    )
    assert compare.normalize_body(b"not a link to this service (127.0.0.1:20001)", JSON, origin) == (
        b"not a link to this service (server)"
    )
    first = "map_" + "a" * 32
    second = "geo_json_" + "b" * 32
    page = f'<div id="{first}"></div><script>var {first} = L.map("{first}"); function {second}_styler() {{}}</script>'
    assert compare.normalize_body(page.encode(), "text/html; charset=utf-8", origin) == (
        b'<div id="map_id0"></div><script>var map_id0 = L.map("map_id0"); function geo_json_id1_styler() {}</script>'
    )
    tile = b"\x1a\x02http://127.0.0.1:20001"  # bytes of a tile are never rewritten
    assert compare.normalize_body(tile, "application/vnd.mapbox-vector-tile", origin) == tile
