#!/usr/bin/env bash
# Sets up this checkout (Python deps and the servers the tests use), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/system-packages.sh
# Two workers (pytest-xdist): each has its own session fixtures (PostgreSQL, Redis, moto on free
# loopback ports), and tests write only below their own temporary directories, never into the checkout.
# A later -n in "$@" overrides this (-n 0: one process).
exec venv/bin/python -m pytest -n 2 "$@"
