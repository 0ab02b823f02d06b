#!/usr/bin/env bash
# Sets up this checkout, then runs the offline preflight (no AWS account, no Pulumi CLI).
# Usage: scripts/preflight.sh [--stack production] [other preflight flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ " $* " != *" --stack "* ]]; then
  set -- --stack production "$@"
fi
exec venv/bin/python -m preflight "$@"
