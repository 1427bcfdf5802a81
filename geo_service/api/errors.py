"""Map the service's exceptions to HTTP statuses, once, for every router."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geo_service.errors import (
    AuthenticationError,
    ConflictError,
    DataError,
    GeoServiceError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

STATUS_BY_ERROR: dict[type[GeoServiceError], int] = {
    NotFoundError: 404,
    InvalidInputError: 422,
    ConflictError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    DataError: 503,
}


def add_exception_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        status = next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 500)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(status_code=status, content={"detail": str(exc)}, headers=headers)

    for error_class in STATUS_BY_ERROR:
        app.add_exception_handler(error_class, handle)
