"""The API documentation pages (/docs, /redoc): served from this server only, no inline script, a strict
Content-Security-Policy, and every file they load answers with the right media type (the browser side is in
tests/browser/test_docs_page.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for, sqlite_url

DOC_PAGES = ["/docs", "/redoc"]
ABSOLUTE_URL = re.compile(r"(?:https?:)?//[^\s\"'<>]+", re.IGNORECASE)


@pytest.fixture(scope="module")
def docs_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on SQLite only: these pages do not depend on the store backend."""
    app = create_app(settings_for(REPO_DATA_DIR, sqlite_url(tmp_path_factory.mktemp("docs-store"))))
    with TestClient(app) as client:
        yield client


class PageParts(HTMLParser):
    """The scripts, stylesheets, URL-bearing attributes and inline event handlers of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_bodies: list[str] = []
        self.stylesheets: list[str] = []
        self.urls: list[str] = []
        self.handlers: list[str] = []
        self.html_lang: str | None = None
        self.title = ""
        self.viewport = False
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name, _ in attrs if name.startswith("on")]
        self.urls += [value for name, value in attrs if name in ("src", "href", "action", "data") and value]
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "script":
            self.scripts.append(attributes)
            self._in = "script"
        elif tag == "link" and "stylesheet" in (attributes.get("rel") or "").split():
            self.stylesheets.append(attributes["href"] or "")
        elif tag == "meta" and attributes.get("name") == "viewport":
            self.viewport = "width=device-width" in (attributes.get("content") or "")
        elif tag == "title":
            self._in = "title"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "title"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.script_bodies.append(data)
        elif self._in == "title":
            self.title += data


def parse(text: str) -> PageParts:
    parts = PageParts()
    parts.feed(text)
    parts.close()
    return parts


@pytest.mark.parametrize("path", DOC_PAGES)
def test_doc_pages_load_only_from_this_server_without_inline_script(docs_client: TestClient, path: str) -> None:
    response = docs_client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert ABSOLUTE_URL.findall(response.text) == []  # no CDN: every URL is a path on this server
    parts = parse(response.text)
    assert all(url.startswith("/") and not url.startswith("//") for url in parts.urls), parts.urls
    assert parts.scripts and all(script.get("src") for script in parts.scripts)
    assert "".join(parts.script_bodies).strip() == ""
    assert parts.handlers == []
    assert {script["src"] for script in parts.scripts} >= {"/static/app/docs.js"}
    assert 'data-openapi-url="/openapi.json"' in response.text
    assert parts.html_lang == "fr" and parts.viewport and "Documentation de l'API" in parts.title


@pytest.mark.parametrize(
    ("path", "relaxed"),
    [
        ("/docs", {}),
        # ReDoc's styled-components write <style> elements; its search runs in a worker built from a blob: URL
        ("/redoc", {"style-src": ["'self'", "'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}),
    ],
)
def test_doc_pages_carry_a_strict_content_security_policy(
    docs_client: TestClient, path: str, relaxed: dict[str, list[str]]
) -> None:
    headers = docs_client.get(path).headers
    directives = {
        name: rest.split()
        for name, _, rest in (d.strip().partition(" ") for d in headers["content-security-policy"].split(";"))
    }
    assert directives == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],  # no 'unsafe-inline', no 'unsafe-eval', no other host
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # both stylesheets draw icons as data: SVG images
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        **relaxed,
    }
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", DOC_PAGES)
def test_every_file_the_doc_pages_load_is_served_with_its_media_type(docs_client: TestClient, path: str) -> None:
    parts = parse(docs_client.get(path).text)
    loaded = [(script["src"], "javascript") for script in parts.scripts] + [
        (href, "text/css") for href in parts.stylesheets
    ]
    assert len(loaded) >= 2
    for url, media_type in loaded:
        response = docs_client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code} (run 'npm ci')"
        content_type = response.headers["content-type"]
        assert media_type in content_type and content_type.split("/")[0] in ("text", "application"), url
        assert len(response.content) > 100, url


def test_swagger_ui_is_set_up_to_stay_on_this_server(docs_client: TestClient) -> None:
    script = docs_client.get("/static/app/docs.js").text
    assert "validatorUrl: null" in script  # Swagger UI's default fetches a badge from validator.swagger.io


@pytest.mark.parametrize(
    "path",
    [
        "/static/vendor/swagger-ui-dist/index.html",  # the package's demo page loads a third-party API
        "/static/vendor/swagger-ui-dist/swagger-initializer.js",
        "/static/vendor/swagger-ui-dist/package.json",
        "/static/vendor/swagger-ui-dist/%2e%2e/%2e%2e/package.json",
        "/static/vendor/redoc/redoc.lib.js",
        "/static/vendor/redoc/../package.json",
    ],
)
def test_only_the_files_the_doc_pages_need_are_served(docs_client: TestClient, path: str) -> None:
    response = docs_client.get(path)
    assert response.status_code == 404
    assert b'"name": "geo-service-assets"' not in response.content


def test_fastapi_default_doc_pages_are_replaced(docs_client: TestClient) -> None:
    assert "cdn.jsdelivr.net" not in docs_client.get("/docs").text
    assert docs_client.get("/docs/oauth2-redirect").status_code == 404  # no OAuth2 flow: writes take a bearer token
