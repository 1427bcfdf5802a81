"""What an attacker tried and the service must refuse cleanly (issue: hardening). Each test was red before its fix:
anonymous 500s, chunked bodies over the limit, forged log lines, weak or oddly cased tokens, the history of
deleted projects, cross-origin writes, Host headers and query values echoed into URLs."""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from geo_service.cli import _log_config, main
from geo_service.logs import OneLineFormatter
from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR, Settings
from tests.conftest import settings_for
from tests.servers import free_port, serve, stop

SECRET = "hardening-token-0123456789"
TOKEN = {"Authorization": f"Bearer {SECRET}"}
NEW = {
    "id": "epicerie-durcie",
    "organisation": "Association Test",
    "name": "Épicerie solidaire",
    "duration_years": 1,
    "place_text": "Ville d'Amiens",
    "actions": ["Ouverture d'une épicerie solidaire"],
}


@pytest.fixture(scope="module")
def app_client(new_store: Callable[[], str]) -> Iterator[TestClient]:
    settings = settings_for(
        REPO_DATA_DIR,
        new_store(),
        admin_tokens={"dreets": SECRET},
        max_body_kb=64,
        write_origins=["https://edition.example"],
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tiles/communes/8/129/" + "9" * 5000 + ".mvt", 404),  # int() refuses over 4 300 digits: was a 500
        ("/tiles/communes/" + "9" * 5000 + "/1/1.mvt", 422),
        ("/tiles/communes/8/" + "9" * 30 + "/86.mvt", 404),
    ],
)
def test_huge_tile_numbers_are_refused(app_client: TestClient, path: str, status: int) -> None:
    assert app_client.get(path).status_code == status


@pytest.mark.parametrize("field", ["name", "id", "actions"])
def test_a_lone_surrogate_in_a_json_body_is_a_422_naming_the_field(app_client: TestClient, field: str) -> None:
    body = json.dumps(NEW | {"name": "PLACEHOLDER"}).replace("PLACEHOLDER", "\\ud800")
    if field == "id":
        body = json.dumps(NEW | {"id": "PLACEHOLDER"}).replace("PLACEHOLDER", "a\\udfff")
    if field == "actions":
        body = json.dumps(NEW | {"actions": ["PLACEHOLDER"]}).replace("PLACEHOLDER", "x\\ud83d")
    headers = TOKEN | {"Content-Type": "application/json"}
    response = app_client.post("/api/v1/projects", content=body.encode(), headers=headers)
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert "lone UTF-16 surrogate" in message and message.split(", ", 1)[1].startswith(field)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_nul_character_in_a_body_is_a_422_naming_the_field(app_client: TestClient, method: str) -> None:
    """PostgreSQL keeps no NUL in jsonb: found by the schema fuzzing as a 500 on PostGIS."""
    project = NEW | {"id": f"nul-{method.lower()}"}
    if method == "PATCH":
        assert app_client.post("/api/v1/projects", json=project, headers=TOKEN).status_code == 201
        response = app_client.patch(f"/api/v1/projects/{project['id']}", json={"name": "a\x00b"}, headers=TOKEN)
    else:
        response = app_client.post("/api/v1/projects", json=project | {"partners": ["ok", "x\x00"]}, headers=TOKEN)
    assert response.status_code == 422 and "NUL character" in str(response.json()["detail"])
    where = "name" if method == "PATCH" else "partners.1"
    assert where in str(response.json()["detail"])
    assert app_client.get("/api/v1/projects/x%00y/history").status_code == 404


def test_a_chunked_body_over_the_limit_is_a_413(app_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": "gros", "actions": ["'
        for _ in range(70):  # 70 KB, over the 64 KB of this app
            yield b"x" * 1024
        yield b'"]}'

    headers = TOKEN | {"Content-Type": "application/json"}
    response = app_client.post("/api/v1/projects", content=chunks(), headers=headers)
    assert response.status_code == 413 and "64 KB" in response.json()["detail"]


def test_a_small_chunked_body_still_gets_through(app_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield json.dumps(NEW | {"id": "petit-morceaux"}).encode()

    headers = TOKEN | {"Content-Type": "application/json"}
    assert app_client.post("/api/v1/projects", content=chunks(), headers=headers).status_code == 201


def test_log_lines_cannot_be_forged(tmp_path: Path) -> None:
    record = logging.LogRecord("geo_service", logging.INFO, __file__, 1, "%s %s", ("GET", "/x\n2026 FAUX\x1b[2J"), None)
    formatter = OneLineFormatter(_log_config("info")["formatters"]["plain"]["fmt"])
    line = formatter.format(record)
    assert "\n" not in line and "\x1b" not in line and line.endswith("/x\\n2026 FAUX\\x1b[2J")
    # and through a real server's request log
    log = tmp_path / "serveur.log"
    port = free_port()
    server = serve(
        port, {"GEO_SERVICE_LOG_LEVEL": "info", "GEO_SERVICE_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}, log=log
    )
    try:
        with contextlib.suppress(OSError):  # a 404: what matters is the log line
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/rien%0A2026-01-01%20INFO%20geo_service:%20faux", timeout=10
            )
    finally:
        stop(server)
    lines = log.read_text("utf-8").splitlines()
    assert not [line for line in lines if line.startswith("2026-01-01 INFO")]
    assert any("/rien\\n2026-01-01 INFO geo_service: faux" in line for line in lines)


@pytest.mark.parametrize("tokens", [{"admin_token": "x"}, {"admin_tokens": {"dreets": "court"}}])
def test_weak_tokens_are_refused_at_start(tokens: dict, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    with pytest.raises(ValidationError, match="write tokens need at least 16"):
        Settings(**tokens)
    variable, value = next(iter(tokens.items()))
    monkeypatch.setenv(f"GEO_SERVICE_{variable.upper()}", value if isinstance(value, str) else json.dumps(value))
    from geo_service.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["serve", "--port", str(free_port())]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert f"GEO_SERVICE_{variable.upper()}" in err and "at least 16" in err and "Traceback" not in err


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_is_case_insensitive(app_client: TestClient, scheme: str) -> None:
    response = app_client.post(
        "/api/v1/projects",
        json=NEW | {"id": f"casse-{sum(c.isupper() for c in scheme)}"},
        headers={"Authorization": f"{scheme} {SECRET}"},
    )
    assert response.status_code == 201


def test_history_of_a_deleted_project_needs_a_token_and_names_are_for_token_holders(app_client: TestClient) -> None:
    project = NEW | {"id": "historique-supprime"}
    path = f"/api/v1/projects/{project['id']}"
    assert app_client.post("/api/v1/projects", json=project, headers=TOKEN).status_code == 201
    live = app_client.get(f"{path}/history")
    assert (
        live.status_code == 200 and "dreets" not in live.text and not [v for v in live.json()["versions"] if "by" in v]
    )
    assert app_client.delete(path, headers=TOKEN).status_code == 200
    assert app_client.get(f"{path}/history").status_code == 404
    assert (
        app_client.get(f"{path}/history", headers={"Authorization": "Bearer faux-jeton-faux-jeton"}).status_code == 403
    )
    full = app_client.get(f"{path}/history", headers=TOKEN)
    assert full.status_code == 200 and [v["by"] for v in full.json()["versions"]] == ["dreets", "dreets"]


@pytest.mark.parametrize("method", ["DELETE", "POST", "PUT", "PATCH"])
def test_cross_origin_writes_only_from_the_configured_origins(app_client: TestClient, method: str) -> None:
    def preflight(origin: str) -> object:
        headers = {"Origin": origin, "Access-Control-Request-Method": method}
        return app_client.options(
            "/api/v1/projects/x", headers=headers | {"Access-Control-Request-Headers": "authorization"}
        )

    evil = preflight("https://evil.example")
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    editor = preflight("https://edition.example")
    assert editor.status_code == 204 and editor.headers["access-control-allow-origin"] == "https://edition.example"
    assert method in editor.headers["access-control-allow-methods"]
    assert "Authorization" in editor.headers["access-control-allow-headers"]
    # reads stay open to every origin
    read = app_client.options(
        "/api/v1/projects", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert read.status_code == 204 and read.headers["access-control-allow-origin"] == "*"
    assert "DELETE" not in read.headers["access-control-allow-methods"]


def test_a_write_response_carries_no_cors_header_for_other_origins(app_client: TestClient) -> None:
    response = app_client.post(
        "/api/v1/projects", json=NEW | {"id": "origine-autre"}, headers=TOKEN | {"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("host", ["evil.example:80/x", "a b", 'x"><script>', "user@evil.example"])
def test_malformed_host_headers_are_refused(app_client: TestClient, host: str) -> None:
    response = app_client.get("/api/v1/layers", headers={"Host": host})
    assert response.status_code == 400 and "<script>" not in response.text


def test_urls_come_from_the_public_url_and_only_its_host_is_served(new_store: Callable[[], str]) -> None:
    settings = settings_for(REPO_DATA_DIR, new_store(), public_url="https://carte.example.fr/")
    with TestClient(create_app(settings), base_url="https://carte.example.fr") as client:
        document = client.get("/tiles/communes.json").json()
        assert document["tiles"][0].startswith("https://carte.example.fr/tiles/communes/")
        assert client.get("/healthz", headers={"Host": "127.0.0.1:8000"}).status_code == 200  # health checks
        assert client.get("/tiles/communes.json", headers={"Host": "evil.example"}).status_code == 400


def test_query_values_are_re_encoded_in_tilejson(app_client: TestClient) -> None:
    # a value smuggling another parameter is no boolean: refused, not passed on
    smuggled = app_client.get("/tiles/coverage.json?count_departmental=true%26callback%3Devil&max_km=12")
    assert smuggled.status_code == 422 and "count_departmental" in smuggled.json()["detail"]
    document = app_client.get("/tiles/coverage.json?count_departmental=Yes&max_km=12.0&callback=evil").json()
    url = document["tiles"][0]
    assert "callback" not in url and ("&max_km=12" in url or "?max_km=12" in url)
    assert "count_departmental=true" in url  # what the service understood, not the text it was sent
