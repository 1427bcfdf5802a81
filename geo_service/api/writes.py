"""Editing projects: create, replace, patch, delete (soft) and restore, with named bearer tokens and history.

A write is validated and geocoded, committed to the store, then the publisher re-derives what changed and swaps
the new snapshot in before the answer: a client that was told "done" reads the new data. A PATCH merges its
fields into the stored record inside the store's write transaction, so two edits of the same project never lose
each other. Project resources carry their version as ETag; ``If-Match`` on PUT, PATCH and DELETE refuses a stale
version with 412 (optimistic locking for editors that show a form).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from typing import Annotated, Any

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Body, Depends, Header, Request, Response
from pydantic import ValidationError

from geo_service.api.deps import DataDep, PublisherDep, StoreDep
from geo_service.api.errors import ERROR_RESPONSES, errors
from geo_service.api.projects import project_etag, project_feature
from geo_service.api.schemas import DeletedProject, ProjectFeature, ProjectHistory
from geo_service.errors import (
    AuthenticationError,
    DataError,
    InvalidInputError,
    PermissionDeniedError,
)
from geo_service.projects.catalogue import build_project
from geo_service.projects.models import ProjectRecord, describe_validation_error
from geo_service.service import ServiceData
from geo_service.settings import Settings
from geo_service.snapshot import Publisher
from geo_service.store.base import Expected, no_such_project

# Every route here reads a token (401, 403) and the store (503: out of reach, or none configured); each adds what
# else it may answer: with a body, 400 (not UTF-8) and 413 (too large); 409 on every write, since besides the
# cases each names, PostGIS refuses a write that raced another of the same project. No 429: writes are not the
# costly work api.limits bounds.
router = APIRouter(prefix="/api/v1/projects", tags=["projects (write)"], responses=errors(401, 403, 503))
# Writes run on threads of their own: readers' work filling the shared pool never delays an editor's save.
WRITE_THREADS = CapacityLimiter(4)
_TAG = re.compile(r'\s*(W/)?"(\d{1,18})(?:-[^"]*)?"\s*')  # beyond 18 digits, a version no project has


def _token_name(request: Request, authorization: str | None) -> str | None:
    """The name of the token the request carries; None without an Authorization header; 401/403 otherwise."""
    if authorization is None:
        return None
    settings: Settings = request.app.state.settings
    tokens = settings.write_tokens()
    if not tokens:
        raise PermissionDeniedError("writes are disabled: no GEO_SERVICE_ADMIN_TOKEN is configured")
    scheme, _, given = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():  # the scheme is case-insensitive (RFC 9110 §11.1)
        raise AuthenticationError("a write needs 'Authorization: Bearer <token>'")
    for token, name in tokens.items():
        if hmac.compare_digest(given.strip().encode(), token.encode()):
            return name
    raise PermissionDeniedError("this token may not write")


def writer(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The name of the token the request carries, or 401/403."""
    name = _token_name(request, authorization)
    if name is None:
        if not request.app.state.settings.write_tokens():
            raise PermissionDeniedError("writes are disabled: no GEO_SERVICE_ADMIN_TOKEN is configured")
        raise AuthenticationError("a write needs 'Authorization: Bearer <token>'")
    return name


def reader_or_writer(request: Request, authorization: Annotated[str | None, Header()] = None) -> str | None:
    """A token's name when the request carries one (a wrong one is refused, not ignored), else None."""
    return _token_name(request, authorization)


WriterDep = Annotated[str, Depends(writer)]


def _stored_id(project_id: str) -> str:
    """The project id of the path, for the store. PostgreSQL takes no NUL character in a query's text (psycopg
    raises, which was a 500 the schema fuzzing found); no record's id holds one, so such an id names no project."""
    if "\x00" in project_id:
        raise no_such_project(project_id)
    return project_id


def _checked(data: ServiceData, record: ProjectRecord) -> dict[str, Any]:
    """Geocode and build the project before anything is written; its Feature is the write's answer."""
    try:
        project, _ = build_project(record, data.boundaries, data.geocoder, memo=data.memo)
    except DataError as exc:
        answer = data.geocoder.geocode(record.place_text)
        raise InvalidInputError(f"{exc}; unresolved: {answer.unresolved}; notes: {answer.notes}") from exc
    return project_feature(project)


def if_match(request: Request) -> Expected:
    """``If-Match``: ``*``, or the versions named by the entity tags listed (weak tags never match, RFC 9110)."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    if header.strip() == "*":
        return "*"
    versions = []
    for tag in header.split(","):
        found = _TAG.fullmatch(tag)
        if found and not found.group(1):
            versions.append(int(found.group(2)))
    return versions


IfMatchDep = Annotated[Expected, Depends(if_match)]


def _record(raw: dict[str, Any]) -> ProjectRecord:
    try:
        return ProjectRecord.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(describe_validation_error(exc)) from None


async def _commit(
    publisher: Publisher,
    response: Response,
    project_id: str,
    commit: Callable[[], object],
    *,
    check: Callable[[], object] | None = None,
) -> ServiceData:
    """Run the write's check and its commit to the store, then wait for a snapshot that includes it, all in one
    worker thread (one hop: under load every return to the event loop waits its turn), and tell the client the
    project's new version."""

    def run() -> ServiceData:
        if check is not None:
            check()
        return publisher.write(commit).data

    data = await to_thread.run_sync(run, limiter=WRITE_THREADS)
    if project_id in data.projects.versions:
        response.headers["ETag"] = project_etag(data, project_id)
    return data


@router.post(
    "",
    status_code=201,
    response_model=ProjectFeature,
    summary="Add a project (geocoded; 422 if its place resolves to nothing)",
    responses=errors(400, 409, 413),
)
async def create(
    store: StoreDep,
    publisher: PublisherDep,
    response: Response,
    data: DataDep,
    who: WriterDep,
    record: Annotated[ProjectRecord, Body()],
) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    await _commit(
        publisher,
        response,
        record.id,
        lambda: store.create(record, who),
        check=lambda: answer.update(_checked(data, record)),
    )
    response.headers["Location"] = f"/api/v1/projects/{record.id}"
    return answer


@router.put(
    "/{project_id}",
    response_model=ProjectFeature,
    summary="Replace a project",
    responses=errors(400, 404, 409, 412, 413),
)
async def replace(
    store: StoreDep,
    publisher: PublisherDep,
    response: Response,
    data: DataDep,
    who: WriterDep,
    expected: IfMatchDep,
    project_id: str,
    record: Annotated[ProjectRecord, Body()],
) -> dict[str, Any]:
    if record.id != project_id:
        raise InvalidInputError(f"id {record.id!r} in the body differs from {project_id!r} in the path")
    answer: dict[str, Any] = {}
    await _commit(
        publisher,
        response,
        project_id,
        lambda: store.replace(project_id, record, who, expected),
        check=lambda: answer.update(_checked(data, record)),
    )
    return answer


@router.patch(
    "/{project_id}",
    response_model=ProjectFeature,
    summary="Change some fields of a project",
    responses=errors(400, 404, 409, 412, 413),
)
async def patch(
    store: StoreDep,
    publisher: PublisherDep,
    response: Response,
    data: DataDep,
    who: WriterDep,
    expected: IfMatchDep,
    project_id: str,
    changes: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """The fields given replace the stored ones; the merge happens inside the store's write transaction, on the
    record as it is then, so a concurrent PATCH of other fields is never lost."""
    if changes.get("id", project_id) != project_id:
        raise InvalidInputError("a project's id cannot change")
    answer: dict[str, Any] = {}

    def merged(current: ProjectRecord) -> ProjectRecord:
        record = _record(current.model_dump(mode="json") | changes)
        answer.update(_checked(data, record))  # refuses (and writes nothing) if it no longer builds
        return record

    project_id = _stored_id(project_id)
    await _commit(publisher, response, project_id, lambda: store.update(project_id, merged, who, expected))
    return answer


@router.delete(
    "/{project_id}",
    response_model=DeletedProject,
    summary="Delete a project (soft: restore brings it back)",
    responses=errors(404, 409, 412),
)
async def delete(
    store: StoreDep,
    publisher: PublisherDep,
    response: Response,
    data: DataDep,
    who: WriterDep,
    expected: IfMatchDep,
    project_id: str,
) -> dict[str, str]:
    project_id = _stored_id(project_id)
    await _commit(publisher, response, project_id, lambda: store.delete(project_id, who, expected))
    return {"id": project_id, "status": "deleted", "restore": f"/api/v1/projects/{project_id}/restore"}


@router.post(
    "/{project_id}/restore",
    response_model=ProjectFeature,
    summary="Undo a delete",
    responses=errors(404, 409),  # 409: the project is not deleted
)
async def restore(
    store: StoreDep, publisher: PublisherDep, response: Response, data: DataDep, who: WriterDep, project_id: str
) -> dict[str, Any]:
    project_id = _stored_id(project_id)
    fresh = await _commit(publisher, response, project_id, lambda: store.restore(project_id, who))
    return project_feature(fresh.projects.get(project_id))


@router.get(
    "/{project_id}/history",
    response_model=ProjectHistory,
    response_model_exclude_unset=True,  # `by` (who wrote a version) is left out, not null, without a token
    summary="Every version of a project: when and what (who, and deleted projects, with a token)",
    responses={404: ERROR_RESPONSES[404] | {"description": "unknown project, or deleted and asked without a token"}},
)
def history(
    store: StoreDep, data: DataDep, project_id: str, who: Annotated[str | None, Depends(reader_or_writer)] = None
) -> dict[str, Any]:
    """Anyone may read the versions of a live project (each was public while served), without the names of the
    tokens that wrote them; a token holder also sees who wrote each version, and deleted projects."""
    project_id = _stored_id(project_id)
    if who is None:
        store.current(project_id)  # 404 for a project that is unknown or deleted
    changes = store.history(project_id)
    versions = [vars(change) for change in changes]
    if who is None:
        versions = [{key: value for key, value in version.items() if key != "by"} for version in versions]
    return {"id": project_id, "versions": versions}
