"""Tiles, TileJSON and layer GeoJSON through the API: what a web map would fetch."""

from __future__ import annotations

import io
import re

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from PIL import Image

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for

Z6_REGION = "/tiles/{layer}/6/32/21.{ext}"  # the z6 tile holding nearly all the région
Z10_CAMBRAI = "/tiles/{layer}/10/521/346.{ext}"
# INSEE's population municipale of Cambrai (59122), populations légales millésime 2023, in force on 1 January 2026:
# the vintage of the COG 2026 the boundaries are built from (data/boundaries/manifest.json, boundaries/reconcile.py).
# Read from INSEE's figure as shipped in the pinned @etalab/decoupage-administratif 6.0.0 (data/communes.json, row
# 59122) with plain tarfile/json, not the build; tests/boundaries/test_committed_data.py re-reads it the same way.
# In line with INSEE's earlier published figures for Cambrai: 32 501 (2018), 31 425 (2021).
CAMBRAI_POPULATION = 31_134


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body)


def test_mvt_decodes_with_the_right_features_and_properties(client: TestClient) -> None:
    response = client.get(Z10_CAMBRAI.format(layer="communes", ext="mvt"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = decode(response.content)["communes"]
    assert layer["extent"] == 4096
    features = {f["properties"]["code"]: f for f in layer["features"]}
    assert "59122" in features  # Cambrai
    cambrai = features["59122"]
    assert cambrai["properties"] == {
        "code": "59122",
        "name": "Cambrai",
        "population": CAMBRAI_POPULATION,
        "epci": "200068500",
    }
    assert cambrai["id"] == 59122 and cambrai["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert all(f["properties"]["code"].startswith(("59", "62", "02")) for f in layer["features"])


def test_low_zoom_tiles_carry_only_what_styling_needs(client: TestClient) -> None:
    communes = decode(client.get(Z6_REGION.format(layer="communes", ext="mvt")).content)["communes"]
    assert len(communes["features"]) > 3700 and all(f["properties"] == {} for f in communes["features"])
    coverage = decode(client.get(Z6_REGION.format(layer="coverage", ext="mvt")).content)["coverage"]
    assert set(coverage["features"][0]["properties"]) == {"best_scope", "local_projects", "zone_blanche"}
    assert {f["properties"]["best_scope"] for f in coverage["features"]} == {"local", "departement", "region"}


def test_projects_and_zones_blanches_layers(client: TestClient) -> None:
    projects = decode(client.get(Z6_REGION.format(layer="projects", ext="mvt")).content)["projects"]
    ids = {f["properties"]["id"] for f in projects["features"]}
    # département- or région-wide projects have no point: Nutri-chèques and the Croix-Rouge sur roues cover the
    # whole Aisne (brochure), the VRAC groupements the Nord and the Pas-de-Calais
    assert 15 < len(ids) < 28 and not ids & {
        "nutri-cheques",
        "croix-rouge-sur-roues-aisne",
        "groupements-achats-participatifs",
    }
    areas = client.get("/api/v1/layers/project-areas.geojson", params={"zoom": 8, "properties": "id,scope"}).json()
    assert len(areas["features"]) == 28  # one per project of the brochure
    assert {"id", "name", "organisation", "axes", "action_types", "mobile"} <= set(
        projects["features"][0]["properties"]
    )
    zones = decode(client.get("/tiles/zones-blanches/9/260/175.mvt").content)["zones-blanches"]  # Château-Thierry
    assert zones["features"] and all(f["properties"]["zone_blanche"] for f in zones["features"])


def _image(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))


def test_png_tiles_are_coloured_where_there_is_data_and_transparent_elsewhere(client: TestClient) -> None:
    pixels = _image(client.get(Z6_REGION.format(layer="coverage", ext="png")).content)
    assert pixels.shape == (256, 256, 4)
    alpha = pixels[:, :, 3]
    assert (alpha > 0).mean() > 0.1  # the région
    assert alpha[0, 0] == 0 and alpha[-1, 0] == 0  # the sea and Normandy stay transparent
    red = (pixels[:, :, 0] > 150) & (pixels[:, :, 1] < 90) & (alpha > 0)
    assert red.sum() > 100  # zones blanches are drawn


def test_retina_png_is_512(client: TestClient) -> None:
    response = client.get("/tiles/departements/8/130/86@2x.png")
    assert response.headers["content-type"] == "image/png"
    pixels = _image(response.content)
    assert pixels.shape == (512, 512, 4) and (pixels[:, :, 3] > 0).any()


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/communes/15/16000/11000.mvt",  # beyond maxzoom
        "/tiles/communes/6/64/0.mvt",  # x outside 0..63
        "/tiles/communes/6/0/64.png",
        "/tiles/parcelles/6/32/21.mvt",  # unknown layer
        "/tiles/communes/6/32/21.jpg",
        "/tiles/communes/6/32/21@2x.mvt",
    ],
)
def test_outside_the_grid_or_unknown_is_404_with_a_message(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and response.json()["detail"]


def test_empty_tile_is_204(client: TestClient) -> None:
    response = client.get("/tiles/communes/6/0/0.mvt")
    assert response.status_code == 204 and response.content == b"" and response.headers["etag"]


@pytest.mark.parametrize(("name", "size"), [("0.png", 256), ("0@2x.png", 512)])
def test_an_empty_raster_tile_is_a_transparent_png(client: TestClient, name: str, size: int) -> None:
    """An <img> cannot show a 204: Leaflet reported a tile error for every empty raster tile."""
    response = client.get(f"/tiles/communes/6/0/{name}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (size, size) and image.mode == "RGBA" and image.getchannel("A").getextrema() == (0, 0)


def test_tilejson_as_its_specification_and_maplibre_read_it(client: TestClient) -> None:
    vector = client.get("/tiles/coverage.json").json()
    # TileJSON 3.0.0: "version" is a semver string (build metadata after '+' allowed, semver.org item 10)
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9A-Za-z.-]+", vector["version"])
    fields = vector["vector_layers"][0]["fields"]
    assert set(fields.values()) <= {"String", "Number", "Boolean"} and fields["population"] == "Number"
    assert fields["name"] == "String" and fields["zone_blanche"] == "Boolean"
    raster = client.get("/tiles/coverage.json", params={"format": "png"}).json()
    assert raster["tileSize"] == 256  # MapLibre assumes 512 without it
    retina = client.get("/tiles/coverage.json", params={"format": "png", "scale": 2}).json()
    assert retina["tileSize"] == 256 and "{y}@2x.png?" in retina["tiles"][0]
    assert client.get("/tiles/coverage.json", params={"format": "png", "scale": 3}).status_code == 422


def test_etag_and_304(client: TestClient) -> None:
    first = client.get(Z10_CAMBRAI.format(layer="communes", ext="mvt"))
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get(Z10_CAMBRAI.format(layer="communes", ext="mvt"), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get(Z10_CAMBRAI.format(layer="communes", ext="png"))
    assert other.headers["etag"] != etag


def test_gzip_when_accepted(client: TestClient) -> None:
    raw = client.get(Z10_CAMBRAI.format(layer="communes", ext="mvt"), headers={"Accept-Encoding": "identity"})
    zipped = client.get(Z10_CAMBRAI.format(layer="communes", ext="mvt"), headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == raw.content  # the client unzipped it: same tile
    assert int(zipped.headers["content-length"]) < len(raw.content)
    geojson = client.get("/api/v1/layers/departements.geojson", params={"zoom": 8}, headers={"Accept-Encoding": "gzip"})
    assert geojson.headers["content-encoding"] == "gzip"


def test_cors_for_partner_sites(client: TestClient) -> None:
    response = client.get(Z10_CAMBRAI.format(layer="communes", ext="mvt"), headers={"Origin": "https://pat.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_cors_origins_are_configurable(new_store) -> None:
    settings = settings_for(REPO_DATA_DIR, new_store(), cors_origins=["https://carte.example"])
    with TestClient(create_app(settings)) as restricted:
        allowed = restricted.get("/healthz", headers={"Origin": "https://carte.example"})
        other = restricted.get("/healthz", headers={"Origin": "https://ailleurs.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://carte.example"
    assert "access-control-allow-origin" not in other.headers


def test_tilejson(client: TestClient) -> None:
    document = client.get("/tiles/coverage.json").json()
    assert document["tilejson"] == "3.0.0" and document["maxzoom"] == 14 and document["minzoom"] == 0
    west, south, east, north = document["bounds"]
    assert 1.3 < west < east < 4.3 and 48.8 < south < north < 51.1
    # the layer's version in the URL: such tiles never change, caches may keep them for good
    assert re.fullmatch(
        r"http://testserver/tiles/coverage/\{z\}/\{x\}/\{y\}\.mvt\?v=[0-9a-f]{12}", document["tiles"][0]
    )
    assert document["vector_layers"][0]["id"] == "coverage"
    png = client.get("/tiles/coverage.json", params={"format": "png", "max_km": 15}).json()
    assert re.search(r"/tiles/coverage/\{z\}/\{x\}/\{y\}\.png\?max_km=15&v=[0-9a-f]{12}$", png["tiles"][0])
    assert client.get("/tiles/nowhere.json").status_code == 404


def test_coverage_parameters_change_the_tiles(client: TestClient) -> None:
    default = client.get("/tiles/zones-blanches/6/32/21.mvt")
    wider = client.get("/tiles/zones-blanches/6/32/21.mvt", params={"max_km": 25})
    assert len(decode(wider.content)["zones-blanches"]["features"]) < len(
        decode(default.content)["zones-blanches"]["features"]
    )
    assert client.get("/tiles/zones-blanches/6/32/21.mvt", params={"max_km": -1}).status_code == 422
    # a word that is no boolean is refused, not read as false
    maybe = client.get("/tiles/zones-blanches/6/32/21.mvt", params={"count_departmental": "maybe"})
    assert maybe.status_code == 422 and "'maybe'" in maybe.json()["detail"]
    counted = client.get("/tiles/zones-blanches/6/32/21.mvt", params={"count_departmental": "TRUE"})
    assert counted.status_code in (200, 204) and counted.content != default.content


def _holes(features: list[dict]) -> list[float]:
    polygons = [shapely.geometry.shape(f["geometry"]) for f in features]
    union = shapely.coverage_union_all(polygons)
    return sorted(shapely.Polygon(r).area for p in getattr(union, "geoms", [union]) for r in p.interiors)


@pytest.mark.parametrize("zoom", [5, 6, 8])
def test_simplified_geojson_leaves_no_gap_between_neighbours(client: TestClient, zoom: int) -> None:
    body = client.get("/api/v1/layers/communes.geojson", params={"zoom": zoom, "properties": "code"}).json()
    assert len(body["features"]) == 3782 and body["zoom"] == zoom  # the région's communes in the COG 2026
    polygons = [shapely.geometry.shape(f["geometry"]) for f in body["features"]]
    assert shapely.coverage_is_valid(polygons)
    # no land without a commune (the build fills the gaps), only specks far below a pixel
    holes = _holes(body["features"])
    assert all(h < 1e-7 for h in holes)
    full = client.get("/api/v1/layers/communes.geojson", params={"zoom": 14, "properties": "code"}).json()
    assert len(_holes(full["features"])) >= len(holes)


def test_geojson_bbox_zoom_and_properties(client: TestClient) -> None:
    body = client.get(
        "/api/v1/layers/communes.geojson", params={"bbox": "2.25,49.85,2.35,49.92", "properties": "code,name"}
    ).json()
    codes = {f["properties"]["code"] for f in body["features"]}
    assert "80021" in codes and len(codes) < 40  # Amiens and neighbours
    assert all(set(f["properties"]) == {"code", "name"} for f in body["features"])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"bbox": "3,50,2,51"}, "bbox"),  # inverted
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "-10,40,15,55", "zoom": 12}, "too large"),  # oversize for the zoom
        ({"zoom": 30}, "zoom"),
        ({"properties": "code,surface"}, "surface"),
    ],
)
def test_bad_layer_queries_are_422_and_say_why(client: TestClient, params: dict, named: str) -> None:
    response = client.get("/api/v1/layers/communes.geojson", params=params)
    assert response.status_code == 422 and named in str(response.json()["detail"])


def test_layers_index(client: TestClient) -> None:
    names = [layer["name"] for layer in client.get("/api/v1/layers").json()["layers"]]
    assert names == [
        "communes",
        "epci",
        "arrondissements",
        "departements",
        "region",
        "projects",
        "project-areas",
        "coverage",
        "zones-blanches",
    ]


def test_a_project_edit_changes_the_project_layers_etags_only(client: TestClient, data_copy, new_store) -> None:
    import yaml

    path = data_copy / "projects" / "05-projet-alimentaire-social-et-solidaire.yaml"
    record = yaml.safe_load(path.read_text("utf-8"))
    record["duration_years"] = 3
    path.write_text(yaml.safe_dump(record, allow_unicode=True), "utf-8")
    boundary = Z10_CAMBRAI.format(layer="communes", ext="mvt")
    project = Z6_REGION.format(layer="project-areas", ext="mvt")
    with TestClient(create_app(settings_for(data_copy, new_store()))) as edited:
        same = edited.get(boundary, headers={"If-None-Match": client.get(boundary).headers["etag"]})
        fresh = edited.get(project, headers={"If-None-Match": client.get(project).headers["etag"]})
    assert same.status_code == 304  # the boundaries did not change: browsers and CDNs keep their tiles
    assert fresh.status_code == 200 and fresh.headers["etag"] != client.get(project).headers["etag"]


def test_project_points_are_drawn_on_png_tiles(client: TestClient) -> None:
    pixels = _image(client.get(Z6_REGION.format(layer="projects", ext="png")).content)
    blue = (pixels[:, :, 2] > 150) & (pixels[:, :, 0] < 80) & (pixels[:, :, 3] > 200)
    assert blue.sum() > 50  # the project dots
