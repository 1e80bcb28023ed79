#!/usr/bin/env bash
# Set everything up and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/setup.sh
# the UI's browser tests drive Debian's chromium through Playwright (never `playwright install`)
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
.venv/bin/ruff check archiver storage search_ui tests ops
.venv/bin/mypy  # what and how strictly: [tool.mypy] in pyproject.toml
# two workers (pytest-xdist): the machines have two cores and the suite is safe in parallel
# (every test has its own tmp dir, ports are all port 0); TEST_WORKERS=0 runs it in one process
.venv/bin/python -m pytest -q -n "${TEST_WORKERS:-2}" "$@"
