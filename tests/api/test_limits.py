"""Costly work bounded per client and overall (api.limits), and pictures drawn once per data version."""

from __future__ import annotations

from collections.abc import Callable

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


def test_large_ogc_pages_hold_a_place(app_client: TestClient) -> None:
    """Pages beyond the default size (up to 10 000 features) or reprojected are costly work; small pages are not."""
    asked: list[str] = []
    real = app_client.app.state.expensive

    class Counting:
        def slot(self, client: str, gone=None):
            asked.append(client)
            return real.slot(client, gone)

    app_client.app.state.expensive = Counting()
    try:
        assert app_client.get("/collections/communes/items?limit=10").status_code == 200
        assert app_client.get("/collections/communes/items").status_code == 200  # the default page: 100
        assert asked == []
        assert app_client.get("/collections/communes/items?limit=1000").status_code == 200
        assert app_client.get("/collections/communes/items?limit=5&crs=EPSG:2154").status_code == 200
        assert len(asked) == 2
    finally:
        app_client.app.state.expensive = real
