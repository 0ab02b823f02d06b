#!/usr/bin/env bash
# Sets up this checkout (Python deps and the servers the tests use), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/system-packages.sh
exec venv/bin/python -m pytest "$@"
