"""Costly work bounded per client and overall (api.limits), and pictures drawn once per data version."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio
import pytest
from fastapi.testclient import TestClient

from geo_service.api import maps
from geo_service.api.limits import ExpensiveWork
from geo_service.errors import ClientGoneError, TooBusyError
from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for


def test_places_per_client_and_overall() -> None:
    async def scenario() -> list[str]:
        work = ExpensiveWork(running=1, waiting=1, per_client=1)
        events: list[str] = []
        release = anyio.Event()
        holding = anyio.Event()

        async def first() -> None:
            async with work.slot("a"):
                events.append("a runs")
                holding.set()
                await release.wait()

        async def second() -> None:
            async with work.slot("b"):  # another client: admitted, waits for the running place
                events.append("b runs")

        async with anyio.create_task_group() as group:
            group.start_soon(first)
            await holding.wait()
            with pytest.raises(TooBusyError, match="from a"):
                async with work.slot("a"):  # the same client again: over its share
                    pass
            group.start_soon(second)
            await anyio.sleep(0.01)
            assert events == ["a runs"]  # b waits its turn
            with pytest.raises(TooBusyError, match="busy"):
                async with work.slot("c"):  # one running, one waiting: no room left
                    pass
            release.set()
        async with work.slot("a"):  # all places given back
            events.append("a again")
        return events

    assert anyio.run(scenario) == ["a runs", "b runs", "a again"]


@pytest.fixture(scope="module")
def app_client(new_store: Callable[[], str]) -> TestClient:
    settings = settings_for(REPO_DATA_DIR, new_store(), expensive_per_client=1, expensive_waiting=0)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_picture_is_drawn_once_per_data_version(app_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    draw = maps.territory_picture

    def counted(data, tiles, level, code, params=None):
        calls.append(code)
        return draw(data, tiles, level, code, params)

    monkeypatch.setattr(maps, "territory_picture", counted)
    first = app_client.get("/api/v1/maps/epci/200035442.png")
    second = app_client.get("/api/v1/maps/epci/200035442.png")
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert first.content[:8] == b"\x89PNG\r\n\x1a\n" and calls == ["200035442"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/maps/departement/80.png",
        "/api/v1/coverage/communes?max_km=12.5",
        "/api/v1/layers/epci.geojson",
        "/api/v1/coverage/simulate?territory=epci:200035442",
        "/api/v1/coverage/opportunities?k=2",
    ],
)
def test_costly_requests_over_the_client_share_get_429_with_retry_after(app_client: TestClient, path: str) -> None:
    work: ExpensiveWork = app_client.app.state.expensive
    work._by_client["testclient"] += 1  # as if one of this client's costly requests were running
    try:
        response = app_client.get(path)
    finally:
        work._by_client["testclient"] -= 1
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert "at most 1" in response.json()["detail"]
    assert app_client.get(path).status_code == 200  # its turn once the other one is done
    # answers at hand are not costly: the default coverage, tiles, health
    work._by_client["testclient"] += 1
    try:
        assert app_client.get("/api/v1/coverage/communes").status_code == 200
        assert app_client.get("/healthz").status_code == 200
    finally:
        work._by_client["testclient"] -= 1


def test_work_whose_client_left_while_waiting_is_dropped() -> None:
    """A request that waited for its turn and whose client has gone by then is not computed."""

    async def scenario() -> list[str]:
        work = ExpensiveWork(running=1, waiting=4, per_client=4)
        events: list[str] = []
        release, holding = anyio.Event(), anyio.Event()

        async def first() -> None:
            async with work.slot("a"):
                holding.set()
                await release.wait()

        async def left() -> bool:
            return True

        async def abandoned() -> None:
            with pytest.raises(ClientGoneError):
                async with work.slot("b", left):
                    events.append("computed for nobody")
            events.append("dropped")

        async with anyio.create_task_group() as group:
            group.start_soon(first)
            await holding.wait()
            group.start_soon(abandoned)
            await anyio.sleep(0)
            release.set()
        assert work.dropped == 1
        return events

    assert anyio.run(scenario) == ["dropped"]


@contextmanager
def places_counted(client: TestClient) -> Iterator[list[str]]:
    """The app's admission to costly work, with every place asked for recorded (by client address)."""
    asked: list[str] = []
    real = client.app.state.expensive

    class Counting:
        def slot(self, address: str, gone=None):
            asked.append(address)
            return real.slot(address, gone)

    client.app.state.expensive = Counting()
    try:
        yield asked
    finally:
        client.app.state.expensive = real


def test_large_ogc_pages_hold_a_place(app_client: TestClient) -> None:
    """Pages beyond the default size (up to 10 000 features) or reprojected are costly work; small pages are not."""
    with places_counted(app_client) as asked:
        assert app_client.get("/collections/communes/items?limit=10").status_code == 200
        assert app_client.get("/collections/communes/items").status_code == 200  # the default page: 100
        assert asked == []
        assert app_client.get("/collections/communes/items?limit=1000").status_code == 200
        assert app_client.get("/collections/communes/items?limit=5&crs=EPSG:2154").status_code == 200
        assert len(asked) == 2


def _routes(app) -> set[str]:
    """'METHOD /path' of every route the app serves (mounted static files aside), included routers walked."""

    def walk(routes):
        for route in routes:
            if hasattr(route, "methods") and hasattr(route, "path"):
                for method in route.methods - {"HEAD"}:
                    yield f"{method} {route.path}"
            elif not hasattr(route, "path"):  # an included router, kept as such by this FastAPI
                inner = getattr(route, "original_router", None) or getattr(route, "router", None)
                assert inner is not None, f"a route of unknown kind: {route!r}"
                yield from walk(inner.routes)

    return set(walk(app.routes))


def test_every_route_is_classified_by_what_it_may_cost(app_client: TestClient) -> None:
    """A new route must be put in one list of api.limits: costly ones go through admission control."""
    from geo_service.api.limits import CHEAP_ROUTES, COSTLY_ROUTES, WRITER_ROUTES

    lists = [set(COSTLY_ROUTES), set(WRITER_ROUTES), set(CHEAP_ROUTES)]
    assert not (lists[0] & lists[1] or lists[0] & lists[2] or lists[1] & lists[2])
    assert _routes(app_client.app) == lists[0] | lists[1] | lists[2]


# For each costly route, a request that makes it compute something new (each parameter set used once here).
COSTLY_SAMPLES = {
    "GET /api/v1/coverage/communes": "/api/v1/coverage/communes?max_km=11.01",
    "GET /api/v1/coverage/communes/{code}": "/api/v1/coverage/communes/80021?max_km=11.02",
    "GET /api/v1/coverage/summary": "/api/v1/coverage/summary?max_km=11.03",
    "GET /api/v1/coverage/zones-blanches": "/api/v1/coverage/zones-blanches?max_km=11.04",
    "GET /api/v1/coverage/simulate": "/api/v1/coverage/simulate?territory=epci:200035442",
    "POST /api/v1/coverage/simulate": "/api/v1/coverage/simulate",
    "GET /api/v1/coverage/opportunities": "/api/v1/coverage/opportunities?k=1",
    "GET /tiles/{layer}/{z}/{x}/{name}": "/tiles/coverage/8/129/86.png?max_km=11.05",
    "GET /tiles/{layer}.json": "/tiles/coverage.json?max_km=11.06",
    "GET /api/v1/layers/{layer}.geojson": "/api/v1/layers/departements.geojson?zoom=5",
    "GET /api/v1/maps/{level}/{code}.png": "/api/v1/maps/epci/200035442.png?max_km=11.07",
    "GET /collections/{collectionId}": "/collections/zones-blanches?max_km=11.08",
    "GET /collections/{collectionId}/items": "/collections/communes/items?limit=500",
    "GET /collections/{collectionId}/items/{featureId:path}": "/collections/coverage/items/80021?max_km=11.09",
    "GET /collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": (
        "/collections/coverage/tiles/WebMercatorQuad/8/86/129?max_km=11.1"
    ),
    "GET /collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": (
        "/collections/coverage/map/tiles/WebMercatorQuad/8/86/129?max_km=11.11"
    ),
    "GET /carte": "/carte?reach=all",
    "GET /embed": "/embed?reach=all&territoire=epci:200035442",
    "GET /territoires/{level}/{code}": "/territoires/epci/200035442?reach=all",
}


def test_every_costly_route_has_a_sample() -> None:
    from geo_service.api.limits import COSTLY_ROUTES

    assert set(COSTLY_SAMPLES) == set(COSTLY_ROUTES)


@pytest.mark.parametrize("route", sorted(COSTLY_SAMPLES))
def test_each_costly_route_asks_for_a_place(app_client: TestClient, route: str) -> None:
    with places_counted(app_client) as asked:
        method, _ = route.split(" ", 1)
        body = {"actions": [{"territories": ["epci:200035442"]}]} if method == "POST" else None
        response = app_client.request(method, COSTLY_SAMPLES[route], json=body)
        assert response.status_code in (200, 204), (route, response.status_code, response.text[:200])
        assert asked, f"{route} computed without asking for a place"
