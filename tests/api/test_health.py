"""Liveness and the documented API."""

import base64
import hashlib
import html
import re

import pytest
from fastapi.testclient import TestClient

from geo_service.service import ServiceData


def test_healthz_reports_the_data_version(client: TestClient, service_data: ServiceData) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "data_version": service_data.version, "projects_set_aside": 0}


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/api/v1/territories/{level}", "/api/v1/territories/{level}/{code}"} <= set(paths)


def test_pages_forbid_third_party_sources_and_allow_framing(client: TestClient) -> None:
    response = client.get("/carte")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors *" in policy
    # inline scripts by hash (CSP Level 3 hash-source: base64 of the SHA-256 of the element's text), none other
    scripts = policy.split("script-src ")[1].split(";")[0].split()
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.text, re.DOTALL)
    assert inline and "'unsafe-inline'" not in scripts
    assert {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline} <= set(
        scripts
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in response.text and "https://" not in response.text  # no CDN, no external basemap


def test_bad_page_parameters_get_a_french_page(client: TestClient) -> None:
    response = client.get("/embed", params={"territoire": "canton:12"})
    assert response.status_code == 422 and "attendu niveau:code" in response.text
    assert client.get("/territoires/epci/999999999").status_code == 404
    assert "couche inconnue" in client.get("/carte", params={"layers": "projects,cadastre"}).text


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("territoire=epci:999", 422, "n'est pas un code d'intercommunalité"),
        ("territoire=foo", 422, "attendu niveau:code"),
        ("territoire=epci:200000000", 404, "aucune intercommunalité n'a ce code"),
        ("layers=foo", 422, "couche inconnue foo"),
        ("legend=abc", 422, "attendu 1 (afficher la légende) ou 0"),
        ("vue=abc", 422, "attendu latitude,longitude,zoom"),
        ("reach=tout", 422, "valeur inconnue"),
    ],
)
def test_bad_embed_parameters_get_a_small_french_page(client: TestClient, query: str, status: int, words: str) -> None:
    response = client.get(f"/embed?{query}")
    assert response.status_code == status and response.headers["content-type"].startswith("text/html")
    text = html.unescape(response.text)
    assert words in text and '<html lang="fr">' in text and "/carte#integrer" in text
    assert "detail" not in text and "expected" not in text  # no developer output in a partner's page


def test_head_answers_on_pages_and_get_routes(client: TestClient) -> None:
    for path in ["/carte", "/embed?territoire=epci:200035442", "/territoires/commune/80021", "/api/v1/projects",
                 "/api/v1/coverage/communes?format=csv", "/tiles/coverage/8/130/86.png", "/healthz"]:  # fmt: skip
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"], path
    assert client.head("/embed?territoire=foo").status_code == 422


def test_oembed_for_a_map_link(client: TestClient) -> None:
    body = client.get("/oembed", params={"url": "http://testserver/territoires/epci/200035442"}).json()
    assert body["type"] == "rich" and body["version"] == "1.0" and body["height"] == 500
    assert "/embed?territoire=epci%3A200035442" in body["html"] and "CC du Sud Artois" in body["title"]
    assert client.get("/oembed", params={"url": "http://elsewhere.example/carte"}).status_code == 404
    assert client.get("/oembed", params={"url": "http://testserver/embed?territoire=epci:999"}).status_code == 404
    assert client.get("/oembed", params={"url": "http://testserver/carte", "format": "xml"}).status_code == 422
    page = client.get("/territoires/epci/200035442").text
    assert 'type="application/json+oembed"' in page
