"""Assemble the FastAPI application: settings, data loaded once at startup, routers, error handlers."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from geo_service import __version__
from geo_service.api import coverage, geocode, health, projects, territories
from geo_service.api.errors import add_exception_handlers
from geo_service.service import load_service_data
from geo_service.settings import Settings, get_settings

logger = logging.getLogger("geo_service")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        data = load_service_data(settings)
        app.state.data = data
        counts = ", ".join(f"{n} {level}" for level, n in data.boundaries.counts().items())
        logger.info(
            "geo-service %s ready: data %s (région %s: %s; %d projects) from %s, store: files",
            __version__,
            data.version,
            data.boundaries.manifest["region"],
            counts,
            len(data.projects.projects),
            settings.data_dir,
        )
        yield

    app = FastAPI(
        title="Mieux manger pour tous — carte de l'aide alimentaire",
        summary="Boundaries, funded food-aid projects and their coverage in Hauts-de-France.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.include_router(health.router)
    app.include_router(territories.router)
    app.include_router(geocode.router)
    app.include_router(projects.router)
    app.include_router(coverage.router)

    @app.middleware("http")
    async def log_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        logger.info(
            "%s %s %d %.1f ms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    return app
