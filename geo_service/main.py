"""Assemble the FastAPI application: settings, data loaded once at startup, routers, error handlers."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from geo_service import __version__
from geo_service.api import (
    bench,
    coverage,
    docs,
    edition,
    geocode,
    health,
    imports,
    labels,
    maps,
    oembed,
    ogc,
    pages,
    planning,
    programme,
    projects,
    styles,
    territories,
    tiles,
    writes,
)
from geo_service.api.errors import add_exception_handlers, document_errors
from geo_service.api.limits import ExpensiveWork
from geo_service.api.middleware import add_middleware
from geo_service.api.static import mount_vendor
from geo_service.settings import Settings, get_settings
from geo_service.snapshot import Publisher

logger = logging.getLogger("geo_service")


def _prepare_routes(app: FastAPI) -> None:
    """FastAPI (0.16x) prepares each included router's routes on the first request that reaches it (about 30 ms
    for the tiles router), which that first visitor waits for: done here, at start, where the FastAPI in use has
    that step (a version without it has nothing to prepare)."""
    for route in app.router.routes:
        for step in ("effective_candidates", "effective_low_priority_routes"):
            prepare = getattr(route, step, None)
            if callable(prepare):
                prepare()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Tiles are encoded and writes published in worker threads; a 1 ms interpreter switch interval (5 ms by
    # default) gives the event loop the interpreter back sooner, so cached answers do not wait behind them
    # (bench/load.py: tile throughput +15 %, p99 lower). Set here, as each worker process builds its own app.
    sys.setswitchinterval(0.001)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        publisher = Publisher(settings)
        data = publisher.start().data
        _prepare_routes(app)
        # the first call to a worker thread imports part of anyio and starts the thread: about 10 ms that the first
        # tile's visitor would wait for (bench/start.py), done here
        await to_thread.run_sync(lambda: None, limiter=tiles.RENDER_LIMITER)
        app.state.publisher = publisher
        # only now: a commit heard from another worker rebuilds what is served, which must exist first
        publisher.store.watch(on_change=lambda: publisher.publish(only_if_changed_elsewhere=True))
        counts = ", ".join(f"{n} {level}" for level, n in data.boundaries.counts().items())
        logger.info(
            "geo-service %s ready (pid %d): data %s (région %s: %s; %d projects), store: %s",
            __version__,
            os.getpid(),
            data.version,
            data.boundaries.manifest["region"],
            counts,
            len(data.projects.projects),
            settings.database_description,
        )
        yield
        publisher.close()

    app = FastAPI(
        title="Mieux manger pour tous — carte de l'aide alimentaire",
        summary="Boundaries, funded food-aid projects and their coverage in Hauts-de-France.",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.expensive = ExpensiveWork(
        settings.expensive_running, settings.expensive_waiting, settings.expensive_per_client
    )
    add_exception_handlers(app)  # every refusal, pages' and unknown addresses' included (api.errors)
    document_errors(app)
    app.include_router(health.router)
    app.include_router(territories.router)
    app.include_router(geocode.router)
    app.include_router(imports.router)  # before projects: /api/v1/projects/export is not a project id
    app.include_router(projects.router)
    app.include_router(writes.router)
    app.include_router(coverage.router)
    app.include_router(planning.router)
    app.include_router(tiles.router)
    app.include_router(labels.router)
    app.include_router(programme.router)
    app.include_router(maps.router)
    app.include_router(pages.router)
    app.include_router(edition.router)
    app.include_router(oembed.router)
    app.include_router(docs.router)
    app.include_router(ogc.router)
    app.include_router(styles.router)

    mount_vendor(app, settings)
    if settings.benchmark_routes:
        app.include_router(bench.router)
    add_middleware(app, settings)
    return app
