#!/usr/bin/env bash
# The whole test suite on a fresh machine: set up .venv with the test extras, lint, then run pytest
# (which also executes every lecture notebook at quick size). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh "[test]"
export MPLBACKEND=Agg
# The tests train tiny networks, for which one thread is several times faster than two on a 2-core
# machine (thread synchronisation dominates); this also covers the notebook kernels the tests start.
export OMP_NUM_THREADS=1
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
