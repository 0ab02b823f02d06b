#!/usr/bin/env bash
# Sets up this checkout (Python deps and the servers the tests use), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/system-packages.sh
# Two workers (pytest-xdist): each has its own session fixtures (PostgreSQL, Redis, moto on free
# loopback ports), and tests write only below their own temporary directories, never into the checkout.
# A file's tests run on one worker (--dist loadfile): its module fixtures (a program run, a played drill
# suite, a fortnight of minutes, a moto account) are built once, not once on each worker.
# A later -n or --dist in "$@" overrides this (-n 0: one process).
exec venv/bin/python -m pytest -n 2 --dist loadfile "$@"
