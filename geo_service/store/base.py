"""What every project store does (SQLite embedded, PostGIS shared): the rules of a write live here, once; a
backend brings its transactions, its rows and its way of following other processes' commits."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from geo_service.errors import ConflictError, NotFoundError, PreconditionFailedError
from geo_service.projects.models import ProjectRecord
from geo_service.territories import Boundaries


@dataclass(frozen=True)
class Change:
    version: int
    action: str  # seed, create, update, import, delete, restore
    record: dict
    deleted: bool
    at: str
    by: str
    note: str | None = None  # why, beyond the action: an import names its file


class StoredRow(NamedTuple):
    record: ProjectRecord
    deleted: bool
    version: int


class StoreState(NamedTuple):
    """The live records in the order they were first written, each one's version, the store's revision and its
    latest write (a create, an edit, an import, a deletion: ISO 8601, UTC; None in an empty history), read together
    in one transaction."""

    records: list[ProjectRecord]
    versions: dict[str, int]
    revision: int
    written_at: str | None = None


# If-Match: '*' (any current version) or the versions the client read; None: no condition.
Expected = str | list[int] | None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ImportsMixin:
    """Import previews (``projects.imports``) kept in the store, so that any worker carries one on, until they are
    committed, abandoned or expired; their commit, in one write transaction with every project it writes."""

    def save_import(self: Any, document: dict) -> None:
        with self._import_transaction() as conn:
            self._purge_imports(conn, now())
            document["rev"] = 1
            self._put_import(conn, document, False)

    def load_import(self: Any, import_id: str) -> dict:
        # in a transaction of its own: SQLite shares one connection, whose open write must not be read half-done
        with self._import_transaction() as conn:
            return _live_import(self._import_row(conn, import_id), import_id)

    def replace_import(self: Any, document: dict) -> dict:
        """Store the recomputed preview, unless another request changed or committed it since it was read (its
        ``rev``): then 409, and the client reads it again."""
        import_id = document["id"]
        with self._import_transaction() as conn:
            stored = _live_import(self._import_row(conn, import_id), import_id)
            if stored.get("committed"):
                raise ConflictError(f"l'import {import_id} est déjà validé : il ne change plus")
            if stored.get("rev") != document.get("rev"):
                raise ConflictError(f"l'aperçu {import_id} a changé entre-temps (autre onglet ?) : rechargez-le")
            document["rev"] = stored["rev"] + 1
            self._put_import(conn, document, False)
        return document

    def delete_import(self: Any, import_id: str) -> None:
        with self._import_transaction() as conn:
            stored = _live_import(self._import_row(conn, import_id), import_id)
            if stored.get("committed"):
                raise ConflictError(f"l'import {import_id} est déjà validé : il ne s'abandonne plus")
            self._purge_imports(conn, now(), import_id)

    def commit_import(
        self: Any,
        import_id: str,
        writes: list[tuple[int, ProjectRecord, str, int | None]],
        by: str,
        note: str,
    ) -> dict:
        """Every row of the preview in ONE write transaction, or nothing: (row, record, action, version the
        update was computed on). A create finds its id free, an update its project at that version, else 409
        naming the row; the preview is marked committed in the same transaction, so a second commit (or one
        racing this one) gets 409. Returns the counts."""
        created, updated, unchanged, ids = 0, 0, 0, []
        with self._write_transaction() as conn:
            document = _live_import(self._import_row(conn, import_id), import_id)
            if document.get("committed"):
                raise ConflictError(f"l'import {import_id} est déjà validé : rien n'a été écrit une seconde fois")
            for number, record, action, base in writes:
                row = self._row(conn, record.id)
                if action == "create":
                    if row is not None:
                        raise ConflictError(
                            f"ligne {number} : l'identifiant « {record.id} » a été pris depuis l'aperçu ; rien n'a "
                            "été importé : rouvrez l'aperçu pour le voir tel qu'il est maintenant"
                        )
                    self._write(conn, record.id, record, "import", by, deleted=False, version=1, note=note)
                    created += 1
                elif row is None or row.deleted or (action == "update" and row.version != base):
                    raise ConflictError(
                        f"ligne {number} : le projet « {record.id} » a changé depuis l'aperçu ; rien n'a été "
                        "importé : rouvrez l'aperçu pour le voir tel qu'il est maintenant"
                    )
                elif action == "update":
                    version = row.version + 1
                    self._write(conn, record.id, record, "import", by, deleted=False, version=version, note=note)
                    updated += 1
                else:
                    unchanged += 1
                ids.append(record.id)
            result = {"created": created, "updated": updated, "unchanged": unchanged, "projects": ids}
            document["committed"] = True
            document["result"] = result | {"at": now(), "by": by}
            document["rev"] = document.get("rev", 0) + 1
            self._put_import(conn, document, True)
        return result


def _live_import(found: tuple[dict, bool, str] | None, import_id: str) -> dict:
    if found is None or datetime.fromisoformat(found[2]) < datetime.now(UTC):
        raise NotFoundError(f"aucun import en cours n'a l'identifiant « {import_id} » (abandonné, ou expiré)")
    document, committed, _ = found
    document["committed"] = committed
    return document


class ProjectStore(ImportsMixin, ABC):
    """Projects with their history; every write is one transaction, acknowledged once committed."""

    # How often the served data asks ``changed_since()`` (0: on every request).
    watch_interval_s: float
    # the live records parsed at the last state(), by their stored JSON text (see _state)
    _parsed: dict[str, ProjectRecord] = {}  # noqa: RUF012 (replaced, never mutated)

    # -- what a backend provides ----------------------------------------------------------------------------------

    @abstractmethod
    def _write_transaction(self) -> AbstractContextManager[Any]:
        """A transaction that no other write can interleave with; yields the connection."""

    @abstractmethod
    def _read_connection(self) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _row(self, conn: Any, project_id: str) -> StoredRow | None:
        """The project's row, locked until the transaction ends where the backend locks rows."""

    @abstractmethod
    def _write(
        self,
        conn: Any,
        project_id: str,
        record: ProjectRecord,
        action: str,
        by: str,
        deleted: bool,
        version: int,
        note: str | None = None,
    ) -> None:
        """Upsert the project's row and append the version to its history."""

    @abstractmethod
    def _import_transaction(self) -> AbstractContextManager[Any]:
        """A transaction for import previews only: no other write interleaves, but it is no change of the data
        (PostGIS does not bump the revision workers rebuild on)."""

    @abstractmethod
    def _import_row(self, conn: Any, import_id: str) -> tuple[dict, bool, str] | None:
        """(document, committed, expires_at ISO) of an import preview, locked until the transaction ends where the
        backend locks rows; None if there is none."""

    @abstractmethod
    def _put_import(self, conn: Any, document: dict, committed: bool) -> None:
        """Insert or replace an import preview (its id, rev and expires_at are in the document)."""

    @abstractmethod
    def _purge_imports(self, conn: Any, before: str, import_id: str | None = None) -> None:
        """Forget the previews that expired before ``before`` (ISO), or only ``import_id`` whatever its expiry."""

    @abstractmethod
    def known_ids(self) -> set[str]:
        """Every project id the store holds, deleted projects included (they keep their id)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def watch(self, on_change: Callable[[], object] | None = None) -> None:
        """Start following other processes' commits (a serving process calls it once); ``on_change``, if the
        store can tell by itself, is called when they happen."""

    def settle(self) -> None:
        """After a write: wait until other workers can have heard of it (see PostgisStore.settle); nothing to
        wait for by default."""

    @abstractmethod
    def changed_since(self, revision: int) -> bool:
        """Whether another process committed since the ``snapshot()`` that gave ``revision``."""

    @abstractmethod
    def boundaries(self, seed_folder: Path) -> Boundaries:
        """The boundaries to serve; ``seed_folder`` is where the embedded build lives."""

    @abstractmethod
    def boundaries_version(self) -> str | None:
        """The version of the stored boundaries, or None when they are files that do not change under a server."""

    @abstractmethod
    def is_empty(self) -> bool: ...

    @abstractmethod
    def seed(self, records: list[ProjectRecord], by: str = "seed") -> bool:
        """All records in one transaction, only if the store is still empty (another process may have seeded it
        meanwhile). A failed seed leaves the store empty, to be seeded again. Returns whether it seeded."""

    @abstractmethod
    def state(self) -> StoreState:
        """The live records with their versions and the revision they are at, read together."""

    @abstractmethod
    def history(self, project_id: str) -> list[Change]: ...

    # -- the rules, the same on every backend ---------------------------------------------------------------------

    def _state(self, rows: list[tuple[str, int]], revision: int, written_at: str | None) -> StoreState:
        """The state from (record as JSON text, version) rows. Records whose text was there at the previous call
        are not parsed again: every write reads the whole state, and validating each record was the part that
        grew with the number of projects. Records are never modified in place, so sharing them is safe."""
        known = self._parsed
        fresh = {text: known.get(text) or ProjectRecord.model_validate_json(text) for text, _ in rows}
        self._parsed = fresh
        records = [fresh[text] for text, _ in rows]
        versions = {r.id: row[1] for r, row in zip(records, rows, strict=True)}
        return StoreState(records, versions, revision, written_at)

    def snapshot(self) -> tuple[list[ProjectRecord], int]:
        """The live records, in the order they were first written, and the revision they are at, read together."""
        state = self.state()
        return state.records, state.revision

    def records(self) -> list[ProjectRecord]:
        return self.state().records

    def _current(self, conn: Any, project_id: str) -> StoredRow:
        row = self._row(conn, project_id)
        if row is None:
            raise no_such_project(project_id)
        if row.deleted:
            restore = f"POST /api/v1/projects/{project_id}/restore"
            raise NotFoundError(f"project {project_id!r} is deleted; {restore} brings it back")
        return row

    def current(self, project_id: str) -> ProjectRecord:
        with self._read_connection() as conn:
            return self._current(conn, project_id).record

    def create(self, record: ProjectRecord, by: str) -> None:
        with self._write_transaction() as conn:
            if self._row(conn, record.id) is not None:
                raise ConflictError(f"id {record.id!r} is already used (a deleted project keeps its id: restore it)")
            self._write(conn, record.id, record, "create", by, deleted=False, version=1)

    def version(self, project_id: str) -> int:
        """The live project's current version (its ETag)."""
        with self._read_connection() as conn:
            return self._current(conn, project_id).version

    def replace(self, project_id: str, record: ProjectRecord, by: str, if_match: Expected = None) -> int:
        """Returns the new version."""
        return self.update(project_id, lambda _: record, by, if_match)

    def update(
        self,
        project_id: str,
        change: Callable[[ProjectRecord], ProjectRecord],
        by: str,
        if_match: Expected = None,
    ) -> int:
        """Read, change and write the project in one write transaction, so that two edits of the same project never
        lose each other: the second reads what the first wrote. ``change`` may refuse (raise) and nothing is
        written. With ``if_match``, a project at another version is refused (412). Returns the new version."""
        with self._write_transaction() as conn:
            row = self._current(conn, project_id)
            _check_version(project_id, row.version, if_match)
            record = change(row.record)
            if record.id != project_id:
                raise ConflictError(f"a project's id cannot change ({project_id!r} -> {record.id!r})")
            self._write(conn, project_id, record, "update", by, deleted=False, version=row.version + 1)
            return row.version + 1

    def delete(self, project_id: str, by: str, if_match: Expected = None) -> None:
        with self._write_transaction() as conn:
            row = self._current(conn, project_id)
            _check_version(project_id, row.version, if_match)
            self._write(conn, project_id, row.record, "delete", by, deleted=True, version=row.version + 1)

    def restore(self, project_id: str, by: str) -> None:
        with self._write_transaction() as conn:
            row = self._row(conn, project_id)
            if row is None:
                raise no_such_project(project_id)
            if not row.deleted:
                raise ConflictError(f"project {project_id!r} is not deleted")
            self._write(conn, project_id, row.record, "restore", by, deleted=False, version=row.version + 1)

    def upsert_many(self, records: list[ProjectRecord], by: str) -> tuple[int, int]:
        """Create or replace every record in one transaction: all of them, or none; a record equal to the stored one
        is left as it is (no new version). Returns (created, updated)."""
        created = updated = 0
        with self._write_transaction() as conn:
            for record in records:
                row = self._row(conn, record.id)
                if row is None:
                    self._write(conn, record.id, record, "create", by, deleted=False, version=1)
                    created += 1
                elif row.deleted or row.record != record:
                    self._write(conn, record.id, record, "import", by, deleted=False, version=row.version + 1)
                    updated += 1
                # the same record again (an export imported back): no new version, nothing to publish
        return created, updated


def no_such_project(project_id: str) -> NotFoundError:
    return NotFoundError(f"no project with id {project_id!r}")


def _check_version(project_id: str, version: int, if_match: Expected) -> None:
    if if_match is None or if_match == "*" or (isinstance(if_match, list) and version in if_match):
        return
    raise PreconditionFailedError(
        f"project {project_id!r} is at version {version}, not {if_match}: read it again (GET) and redo the change"
    )
