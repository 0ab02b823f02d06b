#!/usr/bin/env bash
# Sets up this checkout: a virtualenv in ./venv (the one Pulumi.yaml names) with every Python
# dependency. Re-running is cheap: pip runs again only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
stamp=venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt policy/requirements.txt observability/requirements.txt | sha256sum)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # This machine's pip config names local mirrors that may be absent; their warnings are noise.
  venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
    2> >(grep -v '^WARNING: Location' >&2)
  echo "$want" > "$stamp"
fi
