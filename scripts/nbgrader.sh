#!/usr/bin/env bash
# nbgrader from dlsm's .venv, in a course folder, without activating the venv:
#     cd my-course && bash /path/to/dlsm/scripts/nbgrader.sh generate_assignment lecture5
# nbgrader runs `alembic` (its database migrations) as a command, which is found only when the venv's bin
# is on PATH; this puts it there. Installs dlsm with its test extras (which include nbgrader) when missing.
# The course folder needs the nbgrader_config.py that `python scripts/make_student.py --nbgrader-config` prints
# (written here when the folder has none).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -x "$ROOT/.venv/bin/nbgrader" ]; then
    (cd "$ROOT" && source scripts/_venv.sh "[test]")
fi
export PATH="$ROOT/.venv/bin:$PATH"
if [ ! -f nbgrader_config.py ]; then
    echo "writing nbgrader_config.py (dlsm's: instructor notes are left out of the release)" >&2
    "$ROOT/.venv/bin/python" "$ROOT/scripts/make_student.py" --nbgrader-config > nbgrader_config.py
fi
exec "$ROOT/.venv/bin/nbgrader" "$@"
