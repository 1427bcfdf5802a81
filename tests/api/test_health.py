"""Liveness and the documented API."""

from fastapi.testclient import TestClient

from geo_service.service import ServiceData


def test_healthz_reports_the_data_version(client: TestClient, service_data: ServiceData) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "data_version": service_data.version}


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/api/v1/territories/{level}", "/api/v1/territories/{level}/{code}"} <= set(paths)


def test_pages_forbid_third_party_sources_and_allow_framing(client: TestClient) -> None:
    response = client.get("/carte")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors *" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in response.text and "https://" not in response.text  # no CDN, no external basemap


def test_bad_page_parameters_get_a_french_page(client: TestClient) -> None:
    response = client.get("/embed", params={"territoire": "canton:12"})
    assert response.status_code == 422 and "attendu niveau:code" in response.text
    assert client.get("/territoires/epci/999999999").status_code == 404
    assert "couche inconnue" in client.get("/carte", params={"layers": "projects,cadastre"}).text
