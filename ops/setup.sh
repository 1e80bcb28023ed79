#!/usr/bin/env bash
# Create .venv and install social-archive with its test extra. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# whoosh-reloaded (the index's Whoosh before whoosh3) ships the same `whoosh` package: never both
if .venv/bin/python -m pip show -q whoosh-reloaded >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall -q -y whoosh-reloaded whoosh3
fi
.venv/bin/python -m pip install -q -e ".[test]"
