"""Map the service's exceptions to HTTP statuses, once, for every router."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from geo_service.errors import (
    AuthenticationError,
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
    ConflictError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    DataError: 503,
    PreconditionFailedError: 412,
    TooBusyError: 429,
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


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorDetail, "description": text}
    for status, text in [
        (400, "a request body that is not JSON"),
        (401, "a write without a bearer token"),
        (403, "a token that may not write"),
        (404, "an unknown level, code, layer, tile or project"),
        (409, "a write that contradicts the store"),
        (413, "a request body over the limit"),
        (429, "too much costly work at once (Retry-After says when to try again)"),
        (503, "data missing or inconsistent on the server"),
    ]
}


def document_errors(app: FastAPI) -> None:
    """Every operation may answer the errors above; a 422 is FastAPI's validation list or our sentence."""
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
        schema.setdefault("components", {}).setdefault("schemas", {}).setdefault(
            "HTTPValidationError", {"type": "object", "properties": {"detail": {"type": "array"}}}
        )
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses["422"] = {
                    "description": "invalid input, named in the answer",
                    "content": {"application/json": {"schema": either}},
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
