"""Place names on the maps: which show at which zoom (préfectures from the COG, then by population)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from geo_service.labels import place_labels
from geo_service.territories import Boundaries

# INSEE: the région's chef-lieu and the préfectures of the five départements
PREFECTURES = {"Lille", "Laon", "Beauvais", "Arras", "Amiens"}
# INSEE: the sous-préfectures (chefs-lieux of the other arrondissements)
SUBPREFECTURES = {
    "Château-Thierry", "Saint-Quentin", "Soissons", "Vervins",
    "Avesnes-sur-Helpe", "Cambrai", "Douai", "Dunkerque", "Valenciennes",
    "Clermont", "Compiègne", "Senlis",
    "Béthune", "Boulogne-sur-Mer", "Calais", "Lens", "Montreuil-sur-Mer", "Saint-Omer",
    "Abbeville", "Montdidier", "Péronne",
}  # fmt: skip


def test_prefectures_first_then_sous_prefectures(boundaries: Boundaries) -> None:
    labels = place_labels(boundaries)
    at_7 = {label.name: label.rank for label in labels.within(7, None)}
    assert set(at_7) == PREFECTURES  # nothing else yet
    assert at_7["Lille"] == 0 and all(at_7[name] == 1 for name in PREFECTURES - {"Lille"})
    at_9 = {label.name for label in labels.within(9, None)}
    assert at_9 >= PREFECTURES | SUBPREFECTURES
    at_12 = labels.within(12, (2.2, 49.8, 2.5, 50.0))
    assert len(at_12) > 30 and "Longueau" in {label.name for label in at_12}


def test_a_focused_commune_is_named_even_where_a_larger_one_would_win(boundaries: Boundaries) -> None:
    labels = place_labels(boundaries)
    bbox = (2.25, 49.85, 2.40, 49.92)
    communes = boundaries.level("commune")
    inside = [
        code
        for code, (lon, lat) in zip(communes["code"], communes["townhall"], strict=True)
        if bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    ]
    shown = {label.code for label in labels.within(10, bbox)}
    candidates = [c for c in inside if c not in shown]
    assert candidates, "every commune already named at zoom 10: pick a denser box"
    assert candidates[0] in {label.code for label in labels.within(10, bbox, focus=candidates[0])}


def test_labels_api(client: TestClient) -> None:
    response = client.get("/api/v1/labels", params={"zoom": 12, "bbox": "2.2,49.8,2.5,50.0"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    assert {"Amiens", "Longueau"} <= {f["properties"]["name"] for f in features}
    assert all(f["geometry"]["type"] == "Point" for f in features)
    etag = response.headers["etag"]
    again = client.get(
        "/api/v1/labels", params={"zoom": 12, "bbox": "2.2,49.8,2.5,50.0"}, headers={"If-None-Match": f"W/{etag}"}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("params", "named"),
    [({"zoom": 12, "bbox": "1,2,3"}, "bbox"), ({"zoom": 99}, "zoom"), ({"zoom": 10, "focus": "99999"}, "focus")],
)
def test_labels_api_refuses_bad_parameters(client: TestClient, params: dict, named: str) -> None:
    response = client.get("/api/v1/labels", params=params)
    assert response.status_code == 422 and named in str(response.json()["detail"])
