#!/usr/bin/env bash
# Create .venv and install social-archive with its test extra. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The interpreter: $PYTHON when set; else the distribution's python3 when it is 3.11 or later
# and can make a venv, since distributions build it with PGO and LTO (a rebuild of the index
# takes ~15% less CPU on Debian's than on a plain source build such as pyenv's default,
# measured in ops/docs/search.md); else the python3 on PATH. An existing .venv is kept
# (`rm -rf .venv` first to change its interpreter).
usable() {
  [ -x "$1" ] && "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}
if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
elif usable /usr/bin/python3; then
  PY=/usr/bin/python3
else
  PY=python3
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# whoosh-reloaded (the index's Whoosh before whoosh3) ships the same `whoosh` package: never both
if .venv/bin/python -m pip show -q whoosh-reloaded >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall -q -y whoosh-reloaded whoosh3
fi
.venv/bin/python -m pip install -q -e ".[test]"
