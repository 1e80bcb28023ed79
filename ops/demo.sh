#!/usr/bin/env bash
# Set everything up and run the main job on the embedded default: generate the demo
# account's archive ZIP, import it into ./archive-data, index it, and search it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/setup.sh
exec .venv/bin/archiver demo "$@"
