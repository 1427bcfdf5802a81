"""Every GeoJSON the API writes follows RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise.

The orientation is computed here with the shoelace formula on the coordinates as received (lon, lat): a
counter-clockwise ring has a positive signed area."""

from __future__ import annotations

from itertools import pairwise

import pytest
from fastapi.testclient import TestClient

PATHS = [
    "/api/v1/layers/communes.geojson?zoom=8",
    "/api/v1/layers/communes.geojson?bbox=2.2,49.8,2.4,50.0&zoom=12",
    "/api/v1/layers/epci.geojson?zoom=6",
    "/api/v1/layers/departements.geojson",
    "/api/v1/layers/project-areas.geojson",
    "/api/v1/layers/zones-blanches.geojson?zoom=9",
    "/api/v1/projects?geometry=area",
    "/api/v1/coverage/communes?departement=80",
    "/api/v1/coverage/zones-blanches",
    "/api/v1/coverage/zones-blanches?dissolve=true",
    "/api/v1/territories/epci/200035442/outline.geojson",
    "/api/v1/territories/departement/80/outline.geojson?zoom=7",
    "/api/v1/coverage/simulate?territory=epci:200035442&format=geojson",
    "/api/v1/coverage/simulate?territory=departement:80&count_departmental=true&format=geojson",
]


def signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in pairwise(ring)) / 2


def polygons(geometry: dict) -> list[list[list[list[float]]]]:
    if geometry is None:
        return []
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    if geometry["type"] == "GeometryCollection":
        return [p for g in geometry["geometries"] for p in polygons(g)]
    return []


def features_of(document: dict) -> list[dict]:
    if document.get("type") == "FeatureCollection":
        return document["features"]
    if document.get("type") == "Feature":
        return [document]
    return [document] if "geometry" in document else []


def winding(document: dict) -> tuple[int, int]:
    """How many rings the document has, and how many of them wind against RFC 7946."""
    rings = wrong = 0
    for feature in features_of(document):
        for polygon in polygons(feature.get("geometry")):
            for number, ring in enumerate(polygon):
                rings += 1
                area = signed_area(ring)
                wrong += area < 0 if number == 0 else area > 0
    return rings, wrong


@pytest.mark.parametrize("path", PATHS)
def test_rings_follow_rfc_7946(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    rings, wrong = winding(response.json())
    assert rings and not wrong, f"{wrong} of {rings} rings wound the wrong way"
