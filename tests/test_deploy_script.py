"""scripts/deploy-monitoring.sh with a stand-in `pulumi` that records what it is asked to do."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.stack import REPO, SLACK

FAKE_PULUMI = """#!/usr/bin/env bash
{ printf 'ARGS'; printf ' %q' "$@"; printf '\\n'; } >> "$PULUMI_LOG"
if [ "$1 $2" = "config set" ] && [ "$3" = "--secret" ]; then printf 'STDIN %s\\n' "$(cat)" >> "$PULUMI_LOG"; fi
"""


def _deploy(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "pulumi.log"
    result = subprocess.run(
        ["bash", "scripts/deploy-monitoring.sh"], cwd=REPO, capture_output=True, text=True, timeout=180,
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "PULUMI_LOG": str(log), "HOME": str(tmp_path), **env})
    return result, (log.read_text().splitlines() if log.exists() else [])


def test_missing_or_bad_variables_stop_before_anything_runs(tmp_path):
    result, calls = _deploy(tmp_path, ALERTING_EMAIL="ops@hasivu.com", AWS_REGION="ap-south-1")
    assert result.returncode == 2 and "ENVIRONMENT is not set" in result.stderr and calls == []
    result, calls = _deploy(tmp_path, ENVIRONMENT="production", ALERTING_EMAIL="ops-at-hasivu", AWS_REGION="ap-south-1")
    assert result.returncode == 2
    assert "ALERTING_EMAIL: got 'ops-at-hasivu'; expected an email address" in result.stderr and calls == []


def test_deploy_sets_config_keeps_secrets_off_the_command_line_and_runs_the_pack(tmp_path):
    result, calls = _deploy(tmp_path, ENVIRONMENT="production", ALERTING_EMAIL="ops@hasivu.com",
                            AWS_REGION="ap-south-1", SLACK_WEBHOOK_URL=SLACK)
    assert result.returncode == 0, result.stderr
    args = [c for c in calls if c.startswith("ARGS")]
    assert args[0] == "ARGS stack select production"
    assert "ARGS config set aws:region ap-south-1" in args
    for tier in ("critical", "warning", "business"):
        assert f"ARGS config set --path alerting.{tier}.emails\\[0\\] ops@hasivu.com" in args
    assert "ARGS config set --secret slackWebhookUrl" in args
    assert f"STDIN {SLACK}" in calls
    assert not any(SLACK in c for c in args)
    assert args[-2:] == [
        "ARGS preview --stack production --policy-pack policy --policy-pack-config policy/config/production.json",
        "ARGS up --stack production --yes --policy-pack policy --policy-pack-config policy/config/production.json",
    ]
