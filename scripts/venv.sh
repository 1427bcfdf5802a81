# Sourced by serve.sh and test.sh: create ./.venv if needed, install the locked dependencies and the package (with
# GEO_SERVICE_EXTRAS), activate.
#
# Dependencies come from a lock, pinned with hashes: requirements/app.lock without extras (serve.sh, the Docker
# image), requirements/<extra>.lock with GEO_SERVICE_EXTRAS=<extra> (test: runtime + postgis + test tools, for
# test.sh and CI; postgis: runtime + the PostgreSQL driver). After a change to the dependencies in pyproject.toml,
# regenerate all three from the repository root (uv, e.g. from 'python -m pip install uv' in any venv):
#   uv pip compile pyproject.toml --python-version 3.11 --python-platform linux --generate-hashes -o requirements/app.lock
#   uv pip compile pyproject.toml --extra postgis --python-version 3.11 --python-platform linux --generate-hashes -o requirements/postgis.lock
#   uv pip compile pyproject.toml --extra test --python-version 3.11 --python-platform linux --generate-hashes -o requirements/test.lock
# (add --upgrade to move every pin to the newest release that pyproject.toml allows).
python_bin="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$python_bin" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
extras="${GEO_SERVICE_EXTRAS:+[$GEO_SERVICE_EXTRAS]}"
lock="requirements/${GEO_SERVICE_EXTRAS:-app}.lock"
if [[ ! -f "$lock" ]]; then
  echo "error: GEO_SERVICE_EXTRAS='${GEO_SERVICE_EXTRAS:-}' has no lock $lock (locks: $(echo requirements/*.lock))" >&2
  return 1
fi
stamp=".venv/.installed${extras}"
# Reinstall only when the lock or pyproject.toml changed since the last install, so repeated runs start at once.
if [[ ! -f "$stamp" || "$lock" -nt "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet -r "$lock"
  python -m pip install --quiet --no-deps -e ".${extras}"
  # a dependency added to pyproject.toml but not to the lock shows here rather than as an ImportError later
  if ! check="$(python -m pip check 2>&1)"; then
    echo "$check" >&2
    echo "error: the installed packages do not satisfy pyproject.toml: regenerate $lock (see scripts/venv.sh)" >&2
    return 1
  fi
  touch "$stamp"
fi
