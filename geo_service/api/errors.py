"""Map the service's exceptions to HTTP statuses, once, for every router."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geo_service.errors import DataError, GeoServiceError, InvalidInputError, NotFoundError

STATUS_BY_ERROR: dict[type[GeoServiceError], int] = {
    NotFoundError: 404,
    InvalidInputError: 422,
    DataError: 503,
}


def add_exception_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        status = next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 500)
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    for error_class in STATUS_BY_ERROR:
        app.add_exception_handler(error_class, handle)
