#!/usr/bin/env bash
# Set everything up and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/setup.sh
.venv/bin/ruff check archiver storage search_ui tests ops
.venv/bin/python -m pytest -q "$@"
