"""What is served, as one immutable value, and the one place that builds it and swaps it in.

A ``Snapshot`` holds everything a request may read: boundaries, geocoder, projects, coverage, the programme's
figures, the tile layers and their versions, and the memo (``geo_service.memo``) where what they computed is kept
by content. The ``Publisher`` holds the store: it builds a new snapshot after a write (or another process's
commit) from the store's committed state, handing it the same memo so that only what changed is computed, and
replaces the current one with a single assignment: a request that took the snapshot once sees one version from
its first byte to its last, whatever is published meanwhile. Nothing here knows about the web: the API only asks
the publisher for ``current``, its ``store`` and to ``publish``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass

from geo_service.service import ServiceData, open_service, refreshed
from geo_service.settings import Settings
from geo_service.store import ProjectStore
from geo_service.tiles.service import TileService


@dataclass(frozen=True)
class Snapshot:
    data: ServiceData
    tiles: TileService
    writes: int = 0  # how many of this process's writes it includes (see Publisher.write)


class Publisher:
    """Holds the current snapshot; builds and swaps in the next one, one build at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._current: Snapshot | None = None
        self._lock = threading.Lock()
        self._written = 0  # writes committed through this process, counted once each has committed
        self._count_lock = threading.Lock()
        self._store: ProjectStore | None = None  # opened by start(): the one connection writes go through

    @property
    def current(self) -> Snapshot:
        if self._current is None:
            raise RuntimeError("the publisher has not started: call start() first")
        return self._current

    @property
    def store(self) -> ProjectStore:
        """The store the snapshots are read from and writes go to (held here, never by a snapshot's data)."""
        if self._store is None:
            raise RuntimeError("the publisher has not started: call start() first")
        return self._store

    def start(self) -> Snapshot:
        data, self._store = open_service(self.settings)
        self._current = self._snapshot(data)
        # What start-up made lives as long as the process (boundaries, their tables: millions of objects for all
        # of France). Left to the cyclic garbage collector, its first full pass over them stalls whichever request
        # triggers it (about 150 ms nationally): collect once now, then keep them out of later passes.
        gc.collect()
        gc.freeze()
        _release_free_memory()
        return self._current

    def write(self, commit: Callable[[], object]) -> Snapshot:
        """Run ``commit`` (a write to the store), then return a snapshot that includes it, building one if need be.

        Writes that commit while a build runs wait for it, then one build serves all of them (a group publish):
        each build first notes how many writes have committed, then reads the store, so a snapshot holds at
        least the writes it counts, and a write that finds itself counted has nothing left to wait for."""
        commit()
        with self._count_lock:
            self._written += 1
            mine = self._written
        with self._lock:
            fresh = self.current if self.current.writes >= mine else self._publish_locked()
        self.store.settle()  # other workers hear of it before the client is told
        return fresh

    def publish(self, *, only_if_changed_elsewhere: bool = False) -> Snapshot:
        """The store's committed state, served from now on. With ``only_if_changed_elsewhere``, callers that
        queued behind a build find it done and do not repeat it."""
        with self._lock:
            current = self.current
            if only_if_changed_elsewhere and not self.store.changed_since(current.data.revision):
                return current
            return self._publish_locked()

    def _publish_locked(self) -> Snapshot:
        current = self.current
        writes = self._written  # read before the store: every write counted here has committed
        fresh = self._snapshot(refreshed(current.data, self.store, self.settings), writes)
        self._current = fresh  # the one reference every request reads
        return fresh

    def _snapshot(self, data: ServiceData, writes: int = 0) -> Snapshot:
        # the tiles are made from the data alone; what they share with the snapshot before is in ``data.memo``
        tiles = TileService(data, self._cache_bytes)
        # the default coverage layers, built here rather than by the first tile request after the swap
        tiles.layer_version("coverage")
        return Snapshot(data, tiles, writes)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    @property
    def _cache_bytes(self) -> int:
        return self.settings.tile_cache_mb * 2**20


def _release_free_memory() -> None:
    """Hand back to the system the heap that start-up used for a while (parsing, building tables) and freed:
    glibc keeps it otherwise, and it counts in every worker's resident memory (about 10 MB nationally). A no-op
    where the C library has no malloc_trim."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
