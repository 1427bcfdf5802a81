"""CQL2 text filtering (OGC API – Features Part 3, basic CQL2): the parser alone (precedence, quoting, positions,
round trips of random trees), the evaluation's three-valued logic on a small table, the items route against
counts computed here from the committed GeoJSON (plain ``json``, not the code under test), hostile filters, and
GDAL's OAPIF driver against a live server.

GDAL 3.12 knows no CQL2: it filters on its own side unless told ``OGR_OAPIF_ALLOW_CQL_TEXT=YES``, and then sends
the drafts' ``filter-lang=cql-text``, which the server reads as cql2-text (``geo_service.ogc.cql2``). Both are
checked here, with the URLs GDAL fetched read from GDAL's own debug log.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_service.ogc import cql2
from geo_service.ogc.collections import _table
from geo_service.ogc.cql2 import FilterError
from geo_service.settings import REPO_DATA_DIR
from tests.servers import free_port, serve, stop

ITEMS = "/collections/communes/items"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
NAMES = ["population", "departement", "name", "postal_codes", "rural", "x.y", ":ns", "AND", "in", "é_t", "Name"]


def cmp(name: str, op: str, value: str | float | bool) -> dict:
    return {"op": op, "args": [{"property": name}, value]}


@pytest.fixture(scope="module")
def communes() -> dict[str, dict]:
    with (REPO_DATA_DIR / "boundaries" / "commune.geojson").open(encoding="utf-8") as file:
        return {f["properties"]["code"]: f["properties"] for f in json.load(file)["features"]}


def ids(client: TestClient, path: str = ITEMS, **params: str) -> set[str]:
    response = client.get(path, params={"limit": "10000", **params})
    assert response.status_code == 200, (params, response.text[:300])
    page = response.json()
    assert page["numberMatched"] == page["numberReturned"] == len(page["features"])
    return {f["id"] for f in page["features"]}


def refused(client: TestClient, path: str = ITEMS, **params: str) -> str:
    response = client.get(path, params=params)
    assert response.status_code == 400, (params, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    return response.json()["detail"]


# --- the parser (cql2-rs) and our checks on its tree --------------------------------------------------------------


def test_precedence_not_and_or() -> None:
    a, b, c = cmp("population", "=", 1), cmp("departement", "=", "80"), cmp("name", "<>", "x")
    text = "population = 1 OR departement = '80' AND NOT name <> 'x'"
    assert cql2.parse(text, NAMES) == {"op": "or", "args": [a, {"op": "and", "args": [b, {"op": "not", "args": [c]}]}]}
    assert cql2.parse("(population = 1 OR departement = '80') AND name <> 'x'", NAMES) == {
        "op": "and",
        "args": [{"op": "or", "args": [a, b]}, c],
    }
    assert cql2.parse("population = 1 oR departement = '80' aNd not name <> 'x'", NAMES) == cql2.parse(text, NAMES)
    assert cql2.parse("TRUE", NAMES) is True
    assert cql2.parse("name IS NOT NULL", NAMES) == {
        "op": "not",
        "args": [{"op": "isNull", "args": [{"property": "name"}]}],
    }


def test_literals_and_quoting() -> None:
    assert cql2.parse("name = 'L''Abbaye'", NAMES) == cmp("name", "=", "L'Abbaye")
    assert cql2.parse("name = ''", NAMES) == cmp("name", "=", "")
    assert cql2.parse("name = 'a AND b OR \"c\" )'", NAMES) == cmp("name", "=", 'a AND b OR "c" )')
    assert cql2.parse("\"name\" = 'x'", NAMES) == cmp("name", "=", "x")
    assert cql2.parse("Name = 'x'", NAMES) == cmp("Name", "=", "x")  # names are case-sensitive
    for text, value in (("-1.5e3", -1500), ("0.5", 0.5), ("1E2", 100)):
        assert cql2.parse(f"population>{text}", NAMES) == cmp("population", ">", value), text
    assert cql2.parse("name LIKE 'Saint-%'", NAMES) == {"op": "like", "args": [{"property": "name"}, "Saint-%"]}
    assert cql2.parse("population BETWEEN 1 AND 2", NAMES)["op"] == "between"
    assert cql2.parse("departement IN ('80', '02')", NAMES)["args"][1] == ["80", "02"]


@pytest.mark.parametrize(
    ("text", "position", "phrase"),
    [
        ("", None, "empty"),
        ("population >", 13, "expected a property"),
        ("(population > 1", 1, "never closed"),
        ("population > 1)", 15, "found ')'"),
        ("name = 'abc", 8, "unterminated text"),
        ("populaton > 1", 1, "unknown property 'populaton'"),
        ('name = "Amiens"', 8, "single quotes"),
        ("name == 'x'", 7, "write '='"),
        ("T_AFTER(name, DATE('2020-01-01'))", 1, "T_AFTER is not supported"),
        ("name = 'x' AND foo(name) = 1", 16, "FOO is not supported"),
        ("population + 1 > 2", 12, "+ is not supported"),
        ("population = 1e999", None, "too large"),
        ("name = 'a\x00b'", 10, "control character"),
        ("na\x00me = 'x'", 3, "U+0000"),
        ("population ≥ 1", 12, "unexpected character '≥'"),
        ("geometry IS NULL", 1, "spatial predicates only"),
    ],
)
def test_errors_name_the_position(text: str, position: int | None, phrase: str) -> None:
    with pytest.raises(FilterError) as raised:
        cql2.parse(text, [*NAMES, "geometry"])
    message = str(raised.value)
    assert phrase in message, message
    assert message.startswith("filter at position " + str(position) + ":" if position else "filter"), message


def refusal(text: str, language: str = "cql2-text") -> str:
    with pytest.raises(FilterError) as raised:
        cql2.parse(text, NAMES, language)
    return str(raised.value)


def test_limits_without_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "at most 4000" in refusal("name = '" + "x" * 4000 + "'")
    ok_depth = "NOT " * (cql2.MAX_DEPTH - 1) + "name IS NULL"
    assert cql2.parse(ok_depth, NAMES) is not None
    for deep in ("NOT " * (cql2.MAX_DEPTH + 1) + "name IS NULL", "(" * 51 + "name IS NULL" + ")" * 51):
        assert "nested more than 50 levels" in refusal(deep)
    # what would overflow the Rust parser's stack (and kill the process) is refused before it sees it
    monkeypatch.setattr(cql2, "MAX_LENGTH", 10**6)
    for deep in ("(" * 10_000 + "name IS NULL" + ")" * 10_000, "population = " + "-" * 10_000 + "1"):
        assert "nested" in refusal(deep) or "signs in a row" in refusal(deep)
    deep_json = '{"op":"not","args":[' * 3000 + '{"op":"isNull","args":[{"property":"name"}]}' + "]}" * 3000
    assert "nested" in refusal(deep_json, "cql2-json") or "JSON" in refusal(deep_json, "cql2-json")
    # a long flat chain is no nesting
    chain = " OR ".join(f"population = {i}" for i in range(200))
    assert len(cql2.parse(chain, NAMES)["args"]) == 200


# random trees: written as CQL2-JSON and as cql2-rs prints their text, both read to the same tree
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, range(32)))))
_LITERALS = st.one_of(_TEXT, st.floats(allow_nan=False, allow_infinity=False, width=32), st.integers(-(10**6), 10**6))
_LEAVES = st.one_of(
    st.builds(
        cmp, st.sampled_from(["population", "departement", "name"]), st.sampled_from(cql2.COMPARISONS), _LITERALS
    ),
    st.sampled_from(["population", "name"]).map(lambda n: {"op": "isNull", "args": [{"property": n}]}),
    st.builds(lambda v: {"op": "like", "args": [{"property": "name"}, v]}, _TEXT),
)
TREES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        children.map(lambda c: {"op": "not", "args": [c]}),
        st.lists(children, min_size=2, max_size=4).map(lambda parts: {"op": "and", "args": parts}),
        st.lists(children, min_size=2, max_size=4).map(lambda parts: {"op": "or", "args": parts}),
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_text_and_json_read_the_same(tree: dict) -> None:
    as_json = json.dumps(tree)
    if len(as_json) > cql2.MAX_LENGTH:
        return
    from_json = cql2.parse(as_json, NAMES, "cql2-json")
    chosen = cql2.Filter(from_json, as_json)
    text = chosen.link_text()
    assert cql2.parse(text, NAMES) == from_json, text


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("()'\"=<>!,.-+ 0123456789eEaANDORTnotIS_NULLxyLIKE%\x00\té")), max_size=60)
)
def test_any_text_is_read_or_refused_never_crashes(text: str) -> None:
    try:
        cql2.parse(text, NAMES)
    except FilterError as refusal:
        assert str(refusal).startswith("filter")


# --- the evaluation: three-valued logic over columns with nulls ---------------------------------------------------


@pytest.fixture(scope="module")
def small() -> object:
    points = [shapely.Point(2, 49), shapely.Point(2.1, 49), shapely.Point(2.2, 49)]
    columns = {
        "n": [1, None, 3],
        "s": ["a", None, "c"],
        "b": [True, None, False],
        "l": [["x", "y"], None, []],
    }
    return _table(["r0", "r1", "r2"], points, columns)


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("n > 1", {2}),
        ("NOT n > 1", {0}),  # the null row is unknown both ways
        ("n IS NULL", {1}),
        ("n IS NOT NULL", {0, 2}),
        ("NOT (n = 1)", {2}),
        ("n IS NULL OR n = 1", {0, 1}),
        ("NOT (n = 1 AND FALSE)", {0, 1, 2}),  # unknown AND false is false
        ("NOT (n = 1 AND s = 'zz')", {0, 2}),  # row 1: unknown AND unknown is unknown
        ("n = 2 OR TRUE", {0, 1, 2}),  # unknown OR true is true
        ("NOT (n = 2 OR s = 'a')", {2}),  # unknown OR true is true
        ("l = 'x'", {0}),
        ("l <> 'x'", {2}),  # the empty list holds no 'x'; null stays unknown
        ("l = ''", set()),
        ("s < 'b'", {0}),
        ("s >= 'b'", {2}),
        ("b = TRUE", {0}),
        ("b < TRUE", {2}),
        ("TRUE", {0, 1, 2}),
        ("FALSE OR n = 3", {2}),
        ("n = 1.0 AND n <= 1 AND n >= 1 AND n < 1.5", {0}),
    ],
)
def test_three_valued_logic(small, text: str, rows: set[int]) -> None:  # type: ignore[no-untyped-def]
    chosen = cql2.read(text, None, list(small.fields))
    assert set(np.flatnonzero(cql2.evaluate(chosen, small)).tolist()) == rows


def test_type_rules(small) -> None:  # type: ignore[no-untyped-def]
    for text, phrase in (
        ("n = '1'", "n is a number, compared with the text '1'"),
        ("s = 1", "s is text, compared with the number 1"),
        ("b = 1", "b is a boolean, compared with the number 1"),
        ("l > 'x'", "l is a comma-separated list"),
        ("l = 1", "l is a comma-separated list, compared with the number 1"),
        ("n = DATE('2024-01-01')", "compared with the date"),
    ):
        with pytest.raises(FilterError, match="filter at position") as raised:
            cql2.evaluate(cql2.read(text, None, list(small.fields)), small)
        assert phrase in str(raised.value), text
    # the drafts' cql-text, as GDAL sends it: booleans as 1 and 0
    assert cql2.evaluate(cql2.read("b = 1", "cql-text", list(small.fields)), small).tolist() == [True, False, False]
    with pytest.raises(FilterError):
        cql2.evaluate(cql2.read("b = 2", "cql-text", list(small.fields)), small)


# --- the items route, against counts made from the committed GeoJSON ----------------------------------------------


def test_selections_match_the_committed_data(client: TestClient, communes: dict[str, dict]) -> None:
    big_somme = {c for c, p in communes.items() if p["population"] > 10000 and p["departement"] == "80"}
    assert ids(client, filter="population > 10000 AND departement = '80'") == big_somme and len(big_somme) >= 2
    big = {c for c, p in communes.items() if p["population"] > 10000}
    assert ids(client, filter="population > 10000") == big
    assert ids(client, filter="10000 < population") == big
    two = ids(client, filter="name = 'Amiens' OR name = 'Abbeville'")
    assert two == {c for c, p in communes.items() if p["name"] in ("Amiens", "Abbeville")} and len(two) == 2
    aisne = sum(p["departement"] == "02" for p in communes.values())
    assert aisne == 797  # the COG 2026's communes of the Aisne
    not_aisne = client.get(ITEMS, params={"filter": "NOT (departement = '02')", "limit": "1"}).json()
    assert not_aisne["numberMatched"] == 3782 - 797 == len(communes) - aisne
    # precedence through the route: AND first
    mixed = ids(client, filter="departement = '60' OR departement = '80' AND population >= 20000")
    assert mixed == {
        c
        for c, p in communes.items()
        if p["departement"] == "60" or (p["departement"] == "80" and p["population"] >= 20000)
    }
    # IS NULL: no commune lacks an EPCI or a name in these data
    assert sum(p["epci"] is None for p in communes.values()) == 0
    assert ids(client, filter="epci IS NULL") == set()
    assert len(ids(client, filter="epci IS NOT NULL AND NOT name IS NULL")) == 3782
    # a list field: one element equals; <> is its negation
    postal = {c for c, p in communes.items() if "80090" in p["postal_codes"]}
    assert ids(client, filter="postal_codes = '80090'") == postal and postal
    assert len(ids(client, filter="postal_codes <> '80090'")) == 3782 - len(postal)
    # quoted names, keywords in lower case, text with a quote
    assert ids(client, filter='"departement" = \'80\' and "population" > 10000') == big_somme
    apostrophe = {c for c, p in communes.items() if "'" in p["name"]}
    some = sorted(apostrophe)[0] if apostrophe else None
    if some:
        quoted = communes[some]["name"].replace("'", "''")
        assert some in ids(client, filter=f"name = '{quoted}'")
    assert ids(client, filter="name = '😀 inconnue'") == set()  # any text may be compared


def test_filter_combines_with_bbox_simple_filters_and_datetime(client: TestClient, communes: dict[str, dict]) -> None:
    with (REPO_DATA_DIR / "boundaries" / "commune.geojson").open(encoding="utf-8") as file:
        shapes = {f["properties"]["code"]: shapely.geometry.shape(f["geometry"]) for f in json.load(file)["features"]}
    box = shapely.box(2.0, 49.7, 2.6, 50.1)
    expected = {
        c for c, p in communes.items()
        if p["population"] > 1000 and p["epci"] == "248000531" and shapes[c].intersects(box)
    }  # fmt: skip
    got = ids(
        client, filter="population > 1000", epci="248000531", bbox="2.0,49.7,2.6,50.1", datetime="2024-01-01T00:00:00Z"
    )
    assert got == expected and expected


def test_coverage_collections(client: TestClient) -> None:
    blanches = client.get("/collections/zones-blanches/items", params={"limit": "1"}).json()["numberMatched"]
    got = client.get("/collections/coverage/items", params={"filter": "zone_blanche = TRUE", "limit": "1"}).json()
    assert got["numberMatched"] == blanches > 0
    at_20 = client.get("/collections/zones-blanches/items", params={"max_km": "20", "limit": "1"}).json()
    both = client.get(
        "/collections/coverage/items", params={"filter": "zone_blanche = TRUE", "max_km": "20", "limit": "1"}
    ).json()
    assert both["numberMatched"] == at_20["numberMatched"]
    # a typo is a 400 before any coverage is computed under new parameters
    assert "populaton" in refused(client, "/collections/coverage/items", filter="populaton > 1", max_km="31")


def test_paging_links_keep_the_filter(client: TestClient, communes: dict[str, dict]) -> None:
    expected = {c for c, p in communes.items() if p["departement"] != "02" and p["population"] < 300}
    url: str | None = f"{ITEMS}?filter=NOT (departement = '02') and population < 300&limit=400"
    seen: list[str] = []
    pages = 0
    while url is not None:
        page = client.get(url).json()
        pages += 1
        seen += [f["id"] for f in page["features"]]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = following[0] if following else None
        for link in page["links"]:
            if link["rel"] in ("self", "next", "prev", "alternate"):
                query = parse_qs(urlsplit(link["href"]).query)
                assert query["filter"] == ["NOT departement = '02' AND population < 300"], link
                assert query["filter-lang"] == ["cql2-text"]
    assert pages > 2 and len(seen) == len(set(seen)) and set(seen) == expected


def test_queryables_are_what_the_filter_accepts(client: TestClient) -> None:
    for collection in ("communes", "epci", "arrondissements", "departements", "region", "projects", "project-areas",
                       "coverage", "zones-blanches"):  # fmt: skip
        schema = client.get(f"/collections/{collection}/queryables").json()
        path = f"/collections/{collection}/items"
        for name in schema["properties"]:
            if name == "geometry":  # the feature's own, for the spatial predicates
                assert schema["properties"][name]["x-ogc-role"] == "primary-geometry"
                continue
            assert client.get(path, params={"filter": f'"{name}" IS NOT NULL', "limit": "1"}).status_code == 200
        for other in ("townhall", "id", "Name"):
            assert other not in schema["properties"]
            assert "unknown property" in refused(client, path, filter=f'"{other}" IS NULL')
    assert "filtre CQL2" in client.get("/collections/communes/queryables").json()["description"]


def test_api_definition_and_conformance(client: TestClient) -> None:
    classes = set(client.get("/conformance").json()["conformsTo"])
    assert {
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    } <= classes
    cql = "http://www.opengis.net/spec/cql2/1.0/conf/"
    assert {cql + name for name in ("cql2-json", "advanced-comparison-operators", "spatial-functions")} <= classes
    assert not any(word in c for c in classes for word in ("temporal", "array", "arithmetic", "property-property"))
    paths = client.get("/api").json()["paths"]
    for path in ("/collections/{collectionId}/items", "/collections/communes/items", "/collections/coverage/items"):
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert {"filter", "filter-lang", "filter-crs"} <= set(parameters), path
        assert parameters["filter-lang"]["schema"]["enum"] == ["cql2-text", "cql2-json"]
        assert {"sortby", "properties", "skipGeometry"} <= set(parameters), path
        assert parameters["filter"]["schema"]["maxLength"] == 4000


def test_html_pages(client: TestClient) -> None:
    page = client.get(ITEMS, params={"filter": "population > 100000", "f": "html"})
    assert page.status_code == 200 and "Filtre CQL2" in page.text and "population &gt; 100000" in page.text
    refusal = client.get(ITEMS, params={"filter": "name = '<b>x</b>"}, headers={"Accept": BROWSER})
    assert refusal.status_code == 400 and refusal.headers["content-type"].startswith("text/html")
    assert "position 8" in refusal.text and "unterminated" in refusal.text and "<b>x</b>" not in refusal.text
    json_page = client.get(ITEMS, params={"filter": "populaton > 1"}, headers={"Accept": BROWSER})
    assert json_page.status_code == 400 and "populaton" in json_page.text


# --- hostile filters ----------------------------------------------------------------------------------------------

HOSTILE = [
    "", " ", "(", ")", "()", "((name IS NULL)", "name IS NULL))", "population >", "AND", "NOT",
    "NOT " * 10_000 + "name IS NULL",  # 40 000 characters: the length limit
    "NOT " * 60 + "name IS NULL",  # short, too deep
    "(" * 60 + "name IS NULL" + ")" * 60,
    "nom = 'Amiens'", "population > 'grand'", "departement = 80", "postal_codes >= '80000'", "name = TRUE",
    "name = 'Amiens", "\"name = 'Amiens'", "name = 'a\x00b'", "name\x00 = 'a'", "\x00", "population ≤ 3",
    "population = ٣", "ñame = 'x'", "name = 'x' ; DROP TABLE communes", "name = \"Amiens\"", "name == 'Amiens'",
    "population > 1e400", "name = 'x'" + " AND name = 'x'" * 300,
]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
def test_hostile_filters_are_400s(client: TestClient, text: str) -> None:
    detail = refused(client, filter=text)
    assert detail.startswith("filter"), detail
    assert len(detail) < 600
    page = client.get(ITEMS, params={"filter": text}, headers={"Accept": BROWSER})
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")


def test_hostile_parameters(client: TestClient) -> None:
    assert "JSON" in refused(client, filter="name = 'x'", **{"filter-lang": "cql2-json"})
    assert "unknown property" in refused(
        client, filter='{"op": "=", "args": [{"property": "nom"}, "x"]}', **{"filter-lang": "cql2-json"}
    )
    assert "filter-lang" in refused(client, **{"filter-lang": "cql2-text"})
    assert "filter-crs" in refused(client, **{"filter-crs": "EPSG:2154"})
    assert "filter-crs" in refused(client, filter="name IS NULL", **{"filter-crs": "EPSG:9999"})
    assert "filter" in refused(client, filter="name IS NULL", **{"filter-lang": "CQL"})
    # two different filters; the same one twice is one
    response = client.get(f"{ITEMS}?filter=name IS NULL&filter=name IS NOT NULL")
    assert response.status_code == 400 and "filter is given 2 times" in response.json()["detail"]
    assert client.get(f"{ITEMS}?filter=name IS NULL&filter=name IS NULL").status_code == 200
    # percent-encoded NUL and an invalid UTF-8 byte
    assert client.get(f"{ITEMS}?filter=name%00%3D%27x%27").status_code == 400
    assert client.get(f"{ITEMS}?filter=name%3D%27%ED%A0%80%27&limit=1").status_code == 200  # read as U+FFFD text
    # filter-crs is read and changes nothing
    same = client.get(ITEMS, params={"filter": "population > 50000", "filter-crs": "EPSG:2154", "limit": "1"}).json()
    assert same["numberMatched"] == client.get(ITEMS, params={"filter": "population > 50000"}).json()["numberMatched"]
    assert any("filter-crs=" in link["href"] for link in same["links"] if link["rel"] == "self")


# --- GDAL's OAPIF driver against a live server -------------------------------------------------------------------

READER = """
import json, sys
import pyogrio
options = {"CPL_DEBUG": "ON", "CPL_LOG": sys.argv[2]}
if sys.argv[3] == "cql-text":
    options["OGR_OAPIF_ALLOW_CQL_TEXT"] = "YES"
pyogrio.set_gdal_config_options(options)
read = {}
for layer, where in json.loads(sys.argv[4]):
    frame = pyogrio.read_dataframe("OAPIF:" + sys.argv[1], layer=layer, where=where, read_geometry=False)
    read[where] = sorted(frame["id"])
print(json.dumps(read))
"""
WHERE = [
    ["communes", "population > 10000"],
    ["communes", "population > 10000 AND departement = '80'"],
    ["communes", "NOT (departement = '02')"],
    ["coverage", "zone_blanche = 1"],
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("cql2-live")
    port = free_port()
    server = serve(port, {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{folder / 'projects.sqlite3'}"}, log=folder / "log")
    yield f"http://127.0.0.1:{port}/"
    stop(server)


def gdal_reads(live: str, folder: Path, mode: str) -> tuple[dict[str, list[str]], list[str]]:
    """What GDAL read for each WHERE (in its own process: its debug log is set once per process), and the items
    URLs it fetched, from its own log."""
    log = folder / f"gdal-{mode}.log"
    done = subprocess.run(
        [sys.executable, "-c", READER, live, str(log), mode, json.dumps(WHERE)],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    fetched = [
        line.split("Fetch(", 1)[1].rstrip(")\n")
        for line in log.read_text().splitlines()
        if "HTTP: Fetch(" in line and "/items" in line
    ]
    return json.loads(done.stdout.strip().splitlines()[-1]), fetched


def expected_reads(communes: dict[str, dict], live: str) -> dict[str, set[str]]:
    with urllib.request.urlopen(f"{live}api/v1/coverage/communes", timeout=60) as response:
        coverage = json.load(response)["features"]
    return {
        "population > 10000": {c for c, p in communes.items() if p["population"] > 10000},
        "population > 10000 AND departement = '80'": {
            c for c, p in communes.items() if p["population"] > 10000 and p["departement"] == "80"
        },
        "NOT (departement = '02')": {c for c, p in communes.items() if p["departement"] != "02"},
        "zone_blanche = 1": {f["properties"]["code"] for f in coverage if f["properties"]["zone_blanche"]},
    }


def test_gdal_filters_on_its_side_by_default(live: str, communes: dict[str, dict], tmp_path: Path) -> None:
    """GDAL 3.12's OAPIF driver knows no CQL2 (it never reads /conformance): a where clause is sent as simple
    filters when it is an equality on a field the API definition lists (zone_blanche=1, and the departement of
    an AND), and otherwise evaluated by GDAL over every page. The features are right either way."""
    read, fetched = gdal_reads(live, tmp_path, "default")
    expected = expected_reads(communes, live)
    for where, got in read.items():
        assert set(got) == expected[where], where
    assert fetched and not any("filter=" in url for url in fetched)
    assert any("zone_blanche=1" in url for url in fetched)
    assert any("departement=80" in url for url in fetched)  # the equality of the AND, as a simple filter
    # population > 10000 and NOT (...): every commune fetched, four pages of 1 000 each time
    unfiltered = [
        url for url in fetched
        if "/collections/communes/items" in url and "limit=1000" in url and "departement" not in url
    ]  # fmt: skip
    assert len(unfiltered) == 2 * 4


def test_gdal_sends_the_filter_when_allowed(live: str, communes: dict[str, dict], tmp_path: Path) -> None:
    """With OGR_OAPIF_ALLOW_CQL_TEXT=YES, GDAL translates each where clause into a filter (the drafts'
    filter-lang=cql-text, read as cql2-text) and trusts the server's selection: one request where the answer
    fits a page, the filter in every next link it follows, and the same features as computed here."""
    read, fetched = gdal_reads(live, tmp_path, "cql-text")
    expected = expected_reads(communes, live)
    for where, got in read.items():
        assert set(got) == expected[where], where
    filters = [parse_qs(urlsplit(url).query) for url in fetched]
    sent = {q["filter"][0] for q in filters if "filter" in q}
    assert sent >= {
        "population > 10000",
        "(population > 10000) AND (departement = '80')",
        "NOT (departement = '02')",
        "zone_blanche = 1",
    }, sent
    assert all(q["filter-lang"] == ["cql-text"] for q in filters if "filter" in q)
    # population > 10000: one page (GDAL's page is 1 000 features), not the four pages of every commune
    big = [q for q in filters if q.get("filter") == ["population > 10000"]]
    assert len(big) == 1 and len(expected["population > 10000"]) < 1000
