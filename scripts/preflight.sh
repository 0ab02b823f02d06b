#!/usr/bin/env bash
# Sets up this checkout, then runs the offline preflight (no AWS account, no Pulumi CLI).
# Usage: scripts/preflight.sh [SUBCOMMAND] [--stack production] [other preflight flags]
#   scripts/preflight.sh                          the preview of the production stack
#   scripts/preflight.sh drill all                every drill against the production stack
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# --stack goes straight after the subcommand: `maintenance` takes its own subcommand (start, stop,
# status) after its options.
case " $* " in
  *" --stack "* | *" --stack="* | " schema "* | *" -h "* | *" --help "*) ;;
  " -"*) set -- --stack production "$@" ;;
  "  ") set -- --stack production ;;
  *) set -- "$1" --stack production "${@:2}" ;;
esac
exec venv/bin/python -m preflight "$@"
