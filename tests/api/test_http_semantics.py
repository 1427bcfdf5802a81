"""HTTP as clients expect it (RFC 9110): strong ETags per encoding, conditional requests with weak comparison,
lists and '*', byte ranges (206, 416, If-Range), HEAD; and GDAL reading our GeoJSON and CSV over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pyogrio
import pytest
from fastapi.testclient import TestClient

from tests.servers import free_port, serve, stop

LAYER = "/api/v1/layers/communes.geojson?zoom=8"
IDENTITY = {"Accept-Encoding": "identity"}


def test_a_body_has_a_strong_etag_and_answers_ranges(client: TestClient) -> None:
    whole = client.get(LAYER, headers=IDENTITY)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    etag = whole.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    size = len(whole.content)
    first = client.get(LAYER, headers=IDENTITY | {"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.content == whole.content[:100] and first.headers["content-length"] == "100"
    tail = client.get(LAYER, headers=IDENTITY | {"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole.content[-50:]
    rest = client.get(LAYER, headers=IDENTITY | {"Range": f"bytes={size - 10}-"})
    assert rest.status_code == 206 and rest.content == whole.content[-10:]
    beyond = client.get(LAYER, headers=IDENTITY | {"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    stale = client.get(LAYER, headers=IDENTITY | {"Range": "bytes=0-99", "If-Range": '"autre"'})
    assert stale.status_code == 200 and stale.content == whole.content  # another version: the whole body
    fresh = client.get(LAYER, headers=IDENTITY | {"Range": "bytes=0-99", "If-Range": etag})
    assert fresh.status_code == 206


@pytest.mark.parametrize("form", ["{etag}", "W/{etag}", '"autre", {etag}', "*"])
def test_if_none_match_compares_weakly_lists_and_star(client: TestClient, form: str) -> None:
    for path in (LAYER, "/api/v1/projects", "/api/v1/coverage/communes?format=csv", "/tiles/communes.json"):
        etag = client.get(path, headers=IDENTITY).headers["etag"]
        again = client.get(path, headers=IDENTITY | {"If-None-Match": form.format(etag=etag)})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag, path


def test_each_encoding_has_its_own_strong_etag(client: TestClient) -> None:
    for path in ("/api/v1/projects", "/tiles/communes/10/518/347.mvt", "/api/v1/territories/epci"):
        plain = client.get(path, headers=IDENTITY)
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert packed.headers.get("content-encoding") == "gzip", path
        assert plain.headers["etag"] != packed.headers["etag"], path
        # a cache holding the gzip bytes revalidates them, not the identity ones
        assert (
            client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]}).status_code
            == 304
        )
        assert (
            client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]}).status_code
            == 200
        )


def test_head_answers_as_get_without_a_body(client: TestClient) -> None:
    for path in ("/api/v1/projects", LAYER, "/api/v1/coverage/communes?format=csv"):
        got = client.get(path, headers=IDENTITY)
        head = client.head(path, headers=IDENTITY)
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["content-length"] == str(len(got.content)) and head.headers["etag"] == got.headers["etag"]


def test_projects_are_geojson_by_media_type(client: TestClient) -> None:
    assert client.get("/api/v1/projects").headers["content-type"].startswith("application/geo+json")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("gdal") / "projects.sqlite3"
    port = free_port()
    server = serve(port, {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{store}"})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


@pytest.mark.parametrize(
    ("path", "rows"),
    [
        ("/api/v1/layers/communes.geojson", 3782),  # the COG's communes of the région
        ("/api/v1/projects", 28),  # the brochure's projects
        ("/api/v1/coverage/communes?format=csv", 3782),  # GDAL needs the CSV: prefix without a .csv name
    ],
)
def test_gdal_reads_our_bodies_over_http(live: str, path: str, rows: int) -> None:
    """GDAL opens a remote file through /vsicurl/, which first asks HEAD and then reads byte ranges."""
    csv = "csv" in path
    frame = pyogrio.read_dataframe(f"{'CSV:' if csv else ''}/vsicurl/{live}{path}", read_geometry=not csv)
    assert len(frame) == rows


@pytest.mark.parametrize("value", ["bytes=-", "bytes=" + "9" * 5000 + "-", "bytes=10-5", "octets=0-9", "bytes=0-1,5-9"])
def test_ranges_that_cannot_be_served_are_ignored(client: TestClient, value: str) -> None:
    """RFC 9110 §14.2: a Range the server does not understand or does not serve is ignored (whole body, 200)."""
    whole = client.get(LAYER, headers=IDENTITY)
    response = client.get(LAYER, headers=IDENTITY | {"Range": value})
    assert response.status_code == 200 and response.content == whole.content
