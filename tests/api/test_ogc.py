"""OGC API – Features and Tiles: a conformance self-check over every class /conformance declares, then real
clients (GDAL's OAPIF driver through pyogrio, OWSLib) against a live server on loopback.

Expectations come from outside the program: counts, ids and bbox selections are computed here from the committed
GeoJSON (read with plain ``json``, tested with shapely), the OpenAPI 3.0 document is checked against the
OpenAPI 3.0 meta-schema (bundled with schemathesis), the tile matrix set against the standard's published
numbers, and Lambert-93 coordinates against pyproj's own transformation.
"""

from __future__ import annotations

import json
import math
import re
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape

from geo_service.settings import REPO_DATA_DIR
from tests.servers import free_port, serve, stop

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
LAMBERT93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
BBOX = (2.25, 49.85, 2.35, 49.92)  # around Amiens
AMIENS = "80021"


def _committed(level: str) -> list[dict]:
    with (REPO_DATA_DIR / "boundaries" / f"{level}.geojson").open(encoding="utf-8") as file:
        return json.load(file)["features"]


@pytest.fixture(scope="module")
def communes() -> dict[str, dict]:
    """The committed communes, by INSEE code, as plain dicts (the reference the answers are checked against)."""
    return {feature["properties"]["code"]: feature for feature in _committed("commune")}


def in_bbox(features: dict[str, dict], bbox: tuple[float, float, float, float]) -> set[str]:
    box = shapely.box(*bbox)
    return {code for code, feature in features.items() if shape(feature["geometry"]).intersects(box)}


def relative(url: str) -> str:
    """An absolute link of the test app, as the test client asks for it."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "testserver", url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def links_by_rel(document: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for link in document["links"]:
        assert {"href", "rel", "type"} <= set(link), link
        found.setdefault(link["rel"], []).append(link)
    return found


def get_json(client: TestClient, path: str, media_type: str = "application/json", **params) -> dict:
    # params only when given: httpx would replace the path's own query with an empty one
    response = client.get(path, params=params or None, headers={"Accept": "application/json"})
    assert response.status_code == 200, (path, response.text[:300])
    assert response.headers["content-type"].split(";")[0] == media_type.split(";")[0], path
    return response.json()


def all_pages(client: TestClient, path: str) -> Iterator[dict]:
    """Every page of an items answer, following ``next`` links until there is none."""
    url: str | None = path
    while url is not None:
        page = get_json(client, url, GEOJSON)
        yield page
        following = links_by_rel(page).get("next", [])
        url = relative(following[0]["href"]) if following else None


# --- the requirements classes, each with its checks ---------------------------------------------------------------


def check_core(client: TestClient, communes: dict[str, dict]) -> None:
    # landing page (/req/core/root-success): links to the API definition, the conformance and the collections
    landing = get_json(client, "/")
    rels = links_by_rel(landing)
    for rel in ("self", "service-desc", "conformance", "data"):
        assert rel in rels, rel
    assert get_json(client, relative(rels["conformance"][0]["href"]))["conformsTo"]
    # collections (/req/core/fc-md-*): each with its id, links to its items and an extent that holds every geometry
    listed = get_json(client, relative(rels["data"][0]["href"]))
    assert {"self", "alternate"} <= set(links_by_rel(listed))
    ids = [c["id"] for c in listed["collections"]]
    assert ids == [
        "communes", "epci", "arrondissements", "departements", "region", "projects", "project-areas", "coverage",
        "zones-blanches",
    ]  # fmt: skip
    for entry in listed["collections"]:
        assert "items" in links_by_rel(entry)
        bbox = entry["extent"]["spatial"]["bbox"][0]
        assert len(bbox) == 4 and bbox[0] < bbox[2] and bbox[1] < bbox[3]
        assert entry["extent"]["spatial"]["crs"] == CRS84
        alone = get_json(client, f"/collections/{entry['id']}")
        assert alone["id"] == entry["id"] and alone["extent"] == entry["extent"]
        assert {"self", "alternate", "items"} <= set(links_by_rel(alone))
    bounds = shapely.bounds([shape(f["geometry"]) for f in communes.values()])
    west, south, east, north = get_json(client, "/collections/communes")["extent"]["spatial"]["bbox"][0]
    assert west <= bounds[:, 0].min() and south <= bounds[:, 1].min()
    assert east >= bounds[:, 2].max() and north >= bounds[:, 3].max()
    assert bounds[:, 0].min() - west < 1e-6 and east - bounds[:, 2].max() < 1e-6  # and not wider than the grid

    # items (/req/core/fc-*): counts, links, limit, default page size, time stamp
    first = get_json(client, "/collections/communes/items", GEOJSON)
    assert first["type"] == "FeatureCollection"
    assert first["numberMatched"] == len(communes) == 3782
    assert first["numberReturned"] == len(first["features"]) == 100
    assert {"self", "alternate", "next"} <= set(links_by_rel(first)) and "prev" not in links_by_rel(first)
    assert datetime.fromisoformat(first["timeStamp"].replace("Z", "+00:00")).tzinfo is not None
    assert len(get_json(client, "/collections/communes/items", GEOJSON, limit=1)["features"]) == 1
    capped = get_json(client, "/collections/communes/items", GEOJSON, limit=50_000)  # above the maximum: served
    assert capped["numberReturned"] == 3782 and "next" not in links_by_rel(capped)

    # paging: the next links walk every commune once, in a stable order; prev goes back
    pages = list(all_pages(client, "/collections/communes/items?limit=1000"))
    seen = [f["id"] for page in pages for f in page["features"]]
    assert len(pages) == 4 and len(seen) == len(set(seen)) == 3782 and set(seen) == set(communes)
    second = pages[1]
    previous = get_json(client, relative(links_by_rel(second)["prev"][0]["href"]), GEOJSON)
    assert [f["id"] for f in previous["features"]] == [f["id"] for f in pages[0]["features"]]

    # bbox (/req/core/fc-bbox-response): exactly the communes whose outline meets the box, against shapely here
    selected = get_json(client, "/collections/communes/items", GEOJSON, bbox=",".join(map(str, BBOX)), limit=10_000)
    expected = in_bbox(communes, BBOX)
    assert {f["id"] for f in selected["features"]} == expected and selected["numberMatched"] == len(expected)
    assert 5 < len(expected) < 40 and AMIENS in expected
    # six numbers (with heights) are accepted; the heights change nothing
    tall = get_json(client, "/collections/communes/items", GEOJSON, bbox="2.25,49.85,0,2.35,49.92,100", limit=100)
    assert {f["id"] for f in tall["features"]} == expected

    # a box across the antimeridian (west edge east of the east edge) is two boxes: none of these communes
    assert get_json(client, "/collections/communes/items", GEOJSON, bbox="170,-10,-170,10")["numberMatched"] == 0

    # datetime (/req/core/fc-time-response C): these features have no time, so every feature matches
    for when in ("2024-05-01T00:00:00Z", "2023-01-01T00:00:00Z/..", "../2025-12-31T23:59:59+01:00"):
        dated = get_json(client, "/collections/communes/items", GEOJSON, datetime=when, limit=1)
        assert dated["numberMatched"] == 3782

    # one feature (/req/core/f-*), by its INSEE code
    amiens = get_json(client, f"/collections/communes/items/{AMIENS}", GEOJSON)
    assert amiens["type"] == "Feature" and amiens["id"] == AMIENS and amiens["properties"]["name"] == "Amiens"
    assert {"self", "alternate", "collection"} <= set(links_by_rel(amiens))
    assert shape(amiens["geometry"]).equals(shape(communes[AMIENS]["geometry"]))

    # refusals: 400 for an unknown parameter or a value that cannot be read, 404 for what does not exist
    for query in (
        "limit=0", "limit=-5", "limit=ten", "offset=-1", "bbox=1,2,3", "bbox=2.35,49.85,2.25", "bbox=a,b,c,d",
        "bbox=2.2,49.9,2.4,49.8", "bbox=0,-91,1,0", "datetime=yesterday",
        "datetime=2024-05-01T00:00:00Z/2023-01-01T00:00:00Z",
        "crs=EPSG:9999", "f=xml", "departement=80&departement=60", "bbox-crs=EPSG:2154", "unknown=1", "offset=x",
        "population=many", "limit=1&limit=2",
    ):  # fmt: skip
        response = client.get(f"/collections/communes/items?{query}")
        assert response.status_code == 400, query
        assert response.json()["detail"], query
    # the documents that select nothing ignore parameters they do not define (GDAL sends its connection string's
    # query to every request: geo_service.ogc.params), but still read f strictly
    assert client.get("/collections/communes?limit=1").status_code == 200
    assert client.get("/conformance?bbox=1,2,3,4").status_code == 200
    assert client.get("/conformance?f=xml").status_code == 400
    for path in (
        "/collections/lieux",
        "/collections/lieux/items",
        "/collections/communes/items/99999",
        "/collections/projects/items/nutri-cheques",
    ):  # fmt: skip  (a département-wide project: no point)
        assert client.get(path).status_code == 404, path


def check_geojson(client: TestClient, communes: dict[str, dict]) -> None:
    for path in ("/collections/communes/items?limit=5", f"/collections/communes/items/{AMIENS}"):
        response = client.get(path)
        assert response.headers["content-type"] == GEOJSON
    # ids are the INSEE and SIREN codes (strings: Aisne's communes keep their leading zero), project ids for projects
    page = get_json(client, "/collections/communes/items", GEOJSON, limit=3)
    assert [f["id"] for f in page["features"]] == sorted(communes)[:3] and page["features"][0]["id"].startswith("0")
    epci = get_json(client, "/collections/epci/items", GEOJSON, limit=2)
    assert all(re.fullmatch(r"\d{9}", f["id"]) for f in epci["features"])
    served = client.get("/api/v1/projects").json()["features"]  # the catalogue, by the API's other route
    projects = get_json(client, "/collections/projects/items", GEOJSON, limit=1000)
    assert all(f["geometry"]["type"] == "Point" for f in projects["features"])
    local = {f["id"] for f in served if f["properties"]["scope"] == "local"}
    assert {f["id"] for f in projects["features"]} == local and 0 < len(local) < len(served)
    areas = get_json(client, "/collections/project-areas/items", GEOJSON, limit=1000)
    assert {f["id"] for f in areas["features"]} == {f["id"] for f in served}
    # RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise, in every polygon collection
    for name in ("communes", "epci", "departements", "region", "project-areas", "zones-blanches"):
        for feature in get_json(client, f"/collections/{name}/items", GEOJSON, limit=10_000)["features"]:
            assert feature["geometry"]["type"] == "MultiPolygon", (name, feature["id"])
            for polygon in feature["geometry"]["coordinates"]:
                assert shapely.LinearRing(polygon[0]).is_ccw, (name, feature["id"])
                assert not any(shapely.LinearRing(hole).is_ccw for hole in polygon[1:]), (name, feature["id"])
    # full detail: the committed geometry itself, every vertex
    amiens = get_json(client, f"/collections/communes/items/{AMIENS}", GEOJSON)
    assert shapely.get_num_coordinates(shape(amiens["geometry"])) == shapely.get_num_coordinates(
        shape(communes[AMIENS]["geometry"])
    )


def check_html(client: TestClient, communes: dict[str, dict]) -> None:
    del communes
    for path in (
        "/", "/conformance", "/collections", "/collections/communes", "/collections/communes/items",
        f"/collections/communes/items/{AMIENS}", "/collections/coverage/queryables", "/collections/projects/items",
    ):  # fmt: skip
        by_accept = client.get(path, headers={"Accept": BROWSER})
        by_f = client.get(path, params={"f": "html"})
        for response in (by_accept, by_f):
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
            text = response.text
            assert '<html lang="fr">' in text and "<script" not in text.lower(), path
            assert "default-src 'self'" in response.headers["content-security-policy"]
            # nothing loaded from another host: stylesheets, icons and images come from this server
            loaded = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', text) + re.findall(
                r'<img[^>]* src="([^"]+)"', text
            )
            assert loaded and all(url.startswith("http://testserver/static/") for url in loaded), loaded
        assert "Accept" in [v.strip() for v in by_accept.headers["vary"].split(",")]
        # /req/html/content: every link of the JSON answer is an <a> of the page
        document = client.get(path, params={"f": "json"}).json()
        html = by_f.text
        for link in document.get("links", []):
            if link["rel"] not in ("self", "alternate"):
                href = link["href"].replace("f=json", "f=html") if link["rel"] in ("next", "prev") else link["href"]
                assert f'href="{href.replace("&", "&amp;")}"' in html, (path, link)
    page = client.get("/collections/communes/items?f=html&limit=10&departement=80").text
    assert "771 objets correspondent" in page and "Page suivante" in page
    assert client.get("/collections/lieux", headers={"Accept": BROWSER}).status_code == 404
    refused = client.get("/collections/communes/items?limit=0", headers={"Accept": BROWSER})
    assert refused.status_code == 400 and '<html lang="fr">' in refused.text


def check_oas30(client: TestClient, communes: dict[str, dict]) -> None:
    del communes
    from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

    landing = get_json(client, "/")
    described = links_by_rel(landing)["service-desc"][0]
    assert described["type"] == OPENAPI
    response = client.get(relative(described["href"]))
    assert response.headers["content-type"] == OPENAPI
    document = response.json()
    assert document["openapi"].startswith("3.0.")
    errors = [f"{e.instance_path}: {str(e)[:200]}" for e in OPENAPI_30_VALIDATOR.iter_errors(document)]
    assert errors == []
    items = document["paths"]["/collections/{collectionId}/items"]["get"]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10_000 and limit["schema"]["default"] == 100
    # each collection's own path lists its filters (what GDAL forwards to the server)
    own = document["paths"]["/collections/communes/items"]["get"]["parameters"]
    assert {"bbox", "limit", "departement", "epci", "code"} <= {p["name"] for p in own}
    assert len({op["get"].get("operationId") for op in document["paths"].values() if "get" in op}) == sum(
        1 for op in document["paths"].values() if "get" in op
    )
    assert client.get("/api?f=html", follow_redirects=False).headers["location"].endswith("/docs")


def check_crs(client: TestClient, communes: dict[str, dict]) -> None:
    assert set(get_json(client, "/collections/communes")["crs"]) >= {CRS84, LAMBERT93}
    plain = client.get(f"/collections/communes/items/{AMIENS}")
    assert plain.headers["content-crs"] == f"<{CRS84}>"
    projected = client.get(f"/collections/communes/items/{AMIENS}", params={"crs": LAMBERT93})
    assert projected.headers["content-crs"] == f"<{LAMBERT93}>"
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    lon, lat = communes[AMIENS]["geometry"]["coordinates"][0][0][0]
    expected = to_l93.transform(lon, lat)
    got = shapely.get_coordinates(shape(projected.json()["geometry"]))
    nearest = min(math.dist(expected, point) for point in got.tolist())
    assert nearest < 0.01  # same vertex, to the centimetre
    assert got[:, 0].min() > 600_000 and got[:, 1].max() < 7_000_000
    # EPSG:4326 is written latitude first, as the EPSG defines it
    swapped = client.get(f"/collections/communes/items/{AMIENS}?crs=EPSG:4326").json()
    y, x = shapely.get_coordinates(shape(swapped["geometry"]))[0]
    assert 49 < y < 50 and 2 < x < 3
    # bbox-crs: the same box in Lambert-93 selects the communes meeting it, by the same independent test
    west, south = to_l93.transform(BBOX[0], BBOX[1])
    east, north = to_l93.transform(BBOX[2], BBOX[3])
    in_l93 = get_json(
        client, "/collections/communes/items", GEOJSON, bbox=f"{west},{south},{east},{north}", limit=1000,
        **{"bbox-crs": LAMBERT93},
    )  # fmt: skip
    to_lonlat = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    area = shapely.segmentize(shapely.box(west, south, east, north), 100)
    ring = [to_lonlat.transform(x, y) for x, y in area.exterior.coords]
    reference = shapely.Polygon(ring)
    expected = {c for c, f in communes.items() if shape(f["geometry"]).intersects(reference)}
    assert {f["id"] for f in in_l93["features"]} == expected
    # a box reduced to a point (found by the schema fuzzing as a 500): the commune holding it
    x, y = to_l93.transform(2.2957, 49.8941)  # Amiens's town hall
    at_point = get_json(
        client, "/collections/communes/items", GEOJSON, bbox=f"{x},{y},{x},{y}", **{"bbox-crs": LAMBERT93}
    )
    point = shapely.Point(to_lonlat.transform(x, y))
    assert {f["id"] for f in at_point["features"]} == {
        c for c, f in communes.items() if shape(f["geometry"]).intersects(point)
    }


def check_queryables(client: TestClient, communes: dict[str, dict]) -> None:
    schema = get_json(client, "/collections/communes/queryables", "application/schema+json")
    assert schema["type"] == "object" and schema["$id"].endswith("/collections/communes/queryables")
    assert {"departement", "epci", "population", "postal_codes"} <= set(schema["properties"])
    by_department = get_json(client, "/collections/communes/items", GEOJSON, departement="80", limit=1)
    assert by_department["numberMatched"] == sum(f["properties"]["departement"] == "80" for f in communes.values())
    both = get_json(client, "/collections/communes/items", GEOJSON, departement="80", epci="248000531", limit=100)
    assert {f["id"] for f in both["features"]} == {
        c
        for c, f in communes.items()
        if f["properties"]["departement"] == "80" and f["properties"]["epci"] == "248000531"
    }
    postal = get_json(client, "/collections/communes/items", GEOJSON, postal_codes="80090")
    assert AMIENS in {f["id"] for f in postal["features"]}
    population = communes[AMIENS]["properties"]["population"]
    same = sum(f["properties"]["population"] == population for f in communes.values())
    assert get_json(client, "/collections/communes/items", GEOJSON, population=str(population))["numberMatched"] == same
    blanches = get_json(client, "/collections/zones-blanches/items", GEOJSON, limit=1)["numberMatched"]
    assert (
        get_json(client, "/collections/coverage/items", GEOJSON, zone_blanche="true", limit=1)["numberMatched"]
        == blanches
    )
    assert blanches > 0


def check_filter(client: TestClient, communes: dict[str, dict]) -> None:
    """Part 3 filter and features-filter, CQL2 basic-cql2 and cql2-text (the thorough checks, and GDAL, are in
    test_ogc_cql2.py): filter on items, cql2-text by default, the queryables' names and nothing else, combined
    with the other parameters by AND, 400 for what cannot be read."""
    expected = {c for c, f in communes.items() if f["properties"]["population"] > 5000}
    for lang in ({}, {"filter-lang": "cql2-text"}):
        page = get_json(client, "/collections/communes/items", GEOJSON, filter="population > 5000", limit=9999, **lang)
        assert {f["id"] for f in page["features"]} == expected
    boxed = get_json(
        client, "/collections/communes/items", GEOJSON, filter="population > 5000 OR name IS NULL",
        bbox=",".join(map(str, BBOX)), limit=1000,
    )  # fmt: skip
    assert {f["id"] for f in boxed["features"]} == expected & in_bbox(communes, BBOX)
    schema = get_json(client, "/collections/communes/queryables", "application/schema+json")
    for name, entry in schema["properties"].items():
        if entry.get("x-ogc-role") == "primary-geometry":  # named by the spatial predicates (check_spatial)
            continue
        assert client.get("/collections/communes/items", params={"filter": f"{name} IS NULL"}).status_code == 200
    for query in ({"filter": "unknown = 1"}, {"filter": "population >"}, {"filter": "x", "filter-lang": "cql2-json"}):
        response = client.get("/collections/communes/items", params=query)
        assert response.status_code == 400 and "filter" in response.json()["detail"], query


def check_tiles(client: TestClient, communes: dict[str, dict]) -> None:
    del communes
    matrix_sets = get_json(client, "/tileMatrixSets")
    assert [s["id"] for s in matrix_sets["tileMatrixSets"]] == ["WebMercatorQuad"]
    tms = get_json(client, "/tileMatrixSets/WebMercatorQuad")
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857" and len(tms["tileMatrices"]) == 25
    zero, ten = tms["tileMatrices"][0], tms["tileMatrices"][10]
    # the values of the standard's table (OGC 17-083r4, WebMercatorQuad)
    assert math.isclose(zero["scaleDenominator"], 559082264.028717, rel_tol=1e-9)
    assert math.isclose(zero["cellSize"], 156543.033928041, rel_tol=1e-9)
    assert zero["pointOfOrigin"] == pytest.approx([-20037508.3427892, 20037508.3427892])
    assert ten["matrixWidth"] == ten["matrixHeight"] == 1024
    for kind, path, media in (
        ("vector", "tiles", "application/vnd.mapbox-vector-tile"),
        ("map", "map/tiles", "image/png"),
    ):
        collection = get_json(client, "/collections/coverage")
        rel = f"http://www.opengis.net/def/rel/ogc/1.0/tilesets-{kind}"
        listed = get_json(client, relative(links_by_rel(collection)[rel][0]["href"]))
        tileset_link = links_by_rel(listed["tilesets"][0])["self"][0]
        tileset = get_json(client, relative(tileset_link["href"]))
        assert tileset["dataType"] == kind and tileset["tileMatrixSetURI"].endswith("/WebMercatorQuad")
        item = links_by_rel(tileset)["item"][0]
        assert item["type"] == media and item["templated"] is True
        limits = {entry["tileMatrix"]: entry for entry in tileset["tileMatrixSetLimits"]}
        ten = limits["10"]
        row, col = (ten["minTileRow"] + ten["maxTileRow"]) // 2, (ten["minTileCol"] + ten["maxTileCol"]) // 2
        href = item["href"].replace("{tileMatrix}", "10").replace("{tileRow}", str(row)).replace("{tileCol}", str(col))
        assert urlsplit(href).path == f"/tiles/coverage/10/{col}/{row}.{'mvt' if kind == 'vector' else 'png'}"
        from_template = client.get(relative(href))
        at_standard_path = client.get(f"/collections/coverage/{path}/WebMercatorQuad/10/{row}/{col}")
        assert from_template.status_code == at_standard_path.status_code == 200
        assert from_template.headers["content-type"] == at_standard_path.headers["content-type"] == media
        assert from_template.content == at_standard_path.content
        outside = client.get(f"/collections/coverage/{path}/WebMercatorQuad/10/{ten['minTileRow'] - 1}/{col}")
        assert outside.status_code == 404
        assert client.get(f"/collections/coverage/{path}/WebMercatorQuad/15/0/0").status_code == 404
        assert client.get(f"/collections/coverage/{path}/OtherQuad").status_code == 404
    vector = get_json(client, "/collections/communes/tiles/WebMercatorQuad")
    assert vector["layers"][0]["id"] == "communes" and "code" in vector["layers"][0]["propertiesSchema"]["properties"]


def _matched(client: TestClient, **params: str) -> set[str]:
    page = get_json(client, "/collections/communes/items", GEOJSON, limit=10000, skipGeometry="true", **params)
    return {f["id"] for f in page["features"]}


def check_cql2_json(client: TestClient, communes: dict[str, dict]) -> None:
    expected = {c for c, f in communes.items() if f["properties"]["population"] > 5000}
    as_json = json.dumps({"op": ">", "args": [{"property": "population"}, 5000]})
    assert _matched(client, filter=as_json, **{"filter-lang": "cql2-json"}) == expected


def check_advanced_comparison(client: TestClient, communes: dict[str, dict]) -> None:
    props = {c: f["properties"] for c, f in communes.items()}
    assert _matched(client, filter="name LIKE 'Saint-%'") == {
        c for c, p in props.items() if p["name"].startswith("Saint-")
    }
    assert _matched(client, filter="departement IN ('80')") == {c for c, p in props.items() if p["departement"] == "80"}
    assert _matched(client, filter="population BETWEEN 10 AND 20") == {
        c for c, p in props.items() if 10 <= p["population"] <= 20
    }


def check_case_and_accents(client: TestClient, communes: dict[str, dict]) -> None:
    del communes
    assert _matched(client, filter="CASEI(name) = casei('AMIENS')") == {AMIENS}
    assert _matched(client, filter="ACCENTI(CASEI(name)) = accenti(casei('AMIÉNS'))") == {AMIENS}


def check_spatial(client: TestClient, communes: dict[str, dict]) -> None:
    expected = in_bbox(communes, BBOX)
    west, south, east, north = BBOX
    assert _matched(client, filter=f"S_INTERSECTS(geometry, BBOX({west}, {south}, {east}, {north}))") == expected
    ring = f"{west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}"
    assert _matched(client, filter=f"S_INTERSECTS(geometry, POLYGON(({ring})))") == expected
    assert _matched(client, filter="S_CONTAINS(geometry, POINT(2.2957 49.8941))") == {AMIENS}
    assert (
        _matched(client, filter=f"S_DISJOINT(geometry, BBOX({west}, {south}, {east}, {north}))")
        == set(communes) - expected
    )


def check_schemas(client: TestClient, communes: dict[str, dict]) -> None:
    del communes
    document = get_json(client, "/collections/communes/schema", "application/schema+json")
    assert document["$id"].endswith("/collections/communes/schema")
    assert document["properties"]["id"]["x-ogc-role"] == "id"
    assert document["properties"]["population"]["type"] == "integer"
    rels = links_by_rel(get_json(client, "/collections/communes"))
    assert any(link["href"].endswith("/collections/communes/schema") for link in rels[REL_SCHEMA])


REL_SCHEMA = "http://www.opengis.net/def/rel/ogc/1.0/schema"
CQL = "http://www.opengis.net/spec/cql2/1.0/conf/"
CHECKS: dict[str, Callable[[TestClient, dict[str, dict]], None]] = {
    CQL + "cql2-json": check_cql2_json,
    CQL + "advanced-comparison-operators": check_advanced_comparison,
    CQL + "case-insensitive-comparison": check_case_and_accents,
    CQL + "accent-insensitive-comparison": check_case_and_accents,
    CQL + "basic-spatial-functions": check_spatial,
    CQL + "basic-spatial-functions-plus": check_spatial,
    CQL + "spatial-functions": check_spatial,
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas": check_schemas,
    FEATURES + "core": check_core,
    FEATURES + "geojson": check_geojson,
    FEATURES + "html": check_html,
    FEATURES + "oas30": check_oas30,
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs": check_crs,
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables": check_queryables,
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters": check_queryables,
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter": check_filter,
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter": check_filter,
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2": check_filter,
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text": check_filter,
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core": check_core,
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page": check_core,
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json": check_core,
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html": check_html,
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30": check_oas30,
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections": check_core,
    **{
        f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}": check_tiles
        for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "png")
    },
}


def test_declared_conformance_classes_are_the_ones_checked(client: TestClient) -> None:
    declared = get_json(client, "/conformance")["conformsTo"]
    assert {FEATURES + name for name in ("core", "geojson", "html", "oas30")} <= set(declared)
    assert set(declared) == set(CHECKS), "a class is declared without a check here, or checked without being declared"


@pytest.mark.parametrize("check", sorted(set(CHECKS.values()), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_conformance_class(client: TestClient, communes: dict[str, dict], check) -> None:
    check(client, communes)


def test_landing_page_negotiates(client: TestClient) -> None:
    """``/`` is the landing page: HTML for a browser, JSON for clients (and for curl's */*)."""
    assert client.get("/", headers={"Accept": BROWSER}).headers["content-type"].startswith("text/html")
    for accept in ("application/json", "*/*", "application/geo+json, application/json", ""):
        response = client.get("/", headers={"Accept": accept} if accept else {})
        assert response.headers["content-type"] == "application/json", accept
    assert client.get("/?f=json", headers={"Accept": BROWSER}).headers["content-type"] == "application/json"
    assert client.head("/").status_code == 200
    etag = client.get("/collections").headers["etag"]
    assert client.get("/collections", headers={"If-None-Match": etag}).status_code == 304


def test_links_start_from_the_public_url(new_store: Callable[[], str]) -> None:
    """Links never come from the Host header once a public URL is configured."""
    from geo_service.main import create_app
    from tests.conftest import settings_for

    app = create_app(settings_for(REPO_DATA_DIR, new_store(), public_url="https://carte.example.org/"))
    with TestClient(app) as public:
        page = public.get("/collections/communes/items?limit=1", headers={"Host": "127.0.0.1"}).json()
    hrefs = [link["href"] for link in page["links"]]
    assert hrefs and all(href.startswith("https://carte.example.org/") for href in hrefs)


# --- real clients against a live server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``geo-service serve`` in its own process: GDAL holds the interpreter while it reads, so an in-process
    server could not answer it."""
    folder = tmp_path_factory.mktemp("ogc-live")
    port = free_port()
    server = serve(port, {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{folder / 'projects.sqlite3'}"}, log=folder / "log")
    yield f"http://127.0.0.1:{port}/"
    stop(server)


def test_gdal_oapif_lists_filters_and_pages(live: str, communes: dict[str, dict]) -> None:
    assert "OAPIF" in pyogrio.list_drivers(), "pyogrio's GDAL has no OAPIF driver"
    source = f"OAPIF:{live}"
    layers = dict(pyogrio.list_layers(source).tolist())
    assert list(layers) == [
        "communes", "epci", "arrondissements", "departements", "region", "projects", "project-areas", "coverage",
        "zones-blanches",
    ]  # fmt: skip
    assert layers["communes"] == "MultiPolygon" and layers["projects"] == "Point"
    info = pyogrio.read_info(source, layer="communes")
    assert info["features"] == 3782 and "departement" in info["fields"].tolist()
    # a spatial filter is sent as bbox: the communes meeting the box, computed independently
    near = pyogrio.read_dataframe(source, layer="communes", bbox=BBOX)
    assert set(near["id"]) == in_bbox(communes, BBOX)
    # every commune, 500 a page through the next links
    everything = pyogrio.read_dataframe(source, layer="communes", PAGE_SIZE=500)
    assert len(everything) == everything["id"].nunique() == 3782 and set(everything["id"]) == set(communes)
    amiens = everything.set_index("id").loc[AMIENS]
    assert amiens["name"] == "Amiens" and amiens.geometry.equals(shape(communes[AMIENS]["geometry"]))
    # an attribute filter on a queryable, which GDAL sends to the server (?departement=80)
    somme = pyogrio.read_dataframe(source, layer="communes", where="departement = '80'")
    assert set(somme["id"]) == {c for c, f in communes.items() if f["properties"]["departement"] == "80"}
    blanches = pyogrio.read_dataframe(source, layer="coverage", where="zone_blanche = 1", read_geometry=False)
    assert len(blanches) == pyogrio.read_info(source, layer="zones-blanches")["features"] > 0


def test_gdal_reads_the_zones_blanches_under_coverage_parameters(live: str) -> None:
    """GDAL's OAPIF driver keeps the query of its connection string and adds it to every request it makes (the
    collection, the API definition, each page): the zones blanches at 20 km, as the coverage route (another code
    path) counts them. The query goes on the collection's URL: GDAL 3.12 does not open an ``.../items`` URL.
    Spelled otherwise than our links spell it (20.0, a default named), it is added to them a second time, which
    the server accepts since both say the same."""
    with urllib.request.urlopen(f"{live}api/v1/coverage/communes?max_km=20", timeout=60) as response:
        route = json.load(response)["features"]
    expected = {f["properties"]["code"] for f in route if f["properties"]["zone_blanche"]}
    default = pyogrio.read_info(f"OAPIF:{live}collections/zones-blanches", layer=0)["features"]
    assert 0 < len(expected) != default
    for query in ("max_km=20", "max_km=20.0&reach=direct"):
        source = f"OAPIF:{live}collections/zones-blanches?{query}"
        assert pyogrio.list_layers(source).tolist() == [["zones-blanches", "MultiPolygon"]]
        assert pyogrio.read_info(source, layer=0)["features"] == len(expected), query
        read = pyogrio.read_dataframe(source, layer=0, read_geometry=False, PAGE_SIZE=300)  # four pages
        assert len(read) == len(expected) and set(read["id"]) == expected, query


def test_gdal_finds_the_vector_tiles_through_the_tiles_metadata(live: str) -> None:
    """GDAL's OGC API driver follows collection → tilesets → tileset → tile matrix set to the MVT template, with
    no template typed by hand. (This GDAL lists only the lowest zooms as layers: it compares the collection's
    CRS84 extent with the tile matrix set's metres without reprojecting it; reading one proves the path.)"""
    source = f"OGCAPI:{live}collections/communes"
    layers = pyogrio.list_layers(source)
    assert len(layers) and layers[0][0] == "Zoom level 0"
    tile = pyogrio.read_dataframe(source, layer=layers[0][0])
    assert len(tile) > 1000 and tile.crs.to_epsg() == 3857


def test_owslib_reads_the_api(live: str, communes: dict[str, dict]) -> None:
    from owslib.ogcapi.features import Features

    api = Features(live)
    assert FEATURES + "core" in api.conformance()["conformsTo"]
    assert api.api()["openapi"].startswith("3.0")
    assert "communes" in api.feature_collections() and len(api.feature_collections()) == 9
    assert api.collection("communes")["extent"]["spatial"]["crs"] == CRS84
    assert "departement" in api.collection_queryables("communes")["properties"]
    near = api.collection_items("communes", bbox=list(BBOX), limit=1000)
    assert {f["id"] for f in near["features"]} == in_bbox(communes, BBOX)
    seen: list[str] = []
    offset = 0
    while True:  # OWSLib asks by offset; the offsets come from the server's next links
        page = api.collection_items("communes", limit=1000, offset=offset)
        seen += [f["id"] for f in page["features"]]
        following = [link for link in page["links"] if link["rel"] == "next"]
        if not following:
            break
        offset = int(parse_qs(urlsplit(following[0]["href"]).query)["offset"][0])
    assert len(seen) == len(set(seen)) == page["numberMatched"] == 3782
    assert api.collection_item("communes", AMIENS)["properties"]["name"] == "Amiens"
    areas = api.collection_items("project-areas", limit=100)
    assert (
        areas["numberReturned"]
        == areas["numberMatched"]
        == len(api.collection_items("projects")["features"])
        + sum(f["properties"]["scope"] != "local" for f in areas["features"])
    )
