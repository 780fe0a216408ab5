#!/usr/bin/env bash
# The main job on a fresh machine: set up .venv, then run every lab at quick size and write a report.
# Extra arguments go to `dlsm tour` (e.g. --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh ""  # explicit: the tour's own arguments must not reach the set-up
.venv/bin/dlsm tour "$@"
