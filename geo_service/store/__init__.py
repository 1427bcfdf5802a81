"""Project stores, chosen by ``GEO_SERVICE_DATABASE_URL``: SQLite (embedded, the default) or PostGIS (shared)."""

from __future__ import annotations

from geo_service.settings import Settings
from geo_service.store.base import Change, ProjectStore
from geo_service.store.sqlite import SqliteStore

__all__ = ["Change", "ProjectStore", "SqliteStore", "open_store"]


def open_store(settings: Settings) -> ProjectStore:
    if settings.database_backend == "postgis":
        # imported here: the embedded set-up never needs the PostgreSQL driver loaded
        from geo_service.store.postgis import PostgisStore

        return PostgisStore(settings.database_url)
    return SqliteStore(settings.database_path)
