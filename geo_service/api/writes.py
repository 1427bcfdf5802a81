"""Editing projects: create, replace, patch, delete (soft) and restore, with named bearer tokens and history.

A write is validated and geocoded first, committed to the store, then the whole served data (projects, coverage,
tiles) is rebuilt and swapped in: the data version, and so every ETag, changes at once.
"""

from __future__ import annotations

import hmac
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from geo_service.api.deps import DataDep
from geo_service.api.projects import project_feature
from geo_service.errors import (
    AuthenticationError,
    DataError,
    InvalidInputError,
    PermissionDeniedError,
)
from geo_service.projects.catalogue import build_project
from geo_service.projects.models import ProjectRecord, describe_validation_error
from geo_service.service import ServiceData, refreshed
from geo_service.settings import Settings
from geo_service.store import ProjectStore
from geo_service.tiles.service import TileService

router = APIRouter(prefix="/api/v1/projects", tags=["projects (write)"])
_publish_lock = threading.Lock()


def writer(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The name of the token the request carries, or 401/403."""
    settings: Settings = request.app.state.settings
    tokens = settings.write_tokens()
    if not tokens:
        raise PermissionDeniedError("writes are disabled: no GEO_SERVICE_ADMIN_TOKEN is configured")
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthenticationError("a write needs 'Authorization: Bearer <token>'")
    given = authorization.removeprefix("Bearer ").strip()
    for token, name in tokens.items():
        if hmac.compare_digest(given.encode(), token.encode()):
            return name
    raise PermissionDeniedError("this token may not write")


WriterDep = Annotated[str, Depends(writer)]


def _store(data: ServiceData) -> ProjectStore:
    if data.store is None:
        raise DataError("this service runs without a project store")
    return data.store


def _checked(data: ServiceData, record: ProjectRecord) -> dict[str, Any]:
    """Geocode and build the project before anything is written; its Feature is the write's answer."""
    try:
        project, _ = build_project(record, data.boundaries, data.geocoder)
    except DataError as exc:
        answer = data.geocoder.geocode(record.place_text)
        raise InvalidInputError(f"{exc}; unresolved: {answer.unresolved}; notes: {answer.notes}") from exc
    return project_feature(project)


def publish(app: FastAPI, *, only_if_changed_elsewhere: bool = False) -> ServiceData:
    """Rebuild what is served from the store's committed state and swap it in (one rebuild at a time). With
    ``only_if_changed_elsewhere``, requests that queued behind a rebuild find it done and do not repeat it."""
    with _publish_lock:
        current: ServiceData = app.state.data
        if only_if_changed_elsewhere and not _store(current).changed_since(current.revision):
            return current
        fresh = refreshed(current, app.state.settings)
        tiles = TileService(fresh, app.state.settings.tile_cache_mb * 2**20, previous=app.state.tiles)
        app.state.data, app.state.tiles = fresh, tiles
        return fresh


def _record(raw: dict[str, Any]) -> ProjectRecord:
    try:
        return ProjectRecord.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(describe_validation_error(exc)) from None


async def _write(request: Request, action, *args) -> ServiceData:
    await run_in_threadpool(action, *args)
    return await run_in_threadpool(publish, request.app)


@router.post("", status_code=201, summary="Add a project (geocoded; 422 if its place resolves to nothing)")
async def create(
    request: Request, response: Response, data: DataDep, who: WriterDep, record: Annotated[ProjectRecord, Body()]
) -> dict[str, Any]:
    feature = _checked(data, record)
    await _write(request, _store(data).create, record, who)
    response.headers["Location"] = f"/api/v1/projects/{record.id}"
    return feature


@router.put("/{project_id}", summary="Replace a project")
async def replace(
    request: Request, data: DataDep, who: WriterDep, project_id: str, record: Annotated[ProjectRecord, Body()]
) -> dict[str, Any]:
    if record.id != project_id:
        raise InvalidInputError(f"id {record.id!r} in the body differs from {project_id!r} in the path")
    _store(data).current(project_id)
    feature = _checked(data, record)
    await _write(request, _store(data).replace, project_id, record, who)
    return feature


@router.patch("/{project_id}", summary="Change some fields of a project")
async def patch(
    request: Request, data: DataDep, who: WriterDep, project_id: str, changes: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    if changes.get("id", project_id) != project_id:
        raise InvalidInputError("a project's id cannot change")
    current = _store(data).current(project_id).model_dump(mode="json")
    record = _record(current | changes)
    feature = _checked(data, record)
    await _write(request, _store(data).replace, project_id, record, who)
    return feature


@router.delete("/{project_id}", summary="Delete a project (soft: restore brings it back)")
async def delete(request: Request, data: DataDep, who: WriterDep, project_id: str) -> dict[str, str]:
    await _write(request, _store(data).delete, project_id, who)
    return {"id": project_id, "status": "deleted", "restore": f"/api/v1/projects/{project_id}/restore"}


@router.post("/{project_id}/restore", summary="Undo a delete")
async def restore(request: Request, data: DataDep, who: WriterDep, project_id: str) -> dict[str, Any]:
    fresh = await _write(request, _store(data).restore, project_id, who)
    return project_feature(fresh.projects.get(project_id))


@router.get("/{project_id}/history", summary="Every version of a project: who, when, what")
def history(data: DataDep, project_id: str) -> dict[str, Any]:
    changes = _store(data).history(project_id)
    return {"id": project_id, "versions": [vars(change) for change in changes]}
