"""The OGC API's routes as the factories register them (geo_service.api.ogc): the parameters the OpenAPI document
declares are the ones the routes read, the vector and map tile routes are one definition, and each document is
serialised once, the features a page carries written as the collection's table wrote them.

Expected values come from elsewhere than the code under test: the names ``geo_service.ogc.params`` reads, the
features ``Table.feature_json`` writes (through the items route), and JSON as ``json`` writes it.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from geo_service.api.ogc.parameters import ItemsParameters, openapi_parameters
from geo_service.ogc.documents import Encoded, EncodedArray, dumps
from geo_service.ogc.params import DEFAULT_LIMIT, ITEMS_PARAMETERS, MAX_LIMIT
from geo_service.parameters import CoverageParams

ITEMS = "/collections/{collectionId}/items"


def _query_names(operation: dict) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def test_the_items_declare_exactly_the_parameters_they_read(client: TestClient) -> None:
    declared = [p["name"] for p in openapi_parameters(ItemsParameters)]
    assert declared == [*ITEMS_PARAMETERS, "filters"]  # filters: the free-form field=value pairs
    document = client.app.openapi()
    items = document["paths"][ITEMS]["get"]
    assert _query_names(items) == [*ITEMS_PARAMETERS, "filters", *CoverageParams.model_fields]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
    assert limit["style"] == "form" and limit["explode"] is False  # bbox=1,2,3,4 style, as the standard asks
    bbox = next(p for p in items["parameters"] if p["name"] == "bbox")
    assert bbox["schema"]["minItems"] == 4 and bbox["schema"]["maxItems"] == 6 and bbox["explode"] is False
    one = document["paths"][f"{ITEMS}/{{featureId}}"]["get"]
    assert _query_names(one) == ["f", "crs", *CoverageParams.model_fields]
    # the API definition GDAL reads: the coverage parameters on the coverage collections' own paths alone
    api = client.get("/api").json()["paths"]
    assert set(CoverageParams.model_fields) <= set(_query_names(api["/collections/zones-blanches/items"]["get"]))
    assert not set(CoverageParams.model_fields) & set(_query_names(api["/collections/communes/items"]["get"]))


TILE_PATHS = [
    ("/collections/{collectionId}/tiles", "/collections/{collectionId}/map/tiles"),
    ("/collections/{collectionId}/tiles/{tileMatrixSetId}", "/collections/{collectionId}/map/tiles/{tileMatrixSetId}"),
    (
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    ),
]


@pytest.mark.parametrize(("vector", "raster"), TILE_PATHS)
def test_vector_and_map_tiles_are_the_same_routes(client: TestClient, vector: str, raster: str) -> None:
    paths = client.app.openapi()["paths"]
    mvt, png = paths[vector]["get"], paths[raster]["get"]
    assert mvt["parameters"] == png["parameters"]
    others = [{k: v for k, v in op["responses"].items() if k != "200"} for op in (mvt, png)]
    assert others[0] == others[1] and "404" in others[0]
    assert mvt["operationId"].startswith("vector_") and png["operationId"].startswith("map_")
    if "tileCol" in vector:
        assert list(mvt["responses"]["200"]["content"]) == ["application/vnd.mapbox-vector-tile"]
        assert list(png["responses"]["200"]["content"]) == ["image/png"]


def test_a_document_is_serialised_once_as_json_writes_it() -> None:
    document = {"title": "Hauts-de-France « Somme »", "bbox": [1.5, 49.0, 1e-7], "n": None, "ok": True}
    assert dumps(document) == json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    # text already encoded is placed as it is: GEOS's 17 digits stay, nothing is parsed again
    feature = '{"type":"Feature","geometry":{"type":"Point","coordinates":[3.9929229999999998,49.7]}}'
    page = {"type": "FeatureCollection", "numberReturned": 2, "features": EncodedArray([feature, "{}"])}
    assert dumps(page) == f'{{"type":"FeatureCollection","numberReturned":2,"features":[{feature},{{}}]}}'
    assert dumps({**page, "features": EncodedArray([])}).endswith('"features":[]}')
    # members keep their order around encoded ones
    one = {"type": "Feature", "id": "a", "geometry": Encoded("null"), "links": [{"rel": "self"}]}
    assert dumps(one) == '{"type":"Feature","id":"a","geometry":null,"links":[{"rel":"self"}]}'
    assert dumps({"geometry": Encoded("{}")}) == '{"geometry":{}}'
    with pytest.raises(TypeError):  # never written as a string by mistake
        json.dumps({"geometry": Encoded(feature)})


@pytest.mark.parametrize(
    ("collection", "query"),
    [
        ("communes", ""),
        ("communes", "?crs=EPSG:2154"),
        ("projects", ""),
        ("coverage", "?max_km=12"),
        ("zones-blanches", "?crs=EPSG:2154&max_km=12"),
    ],
)
def test_one_feature_is_the_feature_its_page_carries(client: TestClient, collection: str, query: str) -> None:
    sep = "&" if query else "?"
    page = client.get(f"/collections/{collection}/items{query}{sep}limit=1")
    assert page.status_code == 200, page.text[:300]
    feature_id = page.json()["features"][0]["id"]
    # the feature's text in the page, as the table wrote it (between "features":[ and the closing ]})
    text = page.content.split(b'"features":[', 1)[1][: -len(b"]}")]
    one = client.get(f"/collections/{collection}/items/{feature_id}{query}")
    assert one.status_code == 200 and one.headers["content-crs"] == page.headers["content-crs"]
    assert one.content.startswith(text[:-1] + b',"links":[')
    assert [link["rel"] for link in one.json()["links"]] == ["self", "alternate", "collection"]
