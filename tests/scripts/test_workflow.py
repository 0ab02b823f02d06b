"""The GitHub workflow: a clean offline supply-chain audit, the pack config on preview and up, and
Debian packages installed from a non-root runner."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.stack import REPO

WORKFLOW = REPO / ".github" / "workflows" / "monitoring.yml"
ZIZMOR = Path(sys.executable).parent / "zizmor"
# The fakes hide redis-server (found on PATH); chromium and postgres are found by path, so must be here.
ONLY_REDIS_MISSING = pytest.mark.skipif(
    not (Path("/usr/bin/chromium").exists() and list(Path("/usr/lib/postgresql").glob("*/bin/postgres"))),
    reason="chromium and postgresql must be installed (scripts/system-packages.sh)")


@pytest.mark.skipif(not ZIZMOR.exists(), reason="zizmor is not installed (requirements-dev.txt installs it)")
def test_zizmor_offline_finds_nothing_even_pedantic():
    # Pinned commits, per-job permissions, persist-credentials: false, documented permissions, concurrency.
    result = subprocess.run([str(ZIZMOR), "--offline", "--persona=pedantic", "--format", "json", str(WORKFLOW)],
                            capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout) == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_preview_and_up_run_the_pack_with_its_stack_config():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    for job, command in (("preview", "pulumi preview"), ("deploy", "pulumi up")):
        steps = [s for s in jobs[job]["steps"] if command in s.get("run", "")]
        assert len(steps) == 1
        run = " ".join(steps[0]["run"].split())
        assert '--stack "$STACK"' in run
        assert '--policy-pack policy --policy-pack-config "policy/config/$STACK.json"' in run
        assert steps[0]["env"]["STACK"] == "${{ matrix.stack }}"
        stacks = jobs[job]["strategy"]["matrix"]["stack"]
        assert all((REPO / "policy" / "config" / f"{s}.json").is_file() for s in stacks)
    assert "id-token" not in jobs["offline"]["permissions"]


def _fake(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _system_packages(tmp_path: Path, with_sudo: bool) -> tuple[subprocess.CompletedProcess, str]:
    """system-packages.sh as uid 1000 on a machine without redis-server (PATH holds only the fakes)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    _fake(bin_dir, "id", 'echo 1000\n')
    _fake(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n')
    _fake(bin_dir, "env", f'echo "env $*" >> {log}; shift; exec "$@"\n')
    if with_sudo:
        # `sudo -n CMD...`: non-interactive; the runner's sudo needs no password.
        _fake(bin_dir, "sudo", f'echo "sudo $*" >> {log}; [ "$1" = -n ] || exit 1; shift; "$@"\n')
    bash = shutil.which("bash")
    result = subprocess.run([bash, str(REPO / "scripts" / "system-packages.sh")], capture_output=True, text=True,
                            env={"PATH": str(bin_dir), "HOME": str(tmp_path)}, timeout=30)
    return result, (log.read_text() if log.exists() else "")


@ONLY_REDIS_MISSING
def test_system_packages_installs_through_sudo_when_not_root(tmp_path):
    result, calls = _system_packages(tmp_path, with_sudo=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("system-packages: installing redis-server with apt-get (a few minutes on a first "
                             "run)...\n")
    assert "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server" \
        in calls
    assert "apt-get install -y -qq --no-install-recommends redis-server" in calls


@ONLY_REDIS_MISSING
def test_system_packages_without_root_or_sudo_names_the_command(tmp_path):
    result, calls = _system_packages(tmp_path, with_sudo=False)
    assert result.returncode == 1 and calls == ""
    assert result.stderr.strip() == ("system-packages: missing redis-server; not root and no passwordless sudo: "
                                     "run sudo apt-get install redis-server")
