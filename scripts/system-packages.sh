#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real, when they are missing:
# Chromium (dashboard pages are checked in a headless browser), PostgreSQL and Redis servers
# (the runtime library's health checks run against them on loopback).
# As root it runs apt-get itself; otherwise through `sudo -n` (a GitHub-hosted runner is a
# non-root user with passwordless sudo); with neither it names the command to run and fails.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "system-packages: missing ${missing[*]}; not root and no passwordless sudo: run" \
    "sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
# apt-get runs quietly; say what it installs and roughly how long it takes, before it starts.
echo "system-packages: installing ${missing[*]} with apt-get (a few minutes on a first run)..." >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  >/dev/null
