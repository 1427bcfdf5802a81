"""What every project store provides (SQLite embedded, PostGIS shared), and the errors they share word for word."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from geo_service.errors import ConflictError, NotFoundError
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


class ProjectStore(Protocol):
    """Projects with their history; every write is one transaction, acknowledged once committed."""

    # How often the served data asks ``changed_since()`` (0: on every request).
    watch_interval_s: float

    def close(self) -> None: ...
    def watch(self, on_change: Callable[[], object] | None = None) -> None:
        """Start following other processes' commits (a serving process calls it once); ``on_change``, if the
        store can tell by itself, is called when they happen."""

    def changed_since(self, revision: int) -> bool:
        """Whether another process committed since the ``snapshot()`` that gave ``revision``."""

    def boundaries(self, seed_folder: Path) -> Boundaries:
        """The boundaries to serve; ``seed_folder`` is where the embedded build lives."""

    def boundaries_version(self) -> str | None:
        """The version of the stored boundaries, or None when they are files that do not change under a server."""

    def is_empty(self) -> bool: ...
    def seed(self, records: list[ProjectRecord], by: str = "seed") -> bool: ...
    def records(self) -> list[ProjectRecord]: ...
    def snapshot(self) -> tuple[list[ProjectRecord], int]:
        """The live records and the revision they are at, read together."""

    def current(self, project_id: str) -> ProjectRecord: ...
    def create(self, record: ProjectRecord, by: str) -> None: ...
    def replace(self, project_id: str, record: ProjectRecord, by: str) -> None: ...
    def delete(self, project_id: str, by: str) -> None: ...
    def restore(self, project_id: str, by: str) -> None: ...
    def upsert_many(self, records: list[ProjectRecord], by: str) -> tuple[int, int]: ...
    def history(self, project_id: str) -> list[Change]: ...


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def no_such_project(project_id: str) -> NotFoundError:
    return NotFoundError(f"no project with id {project_id!r}")


def is_deleted(project_id: str) -> NotFoundError:
    restore = f"POST /api/v1/projects/{project_id}/restore"
    return NotFoundError(f"project {project_id!r} is deleted; {restore} brings it back")


def already_used(project_id: str) -> ConflictError:
    return ConflictError(f"id {project_id!r} is already used (a deleted project keeps its id: restore it)")


def not_deleted(project_id: str) -> ConflictError:
    return ConflictError(f"project {project_id!r} is not deleted")
