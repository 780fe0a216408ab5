# Shared by scripts/tour.sh and scripts/test.sh: create .venv (once) and install dlsm into it.
# Usage: source scripts/_venv.sh [EXTRAS]   e.g. EXTRAS="[test]"
set -euo pipefail
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $($PYTHON --version)" >&2
    "$PYTHON" -m venv .venv
fi
echo "installing dlsm${1:-} into .venv (the first time takes a few minutes)" >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${1:-}"
