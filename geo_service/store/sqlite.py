"""The embedded project store: SQLite in WAL mode, every write a transaction, every change kept in history.

A write is acknowledged only once SQLite has committed it (``synchronous=FULL``), so a process killed at any
moment loses nothing it acknowledged and never leaves a half-written project: the previous state stays intact.
Boundaries stay in ``data/boundaries`` (files); several processes may share the file, and see each other's
commits within ``watch_interval_s``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from geo_service.errors import DataError
from geo_service.projects.models import ProjectRecord
from geo_service.store.base import Change, ProjectStore, StoredRow, StoreState, no_such_project, now
from geo_service.territories import Boundaries

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    project_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    record TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    PRIMARY KEY (project_id, version)
);
CREATE TABLE IF NOT EXISTS imports (
    id TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    committed INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL
);
"""
# Columns added after the first release: (table, column, definition); a store made before gets them on open.
ADDED_COLUMNS = (("history", "note", "TEXT"),)


def _dump(record: ProjectRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


class SqliteStore(ProjectStore):
    """Projects and their history in one SQLite file (boundaries stay in files)."""

    # PRAGMA data_version takes the connection's lock, which a write may hold through an fsync: checked at most once
    # a second so that the event loop never waits on it.
    watch_interval_s = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._add_columns()
        except sqlite3.DatabaseError as exc:
            raise DataError(f"cannot open the project store {path}: {exc}") from exc

    def _add_columns(self) -> None:
        for table, column, definition in ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column in present:
                continue
            try:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            except sqlite3.OperationalError as exc:  # another process opening the same file added it meanwhile
                if "duplicate column" not in str(exc):
                    raise

    def close(self) -> None:
        self._db.close()

    def watch(self, on_change: Callable[[], object] | None = None) -> None:
        """Nothing to start: SQLite cannot tell by itself; ``changed_since()`` asks it directly."""

    def boundaries(self, seed_folder: Path) -> Boundaries:
        return Boundaries.load(seed_folder)

    def boundaries_version(self) -> None:
        return None

    def _data_version(self) -> int:
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def changed_since(self, revision: int) -> bool:
        """Whether another connection (``geo-service import``, another process) committed since the snapshot
        that gave ``revision``. SQLite's data_version moves only for other connections' commits: our own writes
        do not count, and are published by the request that made them."""
        with self._lock:
            return self._data_version() != revision

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes SQLite's write lock at once: no other process can write in between
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def is_empty(self) -> bool:
        return self._db.execute("SELECT count(*) FROM projects").fetchone()[0] == 0

    @contextmanager
    def _read_connection(self) -> Iterator[sqlite3.Connection]:
        yield self._db

    def seed(self, records: list[ProjectRecord], by: str = "seed") -> bool:
        with self._write_transaction() as db:
            if db.execute("SELECT count(*) FROM projects").fetchone()[0]:
                return False
            for record in records:
                self._write(db, record.id, record, "seed", by, deleted=False, version=1)
        return True

    def state(self) -> StoreState:
        with self._lock:
            sql = "SELECT record, version FROM projects WHERE deleted = 0 ORDER BY rowid"
            rows = self._db.execute(sql).fetchall()
            revision = self._data_version()
            written_at = self._db.execute("SELECT max(at) FROM history").fetchone()[0]
        return self._state(rows, revision, written_at)

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def _row(self, db: sqlite3.Connection, project_id: str) -> StoredRow | None:
        row = db.execute("SELECT record, deleted, version FROM projects WHERE id = ?", (project_id,)).fetchone()
        return None if row is None else StoredRow(ProjectRecord.model_validate_json(row[0]), bool(row[1]), row[2])

    def _write(
        self,
        db: sqlite3.Connection,
        project_id: str,
        record: ProjectRecord,
        action: str,
        by: str,
        deleted: bool,
        version: int,
        note: str | None = None,
    ) -> None:
        at = now()
        db.execute(
            "INSERT INTO projects (id, record, deleted, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET record = excluded.record, deleted = excluded.deleted, "
            "version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (project_id, _dump(record), int(deleted), version, at, by),
        )
        db.execute(
            "INSERT INTO history (project_id, version, action, record, deleted, at, by, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (project_id, version, action, _dump(record), int(deleted), at, by, note),
        )

    def history(self, project_id: str) -> list[Change]:
        rows = self._db.execute(
            "SELECT version, action, record, deleted, at, by, note FROM history WHERE project_id = ? ORDER BY version",
            (project_id,),
        ).fetchall()
        if not rows:
            raise no_such_project(project_id)
        return [Change(v, a, json.loads(r), bool(d), at, by, n) for v, a, r, d, at, by, n in rows]

    def known_ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM projects")}

    # -- import previews ------------------------------------------------------------------------------------------

    def _import_transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._write_transaction()

    def _import_row(self, db: sqlite3.Connection, import_id: str) -> tuple[dict, bool, str] | None:
        sql = "SELECT document, committed, expires_at FROM imports WHERE id = ?"
        row = db.execute(sql, (import_id,)).fetchone()
        return None if row is None else (json.loads(row[0]), bool(row[1]), row[2])

    def _put_import(self, db: sqlite3.Connection, document: dict, committed: bool) -> None:
        db.execute(
            "INSERT INTO imports (id, document, committed, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO "
            "UPDATE SET document = excluded.document, committed = excluded.committed",
            (document["id"], json.dumps(document, ensure_ascii=False), int(committed), document["expires_at"]),
        )

    def _purge_imports(self, db: sqlite3.Connection, before: str, import_id: str | None = None) -> None:
        if import_id is not None:
            db.execute("DELETE FROM imports WHERE id = ?", (import_id,))
        else:
            db.execute("DELETE FROM imports WHERE expires_at < ?", (before,))
