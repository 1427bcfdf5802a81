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
