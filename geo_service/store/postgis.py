"""The shared store: projects, their history and the boundaries in PostgreSQL + PostGIS, for several workers.

Every worker keeps what it serves in memory (geocoder, coverage, tiles) and rebuilds it when the data revision
in the database moves. Each write bumps that revision in its own transaction and announces it with NOTIFY; one
listening connection per worker hears it and ``changed_since()`` is then a comparison of two integers, cheap
enough to ask on every request (a SELECT per request would cost a round trip to PostgreSQL on every tile).
The schema is created or migrated on start, under an advisory lock, so workers starting together agree.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import shapely
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from boundaries.packed import PackedLevel, PackError, open_packed
from boundaries.sources import sha256_of
from geo_service.errors import ConflictError, DataError
from geo_service.projects.models import ProjectRecord
from geo_service.settings import without_password
from geo_service.store.base import Change, ProjectStore, StoredRow, StoreState, no_such_project
from geo_service.territories import LEVELS, Boundaries, read_build

logger = logging.getLogger("geo_service")

CHANNEL = "geo_service_revision"
# where workers keep the packed boundaries they read from the database, by checksum (checked on every start)
PACKED_CACHE = Path(tempfile.gettempdir()) / f"geo-service-packed-{os.getuid()}"
PACKED_SLICE = 2**20
POOL_TIMEOUT_S = 5.0  # a request waits this long for a connection before a 503
# Any fixed number: the advisory lock that serialises schema migrations and first-start seeding between workers.
SETUP_LOCK = 0x6D6D7074
# Each migration runs once, in order, in one transaction; append, never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE EXTENSION IF NOT EXISTS postgis;
    CREATE TABLE data_revision (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        revision bigint NOT NULL
    );
    INSERT INTO data_revision VALUES (true, 0);
    CREATE TABLE projects (
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id text PRIMARY KEY,
        record jsonb NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        version integer NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL
    );
    CREATE TABLE project_history (
        project_id text NOT NULL,
        version integer NOT NULL,
        action text NOT NULL,
        record jsonb NOT NULL,
        deleted boolean NOT NULL,
        at timestamptz NOT NULL,
        by text NOT NULL,
        PRIMARY KEY (project_id, version)
    );
    CREATE TABLE boundary_set (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        manifest text NOT NULL,
        version text NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
    );
    -- properties are json, not jsonb: json keeps the key order, so a level reads back exactly as its file
    CREATE TABLE boundaries (
        level text NOT NULL,
        code text NOT NULL,
        name text NOT NULL,
        properties json NOT NULL,
        geom geometry(Geometry, 4326),
        PRIMARY KEY (level, code)
    );
    CREATE INDEX boundaries_geom ON boundaries USING gist (geom);
    """,
    # each level packed for serving (boundaries.packed), as build-boundaries wrote it: what workers start from
    """
    CREATE TABLE boundary_packed (
        level text PRIMARY KEY,
        sha256 text NOT NULL,
        content bytea NOT NULL
    );
    -- stored uncompressed (WKB barely compresses): workers read it in slices, which then cost no decompression
    ALTER TABLE boundary_packed ALTER COLUMN content SET STORAGE EXTERNAL;
    """,
    # spreadsheet imports: previews kept until committed or expired (projects.imports); a history version may say
    # why beyond its action (an import names its file)
    """
    ALTER TABLE project_history ADD COLUMN note text;
    CREATE TABLE imports (
        id text PRIMARY KEY,
        document jsonb NOT NULL,
        committed boolean NOT NULL DEFAULT false,
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX imports_expires_at ON imports (expires_at);
    """,
)


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds")


class PostgisStore(ProjectStore):
    """Projects, history, boundaries and the data revision in one PostgreSQL database with PostGIS."""

    watch_interval_s = 0.0  # changed_since() reads memory only

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            check=ConnectionPool.check_connection,  # a restarted PostgreSQL costs one retry, not an error
            timeout=POOL_TIMEOUT_S,
            kwargs={"connect_timeout": 10, "application_name": "geo-service"},
        )
        try:
            self._pool.open(wait=True, timeout=15)
        except PoolTimeout as exc:
            where = without_password(url)
            raise DataError(f"cannot connect to PostgreSQL at {where} (GEO_SERVICE_DATABASE_URL)") from exc
        try:
            self._migrate()
            self._latest_revision = self.revision()
        except BaseException:
            self._pool.close()
            raise
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._on_change: Callable[[], object] | None = None
        # the last revision this process committed, and the last one its listener heard (see settle)
        self._committed = 0
        self._heard_here = 0
        self._hearing = threading.Condition()

    def watch(self, on_change: Callable[[], object] | None = None) -> None:
        if self._listener is None:
            self._on_change = on_change
            self._listener = threading.Thread(target=self._listen, name="geo-service-listen", daemon=True)
            self._listener.start()

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        self._pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; PostgreSQL out of reach is a 503 naming the database, not a 500."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise DataError(f"the database {without_password(self.url)} is out of reach or failed: {exc}") from exc

    # -- schema ---------------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            done = row[0] or 0
            if done > len(MIGRATIONS):
                raise DataError(
                    f"the database schema is at version {done}, newer than this geo-service ({len(MIGRATIONS)})"
                )
            for number, sql in enumerate(MIGRATIONS[done:], start=done + 1):
                logger.info("migrating the database schema to version %d", number)
                conn.execute(sql)
                conn.execute("INSERT INTO schema_version VALUES (%s)", (number,))

    def schema_version(self) -> int:
        with self._connection() as conn:
            return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]

    # -- the data revision ----------------------------------------------------------------------------------------

    def revision(self) -> int:
        with self._connection() as conn:
            return conn.execute("SELECT revision FROM data_revision").fetchone()[0]

    def _heard(self, revision: int) -> None:
        self._latest_revision = max(self._latest_revision, revision)

    def _listen(self) -> None:
        """One connection per worker LISTENs; on reconnect the revision is read again, so a missed notification
        (PostgreSQL restarted) is caught up at once."""
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
                    # what was known before listening: a commit made while the channel was not yet (or no longer)
                    # open is announced too, once the revision is read below
                    announced = self._latest_revision
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listener_heard(conn.execute("SELECT revision FROM data_revision").fetchone()[0])
                    while not self._stop.is_set():
                        if self._latest_revision > announced:
                            announced = self._latest_revision
                            self._announce()
                        for notice in conn.notifies(timeout=1.0, stop_after=1):
                            self._listener_heard(int(notice.payload))
            except psycopg.Error as exc:
                logger.warning("lost the PostgreSQL notification channel (%s); reconnecting", exc)
                self._stop.wait(1.0)

    def _listener_heard(self, revision: int) -> None:
        self._heard(revision)
        with self._hearing:
            self._heard_here = max(self._heard_here, revision)
            self._hearing.notify_all()

    def settle(self, timeout_s: float = 0.5) -> None:
        """Wait until this worker's own listener has heard its last commit. Every worker's listener gets the
        notification from PostgreSQL at the same moment: once ours has it, the others have it too (give or take
        their thread's turn), so a client told "done" that asks another worker next finds the write there. Without
        this, a publish quicker than the notification's way to the other worker left a short window (seen in CI)."""
        if self._listener is None:
            return
        with self._hearing:
            self._hearing.wait_for(lambda: self._heard_here >= self._committed, timeout=timeout_s)

    def _announce(self) -> None:
        """Let the worker rebuild as soon as a commit is heard, so that the next request rarely has to wait for it
        (a request that comes during the rebuild waits for it: never an answer from before the write)."""
        if self._on_change is None:
            return
        try:
            self._on_change()
        except Exception:  # the request path rebuilds and reports on its own; the listener must live on
            logger.exception("rebuilding after another worker's write failed")

    def changed_since(self, revision: int) -> bool:
        """Whether the database moved past the snapshot that gave ``revision`` (a write through any worker, an
        import, a boundaries load)."""
        return self._latest_revision > revision

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        try:
            with self._connection() as conn, conn.transaction():
                yield conn
        except psycopg.errors.UniqueViolation as exc:  # only a concurrent write of the same project gets here
            constraint = exc.diag.constraint_name
            raise ConflictError(f"the project changed during this write, try again ({constraint})") from exc

    def _bump(self, conn: psycopg.Connection) -> int:
        """Every write starts here: updating the one revision row also puts all writes, from any worker, in one
        line; the notification leaves when the transaction commits, never before."""
        revision = conn.execute("UPDATE data_revision SET revision = revision + 1 RETURNING revision").fetchone()[0]
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(revision)))
        return revision

    @contextmanager
    def _write_transaction(self) -> Iterator[psycopg.Connection]:
        with self._transaction() as conn:
            revision = self._bump(conn)
            yield conn
        self._committed = max(self._committed, revision)  # committed: the notification is on its way

    # -- projects -------------------------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with self._connection() as conn:
            return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM projects)").fetchone()[0]

    def seed(self, records: list[ProjectRecord], by: str = "seed") -> bool:
        with self._transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            if conn.execute("SELECT EXISTS (SELECT 1 FROM projects)").fetchone()[0]:
                return False
            self._bump(conn)
            for record in records:
                self._write(conn, record.id, record, "seed", by, deleted=False, version=1)
        return True

    def state(self) -> StoreState:
        # one transaction for the rows and the revision, so that what is served is labelled with what it holds
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            revision = conn.execute("SELECT revision FROM data_revision").fetchone()[0]
            sql = "SELECT record::text, version FROM projects WHERE NOT deleted ORDER BY seq"
            rows = conn.execute(sql).fetchall()
            latest = conn.execute("SELECT max(at) FROM project_history").fetchone()[0]
        self._heard(revision)
        return self._state(rows, revision, None if latest is None else _iso(latest))

    def _read_connection(self) -> AbstractContextManager[psycopg.Connection]:
        return self._connection()

    def _row(self, conn: psycopg.Connection, project_id: str) -> StoredRow | None:
        # FOR UPDATE: in a write the row stays ours until it commits; a plain read waits for a write in progress
        sql = "SELECT record, deleted, version FROM projects WHERE id = %s FOR UPDATE"
        row = conn.execute(sql, (project_id,)).fetchone()
        return None if row is None else StoredRow(ProjectRecord.model_validate(row[0]), row[1], row[2])

    def _write(
        self,
        conn: psycopg.Connection,
        project_id: str,
        record: ProjectRecord,
        action: str,
        by: str,
        deleted: bool,
        version: int,
        note: str | None = None,
    ) -> None:
        document = Jsonb(record.model_dump(mode="json"))
        conn.execute(
            "INSERT INTO projects (id, record, deleted, version, updated_at, updated_by) "
            "VALUES (%s, %s, %s, %s, now(), %s) "
            "ON CONFLICT (id) DO UPDATE SET record = excluded.record, deleted = excluded.deleted, "
            "version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (project_id, document, deleted, version, by),
        )
        conn.execute(
            "INSERT INTO project_history (project_id, version, action, record, deleted, at, by, note) "
            "VALUES (%s, %s, %s, %s, %s, now(), %s, %s)",
            (project_id, version, action, document, deleted, by, note),
        )

    def history(self, project_id: str) -> list[Change]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT version, action, record, deleted, at, by, note FROM project_history "
                "WHERE project_id = %s ORDER BY version",
                (project_id,),
            ).fetchall()
        if not rows:
            raise no_such_project(project_id)
        return [Change(v, a, r, d, _iso(at), by, n) for v, a, r, d, at, by, n in rows]

    def known_ids(self) -> set[str]:
        with self._connection() as conn:
            return {row[0] for row in conn.execute("SELECT id FROM projects").fetchall()}

    # -- import previews ------------------------------------------------------------------------------------------

    def _import_transaction(self) -> AbstractContextManager[psycopg.Connection]:
        return self._transaction()  # no revision bump: a preview changes nothing served

    def _import_row(self, conn: psycopg.Connection, import_id: str) -> tuple[dict, bool, str] | None:
        if "\x00" in import_id:  # PostgreSQL takes no NUL in a query's text: such an id names no import
            return None
        # FOR UPDATE: two commits of one preview queue here; the second reads it committed
        sql = "SELECT document, committed, expires_at FROM imports WHERE id = %s FOR UPDATE"
        row = conn.execute(sql, (import_id,)).fetchone()
        return None if row is None else (row[0], row[1], _iso(row[2]))

    def _put_import(self, conn: psycopg.Connection, document: dict, committed: bool) -> None:
        conn.execute(
            "INSERT INTO imports (id, document, committed, expires_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET document = excluded.document, committed = excluded.committed",
            (document["id"], Jsonb(document), committed, document["expires_at"]),
        )

    def _purge_imports(self, conn: psycopg.Connection, before: str, import_id: str | None = None) -> None:
        if import_id is not None:
            conn.execute("DELETE FROM imports WHERE id = %s", (import_id,))
        else:
            conn.execute("DELETE FROM imports WHERE expires_at < %s", (before,))

    # -- boundaries -----------------------------------------------------------------------------------------------

    def boundaries_version(self) -> str | None:
        with self._connection() as conn:
            row = conn.execute("SELECT version FROM boundary_set").fetchone()
        return None if row is None else row[0]

    def load_boundaries(self, folder: Path, *, only_if_empty: bool = False) -> Boundaries | None:
        """Replace the boundaries with a built folder (checked against its manifest first), in one transaction:
        workers keep serving the previous set until it commits, then rebuild. Returns what it loaded, if it did."""
        if only_if_empty and self.boundaries_version() is not None:
            return None
        build = read_build(folder)  # checked once: the frames, the rows and the packed files all come from it
        boundaries = Boundaries.from_packed(build.manifest, build.levels)
        manifest = json.loads(build.manifest)
        with self._transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            if only_if_empty and conn.execute("SELECT EXISTS (SELECT 1 FROM boundary_set)").fetchone()[0]:
                return None
            self._bump(conn)
            conn.execute("DELETE FROM boundaries")
            conn.execute("DELETE FROM boundary_set")
            conn.execute("DELETE FROM boundary_packed")
            with conn.cursor().copy("COPY boundaries (level, code, name, properties, geom) FROM STDIN") as copy:
                for level in LEVELS:
                    # the properties exactly as the file has them; the geometries as already parsed, in EWKB
                    frame = boundaries.level(level)
                    ewkb = shapely.to_wkb(shapely.set_srid(frame.geometry.values, 4326), hex=True, include_srid=True)
                    ewkb_of = dict(zip(frame.index, ewkb, strict=True))
                    for props in build.levels[level].properties():
                        text = json.dumps(props, ensure_ascii=False)
                        copy.write_row((level, props["code"], props["name"], text, ewkb_of[props["code"]]))
            for level, path in build.packed_files.items():
                conn.execute(
                    "INSERT INTO boundary_packed (level, sha256, content) VALUES (%s, %s, %s)",
                    (level, manifest["packed"][level]["sha256"], path.read_bytes()),
                )
            conn.execute(
                "INSERT INTO boundary_set (manifest, version) VALUES (%s, %s)",
                (build.manifest.decode("utf-8"), boundaries.version),
            )
        return boundaries

    def _packed_level(self, conn: psycopg.Connection, level: str, sha256: str) -> PackedLevel:
        """A packed level, copied once into a local file named by its checksum and mapped from there: workers
        share the pages, and a restart reads nothing from the database but the checksums."""
        PACKED_CACHE.mkdir(parents=True, exist_ok=True)
        path = PACKED_CACHE / f"{sha256}.packed"
        if not (path.is_file() and sha256_of(path) == sha256):
            # in slices: the commune level of France is about 100 MB, which a worker need not hold at once
            size = conn.execute("SELECT octet_length(content) FROM boundary_packed WHERE level = %s", (level,))
            total = size.fetchone()[0]
            with tempfile.NamedTemporaryFile(dir=PACKED_CACHE, prefix=".packed-", delete=False) as fh:
                copy = Path(fh.name)
                try:
                    for start in range(0, total, PACKED_SLICE):
                        row = conn.execute(
                            "SELECT substring(content FROM %s FOR %s) FROM boundary_packed WHERE level = %s",
                            (start + 1, PACKED_SLICE, level),
                        ).fetchone()
                        fh.write(row[0])
                except BaseException:
                    copy.unlink(missing_ok=True)
                    raise
            if sha256_of(copy) != sha256:
                copy.unlink(missing_ok=True)
                raise DataError(f"the packed {level} boundaries in the database do not match their checksum")
            os.replace(copy, path)
        try:
            return open_packed(path)
        except PackError as exc:
            raise DataError(f"the packed {level} boundaries in the database are damaged: {exc}") from exc

    def boundaries(self, seed_folder: Path) -> Boundaries:
        """The stored boundaries; a database without any gets the embedded build first (workers starting together
        load it once: the load takes the setup lock and looks again)."""
        self.load_boundaries(seed_folder, only_if_empty=True)
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = conn.execute("SELECT manifest FROM boundary_set").fetchone()
            if row is None:
                where = without_password(self.url)
                raise DataError(f"no boundaries in {where}: load them with 'geo-service load-boundaries'")
            packed = dict(conn.execute("SELECT level, sha256 FROM boundary_packed").fetchall())
            if set(packed) == set(LEVELS):
                levels = {level: self._packed_level(conn, level, packed[level]) for level in LEVELS}
                return Boundaries.from_packed(row[0].encode("utf-8"), levels)
            # loaded by a version that stored no packed files: simplified here (slow for all of France)
            rows = conn.execute(
                "SELECT level, properties::text, ST_AsBinary(geom) FROM boundaries ORDER BY level, code"
            ).fetchall()
        return Boundaries.from_rows(row[0].encode("utf-8"), rows)
