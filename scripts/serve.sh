#!/usr/bin/env bash
# Install the service in ./.venv and the front-end libraries in ./node_modules (first run only), then serve
# it on the committed data. Usage: ./scripts/serve.sh [--host 127.0.0.1] [--port 8000]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
# npm writes node_modules/.package-lock.json on install: older than package-lock.json means a library was added
[[ node_modules/.package-lock.json -nt package-lock.json ]] || npm ci --no-audit --no-fund --silent
exec geo-service serve "$@"
