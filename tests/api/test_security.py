"""Nothing outside the served folders can be reached, and pages carry their security headers."""

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/leaflet/../../package.json",
        "/static/vendor/leaflet/%2e%2e/%2e%2e/package.json",
        "/static/app/..%2f..%2fsettings.py",
        "/static/vendor/axe-core/axe.min.js",  # installed, but not among the served libraries
    ],
)
def test_no_path_traversal(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b'"name": "geo-service-assets"' not in response.content


def test_vendor_files_are_served(client: TestClient) -> None:
    response = client.get("/static/vendor/leaflet/leaflet.js")
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
