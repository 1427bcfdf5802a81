"""One cache for what the service computes, owned by the snapshot and keyed by content.

The rules (coverage, catalogue, tile layers, encoded tiles) are functions of boundaries, projects and parameters,
and know nothing of the snapshot before theirs. What makes a write cheap is this memo: the rules ask it for a
result under a key that names the content the result is made from (a boundaries version, a project's digest,
the communes a set of projects reaches, a parameter set) and it either has it or makes it. The publisher hands
every snapshot it builds the same memo, so what a new snapshot's content shares with the previous one is found
and only what differs is computed; a key never names a snapshot, so a result can never be served for content
it was not made from.

Each kind of result has its own bound (a count of entries, least recently used first out): a parameter set's
figures weigh megabytes, a project's rows a few bytes. Two requests asking for the same missing entry make it
once: the second waits for the first. Nothing else in the service keeps state between requests (no module-level
dictionaries, no ``lru_cache`` on data): it lives here, and goes with the memo. What depends on no data at all is
made once per process where it is used, and says so: the fonts pictures are drawn with, the sprite sheet, the
folding of a word for the geocoder, an empty tile, the readers of the parameters' fields, the settings read from
the environment.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_LIMIT = 64
PARAMS_KEPT = 12  # parameter sets whose results are kept, per kind of result (see LIMITS)
# Entries kept per kind, where the default does not fit. Figures and tables are per parameter set, megabytes each
# nationally: a few sets are in use at a time (the defaults, a partner's), and random ones must not pile up.
LIMITS: dict[str, int] = {
    "coverage.figures": PARAMS_KEPT,
    "coverage.table": PARAMS_KEPT,
    "coverage.export": PARAMS_KEPT,
    "coverage.zones_blanches": PARAMS_KEPT,
    "coverage.distances": 16,
    "coverage.selection": 4,
    "coverage.counts": 4,
    "coverage.projected": 2,
    "coverage.outlines": 2,
    "catalogue.parents": 2,
    "labels": 2,
    # OGC tables: one per boundary level; the projects' and the default coverage's of the last few versions
    "ogc.boundary_table": 16,
    "ogc.projects_table": 4,
    "ogc.coverage_table": 4,
    "ogc.coverage_table_by_params": PARAMS_KEPT,
    "catalogue.answer": 256,  # filters are few, but q is free text
    # per project: as many as a catalogue has, and more; what the latest catalogue does not use is dropped by
    # ``retain`` (its areas weigh megabytes for a région-wide project), these bounds only stop a runaway
    "coverage.rows": 1_000_000,
    "catalogue.built": 1_000_000,
    "catalogue.dumped": 1_000_000,
    "catalogue.search_text": 1_000_000,
    "catalogue.fragment": 1_000_000,
    "catalogue.geocoding": 1_000_000,
    # tile layers (geo_service.tiles.layers): per boundaries; per parameter set, two each (a layer set drops
    # those of its parameters but its own and the one before, see LayerSet._forget_older_coverage); per project
    # content and per area, what the latest layer set does not use is dropped (``retain``)
    "tiles.boundary_layers": 2,
    "tiles.coverage_static": 2,
    "tiles.coverage": 2 * PARAMS_KEPT,
    "tiles.project_row": 1_000_000,
    "tiles.area": 1_000_000,
}


class HashedOnce:
    """A large content key (every project's communes, say) hashed once: the memo looks it up on every request,
    and Python hashes a tuple anew each time. Equal when the contents are equal, so two keys never collide."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: Hashable) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, HashedOnce)
            and self._hash == other._hash
            and (self.value is other.value or self.value == other.value)
        )


class Memo:
    """Results by (kind, content key), bounded per kind; safe to share between threads and snapshots."""

    def __init__(self, limits: Mapping[str, int] | None = None, default_limit: int = DEFAULT_LIMIT) -> None:
        self._limits = dict(LIMITS if limits is None else limits)
        self._default_limit = default_limit
        self._kinds: dict[str, OrderedDict[Hashable, Any]] = {}
        self._shared: dict[str, Any] = {}
        self._making: dict[tuple[str, Hashable], threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, key: Hashable, make: Callable[[], T]) -> T:
        """The result of ``kind`` for ``key``, made by ``make()`` (outside any lock) when the memo has none."""
        while True:
            with self._lock:
                entries = self._kinds.setdefault(kind, OrderedDict())
                if key in entries:
                    entries.move_to_end(key)
                    return entries[key]
                making = self._making.get((kind, key))
                if making is None:
                    making = self._making[(kind, key)] = threading.Event()
                    break
            making.wait()  # another thread makes it; if it failed, the loop tries again (and raises the same)
        try:
            value = make()
            with self._lock:
                entries = self._kinds.setdefault(kind, OrderedDict())
                entries[key] = value
                while len(entries) > self._limits.get(kind, self._default_limit):
                    entries.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._making[(kind, key)]
            making.set()

    def retain(self, kind: str, keys: set[Hashable], spare: int = 0) -> None:
        """Keep of ``kind`` the entries under ``keys`` (what the latest snapshot uses) and the ``spare`` most
        recently used others (a record checked by a write, to be found by the rebuild); drop the rest."""
        with self._lock:
            entries = self._kinds.get(kind)
            if not entries:
                return
            others = [key for key in entries if key not in keys]
            for key in others[: max(0, len(others) - spare)]:
                del entries[key]

    def peek(self, kind: str, key: Hashable) -> Any | None:
        """The entry if the memo holds it, without making it (None otherwise)."""
        with self._lock:
            return self._kinds.get(kind, {}).get(key)

    def entries(self, kind: str) -> list[tuple[Hashable, Any]]:
        """The entries of ``kind``, most recently used last: where a rule looks for a result to start from (the
        distances before a write, to search only what the write added)."""
        with self._lock:
            return list(self._kinds.get(kind, {}).items())

    def shared(self, kind: str, make: Callable[[], T]) -> T:
        """One object of ``kind`` for the memo's life, made on first use: a cache with its own bound in bytes
        (encoded tiles) that every snapshot consults under content keys."""
        with self._lock:
            if kind not in self._shared:
                self._shared[kind] = make()
            return self._shared[kind]

    def sizes(self) -> dict[str, int]:
        """Entries held per kind (what an operator or a test reads)."""
        with self._lock:
            return {kind: len(entries) for kind, entries in self._kinds.items() if entries}
