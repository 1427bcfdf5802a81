#!/usr/bin/env bash
# Install the service in ./.venv and the front-end libraries in ./node_modules (first run only), then serve
# it on the committed data. Usage: ./scripts/serve.sh [--host 127.0.0.1] [--port 8000]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
[[ -d node_modules/leaflet ]] || npm ci --no-audit --no-fund --silent
exec geo-service serve "$@"
