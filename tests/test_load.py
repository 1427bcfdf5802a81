"""A short run of bench/load.py: readers of tiles and projects while two writers edit, with no failed request."""

import subprocess
import sys

import pytest

from geo_service.settings import REPO_DIR

pytestmark = pytest.mark.slow  # a real server under load for seconds (see MARKERS in tests/conftest.py)


def test_mixed_load_has_no_error() -> None:
    done = subprocess.run(
        [sys.executable, "load.py", "--duration", "6"],
        cwd=REPO_DIR / "bench",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "errors    0" in done.stdout
    writes = next(line for line in done.stdout.splitlines() if line.strip().startswith("writes"))
    assert int(writes.split()[1]) >= 2  # both writers got through
