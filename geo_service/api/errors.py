"""Map the service's exceptions to HTTP statuses, once, for every router."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from geo_service.errors import (
    AuthenticationError,
    BadRequestError,
    ClientGoneError,
    ConflictError,
    DataError,
    GeoServiceError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    TooBusyError,
)

STATUS_BY_ERROR: dict[type[GeoServiceError], int] = {
    NotFoundError: 404,
    InvalidInputError: 422,
    BadRequestError: 400,
    ConflictError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    DataError: 503,
    PreconditionFailedError: 412,
    TooBusyError: 429,
    ClientGoneError: 499,  # nginx's "client closed request": logged, never read
}


def printable(text: str) -> str:
    """``text`` as UTF-8 can carry it: a lone surrogate someone sent (JSON's ``"\\ud800"``) is written as its escape
    rather than failing the answer that names it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def add_exception_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        status = next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 500)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooBusyError):
            headers = {"Retry-After": str(exc.retry_after_s)}
        return JSONResponse(status_code=status, content={"detail": printable(str(exc))}, headers=headers)

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        """FastAPI's list of problems, each naming where and what; the value received is left out (it may be
        large, and it is what the client sent)."""
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        problems = [
            {
                "loc": [part if isinstance(part, int) else printable(str(part)) for part in error["loc"]],
                "msg": printable(error["msg"]),
                "type": error["type"],
            }
            for error in errors
        ]
        return JSONResponse(status_code=422, content={"detail": problems})

    for error_class in STATUS_BY_ERROR:
        app.add_exception_handler(error_class, handle)
    app.add_exception_handler(RequestValidationError, invalid_request)


class ErrorDetail(BaseModel):
    """What every refusal answers: a sentence naming what was wrong."""

    detail: str


Responses = dict[int | str, dict[str, Any]]

# The refusals an operation may document, one entry per status, for the routes' ``responses=`` through errors().
# The 400 the trusted-host middleware answers (a Host header not served here) comes before any route and for any
# path alike: no operation documents it for that. 422 is added by document_errors() below.
ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    status: {"model": ErrorDetail, "description": text}
    for status, text in [
        (400, "a request that cannot be read (e.g. a body that is not UTF-8 text)"),
        (401, "an Authorization header that is not 'Bearer <token>', or a write without one"),
        (403, "a token that may not write (or no token configured: writes disabled)"),
        (404, "an unknown level, code, layer, tile or project (named in the answer)"),
        (409, "a write that contradicts the store"),
        (412, "If-Match names another version of the project"),
        (413, "a request body over the limit"),
        (429, "too much costly work at once (Retry-After says when to try again)"),
        (503, "the store or the data out of reach or inconsistent on the server"),
    ]
}


def errors(*statuses: int) -> Responses:
    """The documented refusals for the statuses an operation can answer, for its ``responses=`` (or its router's):
    each operation lists only those, so that an answer with any other status is a bug the schema fuzzing finds."""
    return {status: ERROR_RESPONSES[status] for status in statuses}


NOT_MODIFIED: Responses = {304: {"description": "unchanged (If-None-Match)"}}


def document_errors(app: FastAPI) -> None:
    """A 422 is FastAPI's validation list or our sentence (InvalidInputError): either, on each operation that
    takes parameters or a body, the only ones that can be refused as invalid input. FastAPI documents its own
    list alone there; an operation without any input keeps no 422."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        either = {
            "anyOf": [
                {"$ref": "#/components/schemas/HTTPValidationError"},
                {"$ref": "#/components/schemas/ErrorDetail"},
            ]
        }
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("HTTPValidationError", {"type": "object", "properties": {"detail": {"type": "array"}}})
        components.setdefault("ErrorDetail", ErrorDetail.model_json_schema())
        for operations in schema["paths"].values():
            for operation in operations.values():
                if not operation.get("parameters") and "requestBody" not in operation:
                    continue
                operation.setdefault("responses", {})["422"] = {
                    "description": "invalid input, named in the answer",
                    "content": {"application/json": {"schema": either}},
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
