#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up .venv with the test extras, lint, then run pytest
# (which also executes every lecture notebook at quick size). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test]"
export MPLBACKEND=Agg
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
