"""One table of refusals, one handler: the same refusal is the same status and the same words on the API, the OGC
API and the pages, in the representation each asks for (geo_service.api.errors).

Expected statuses are HTTP's meanings (RFC 9110: 400 unreadable, 404 unknown, 409 conflict, 412 precondition, 413
too large, 422 invalid, 429 too many, 503 unavailable), the bounds and words those the tests state themselves.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from geo_service.api.errors import OgcRoute, PageRoute, add_exception_handlers
from geo_service.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CostLimitError,
    DataError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    TooBusyError,
)
from geo_service.ogc.cql2 import FilterError
from geo_service.projects.spreadsheet_import import TooLargeError
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON_KEYS = {"type", "title", "status", "detail", "detail_fr", "code"}

# max_km above its bound (200 km), on the API, two OGC coverage collections and one of their features
TOO_FAR = [
    "/api/v1/coverage/communes?max_km=5000",
    "/collections/coverage/items?max_km=5000",
    "/collections/zones-blanches/items?max_km=5000&limit=3",
    "/collections/zones-blanches?max_km=5000",
    "/collections/coverage/items/80021?max_km=5000",
]


def test_the_same_422_on_the_api_and_the_ogc_api(client: TestClient) -> None:
    answers = [client.get(url) for url in TOO_FAR]
    for url, answer in zip(TOO_FAR, answers, strict=True):
        assert answer.status_code == 422, (url, answer.text[:300])
        assert answer.headers["content-type"] == "application/json", url
        body = answer.json()
        assert set(body) == JSON_KEYS, (url, body)
        assert body["status"] == 422 and body["title"] == "Unprocessable Entity" and body["type"] == "about:blank"
        assert body["code"] == "invalid-parameter"
        assert "max_km" in body["detail"] and "5000" in body["detail"] and "200" in body["detail"], body
        assert "max_km" in body["detail_fr"] and "200 km" in body["detail_fr"], body
        head = client.head(url)  # HEAD: the GET's status and headers, no body
        assert head.status_code == 422 and head.content == b"" and head.headers["content-type"] == "application/json"
    first = answers[0].json()
    assert all(answer.json() == first for answer in answers), [answer.json() for answer in answers]


@pytest.mark.parametrize("path", ["/carte", "/embed", "/territoires/epci/200035442"])
def test_a_page_refuses_the_same_parameter_with_a_french_4xx_page(client: TestClient, path: str) -> None:
    french = client.get("/api/v1/coverage/communes?max_km=5000").json()["detail_fr"]
    for headers in (BROWSER, {}):  # a page is a page, whatever the client accepts
        page = client.get(f"{path}?max_km=5000", headers=headers)
        assert page.status_code == 422, (path, page.status_code)
        assert page.headers["content-type"].startswith("text/html")
        assert "Content-Security-Policy" in page.headers
        text = html.unescape(page.text)
        assert '<html lang="fr">' in text and french in text, text[:800]
        assert "must be" not in text  # English stays in the API's detail
    embedded = html.unescape(client.get("/embed?max_km=5000").text)
    assert "code d'intégration" in embedded  # inside a partner's page: how to make a valid embedding code


@pytest.mark.parametrize(
    ("url", "status", "named"),
    [
        ("/carte?reach=tout", 422, "tout"),
        ("/carte?layers=zz", 422, "zz"),
        ("/carte?vue=nowhere", 422, "nowhere"),
        ("/embed?legend=7", 422, "legend"),
        ("/embed?territoire=epci:000", 422, "000"),
        ("/embed?territoire=epci:200000000", 404, "200000000"),
        ("/territoires/epci/000", 422, "000"),
        ("/territoires/quartier/1", 404, "quartier"),
        ("/carte?max_km=20&max_km=30", 422, "max_km"),
    ],
)
def test_a_bad_parameter_on_a_page_is_a_4xx_never_a_503(client: TestClient, url: str, status: int, named: str) -> None:
    page = client.get(url, headers=BROWSER)
    assert page.status_code == status, (url, page.status_code, page.text[:300])
    text = html.unescape(page.text)
    assert '<html lang="fr">' in text and named in text, text[:800]
    assert client.head(url, headers=BROWSER).status_code == status  # HEAD: the GET's status, no body
    assert client.head(url, headers=BROWSER).content == b""


def test_an_ogc_page_and_its_json_say_the_same_refusal(client: TestClient) -> None:
    url = "/collections/coverage/items?max_km=5000"
    answer = client.get(url).json()
    for page in (client.get(url, headers=BROWSER), client.get(f"{url}&f=html")):
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
        text = html.unescape(page.text)
        assert '<html lang="fr">' in text and answer["detail_fr"] in text and answer["detail"] in text
        assert "(code 422)" in text
    # f=json wins over a browser's Accept; f=html over a client's
    assert client.get(f"{url}&f=json", headers=BROWSER).json() == answer
    unknown = client.get("/collections/communes/items?limit=0", headers=BROWSER)
    assert unknown.status_code == 400 and "limit = « 0 » : attendu 1 ou plus" in html.unescape(unknown.text)


def test_an_unknown_address_keeps_its_404_and_says_it_in_french(client: TestClient) -> None:
    for url in ("/api/v1/nothing", "/collections/communes/nothing", "/cartes"):
        body = client.get(url).json()
        assert body["status"] == 404 and body["code"] == "not-found" and body["detail"] == "Not Found", url
        assert body["detail_fr"] == "rien ne se trouve à cette adresse"
    refused = client.post("/collections")
    assert refused.status_code == 405 and refused.json()["code"] == "method-not-allowed"
    assert "GET" in refused.headers["allow"]


# --- every class of the table, on each kind of route ------------------------------------------------------------

EXPECTED = [
    (NotFoundError("no such thing"), 404, "not-found"),
    (InvalidInputError("x=1: expected 2"), 422, "invalid-parameter"),
    (CostLimitError("max_km=1: too many pairs"), 422, "too-costly"),
    (BadRequestError("unknown query parameter 'x': this operation takes none"), 400, "bad-request"),
    (FilterError("filter: expected a value at 3"), 400, "invalid-filter"),
    (ConflictError("id taken"), 409, "conflict"),
    (AuthenticationError("no token"), 401, "unauthenticated"),
    (PermissionDeniedError("wrong token"), 403, "forbidden"),
    (PreconditionFailedError("another version"), 412, "precondition-failed"),
    (TooLargeError("the file is over 5 MB"), 413, "too-large"),
    (TooBusyError("too many costly requests at once", retry_after_s=7), 429, "too-busy"),
    (DataError("the store is out of reach"), 503, "unavailable"),
]


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """A small app with the service's handlers and one route of each kind, raising the exception it is told."""
    app = FastAPI()
    folder: Path = tmp_path_factory.mktemp("store")
    app.state.settings = settings_for(REPO_DATA_DIR, f"sqlite:///{folder / 'never.sqlite3'}")
    add_exception_handlers(app)
    by_index = {str(i): exc for i, (exc, _, _) in enumerate(EXPECTED)}

    def raiser(i: str) -> None:
        raise by_index[i]

    for prefix, route_class in (("/api", None), ("/page", PageRoute), ("/ogc", OgcRoute)):
        router = APIRouter(route_class=route_class) if route_class else APIRouter()
        router.add_api_route(prefix + "/{i}", raiser, methods=["GET"])
        app.include_router(router)
    return TestClient(app)


@pytest.mark.parametrize(("index", "expected"), list(enumerate(EXPECTED)), ids=[e[2] for e in EXPECTED])
def test_each_refusal_has_one_status_whatever_the_representation(
    refusing: TestClient, index: int, expected: tuple[Exception, int, str]
) -> None:
    exc, status, code = expected
    api = refusing.get(f"/api/{index}")
    assert api.status_code == status and api.headers["content-type"] == "application/json"
    assert api.json()["code"] == code and api.json()["detail"] == str(exc) and api.json()["status"] == status
    ogc = refusing.get(f"/ogc/{index}")
    assert ogc.status_code == status and ogc.json() == api.json()
    for page in (refusing.get(f"/page/{index}"), refusing.get(f"/ogc/{index}", headers=BROWSER)):
        assert page.status_code == status and page.headers["content-type"].startswith("text/html")
        assert '<html lang="fr">' in page.text
    if status == 429:
        for answer in (api, ogc, page):
            assert answer.headers["retry-after"] == "7"
    if status == 401:
        assert api.headers["www-authenticate"] == "Bearer"
