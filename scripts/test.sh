#!/usr/bin/env bash
# Install the service, its test tools, the front-end libraries (npm), Debian's Chromium for the browser tests and
# QGIS's Python bindings for the GIS client tests,
# start a local PostgreSQL + PostGIS (the API suite runs on SQLite and on PostGIS), fetch the pinned source
# packages the rebuild test needs, then lint and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || [[ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] \
  || ! /usr/bin/python3 -c "import qgis.core" 2>/dev/null; then
  echo "installing Debian's chromium (browser tests), DejaVu fonts (map pictures) and QGIS (GIS client tests); needs root" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core python3-qgis qgis-providers >/dev/null
fi
GEO_SERVICE_TEST_POSTGRES_URL="$(./scripts/postgres.sh | tail -1)"
export GEO_SERVICE_TEST_POSTGRES_URL
GEO_SERVICE_EXTRAS=test source scripts/venv.sh
npm ci --no-audit --no-fund --silent
geo-service fetch-sources
ruff check .
ruff format --check .
pytest "$@"
