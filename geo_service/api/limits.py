"""Work no cache absorbs, bounded: per client, and for the whole process.

A picture of a territory, the coverage under parameters nobody asked for before (a random ``max_km`` makes every
request a new computation), a GeoJSON layer cut to a new box: each costs tens to hundreds of milliseconds of CPU and
memory that stays allocated while it runs. Forty such requests at once used to run together on forty threads
(/healthz answered after 7 to 14 s, 2.3 GB resident). Here at most ``running`` of them compute at a time, the others
wait their turn, at most ``waiting`` in all and ``per_client`` per client address (more than a browser's six
connections to one host, so that one person's map never hits it); beyond that, 429 with Retry-After. Cached answers
never come here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

import anyio
from fastapi import Depends, Request

from geo_service.errors import ClientGoneError, TooBusyError


class ExpensiveWork:
    """Admission to costly work; used from the event loop only (the counters need no lock)."""

    def __init__(self, running: int, waiting: int, per_client: int) -> None:
        self.running, self.waiting, self.per_client = running, waiting, per_client
        self._turns = anyio.Semaphore(running)
        self._admitted = 0
        self._by_client: Counter[str] = Counter()
        self.dropped = 0  # requests dropped because their client had left (see /healthz)

    @asynccontextmanager
    async def slot(self, client: str, gone: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[None]:
        """Hold one of the running places while the work runs, after waiting for it if need be. ``gone``: whether
        the client has left (``Request.is_disconnected``), asked once the place is given: work whose client left
        while it waited is dropped (a flood of abandoned requests used to keep the server busy for half a minute
        after its clients had gone)."""
        if self._by_client[client] >= self.per_client:
            raise TooBusyError(f"too many costly requests at once from {client} (at most {self.per_client}): retry")
        if self._admitted >= self.running + self.waiting:
            raise TooBusyError("the server is busy with costly requests: retry in a moment")
        self._admitted += 1
        self._by_client[client] += 1
        try:
            async with self._turns:
                if gone is not None and await gone():
                    self.dropped += 1
                    raise ClientGoneError(f"{client} left before its turn: the work was not done")
                yield
        finally:
            self._admitted -= 1
            self._by_client[client] -= 1
            if not self._by_client[client]:
                del self._by_client[client]


def client_of(request: Request) -> str:
    """The client's address (uvicorn already took it from X-Forwarded-For when the proxy is trusted)."""
    return request.client.host if request.client is not None else "unknown"


def costly_slot(request: Request) -> AbstractAsyncContextManager[None]:
    """A place for this request's costly work, dropped if its client leaves while it waits."""
    return request.app.state.expensive.slot(client_of(request), request.is_disconnected)


async def expensive(request: Request) -> AsyncIterator[None]:
    """A dependency holding a place for the whole request."""
    async with costly_slot(request):
        yield


ExpensiveDep = Annotated[None, Depends(expensive)]


# Every route, by what one anonymous request may cost (tests/api/test_limits.py checks that the app's routes are
# exactly these, and that each costly one asks for a place when its work is not already done).
# Costly: computes what no cache holds, so it holds a place (costly_slot / ExpensiveDep) while it does.
COSTLY_ROUTES: dict[str, str] = {
    "GET /api/v1/coverage/communes": "the coverage under parameters other than the defaults",
    "GET /api/v1/coverage/communes/{code}": "the same",
    "GET /api/v1/coverage/summary": "the same",
    "GET /api/v1/coverage/zones-blanches": "the same",
    "GET /api/v1/coverage/simulate": "a simulation, always",
    "POST /api/v1/coverage/simulate": "a simulation, always",
    "GET /api/v1/coverage/opportunities": "a ranking, always (and beyond planning.MAX_PAIRS, refused before)",
    "GET /tiles/{layer}/{z}/{x}/{name}": "a coverage layer under new parameters",
    "GET /tiles/{layer}.json": "the same (the TileJSON names the layer's version)",
    "GET /api/v1/layers/{layer}.geojson": "a layer cut to a box, always",
    "GET /api/v1/maps/{level}/{code}.png": "a picture not drawn yet",
    "GET /collections/{collectionId}": "a coverage collection under new parameters",
    "GET /collections/{collectionId}/items": "the same, or a page beyond the default size or in another CRS",
    "GET /collections/{collectionId}/items/{featureId:path}": "a coverage collection under new parameters",
    "GET /collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": "as /tiles",
    "GET /collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": "as /tiles",
    "GET /carte": "the page's figures under another reach",
    "GET /embed": "the same",
    "GET /territoires/{level}/{code}": "the same",
}
# Token holders only: bounded by their body size, their own threads (api.writes.WRITE_THREADS) and the store.
WRITER_ROUTES: dict[str, str] = {
    "POST /api/v1/projects": "a write",
    "PUT /api/v1/projects/{project_id}": "a write",
    "PATCH /api/v1/projects/{project_id}": "a write",
    "DELETE /api/v1/projects/{project_id}": "a write",
    "POST /api/v1/projects/{project_id}/restore": "a write",
    "POST /api/v1/imports": "a preview: 20 MB and 50 000 rows at most",
    "GET /api/v1/imports/{import_id}": "a preview read again",
    "PATCH /api/v1/imports/{import_id}": "a preview recomputed",
    "POST /api/v1/imports/{import_id}/commit": "a write",
    "DELETE /api/v1/imports/{import_id}": "a write",
    "GET /api/v1/projects/export": "the store's records as a spreadsheet",
}
# Cheap: answered from what the snapshot holds (indexes, cached answers, fixed documents), or bounded small work.
CHEAP_ROUTES: dict[str, str] = {
    "GET /openapi.json": "a document built once",
    "GET /healthz": "a few attributes",
    "GET /api/v1/admin/projects": "the catalogue's list",
    "GET /api/v1/territories/at": "one point in an index",
    "GET /api/v1/territories/{level}": "a table",
    "GET /api/v1/territories/{level}/{code}": "one row",
    "GET /api/v1/territories/{level}/{code}/outline.geojson": "one outline, simplified once",
    "GET /api/v1/geocode/suggest": "100 characters in an index",
    "GET /api/v1/geocode": "500 characters read (geocoding.geocoder.MAX_QUERY_LENGTH)",
    "GET /api/v1/projects": "answers cached per filters (256 at most)",
    "GET /api/v1/projects/{project_id}": "one project",
    "GET /api/v1/schemas/project-record.json": "a fixed document",
    "GET /api/v1/projects/{project_id}/history": "one project's versions",
    "GET /api/v1/layers": "a fixed list",
    "GET /api/v1/labels": "labels of a box, from an index",
    "GET /api/v1/programme": "the programme's figures",
    "GET /edition": "a page without data",
    "GET /edition/import": "the same",
    "GET /oembed": "a small document",
    "GET /docs": "a fixed page",
    "GET /redoc": "a fixed page",
    "GET /": "the OGC landing page",
    "GET /api": "the OGC API definition, built once",
    "GET /conformance": "a fixed document",
    "GET /collections": "the collections' list",
    "GET /collections/{collectionId}/queryables": "the fields' list",
    "GET /tileMatrixSets": "a fixed document",
    "GET /tileMatrixSets/{tileMatrixSetId}": "a fixed document",
    "GET /collections/{collectionId}/tiles": "the tilesets' list",
    "GET /collections/{collectionId}/tiles/{tileMatrixSetId}": "a tileset's metadata",
    "GET /collections/{collectionId}/map/tiles": "the same",
    "GET /collections/{collectionId}/map/tiles/{tileMatrixSetId}": "the same",
    "GET /collections/{collectionId}/schema": "the fields' schema",
    "GET /styles": "a fixed list",
    "GET /styles/{name}.json": "a style document (or a sprite's index)",
    "GET /styles/{name}.png": "a sprite, drawn once",
    "GET /styles/{name}.qml": "a QGIS style file",
    "GET /api/v1/legend": "a layer's classes",
    "GET /exemples/maplibre": "a page without data",
}
