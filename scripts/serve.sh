#!/usr/bin/env bash
# Install the service in ./.venv (first run only) and serve it on the committed data.
# Usage: ./scripts/serve.sh [--host 127.0.0.1] [--port 8000]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
exec geo-service serve "$@"
