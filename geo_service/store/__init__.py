"""Project stores, chosen by ``GEO_SERVICE_DATABASE_URL``: SQLite (embedded, the default) or PostGIS (shared)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo_service.errors import DataError
from geo_service.settings import Settings, without_password
from geo_service.store.base import Change, ProjectStore
from geo_service.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from geo_service.store.postgis import PostgisStore

__all__ = ["Change", "ProjectStore", "SqliteStore", "open_store", "postgis_store_class"]

POSTGIS_EXTRA = "pip install 'geo-service[postgis]'"


def postgis_store_class(url: str) -> type[PostgisStore]:
    """The PostGIS store, imported only now: the embedded set-up never needs (nor loads) the PostgreSQL driver,
    which is the optional ``postgis`` extra. ``url`` is what the caller asked for, named in the error."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise DataError(
            f"GEO_SERVICE_DATABASE_URL={without_password(url)} needs the PostgreSQL driver, which is not installed "
            f"({exc}): install the 'postgis' extra, {POSTGIS_EXTRA}"
        ) from exc
    from geo_service.store.postgis import PostgisStore

    return PostgisStore


def open_store(settings: Settings) -> ProjectStore:
    if settings.database_backend == "postgis":
        return postgis_store_class(settings.database_url)(settings.database_url)
    return SqliteStore(settings.database_path)
