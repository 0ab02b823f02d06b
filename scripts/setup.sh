#!/usr/bin/env bash
# Sets up this checkout: two virtualenvs, each re-installed only when its requirements changed.
#  - ./venv, the one Pulumi.yaml names: the program, the preflight, the tests (every Python dependency);
#  - policy/venv, the one policy/PulumiPolicy.yaml names: the Python language host resolves
#    `virtualenv: venv` from the pack directory and runs `policy/venv/bin/python -u -m pulumi.policy`
#    there (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go, RunPlugin), so
#    `pulumi preview --policy-pack policy` needs it; it holds only policy/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

# venv DIR REQUIREMENTS FIRST_INSTALL STAMP_INPUTS...: create DIR if needed, pip install -r REQUIREMENTS
# (a file beside DIR) from DIR's parent when the inputs' hash differs from the last successful install. Relative paths in
# a requirements file are read from pip's working directory, and the language host runs pip in the
# project's or pack's own directory (pulumi/pulumi sdk/python/toolchain/pip.go, InstallDependencies,
# `pipCmd.Dir = cwd`). An install says so on stderr first, with how long it takes (FIRST_INSTALL:
# measured on a fresh machine), so a first run is not silent for minutes; a run with nothing to
# install prints nothing.
venv() {
  local dir=$1 requirements=$2 first_install=$3
  shift 3
  local stamp="$dir/.requirements.sha256" want
  want=$(cat "$@" | sha256sum)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if [ -x "$dir/bin/python" ]; then
    echo "setup: requirements changed; updating the Python packages in ./$dir from $requirements" \
      "(up to $first_install)..." >&2
  else
    echo "setup: installing Python packages into ./$dir from $requirements (first run: about $first_install)..." >&2
    python3 -m venv "$dir"
  fi
  # This machine's pip config names local mirrors that may be absent; their warnings are noise.
  (cd "$(dirname "$dir")" && "$(basename "$dir")/bin/pip" install --quiet --disable-pip-version-check \
    -r "$(basename "$requirements")" 2> >(grep -v '^WARNING: Location' >&2))
  echo "$want" > "$stamp"
}

# The CloudWatch rules package is installed into both (the pack's copy is not editable, as the CLI
# would install it), so its sources are stamp inputs too.
rules=$(find cloudwatch-rules -name '*.py' -not -path '*/build/*' -o -name pyproject.toml | sort)
venv venv requirements-dev.txt "2 minutes" \
  requirements.txt requirements-dev.txt policy/requirements.txt observability/requirements.txt
# shellcheck disable=SC2086
venv policy/venv policy/requirements.txt "30 seconds" policy/requirements.txt $rules
