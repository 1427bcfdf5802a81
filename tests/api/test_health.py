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
