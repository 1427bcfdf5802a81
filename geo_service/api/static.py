"""Static files: front-end libraries installed from npm at build time (/static/vendor), and our own page
script and style (/static/app). Nothing comes from a third-party host."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from geo_service.maps.interactive import VENDOR_FOLDERS
from geo_service.settings import Settings

logger = logging.getLogger("geo_service")
APP_STATIC = Path(__file__).resolve().parent.parent / "static"
# The API documentation pages (/docs, /redoc; geo_service/api/docs.py): URL name under /static/vendor -> folder
# inside node_modules and the only files of it served. Not whole folders: swagger-ui-dist also ships a demo
# index.html that loads its example API from a third-party host.
DOCS_VENDOR_FILES = {
    "swagger-ui-dist": ("swagger-ui-dist", ("swagger-ui.css", "swagger-ui-bundle.js")),
    "redoc": ("redoc/bundles", ("redoc.standalone.js",)),
}
# MapLibre (/exemples/maplibre and partners' pages): the ES module, its worker (which it loads from beside itself)
# and its style sheet; not the source maps (several megabytes each) nor the development builds.
MAPLIBRE_VENDOR_FILES = {
    "maplibre-gl": ("maplibre-gl/dist", ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css")),
}


class ListedFiles(StaticFiles):
    """A folder's listed files, and 404 for anything else in it."""

    def __init__(self, *, directory: Path, files: Iterable[str]) -> None:
        super().__init__(directory=directory)
        self.files = frozenset(files)

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in self.files:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def _missing(name: str, settings: Settings, pages: str) -> None:
    logger.warning(
        "front-end library %s missing in %s: run 'npm ci' (%s need it)", name, settings.node_modules_dir, pages
    )


def mount_vendor(app: FastAPI, settings: Settings) -> None:
    for name, folder in VENDOR_FOLDERS.items():
        directory = settings.node_modules_dir / folder
        if not directory.is_dir():
            _missing(name, settings, "the map pages")
            continue
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=directory), name=f"vendor-{name}")
    for name, (folder, files) in {**DOCS_VENDOR_FILES, **MAPLIBRE_VENDOR_FILES}.items():
        directory = settings.node_modules_dir / folder
        if not directory.is_dir():
            _missing(
                name,
                settings,
                "the MapLibre example" if name in MAPLIBRE_VENDOR_FILES else "the API documentation pages",
            )
            continue
        app.mount(f"/static/vendor/{name}", ListedFiles(directory=directory, files=files), name=f"vendor-{name}")
    app.mount("/static/app", StaticFiles(directory=APP_STATIC), name="app-static")
