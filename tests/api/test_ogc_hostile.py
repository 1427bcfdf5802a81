"""The OGC API routes under hostile and odd input: every refusal a 4xx naming what was wrong, in the format asked
(JSON, or a French page for a browser), never a 500 nor a silently wrong answer; paging links that keep every
parameter; HTML that escapes what it echoes. Then the coverage rule's parameters on the coverage collections.

Each test here pins a bug found by trying such input (the docstring or comment names the input and what it
did), or a choice made about it (unknown parameters: ``geo_service.ogc.params``). Expected selections are
computed here from the committed GeoJSON with shapely and pyproj, not by the code under test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import parse_qsl, urlsplit

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape

from geo_service.errors import TooBusyError
from geo_service.main import create_app
from geo_service.memo import PARAMS_KEPT
from geo_service.settings import REPO_DATA_DIR
from tests.api.test_writes import NEW
from tests.conftest import settings_for

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ITEMS = "/collections/communes/items"
LAMBERT93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"


@pytest.fixture(scope="module")
def communes() -> dict[str, shapely.Geometry]:
    with (REPO_DATA_DIR / "boundaries" / "commune.geojson").open(encoding="utf-8") as file:
        features = json.load(file)["features"]
    return {f["properties"]["code"]: shape(f["geometry"]) for f in features}


def matched(client: TestClient, path: str, **params: str) -> int:
    response = client.get(path, params={**params, "limit": "1"})
    assert response.status_code == 200, (params, response.text[:300])
    return response.json()["numberMatched"]


def refused(client: TestClient, path: str, status: int = 400, **params: str) -> str:
    """The refusal's sentence, after checking its status and that it is JSON."""
    response = client.get(path, params=params or None)
    assert response.status_code == status, (path, params, response.text[:300])
    assert response.headers["content-type"] == "application/json", (path, params)
    return response.json()["detail"]


# --- bbox ---------------------------------------------------------------------------------------------------------


def test_a_projected_box_wider_than_its_crs_still_selects_what_is_inside(client: TestClient) -> None:
    """bbox=-1e10,-1e10,1e10,1e10&bbox-crs=EPSG:2154 matched 0 communes (coordinates far outside Lambert-93's
    domain came back from the projection as no area): the box is now cut to the CRS's domain first."""
    for bbox, crs in (
        ("-1e10,-1e10,1e10,1e10", LAMBERT93),
        ("0,0,1e10,1e10", LAMBERT93),
        ("-1e30,-1e30,1e30,1e30", MERCATOR),
    ):
        assert matched(client, ITEMS, bbox=bbox, **{"bbox-crs": crs}) == 3782, (bbox, crs)
    # wholly outside the domain: nothing there, and said so (not a refusal: the box is well formed)
    assert matched(client, ITEMS, bbox="5e7,5e7,6e7,6e7", **{"bbox-crs": LAMBERT93}) == 0


def test_a_box_reduced_to_a_line_in_a_projected_crs(client: TestClient, communes: dict) -> None:
    """bbox=256000,6400000,300000,6400000&bbox-crs=EPSG:3857 (a flat box, as a click-and-drag along an axis
    sends) matched 0: a zero-area polygon, densified and repaired, is empty. It is now the line it is."""
    to_lonlat = Transformer.from_crs("EPSG:3857", "OGC:CRS84", always_xy=True)
    west, y = to_lonlat.transform(256000, 6400000)
    east, _ = to_lonlat.transform(300000, 6400000)
    line = shapely.LineString([(west, y), (east, y)])
    expected = {code for code, geometry in communes.items() if geometry.intersects(line)}
    response = client.get(
        ITEMS, params={"bbox": "256000,6400000,300000,6400000", "bbox-crs": "EPSG:3857", "limit": "100"}
    )
    assert {f["id"] for f in response.json()["features"]} == expected and len(expected) > 5
    # a vertical line in CRS84, and a point: the communes they meet
    vertical = shapely.LineString([(2.3, 49.8), (2.3, 49.95)])
    assert matched(client, ITEMS, bbox="2.3,49.8,2.3,49.95") == sum(g.intersects(vertical) for g in communes.values())
    assert matched(client, ITEMS, bbox="49.9,2.3,49.9,2.3", **{"bbox-crs": "EPSG:4326"}) == 1


def test_numbers_are_ascii_decimals(client: TestClient) -> None:
    """limit=٥ (an Arabic-Indic five) was served as limit=5, population=1_000 as 1000 and bbox=1_0,… as 10:
    Python's readers take them, no client means them."""
    for params in (
        {"limit": "٥"}, {"limit": "1_0"}, {"offset": "١"}, {"population": "1_000"}, {"population": "١٢"},
        {"bbox": "1_0,49,3,50"}, {"bbox": "2,49,3,٥٠"}, {"bbox": "0x1,49,3,50"},
    ):  # fmt: skip
        name = next(iter(params))
        assert name in refused(client, ITEMS, **params), params
    # what numbers are: signs, decimals, exponents, spaces around
    assert matched(client, ITEMS, bbox=" 2.25 ,49.85, 2.35,4.992e1") == matched(
        client, ITEMS, bbox="2.25,49.85,2.35,49.92"
    )
    assert client.get(ITEMS, params={"limit": "+5"}).json()["numberReturned"] == 5


@pytest.mark.parametrize(
    "bbox",
    ["1,2,3", "1,2,3,4,5", "1,2,3,4,", ",,,", "", "nan,1,2,3", "1,inf,2,3", "1e400,1,2,3", "a,b,c,d", "1,4,3,2"],
)
def test_bad_boxes_are_named(client: TestClient, bbox: str) -> None:
    assert "bbox" in refused(client, ITEMS, bbox=bbox)


# --- crs ----------------------------------------------------------------------------------------------------------


def test_crs_spellings(client: TestClient) -> None:
    """The OGC URNs older clients send, and the https form of the URIs, were refused as unknown CRSs."""
    lambert = client.get(f"{ITEMS}/80021", params={"crs": LAMBERT93}).json()["geometry"]
    for spelling in ("urn:ogc:def:crs:EPSG::2154", "https://www.opengis.net/def/crs/EPSG/0/2154", "EPSG:2154"):
        response = client.get(f"{ITEMS}/80021", params={"crs": spelling})
        assert response.headers["content-crs"] == f"<{LAMBERT93}>" and response.json()["geometry"] == lambert
    for spelling in ("urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84"):
        assert matched(client, ITEMS, bbox="2.25,49.85,2.35,49.92", **{"bbox-crs": spelling}) > 5
    for bad in ("", "EPSG:9999", "urn:ogc:def:crs:EPSG::9999", "http://www.opengis.net/def/crs/EPSG/0/"):
        assert "crs=" in refused(client, ITEMS, crs=bad)


# --- datetime -----------------------------------------------------------------------------------------------------

GOOD_TIMES = [
    "2024-05-01T00:00:00Z",
    "2024-05-01t00:00:00z",
    "2024-05-01T00:00:00.123456789+02:00",
    "2016-12-31T23:59:60Z",
    "2024-05-01",
    "2024-05-01T00:00:00Z/2024-06-01T00:00:00Z",
    "../2024-05-01T00:00:00Z",
    "2024-05-01T00:00:00Z/..",
    "/2024-05-01T00:00:00Z",
    "2024-05-01T00:00:00Z/",
    "2024-01-01/2024-02-01",
    "2024-05-01T10:00:00 02:00",
]  # fmt: skip  (the last: '+02:00' written unencoded in a URL arrives with a space)
BAD_TIMES = [
    "", "..", "../..", "/", "2024-05-01T00:00:00", "2024-05-01T00:00Z", "2024-05-01T00Z", "20240501", "2024-W18",
    "2024-05", "2024", "2024-05-01 00:00:00Z", "2024-05-01T00:00:00,5Z", "2024-05-01T00:00:00+0200",
    "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z", "P1D", "2024-06-01T00:00:00Z/2024-05-01T00:00:00Z",
    "2024-05-01T00:00:00Z/2024-06-01T00:00:00Z/2024-07-01T00:00:00Z", "\x00", "yesterday",
]  # fmt: skip


@pytest.mark.parametrize("when", GOOD_TIMES)
def test_datetime_forms_of_the_standard(client: TestClient, when: str) -> None:
    """§7.15.4: an RFC 3339 date-time, or an interval with '..' or nothing for one open end; every feature
    matches (none has a time)."""
    assert matched(client, ITEMS, datetime=when) == 3782


@pytest.mark.parametrize("when", BAD_TIMES)
def test_datetime_outside_the_grammar(client: TestClient, when: str) -> None:
    """'../..', '/', ISO week dates, basic format, minutes without seconds and offsets without a colon used to
    be accepted (Python's own reader is wider than RFC 3339)."""
    assert "datetime=" in refused(client, ITEMS, datetime=when)


# --- filters, repeated and unknown parameters ---------------------------------------------------------------------


def test_filter_values(client: TestClient) -> None:
    # departement= (empty) answered 0 features as if that were a selection
    for name in ("departement", "postal_codes", "population", "rural"):
        assert name in refused(client, ITEMS, **{name: ""})
    assert "population" in refused(client, ITEMS, population="many")
    assert "zone_blanche" in refused(client, "/collections/coverage/items", zone_blanche="maybe")
    assert "duration_years" in refused(client, "/collections/projects/items", duration_years="two")
    # a property name in another case is another, unknown parameter
    assert "Departement" in refused(client, ITEMS, Departement="80")
    # the town hall and the geometry are not properties
    assert "townhall" in refused(client, ITEMS, townhall="1")


def test_repeated_parameters(client: TestClient) -> None:
    """The same value twice is accepted (GDAL appends its connection string's query again to links that
    spell it otherwise); two different values are a 400 naming the parameter."""
    assert client.get(f"{ITEMS}?departement=80&departement=80&limit=1").json()["numberMatched"] == 771
    assert client.get(f"{ITEMS}?limit=5&limit=5").json()["numberReturned"] == 5
    for query in ("departement=80&departement=60", "limit=1&limit=2", "f=json&f=html"):
        response = client.get(f"{ITEMS}?{query}")
        assert response.status_code == 400 and query.split("=")[0] in response.json()["detail"], query


def test_unknown_parameters(client: TestClient) -> None:
    """The choice (geo_service.ogc.params): items and one item refuse a parameter they do not define (a typo'd
    filter must not answer everything); documents that select nothing ignore it, as pygeoapi and tipg do, since
    GDAL sends its connection string's query to every request."""
    assert "'departemnt'" in refused(client, ITEMS, departemnt="80")
    assert "'token'" in refused(client, f"{ITEMS}/80021", token="x")
    assert "max_km" in refused(client, ITEMS, max_km="20")  # a coverage parameter on a boundary collection
    for path in (
        "/", "/conformance", "/api", "/collections", "/collections/communes", "/collections/communes/queryables",
        "/tileMatrixSets", "/tileMatrixSets/WebMercatorQuad", "/collections/communes/tiles",
        "/collections/communes/tiles/WebMercatorQuad", "/collections/communes/map/tiles",
    ):  # fmt: skip
        assert client.get(path, params={"token": "x", "max_km": "20"}).status_code == 200, path
        assert client.get(path, params={"f": "xml"}).status_code == 400, path  # f is still read


# --- feature ids --------------------------------------------------------------------------------------------------


def test_odd_feature_ids(client: TestClient) -> None:
    """80021%2F1 got the router's bare {"detail": "Not Found"}, in JSON even for a browser; a 5 000-character id
    was echoed whole."""
    for raw, shown in (
        ("80021%2F1", "80021/1"),
        ("%00", "\\x00"),
        ("%F0%9F%98%80", "😀"),
        ("80021%20", "80021 "),
        ("%3Cscript%3Ealert(1)%3C%2Fscript%3E", "<script>alert(1)</script>"),
    ):
        detail = refused(client, f"{ITEMS}/{raw}", 404)
        assert shown in detail and "communes" in detail, raw
        page = client.get(f"{ITEMS}/{raw}", headers={"Accept": BROWSER})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), raw
        assert "<script>" not in page.text
    long = refused(client, f"{ITEMS}/{'8' * 5000}", 404)
    assert len(long) < 200
    # a slash more: the items, as for the other routes
    slash = client.get(f"{ITEMS}/?limit=1", follow_redirects=False)
    assert slash.status_code == 307 and slash.headers["location"] == f"http://testserver{ITEMS}?limit=1"


def test_error_pages_say_what_happened(client: TestClient) -> None:
    """The French error page always said "a parameter is unknown" and "code )": the status never reached the
    template."""
    missing = client.get("/collections/lieux", headers={"Accept": BROWSER})
    assert missing.status_code == 404 and "Cette ressource n'existe pas" in missing.text.replace("&#39;", "'")
    assert "(code 404)" in missing.text
    bad = client.get(ITEMS, params={"limit": "0"}, headers={"Accept": BROWSER})
    assert bad.status_code == 400 and "(code 400)" in bad.text and "limit=&#39;0&#39;" in bad.text
    invalid = client.get("/collections/coverage/items", params={"max_km": "abc"}, headers={"Accept": BROWSER})
    assert invalid.status_code == 422 and "(code 422)" in invalid.text
    assert "max_km must be between 0 and 200, got &#39;abc&#39;" in invalid.text
    # routes that answer JSON only still refuse a browser in French
    tile = client.get("/collections/communes/tiles/WebMercatorQuad/99/0/0", headers={"Accept": BROWSER})
    assert tile.status_code == 404 and tile.headers["content-type"].startswith("text/html")


def test_tile_numbers(client: TestClient) -> None:
    """A tile row in Arabic-Indic digits (٥) was read as 5 and served."""
    for path in ("5/٥/1", "+5/1/1", "5/1/x", "5/-1/1"):
        assert "tileMatrix" in refused(client, f"/collections/communes/tiles/WebMercatorQuad/{path}"), path
    assert client.get("/collections/communes/tiles/WebMercatorQuad/99999999999999/0/0").status_code == 404
    assert client.get(f"/collections/communes/tiles/WebMercatorQuad/{'9' * 5000}/0/0").status_code == 404


# --- paging links -------------------------------------------------------------------------------------------------


def _query(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query, keep_blank_values=True))


def test_paging_links_keep_every_parameter(client: TestClient) -> None:
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    west, south = to_l93.transform(1.5, 49.5)
    east, north = to_l93.transform(3.0, 50.3)
    asked = {
        "bbox": f"{west:.2f},{south:.2f},{east:.2f},{north:.2f}",
        "bbox-crs": "EPSG:2154",
        "crs": "EPSG:2154",
        "datetime": "2024-01-01T00:00:00Z/..",
        "departement": "80",
        "max_km": "20",
        "limit": "7",
        "offset": "7",
    }
    first = client.get("/collections/zones-blanches/items", params=asked).json()
    links = {link["rel"]: link["href"] for link in first["links"] if link["type"] == "application/geo+json"}
    assert {"self", "next", "prev"} <= set(links)
    for rel, href in links.items():
        assert href.startswith("http://testserver/collections/zones-blanches/items?"), href
        query = _query(href)
        assert query["bbox-crs"] == query["crs"] == LAMBERT93, rel
        assert [float(v) for v in query["bbox"].split(",")] == [float(v) for v in asked["bbox"].split(",")]
        assert (query["datetime"], query["departement"], query["max_km"], query["limit"]) == (
            "2024-01-01T00:00:00Z/..", "80", "20", "7",
        ), rel  # fmt: skip
    assert _query(links["self"])["offset"] == "7" and _query(links["next"])["offset"] == "14"
    assert "offset" not in _query(links["prev"])
    # walking next from the start: every feature once, numberReturned adding up to numberMatched
    url: str | None = links["prev"]
    seen: list[str] = []
    while url is not None:
        page = client.get(url).json()
        assert page["numberReturned"] == len(page["features"]) and page["numberMatched"] == first["numberMatched"]
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == first["numberMatched"] > 7
    # beyond the end: nothing returned, no next, a prev
    beyond = client.get("/collections/zones-blanches/items", params={**asked, "offset": "100000"}).json()
    assert beyond["numberReturned"] == 0 and beyond["features"] == []
    rels = {link["rel"] for link in beyond["links"]}
    assert "prev" in rels and "next" not in rels


# --- HTML escapes what it echoes ----------------------------------------------------------------------------------

HOSTILE = "<b>x</b>\"'&"


def test_pages_escape_query_values(client: TestClient) -> None:
    page = client.get(ITEMS, params={"f": "html", "name": HOSTILE, "limit": "3"})
    assert page.status_code == 200 and "<b>x</b>" not in page.text
    refusal = client.get(ITEMS, params={"f": "html", HOSTILE: "1"})
    assert refusal.status_code == 400 and "<b>x</b>" not in refusal.text and "&lt;b&gt;x&lt;/b&gt;" in refusal.text
    feature = client.get(f"{ITEMS}/%3Cb%3Ex%3C%2Fb%3E", params={"f": "html"})
    assert feature.status_code == 404 and "<b>x</b>" not in feature.text


@pytest.fixture(scope="module")
def writer(new_store: Callable[[], str]) -> Iterator[TestClient]:
    settings = settings_for(REPO_DATA_DIR, new_store(), admin_tokens={"dreets": "s3cret-dreets-token-1"})
    with TestClient(create_app(settings)) as client:
        yield client


def test_pages_escape_property_values(writer: TestClient) -> None:
    """A project whose name and organisation hold markup: every OGC page shows it as text."""
    record = NEW | {"name": f"Épicerie {HOSTILE}", "organisation": f"Association {HOSTILE}"}
    created = writer.post("/api/v1/projects", json=record, headers={"Authorization": "Bearer s3cret-dreets-token-1"})
    assert created.status_code == 201, created.text
    for path in (
        "/collections/project-areas/items", f"/collections/project-areas/items/{NEW['id']}",
        "/collections/projects/items", f"/collections/projects/items/{NEW['id']}",
    ):  # fmt: skip
        page = writer.get(path, params={"f": "html"})
        assert page.status_code == 200 and "<b>x</b>" not in page.text, path
        assert "&lt;b&gt;x&lt;/b&gt;&#34;&#39;&amp;" in page.text, path
    as_json = writer.get(f"/collections/projects/items/{NEW['id']}").json()
    assert as_json["properties"]["name"] == record["name"]


# --- coverage parameters on the coverage collections --------------------------------------------------------------


def test_zones_blanches_follow_max_km(client: TestClient) -> None:
    """The OGC collection and the coverage route (another code path) agree on the zones blanches at 20 km."""
    route = client.get("/api/v1/coverage/communes", params={"max_km": "20"}).json()["features"]
    expected = {f["properties"]["code"] for f in route if f["properties"]["zone_blanche"]}
    default = matched(client, "/collections/zones-blanches/items")
    served = client.get("/collections/zones-blanches/items", params={"max_km": "20", "limit": "10000"}).json()
    assert served["numberMatched"] == len(expected) != default and {f["id"] for f in served["features"]} == expected
    assert all((f["properties"]["distance_km"] or 1e9) > 20 for f in served["features"])
    # coverage: every commune, its status under the parameters; a filter combines with them
    assert matched(client, "/collections/coverage/items", max_km="20") == 3782
    assert matched(client, "/collections/coverage/items", max_km="20", zone_blanche="true") == len(expected)
    # one feature: found under the parameters, absent when they make it no zone blanche
    some = sorted(expected)[0]
    one = client.get(f"/collections/zones-blanches/items/{some}", params={"max_km": "20"})
    assert one.status_code == 200 and one.json()["properties"]["zone_blanche"] is True
    assert {_query(link["href"]).get("max_km") for link in one.json()["links"]} == {"20"}
    default_only = {
        f["id"] for f in client.get("/collections/zones-blanches/items", params={"limit": "10000"}).json()["features"]
    } - expected
    gone = sorted(default_only)[0]
    assert client.get(f"/collections/zones-blanches/items/{gone}", params={"max_km": "20"}).status_code == 404
    # the collection's own document: its extent and links follow the parameters
    document = client.get("/collections/zones-blanches", params={"max_km": "20"}).json()
    items = [link["href"] for link in document["links"] if link["rel"] == "items"]
    assert items and all(_query(href)["max_km"] == "20" for href in items)
    # the default parameters spelled out are the default table, with no parameter in the links
    spelled = client.get("/collections/zones-blanches/items", params={"max_km": "10", "reach": "direct", "limit": "1"})
    assert spelled.json()["numberMatched"] == default
    assert all("max_km" not in _query(link["href"]) for link in spelled.json()["links"])


COVERAGE_VALUES = {
    "max_km": ["20", "0", "1000", "1e2", " 20", "-1", "1000.5", "abc", "", "nan", "inf"],
    "rural_max_density": ["1e-9", "100000", "0", "100001"],
    "count_departmental": ["true", "1", "yes", "off", "TRUE", "maybe", ""],
    "reach": ["direct", "all", "ALL", ""],
    "distance_to": ["territory", "townhall", "mairie"],
}


def test_coverage_parameters_are_validated_like_the_coverage_route(client: TestClient) -> None:
    for name, values in COVERAGE_VALUES.items():
        for value in values:
            route = client.get("/api/v1/coverage/communes/80021", params={name: value})
            ogc = client.get("/collections/coverage/items/80021", params={name: value})
            assert ogc.status_code == route.status_code, (name, value, route.status_code, ogc.text[:200])
            if route.status_code == 422:  # one reader (CoverageParams.from_query): the same refusal, word for word
                assert ogc.json() == route.json() and name in ogc.json()["detail"], ogc.json()
    listed = client.get("/collections/zones-blanches/items", params={"max_km": "abc"})
    assert listed.status_code == 422 and listed.json()["detail"] == "max_km must be between 0 and 200, got 'abc'"
    assert client.get("/collections/zones-blanches", params={"max_km": "-1"}).status_code == 422
    twice = client.get("/collections/zones-blanches/items?max_km=20&max_km=20.0&limit=1")
    assert twice.status_code == 200
    assert "max_km" in refused(client, "/collections/zones-blanches/items?max_km=20&max_km=30")


def test_the_api_definition_lists_the_coverage_parameters(client: TestClient) -> None:
    paths = client.get("/api").json()["paths"]
    names = {"rural_max_density", "max_km", "count_departmental", "reach", "distance_to"}
    for name in ("coverage", "zones-blanches"):
        for path in (f"/collections/{name}/items", f"/collections/{name}/items/{{featureId}}"):
            listed = {p["name"]: p for p in paths[path]["get"]["parameters"]}
            assert names <= set(listed), path
            assert listed["max_km"]["schema"]["minimum"] == 0 and listed["max_km"]["schema"]["maximum"] == 200
    communes = {p["name"] for p in paths["/collections/communes/items"]["get"]["parameters"]}
    assert not names & communes
    # the projects' own reach is a property filter there, not the coverage parameter
    projects = [p for p in paths["/collections/projects/items"]["get"]["parameters"] if p["name"] == "reach"]
    assert len(projects) == 1 and projects[0]["schema"] == {"type": "string"}


class Places:
    """Stands for app.state.expensive: counts the places asked for, or refuses them."""

    def __init__(self, refuse: bool = False) -> None:
        self.asked, self.refuse = 0, refuse

    @asynccontextmanager
    async def slot(self, client: str, gone=None) -> AsyncIterator[None]:
        self.asked += 1
        if self.refuse:
            raise TooBusyError("the server is busy with costly requests: retry in a moment", retry_after_s=3)
        yield


@contextmanager
def standing_in(client: TestClient, places: Places) -> Iterator[Places]:
    """``places`` in the place of the app's admission to costly work, for the block (set back by hand: pytest's
    monkeypatch cannot undo an attribute of Starlette's State)."""
    state = client.app.state  # type: ignore[attr-defined]
    kept = state.expensive
    state.expensive = places
    try:
        yield places
    finally:
        state.expensive = kept


def test_new_parameters_hold_a_place_for_costly_work(client: TestClient) -> None:
    with standing_in(client, Places()) as places:
        first = client.get("/collections/zones-blanches/items", params={"max_km": "13.25", "limit": "1"})
        assert first.status_code == 200 and places.asked == 1
        # the same parameters again, by items or the collection: the table is built, no place needed
        for path in ("/collections/zones-blanches/items", "/collections/zones-blanches"):
            assert client.get(path, params={"max_km": "13.25"}).status_code == 200
        assert client.get("/collections/coverage/items", params={"limit": "1"}).status_code == 200  # the defaults
        assert places.asked == 1
        # a typo among new parameters is refused before any place is asked for, or any computation
        typo = client.get("/collections/zones-blanches/items", params={"max_km": "15.5", "departemnt": "80"})
        assert typo.status_code == 400 and "departemnt" in typo.json()["detail"] and places.asked == 1
    with standing_in(client, Places(refuse=True)):
        busy = client.get("/collections/coverage/items/80021", params={"max_km": "14.75"})
        assert busy.status_code == 429 and busy.headers["retry-after"] == "3" and "busy" in busy.json()["detail"]
        page = client.get("/collections/coverage/items", params={"max_km": "14.75"}, headers={"Accept": BROWSER})
        assert page.status_code == 429 and "Serveur occupé" in page.text and page.headers["retry-after"] == "3"
        # what is already built is still served when no place is left
        assert client.get("/collections/zones-blanches/items", params={"max_km": "13.25"}).status_code == 200


def test_tables_per_parameters_stay_bounded(client: TestClient) -> None:
    memo = client.app.state.publisher.current.data.memo
    counts = []
    for i in range(PARAMS_KEPT + 3):
        counts.append(matched(client, "/collections/zones-blanches/items", max_km=str(30 + i)))
        assert memo.sizes().get("ogc.coverage_table_by_params", 0) <= PARAMS_KEPT
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]  # farther: fewer zones blanches
    # the first set was dropped, and is computed again when asked
    assert matched(client, "/collections/zones-blanches/items", max_km="30") == counts[0]
