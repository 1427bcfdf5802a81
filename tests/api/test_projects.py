"""GET /api/v1/projects and /api/v1/projects/{id}: GeoJSON with every field, filters, errors."""

import shapely
from fastapi.testclient import TestClient


def test_collection_of_28_points_with_all_fields(client: TestClient) -> None:
    body = client.get("/api/v1/projects").json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 28
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert {
        "id",
        "organisation",
        "name",
        "duration_years",
        "place_text",
        "actions",
        "beneficiaries",
        "indicators",
        "partners",
        "objectives",
        "axes",
        "action_types",
        "mobile",
        "territories",
        "communes",
        "point",
    } <= set(feature["properties"])


def test_area_geometry_covers_the_point(client: TestClient) -> None:
    feature = client.get("/api/v1/projects/nutri-cheques", params={"geometry": "area"}).json()
    area = shapely.geometry.shape(feature["geometry"])
    point = feature["properties"]["point"]
    assert area.geom_type in {"Polygon", "MultiPolygon"} and area.contains(shapely.Point(point["lon"], point["lat"]))
    assert 7000 < area.area * 111 * 73 < 8500  # the Aisne, about 7,400 km², in rough square degrees


def test_filters_combine(client: TestClient) -> None:
    somme_mobile = client.get("/api/v1/projects", params={"departement": "80", "axe": 4}).json()["features"]
    ids = {f["id"] for f in somme_mobile}
    assert "epicerie-solidaire-itinerante-est-somme" in ids and "nutri-cheques" not in ids
    assert all(4 in f["properties"]["axes"] for f in somme_mobile)


def test_one_project(client: TestClient) -> None:
    feature = client.get("/api/v1/projects/anti-gaspi-solidaire").json()
    assert feature["id"] == "anti-gaspi-solidaire"
    assert feature["properties"]["place_text"] == "Lille, Amiens et Senlis"
    assert feature["properties"]["communes"] == ["59350", "60612", "80021"]


def test_errors(client: TestClient) -> None:
    missing = client.get("/api/v1/projects/pas-un-projet")
    assert missing.status_code == 404 and "pas-un-projet" in missing.json()["detail"]
    for params, named in [
        ({"departement": "99"}, "departement"),
        ({"axe": "deux"}, "axe"),
        ({"type": "soupe"}, "type"),
        ({"geometry": "line"}, "geometry"),
    ]:
        response = client.get("/api/v1/projects", params=params)
        assert response.status_code == 422 and named in str(response.json()["detail"]), params


def test_record_schema_is_published(client: TestClient) -> None:
    schema = client.get("/api/v1/schemas/project-record.json").json()
    assert schema["title"] == "ProjectRecord" and "place_text" in schema["required"]
