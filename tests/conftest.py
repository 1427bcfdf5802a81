"""Shared fixtures: the committed boundaries, an app client on them, and the cached source packages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from boundaries.sources import SourceError, SourceFiles, ensure_sources
from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR, Settings, get_settings
from geo_service.territories import Boundaries


@pytest.fixture(scope="session")
def boundaries() -> Boundaries:
    return Boundaries.load(REPO_DATA_DIR / "boundaries")


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=REPO_DATA_DIR))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def source_files() -> SourceFiles:
    """The pinned source packages, from the cache filled by 'geo-service fetch-sources' (tests never download)."""
    try:
        return ensure_sources(get_settings().cache_dir, offline=True)
    except SourceError as exc:
        pytest.fail(f"{exc} (the README's test command does this for you)")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the committed data folder."""
    target = tmp_path / "data" / "boundaries"
    target.mkdir(parents=True)
    for path in (REPO_DATA_DIR / "boundaries").iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target.parent
