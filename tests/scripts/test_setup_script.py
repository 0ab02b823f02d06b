"""scripts/setup.sh: it installs only when requirements changed, and says so before it does.

The installing runs are played in a copy of the script and its requirements files, with a stand-in
`python3 -m venv` and `pip` that record their calls: a real first install takes minutes."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import REPO

REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "policy/requirements.txt",
                "observability/requirements.txt")
# The CloudWatch rules package, which both venvs install from its sources.
RULES = ("cloudwatch-rules/pyproject.toml", "cloudwatch-rules/cloudwatch_rules/composite.py")


def _executable(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _checkout(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """The script and its requirements files; PATH starts with a `python3` whose `-m venv DIR` makes
    a virtualenv whose pip records how it was called and prints a line, as an install does."""
    checkout = tmp_path / "checkout"
    for name in ("scripts/setup.sh", *REQUIREMENTS, *RULES):
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, checkout / name)
    log = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    _executable(tmp_path / "pip", f'echo "$0 $*" >> {log}\necho "pip output"\n')
    _executable(bin_dir / "python3", f"""echo "python3 $*" >> {log}
[ "$1 $2" = "-m venv" ] || exit 1
mkdir -p "$3/bin"
cp {tmp_path / "pip"} "$3/bin/pip"
printf '#!/bin/bash\\n' > "$3/bin/python"
chmod +x "$3/bin/python"
""")
    return checkout, log, {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}


def _setup(checkout: Path, env: dict[str, str]) -> str:
    """Runs the script; returns what it printed (stderr and stdout, in order)."""
    result = subprocess.run(["bash", "scripts/setup.sh"], cwd=checkout, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    return result.stdout


def test_a_run_with_the_venvs_current_prints_nothing():
    result = subprocess.run(["bash", "scripts/setup.sh"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("", "")


def test_a_first_run_says_what_it_installs_before_installing_and_a_rerun_is_silent(tmp_path):
    checkout, log, env = _checkout(tmp_path)
    printed = _setup(checkout, env)
    assert printed == (
        "setup: installing Python packages into ./venv from requirements-dev.txt (first run: about 2 minutes)...\n"
        "pip output\n"
        "setup: installing Python packages into ./policy/venv from policy/requirements.txt (first run: about 30 "
        "seconds)...\n"
        "pip output\n")
    assert log.read_text().splitlines() == [
        "python3 -m venv venv",
        "venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt",
        "python3 -m venv policy/venv",
        # From the pack's directory, as the language host runs pip: its requirements name ../cloudwatch-rules.
        "venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt",
    ]
    assert _setup(checkout, env) == ""
    assert len(log.read_text().splitlines()) == 4


def test_a_changed_requirement_reinstalls_only_the_venv_it_belongs_to_and_says_so(tmp_path):
    checkout, log, env = _checkout(tmp_path)
    _setup(checkout, env)
    log.write_text("")
    (checkout / "observability" / "requirements.txt").write_text("boto3>=1.40,<2\n")
    assert _setup(checkout, env) == (
        "setup: requirements changed; updating the Python packages in ./venv from requirements-dev.txt "
        "(up to 2 minutes)...\n"
        "pip output\n")
    assert log.read_text().splitlines() == [
        "venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt"]


def test_a_changed_rules_source_reinstalls_the_packs_venv_whose_copy_is_not_editable(tmp_path):
    checkout, log, env = _checkout(tmp_path)
    _setup(checkout, env)
    log.write_text("")
    composite = checkout / "cloudwatch-rules" / "cloudwatch_rules" / "composite.py"
    composite.write_text(composite.read_text() + "\n")
    assert _setup(checkout, env) == (
        "setup: requirements changed; updating the Python packages in ./policy/venv from policy/requirements.txt "
        "(up to 30 seconds)...\n"
        "pip output\n")
    assert log.read_text().splitlines() == [
        "venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt"]


@pytest.mark.slow
def test_the_preflight_script_puts_the_production_stack_where_each_subcommand_takes_it():
    """`maintenance` takes its own subcommand after its options, so `--stack` goes straight after the
    subcommand; without AWS credentials it then gets as far as the account."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    maintenance = subprocess.run(["bash", "scripts/preflight.sh", "maintenance", "status"], cwd=REPO, env=env,
                                 capture_output=True, text=True, timeout=120)
    assert maintenance.returncode == 2
    assert maintenance.stderr.strip().splitlines() == [
        "preflight: AWS account: no credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or run `aws sso login`)"]
    schema = subprocess.run(["bash", "scripts/preflight.sh", "schema"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert schema.returncode == 0 and schema.stdout.startswith("{")
