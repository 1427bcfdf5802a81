# Sourced by serve.sh and test.sh: create ./.venv if needed, install the package (with GEO_SERVICE_EXTRAS), activate.
python_bin="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$python_bin" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
extras="${GEO_SERVICE_EXTRAS:+[$GEO_SERVICE_EXTRAS]}"
stamp=".venv/.installed${extras}"
# Reinstall only when pyproject.toml changed since the last install, so repeated runs start at once.
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet -e ".${extras}"
  touch "$stamp"
fi
