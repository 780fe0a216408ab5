#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up .venv with the test extras, lint, then run pytest
# (which also executes every lecture notebook at quick size). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test]"
export MPLBACKEND=Agg
# The HTML report is checked in a real browser: Debian's headless Chromium, with a Japanese font for the page.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing chromium and a Japanese font (apt-get), for the browser test of the HTML report" >&2
    (apt-get update -q && apt-get install -y -q chromium fonts-ipaexfont-gothic) >/dev/null 2>&1 \
        || echo "could not install chromium: the browser test will be skipped" >&2
fi
# The tests train tiny networks, for which one thread is several times faster than two on a 2-core
# machine (thread synchronisation dominates); this also covers the notebook kernels the tests start.
export OMP_NUM_THREADS=1
.venv/bin/ruff check .
# One worker per core (pytest-xdist, at most 8); the tests of a module that share a module-scoped fixture stay
# on one worker (tests/conftest.py groups them), so a costly fixture is computed once. `-n 0` turns it off.
.venv/bin/python -m pytest -n auto --maxprocesses=8 --dist loadgroup "$@"
