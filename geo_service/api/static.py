"""Static files: front-end libraries installed from npm at build time (/static/vendor), and our own page
script and style (/static/app). Nothing comes from a third-party host."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from geo_service.maps.interactive import VENDOR_FOLDERS
from geo_service.settings import Settings

logger = logging.getLogger("geo_service")
APP_STATIC = Path(__file__).resolve().parent.parent / "static"


def mount_vendor(app: FastAPI, settings: Settings) -> None:
    for name, folder in VENDOR_FOLDERS.items():
        directory = settings.node_modules_dir / folder
        if not directory.is_dir():
            logger.warning(
                "front-end library %s missing in %s: run 'npm ci' (the map pages need it)",
                name,
                settings.node_modules_dir,
            )
            continue
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=directory), name=f"vendor-{name}")
    app.mount("/static/app", StaticFiles(directory=APP_STATIC), name="app-static")
