"""What is served, as one immutable value, and the one place that builds it and swaps it in.

A ``Snapshot`` holds everything a request may read: boundaries, geocoder, projects, coverage (with its caches),
the tile layers and their versions. The ``Publisher`` builds a new snapshot after a write (or another process's
commit) from the store's committed state, re-deriving only what changed (see ``ProjectCatalogue.from_records``
and ``TileService``), and replaces the current one with a single assignment: a request that took the snapshot
once sees one version from its first byte to its last, whatever is published meanwhile. Nothing here knows
about the web: the API only asks the publisher for ``current`` and to ``publish``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass

from geo_service.service import ServiceData, load_service_data, refreshed
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

    @property
    def current(self) -> Snapshot:
        if self._current is None:
            raise RuntimeError("the publisher has not started: call start() first")
        return self._current

    @property
    def store(self) -> ProjectStore | None:
        return self.current.data.store

    def start(self) -> Snapshot:
        self._current = self._snapshot(load_service_data(self.settings))
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
        if fresh.data.store is not None:
            fresh.data.store.settle()  # other workers hear of it before the client is told
        return fresh

    def publish(self, *, only_if_changed_elsewhere: bool = False) -> Snapshot:
        """The store's committed state, served from now on. With ``only_if_changed_elsewhere``, callers that
        queued behind a build find it done and do not repeat it."""
        with self._lock:
            current = self.current
            store = current.data.store
            if store is None or (only_if_changed_elsewhere and not store.changed_since(current.data.revision)):
                return current
            return self._publish_locked()

    def _publish_locked(self) -> Snapshot:
        current = self.current
        writes = self._written  # read before the store: every write counted here has committed
        fresh = self._snapshot(refreshed(current.data, self.settings), writes)
        self._current = fresh  # the one reference every request reads
        return fresh

    def _snapshot(self, data: ServiceData, writes: int = 0) -> Snapshot:
        # the tiles are made from the data alone; what they share with the snapshot before is in ``data.memo``
        tiles = TileService(data, self._cache_bytes)
        # the default coverage layers, built here rather than by the first tile request after the swap
        tiles.layer_version("coverage")
        return Snapshot(data, tiles, writes)

    def close(self) -> None:
        if self._current is not None and self._current.data.store is not None:
            self._current.data.store.close()

    @property
    def _cache_bytes(self) -> int:
        return self.settings.tile_cache_mb * 2**20


def _release_free_memory() -> None:
    """Hand back to the system the heap that start-up used for a while (parsing, building tables) and freed:
    glibc keeps it otherwise, and it counts in every worker's resident memory (about 10 MB nationally). A no-op
    where the C library has no malloc_trim."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
