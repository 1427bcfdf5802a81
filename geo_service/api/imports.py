"""Spreadsheet import with review, and the officers' spreadsheet export: the web side only.

Reading a file is ``projects.spreadsheet_import``, the preview and what a commit writes ``projects.imports``, the
preview's storage and the commit's one transaction ``store.base`` (``ProjectStore.*_import``). Every route takes a
write token; every message a person reads in the editing space is French. The upload route takes up to 20 MB
(``api.middleware.UPLOADS``), whether the body declares its length or comes chunked; other bodies keep the service's
limit.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from anyio import to_thread
from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from geo_service.api.deps import DataDep, PublisherDep, StoreDep
from geo_service.api.errors import errors
from geo_service.api.writes import WRITE_THREADS, WriterDep
from geo_service.errors import ConflictError, InvalidInputError
from geo_service.projects import imports
from geo_service.projects.spreadsheet_import import (
    MAX_FILE_BYTES,
    TooLargeError,
    export_csv,
    export_xlsx,
    read_table,
)
from geo_service.service import ServiceData
from geo_service.store import ProjectStore

router = APIRouter(prefix="/api/v1", tags=["imports"], responses=errors(401, 403, 503))

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file: a multipart/form-data field `file`, or the file itself as the body (text/csv, "
        f"{XLSX_TYPE} or application/octet-stream): CSV with `,` or `;` in UTF-8 or Windows-1252, or XLSX; "
        "20 MB at most.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class ReadingUnit(BaseModel):
    level: str
    code: str
    name: str
    confidence: float | None
    matched: str | None


class Candidate(BaseModel):
    level: str
    code: str
    name: str
    departement: str | None
    why: str


class Reading(BaseModel):
    units: list[ReadingUnit]
    communes: int
    confidence: float | None
    notes: list[str]
    unresolved: list[str]
    source: Literal["geocoder", "manual"]
    to_confirm: bool = False
    question: str | None = None
    candidates: list[Candidate] = []


class CellError(BaseModel):
    column: str | None
    field: str | None
    message: str


class Duplicate(BaseModel):
    id: str
    organisation: str | None
    name: str | None
    why: str
    row: int | None = None


class PreviewRow(BaseModel):
    row: int
    cells: dict[str, str | int | float | None]
    record: dict[str, Any] | None
    state: Literal["ok", "error", "to_confirm", "excluded"]
    action: Literal["create", "update", "unchanged"] | None
    errors: list[CellError]
    reading: Reading | None
    duplicates: list[Duplicate]
    excluded: bool


class FieldOut(BaseModel):
    field: str
    label: str
    required: bool


class ImportPreview(BaseModel):
    id: str
    filename: str
    format: Literal["csv", "xlsx"]
    encoding: str | None
    delimiter: str | None
    created_at: str
    expires_at: str
    committed: bool
    columns: list[str]
    mapping: dict[str, str | None]
    fields: list[FieldOut]
    rows: list[PreviewRow]
    summary: dict[str, int]
    result: dict[str, Any] | None = None


class ImportResult(BaseModel):
    id: str
    filename: str
    created: int
    updated: int
    unchanged: int
    projects: list[str]


_FILENAME = re.compile(r"""filename\*=(?:UTF-8|utf-8)''([^;]+)|filename="([^"]*)"|filename=([^;\s]+)""")


def _clean_name(name: str | None) -> str:
    """A file name as people see it again: no folders, no control characters, not too long."""
    if not name:
        return "fichier sans nom"
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or "fichier sans nom"


def _disposition_name(header: str | None) -> str | None:
    if not header:
        return None
    found = _FILENAME.search(header)
    if not found:
        return None
    encoded, quoted, plain = found.groups()
    return unquote(encoded) if encoded else (quoted if quoted is not None else plain)


async def _file_of(request: Request, filename: str | None) -> tuple[bytes, str]:
    """The uploaded bytes and their file name: a multipart field ``file``, or the body itself."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise InvalidInputError("envoyez le fichier dans le champ « file » du formulaire (multipart/form-data)")
        content = await part.read(MAX_FILE_BYTES + 1)
        await form.close()
        return content, _clean_name(filename or part.filename)
    content = await request.body()
    return content, _clean_name(filename or _disposition_name(request.headers.get("content-disposition")))


def _context(data: ServiceData, store: ProjectStore) -> tuple[dict, dict[str, int], set[str], str]:
    state = store.state()
    live = {record.id: record for record in state.records}
    return live, state.versions, store.known_ids(), imports.state_digest(live, state.versions, data.boundaries.version)


def _compute(document: dict, data: ServiceData, store: ProjectStore) -> None:
    live, versions, known, digest = _context(data, store)
    imports.compute(document, live, versions, known, data.boundaries, data.geocoder)
    document["digest"] = digest
    document["boundaries"] = data.boundaries.version


def _answer(document: dict, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    # built here rather than through the response model: a 50 000-row preview validated again costs seconds
    body = json.dumps(imports.public(document), ensure_ascii=False).encode()
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportPreview,
    summary="Upload a spreadsheet (CSV or XLSX): its preview, stored until committed, abandoned or expired",
    responses=errors(400, 409, 413),
    openapi_extra=UPLOAD_BODY,
)
async def upload(
    store: StoreDep,
    request: Request,
    data: DataDep,
    who: WriterDep,
    filename: Annotated[str | None, Query(max_length=255, description="the file's name, for a raw body")] = None,
) -> Response:
    """Nothing is written to the projects: the preview is kept in the store (any worker can carry it on)."""
    content, name = await _file_of(request, filename)
    ttl = request.app.state.settings.import_ttl_s

    def run() -> dict:
        try:
            table = read_table(content, name)
        except TooLargeError as exc:
            raise HTTPException(413, str(exc)) from None
        document = imports.new_document(table, name, ttl, who)
        _compute(document, data, store)
        store.save_import(document)
        return document

    document = await to_thread.run_sync(run, limiter=WRITE_THREADS)
    return _answer(document, 201, {"Location": f"/api/v1/imports/{document['id']}"})


@router.get(
    "/imports/{import_id}",
    response_model=ImportPreview,
    summary="An import's preview as it is now (recomputed if the projects changed since)",
    responses=errors(404, 409),
)
async def get_import(store: StoreDep, data: DataDep, who: WriterDep, import_id: str) -> Response:

    def run() -> dict:
        document = store.load_import(import_id)
        if not document["committed"]:
            _, _, _, digest = _context(data, store)
            if document.get("digest") != digest:
                _compute(document, data, store)
                document = store.replace_import(document)
        return document

    return _answer(await to_thread.run_sync(run, limiter=WRITE_THREADS))


@router.patch(
    "/imports/{import_id}",
    response_model=ImportPreview,
    summary="Change the column mapping or decide rows (exclude, place, territories, update of): the new preview",
    responses=errors(400, 404, 409, 413),
)
async def patch_import(
    store: StoreDep, data: DataDep, who: WriterDep, import_id: str, changes: Annotated[dict[str, Any], Body()]
) -> Response:

    def run() -> dict:
        document = store.load_import(import_id)
        if document["committed"]:
            raise ConflictError(f"l'import {import_id} est déjà validé : il ne change plus")
        live = {record.id: record for record in store.state().records}
        imports.apply_patch(document, changes, live, data.boundaries)
        _compute(document, data, store)
        return store.replace_import(document)

    return _answer(await to_thread.run_sync(run, limiter=WRITE_THREADS))


@router.post(
    "/imports/{import_id}/commit",
    response_model=ImportResult,
    summary="Write every accepted row in one transaction (all or nothing), then publish",
    responses=errors(404, 409),
)
async def commit_import(
    publisher: PublisherDep, store: StoreDep, data: DataDep, who: WriterDep, import_id: str
) -> dict[str, Any]:
    """422 while rows not excluded are in error (named); 409 when the import is already committed (twice, or two
    officers at once: one wins), when a project it writes changed since the preview, or when the boundaries did
    (every place was read on the preview's boundaries: each row there resolves, or is in error, so the records
    build as the preview showed them without building them twice)."""

    def run() -> dict[str, Any]:
        document = store.load_import(import_id)
        if document["committed"]:
            raise ConflictError(f"l'import {import_id} est déjà validé : rien n'a été écrit une seconde fois")
        blocking = imports.blocking_errors(document)
        if blocking:
            shown = " | ".join(blocking[:20]) + (f" | et {len(blocking) - 20} autres" if len(blocking) > 20 else "")
            raise InvalidInputError(
                f"{len(blocking)} ligne(s) en erreur : corrigez-les ou excluez-les avant de valider ; rien n'a été "
                f"importé. {shown}"
            )
        if document.get("boundaries") != data.boundaries.version:
            # the preview read every place on the boundaries it names (each row resolves there, or is in error):
            # on other boundaries it must be read again, not trusted
            raise ConflictError(
                f"les limites des territoires ont changé depuis l'aperçu {import_id} : rouvrez-le (GET) pour relire "
                "chaque lieu ; rien n'a été importé"
            )
        writes = imports.writes_of(document)
        result: dict[str, Any] = {}
        publisher.write(lambda: result.update(store.commit_import(import_id, writes, who, document["filename"])))
        return {"id": import_id, "filename": document["filename"], **result}

    return await to_thread.run_sync(run, limiter=WRITE_THREADS)


@router.delete(
    "/imports/{import_id}",
    status_code=204,
    response_class=Response,
    summary="Abandon an import (nothing was written)",
    responses=errors(404, 409),
)
async def delete_import(store: StoreDep, who: WriterDep, import_id: str) -> Response:
    await to_thread.run_sync(store.delete_import, import_id, limiter=WRITE_THREADS)
    return Response(status_code=204)


@router.get(
    "/projects/export",
    response_class=Response,
    summary="The officers' spreadsheet of every project (CSV with ';' and a UTF-8 BOM, or XLSX): it re-imports "
    "through the preview to the same records",
    responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}}}},
)
async def export(
    store: StoreDep, data: DataDep, who: WriterDep, format: Annotated[Literal["csv", "xlsx"], Query()] = "csv"
) -> Response:

    def run() -> bytes:
        records = store.state().records
        return export_csv(records) if format == "csv" else export_xlsx(records)

    body = await to_thread.run_sync(run, limiter=WRITE_THREADS)
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX_TYPE
    name = f"projets-mieux-manger-pour-tous.{format}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
