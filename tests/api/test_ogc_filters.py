"""CQL2 beyond the basics (LIKE, IN, BETWEEN, CASEI, ACCENTI, spatial predicates, CQL2-JSON), sortby, properties
and skipGeometry on items, the features' schema, and the HTTP of the layers' GeoJSON (kept documents, ranges,
Vary, gzip;q=0).

Expected selections are computed here from the committed GeoJSON with pandas and shapely, never from the service;
GDAL (pyogrio's, with OGR_OAPIF_ALLOW_CQL_TEXT=YES) and OWSLib read a live server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape

from geo_service.settings import REPO_DATA_DIR
from tests.servers import free_port, serve, stop

ITEMS = "/collections/communes/items"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    with (REPO_DATA_DIR / "boundaries" / "commune.geojson").open(encoding="utf-8") as file:
        features = json.load(file)["features"]
    rows = pd.DataFrame([f["properties"] for f in features])
    rows["shape"] = [shape(f["geometry"]) for f in features]
    return rows.set_index("code", drop=False)


def ids(client: TestClient, **params: str) -> set[str]:
    response = client.get(ITEMS, params={"limit": "10000", "skipGeometry": "true", **params})
    assert response.status_code == 200, (params, response.text[:300])
    page = response.json()
    assert page["numberMatched"] == len(page["features"])
    return {f["id"] for f in page["features"]}


def plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").casefold()


def test_like_in_between_case_and_accents(client: TestClient, frame: pd.DataFrame) -> None:
    names = frame["name"]
    saint = set(frame.index[names.str.startswith("Saint-")])
    assert ids(client, filter="name LIKE 'Saint-%'") == saint and len(saint) > 50
    assert ids(client, filter="name NOT LIKE 'Saint-%'") == set(frame.index) - saint
    one_letter = set(frame.index[names.str.fullmatch(r"Ay.")])
    assert ids(client, filter="name LIKE 'Ay_'") == one_letter
    somme_aisne = set(frame.index[frame["departement"].isin(["80", "02"])])
    assert ids(client, filter="departement IN ('80', '02')") == somme_aisne
    middle = set(frame.index[frame["population"].between(1000, 2000)])
    assert ids(client, filter="population BETWEEN 1000 AND 2000") == middle and middle
    assert ids(client, filter="population NOT BETWEEN 1000 AND 2000") == set(frame.index) - middle
    amiens = set(frame.index[names.str.casefold() == "amiens"])
    assert ids(client, filter="CASEI(name) = casei('AMIENS')") == amiens and len(amiens) == 1
    etre = set(frame.index[[("etre" in plain(n)) for n in names]])
    assert ids(client, filter="ACCENTI(CASEI(name)) LIKE accenti(casei('%ÊTRE%'))") == etre and etre
    postal = set(frame.index[[bool({"80090", "02000"} & set(p)) for p in frame["postal_codes"]]])
    assert ids(client, filter="postal_codes IN ('80090', '02000')") == postal and postal


def test_cql2_json_is_its_text(client: TestClient) -> None:
    pairs = [
        ("name LIKE 'Saint-%' AND population > 1000", None),
        ("departement IN ('80', '02') OR population BETWEEN 100 AND 200", None),
        ("NOT (epci IS NULL) AND S_INTERSECTS(geometry, BBOX(2.2, 49.8, 2.4, 50.0))", None),
    ]
    import cql2 as cql2_rs

    for text, _ in pairs:
        as_json = json.dumps(cql2_rs.parse_text(text).to_json())
        assert ids(client, filter=as_json, **{"filter-lang": "cql2-json"}) == ids(client, filter=text), text
    # links keep the JSON form and its language
    page = client.get(ITEMS, params={"filter": as_json, "filter-lang": "cql2-json", "limit": "1"}).json()
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "filter-lang=cql2-json" in following


def test_spatial_predicates_match_shapely(client: TestClient, frame: pd.DataFrame) -> None:
    box = shapely.box(2.2, 49.8, 2.4, 50.0)
    shapes = frame["shape"]
    meets = set(frame.index[[s.intersects(box) for s in shapes]])
    inside = set(frame.index[[s.within(box) for s in shapes]])
    assert (
        ids(client, filter="S_INTERSECTS(geometry, POLYGON((2.2 49.8, 2.4 49.8, 2.4 50, 2.2 50, 2.2 49.8)))") == meets
    )
    assert ids(client, filter="S_WITHIN(geometry, BBOX(2.2, 49.8, 2.4, 50.0))") == inside and inside < meets
    assert ids(client, filter="S_DISJOINT(geometry, BBOX(2.2, 49.8, 2.4, 50.0))") == set(frame.index) - meets
    point = shapely.Point(2.2957, 49.8941)  # Amiens's town hall
    holding = set(frame.index[[s.contains(point) for s in shapes]])
    assert ids(client, filter="S_CONTAINS(geometry, POINT(2.2957 49.8941))") == holding == {"80021"}
    line = shapely.LineString([(2.0, 49.9), (2.6, 49.9)])
    crossed = set(frame.index[[s.intersects(line) for s in shapes]])
    assert ids(client, filter="S_INTERSECTS(geometry, LINESTRING(2 49.9, 2.6 49.9))") == crossed
    # filter-crs: the same point in Lambert-93
    x, y = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True).transform(2.2957, 49.8941)
    assert ids(client, filter=f"S_INTERSECTS(geometry, POINT({x} {y}))", **{"filter-crs": "EPSG:2154"}) == {"80021"}
    # a spatial filter in CQL2-JSON, GeoJSON geometry
    as_json = {"op": "s_intersects", "args": [{"property": "geometry"}, shapely.geometry.mapping(box)]}
    assert ids(client, filter=json.dumps(as_json), **{"filter-lang": "cql2-json"}) == meets


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("name LIKE 3", "pattern of LIKE"),
        ("population LIKE '1%'", "LIKE applies to text"),
        ("name BETWEEN 'a' AND 'b'", "BETWEEN applies to numbers"),
        ("departement IN (80, 2)", "departement is text, compared with the number 80"),
        ("CASEI(population) = 1", "CASEI applies to text"),
        ("S_INTERSECTS(geometry, geometry)", "literal geometry"),
        ("S_INTERSECTS(name, POINT(2 49))", "literal geometry"),
        ("T_AFTER(name, DATE('2020-01-01'))", "T_AFTER is not supported"),
        ("A_CONTAINS(postal_codes, ('80090'))", "A_CONTAINS is not supported"),
    ],
)
def test_refusals_name_the_problem(client: TestClient, text: str, phrase: str) -> None:
    response = client.get(ITEMS, params={"filter": text})
    assert response.status_code == 400 and phrase in response.json()["detail"], response.text[:300]


def test_sortby_properties_skip_geometry(client: TestClient, frame: pd.DataFrame) -> None:
    page = client.get(
        ITEMS, params={"sortby": "-population,name", "properties": "name,population", "skipGeometry": "true",
                       "limit": "5", "departement": "80"},
    ).json()  # fmt: skip
    somme = frame[frame["departement"] == "80"].sort_values(["population", "name"], ascending=[False, True])
    assert [f["id"] for f in page["features"]] == list(somme.index[:5])
    assert all(f["geometry"] is None and set(f["properties"]) == {"name", "population"} for f in page["features"])
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "sortby=-population,name" in following and "skipGeometry=true" in following
    smallest = client.get(ITEMS, params={"sortby": "+population", "limit": "3", "properties": ""}).json()
    assert [f["id"] for f in smallest["features"]] == list(frame.sort_values("population", kind="stable").index[:3])
    assert all(f["properties"] == {} and f["geometry"] for f in smallest["features"])
    for bad, phrase in (({"sortby": "nope"}, "sortby"), ({"properties": "nope"}, "properties"),
                        ({"skipGeometry": "maybe"}, "skipGeometry"), ({"sortby": "name,-name"}, "twice")):  # fmt: skip
        response = client.get(ITEMS, params=bad)
        assert response.status_code == 400 and phrase in response.json()["detail"], bad


def test_schema_queryables_and_tileset_types(client: TestClient) -> None:
    schema = client.get("/collections/coverage/schema")
    assert schema.status_code == 200 and schema.headers["content-type"] == "application/schema+json"
    properties = schema.json()["properties"]
    assert properties["id"]["x-ogc-role"] == "id" and properties["geometry"]["x-ogc-role"] == "primary-geometry"
    assert properties["best_scope"]["enum"] == ["local", "departement", "region", "none"]
    assert properties["population"]["type"] == "integer" and properties["zone_blanche"]["type"] == "boolean"
    queryables = client.get("/collections/projects/queryables").json()["properties"]
    assert queryables["reach"]["enum"] == ["direct", "support"] and queryables["status"]["enum"]
    tiles = client.get("/collections/coverage/tiles/WebMercatorQuad").json()["layers"][0]["propertiesSchema"]
    types = {name: entry["type"] for name, entry in tiles["properties"].items()}
    assert types["population"] == "integer" and types["rural"] == "boolean" and types["distance_km"] == "number"
    assert tiles["properties"]["best_scope"]["enum"] == ["local", "departement", "region", "none"]


# --- HTTP: the layers' GeoJSON, Vary, gzip;q=0 ---------------------------------------------------------------------


def test_layer_geojson_is_kept_and_sliced(client: TestClient) -> None:
    path = "/api/v1/layers/epci.geojson"
    whole = client.get(path, headers={"Accept-Encoding": "identity"})
    assert whole.status_code == 200 and whole.headers["vary"] == "Accept-Encoding"
    etag = whole.headers["etag"]
    service = client.app.state.publisher.current.tiles  # the document is kept by the snapshot's tile service
    assert service.cached_geojson(service.geojson_key("epci", None, None, None, None)) is not None
    part = client.get(path, headers={"Accept-Encoding": "identity", "Range": "bytes=100-199", "If-Range": etag})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    again = client.get(path, headers={"Accept-Encoding": "identity"})
    assert again.headers["etag"] == etag and again.content == whole.content
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["etag"] != etag
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers and refused.content == whole.content
    assert json.loads(zipped.content) == json.loads(whole.content)  # the client decoded the gzip


def test_vary_and_gzip_q0(client: TestClient) -> None:
    tile = "/tiles/communes/8/130/86.mvt"
    identity = client.get(tile, headers={"Accept-Encoding": "identity"})
    assert identity.status_code == 200 and "content-encoding" not in identity.headers
    assert identity.headers["vary"] == "Accept-Encoding"
    for header in ("gzip;q=0", "gzip;q=0, deflate", "*;q=0", "br;q=1, gzip;q=0.0"):
        for path in (tile, "/collections/communes", "/api/v1/layers/departements.geojson"):
            response = client.get(path, headers={"Accept-Encoding": header})
            assert "content-encoding" not in response.headers, (path, header)
            assert "Accept-Encoding" in response.headers.get("vary", ""), (path, header)
    for header in ("gzip", "gzip;q=0.5", "*", "deflate, gzip;q=1.0"):
        assert client.get(tile, headers={"Accept-Encoding": header}).headers["content-encoding"] == "gzip", header


# --- GDAL and OWSLib against a live server -------------------------------------------------------------------------

READER = """
import json, sys
import pyogrio
pyogrio.set_gdal_config_options({"OGR_OAPIF_ALLOW_CQL_TEXT": "YES", "CPL_DEBUG": "ON", "CPL_LOG": sys.argv[2]})
read = {}
for where in json.loads(sys.argv[3]):
    frame = pyogrio.read_dataframe("OAPIF:" + sys.argv[1], layer="communes", where=where, read_geometry=False)
    read[where] = sorted(frame["id"])
print(json.dumps(read))
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("ogc-filters-live")
    port = free_port()
    server = serve(port, {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{folder / 'projects.sqlite3'}"}, log=folder / "log")
    yield f"http://127.0.0.1:{port}/"
    stop(server)


def test_gdal_where_like_in_between(live: str, frame: pd.DataFrame, tmp_path: Path) -> None:
    """GDAL translates these where clauses into a cql-text filter it sends (its debug log shows them): the
    server's selection equals pandas's over the committed layer."""
    names, population = frame["name"], frame["population"]
    expected = {
        "name LIKE 'Saint-%'": set(frame.index[names.str.startswith("Saint-")]),
        "departement IN ('80', '02')": set(frame.index[frame["departement"].isin(["80", "02"])]),
        "population BETWEEN 1000 AND 2000": set(frame.index[population.between(1000, 2000)]),
        "name LIKE 'A%' AND population > 500": set(frame.index[names.str.startswith("A") & (population > 500)]),
    }
    log = tmp_path / "gdal.log"
    done = subprocess.run(
        [sys.executable, "-c", READER, live, str(log), json.dumps(list(expected))],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    read = json.loads(done.stdout.strip().splitlines()[-1])
    for where, got in read.items():
        assert set(got) == expected[where], where
    fetched = [line for line in log.read_text().splitlines() if "HTTP: Fetch(" in line and "/items" in line]
    assert any("filter=" in line and "LIKE" in line.upper() for line in fetched), "GDAL did not send the LIKE"
    assert not any('" 400' in line for line in log.read_text().splitlines())


def test_owslib_collection_schema(live: str) -> None:
    from owslib.ogcapi.features import Features

    api = Features(live)
    schema = api.collection_schema("coverage")
    assert schema["properties"]["best_scope"]["enum"] == ["local", "departement", "region", "none"]
    assert schema["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"
    queryables = api.collection_queryables("projects")
    assert "reach" in queryables["properties"]
