"""scripts/deploy-monitoring.sh against a stand-in `pulumi` (tests/support/fake_pulumi.py) that behaves as
the real CLI does for the commands the script uses; each test deploys from a copy of the checkout,
whose stack files the stand-in rewrites as the CLI would."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.stack import PAGERDUTY, REPO, SLACK

STAND_IN = REPO / "tests" / "support" / "fake_pulumi.py"
EMAIL = "sre@hasivu.com"
POLICY = "--policy-pack policy --policy-pack-config policy/config/{0}.json"


def _checkout(tmp_path: Path) -> Path:
    """The working tree's files (committed or not, minus ignored), sharing the already set-up venvs."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    checkout = tmp_path / "checkout"
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, checkout / name)
    for venv in ("venv", "policy/venv"):
        (checkout / venv).symlink_to(REPO / venv)
    # The venvs are shared with the repository: setup.sh must not install into them from this copy (an
    # editable package would then point here, and vanish with it). Its own behaviour is tested apart
    # (tests/scripts/test_setup_script.py); here it only has to be called.
    (checkout / "scripts" / "setup.sh").write_text("#!/usr/bin/env bash\n# setup stand-in: the venvs are set up\n")
    return checkout


class Deployer:
    def __init__(self, tmp_path: Path) -> None:
        self.checkout = _checkout(tmp_path)
        self.home = tmp_path / "pulumi-home"
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        pulumi = self.bin / "pulumi"
        pulumi.write_text(f'#!/bin/bash\nexec {sys.executable} {STAND_IN} "$@"\n')
        pulumi.chmod(pulumi.stat().st_mode | stat.S_IEXEC)
        self.base_env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "HOME": str(tmp_path),
                         "PULUMI_HOME": str(self.home), "PYTHONPATH": str(STAND_IN.parent.parent)}

    def deploy(self, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        """Runs the script; returns the result and the pulumi command lines of this run."""
        log = self.home / "calls.log"
        before = len(log.read_text().splitlines()) if log.exists() else 0
        result = subprocess.run(["bash", "scripts/deploy-monitoring.sh"], cwd=self.checkout, capture_output=True,
                                text=True, timeout=180, env={**self.base_env, **env})
        calls = log.read_text().splitlines()[before:] if log.exists() else []
        return result, calls

    def pulumi(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(["pulumi", *args], cwd=self.checkout, capture_output=True, text=True, input=stdin,
                              timeout=60, env={**self.base_env, **env})

    def alerting(self, stack: str) -> dict:
        return yaml.safe_load((self.checkout / f"Pulumi.{stack}.yaml").read_text())["config"][
            "hasivu-monitoring:alerting"]

    def stack_text(self, stack: str) -> str:
        return (self.checkout / f"Pulumi.{stack}.yaml").read_text()


def _committed_alerting(stack: str) -> dict:
    return yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["hasivu-monitoring:alerting"]


PRODUCTION = {"ENVIRONMENT": "production", "ALERTING_EMAIL": EMAIL, "AWS_REGION": "ap-south-1",
              "SLACK_WEBHOOK_URL": SLACK, "PAGERDUTY_ENDPOINT": PAGERDUTY}


def test_the_stand_in_behaves_as_the_cli(tmp_path):
    # pulumi/pulumi pkg/cmd/pulumi/stack/stack_select.go, pkg/cmd/pulumi/config/config.go,
    # sdk/go/common/resource/config/object.go: the behaviours the script relies on.
    d = Deployer(tmp_path)
    missing = d.pulumi("stack", "select", "production")
    assert missing.returncode == 255 and missing.stderr == "error: no stack named 'production' found\n"
    assert d.pulumi("stack", "select", "--create", "production").returncode == 0
    assert d.pulumi("config", "set", "--path", "alerting.critical.emails[0]", "x@hasivu.com").returncode == 0
    assert d.alerting("production")["critical"]["emails"] == ["x@hasivu.com"]  # replaced, not added
    out_of_range = d.pulumi("config", "set", "--path", "alerting.critical.emails[5]", "y@hasivu.com")
    assert out_of_range.returncode == 255 and "array index out of range" in out_of_range.stderr
    absent = d.pulumi("config", "get", "--path", "alerting.critical.nothing")
    assert absent.returncode == 255 and "configuration key 'alerting.critical.nothing' not found" in absent.stderr
    assert d.pulumi("config", "set", "--secret", "slackWebhookUrl", stdin=SLACK + "\n").returncode == 0
    assert SLACK not in d.stack_text("production")


def _leaves(value: Any, path: str) -> dict[str, Any]:
    """Every scalar of a config value by its `pulumi config --path` key (`ns:key.a.b[0]`)."""
    if isinstance(value, dict) and set(value) != {"secure"}:
        return {k: v for key, item in value.items() for k, v in _leaves(item, f"{path}.{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _leaves(item, f"{path}[{i}]").items()}
    return {path: value}


def _config(text: str) -> dict[str, Any]:
    return {k: v for key, value in yaml.safe_load(text)["config"].items() for k, v in _leaves(value, key).items()}


def _config_sets(calls: list[str]) -> list[tuple[str, bool]]:
    """The keys the deploy wrote (`config set [--path] [--secret] KEY [VALUE]`), in full, and whether as a secret."""
    written = []
    for call in calls:
        args = shlex.split(call)
        if args[:2] != ["config", "set"]:
            continue
        key = next(a for a in args[2:] if not a.startswith("--"))
        written.append((key if ":" in key.split(".")[0] else f"hasivu-monitoring:{key}", "--secret" in args))
    return written


@pytest.mark.slow
def test_a_deploy_writes_only_keys_the_stack_file_lacks_and_secrets(tmp_path):
    d = Deployer(tmp_path)
    committed = _config(d.stack_text("production"))
    result, calls = d.deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    after = _config(d.stack_text("production"))
    assert {key: after.get(key) for key in committed} == committed
    written = _config_sets(calls)
    assert written, calls
    for key, secret in written:
        # A key, or a whole mapping or list above committed keys, that the stack file already has is not written.
        assert secret or not any(c == key or c.startswith((f"{key}.", f"{key}[")) for c in committed), key
    assert ("aws:region", False) not in written


def test_a_region_other_than_the_stack_files_stops_before_any_cli_call(tmp_path):
    d = Deployer(tmp_path)
    before = d.stack_text("production")
    result, calls = d.deploy(**{**PRODUCTION, "AWS_REGION": "us-east-1"})
    assert result.returncode == 2
    assert result.stderr == (
        "deploy-monitoring: AWS_REGION is us-east-1 but Pulumi.production.yaml has aws:region: ap-south-1, and a "
        "deploy never changes a committed setting; to move the stack to us-east-1 on purpose, edit aws:region in "
        "Pulumi.production.yaml (or run `pulumi config set aws:region us-east-1 --stack production`) and commit it; "
        "otherwise run with AWS_REGION=ap-south-1\n")
    assert calls == []
    assert d.stack_text("production") == before


@pytest.mark.slow
def test_a_stack_file_without_a_region_gets_aws_region(tmp_path):
    d = Deployer(tmp_path)
    stack = d.checkout / "Pulumi.production.yaml"
    assert "  aws:region: ap-south-1\n" in stack.read_text()
    stack.write_text(stack.read_text().replace("  aws:region: ap-south-1\n", ""))
    result, calls = d.deploy(**{**PRODUCTION, "AWS_REGION": "ap-south-2"})
    assert result.returncode == 0, result.stderr
    assert "config set aws:region ap-south-2" in calls
    assert yaml.safe_load(d.stack_text("production"))["config"]["aws:region"] == "ap-south-2"


def test_an_unknown_environment_names_the_stacks_there(tmp_path):
    result, calls = Deployer(tmp_path).deploy(**{**PRODUCTION, "ENVIRONMENT": "prod"})
    assert result.returncode == 2 and calls == []
    assert result.stderr == ("deploy-monitoring: ENVIRONMENT: got 'prod'; expected a stack with a Pulumi.<stack>.yaml "
                             "here (stacks here: production, staging)\n")


def test_missing_or_bad_variables_stop_before_anything_runs(tmp_path):
    d = Deployer(tmp_path)
    result, calls = d.deploy(ALERTING_EMAIL=EMAIL, AWS_REGION="ap-south-1")
    assert result.returncode == 2 and result.stderr.strip().endswith("ENVIRONMENT is not set "
                                                                      "(expected a stack name like production)")
    assert calls == []
    result, calls = d.deploy(ENVIRONMENT="production", ALERTING_EMAIL="ops-at-hasivu", AWS_REGION="ap-south-1")
    assert result.returncode == 2 and calls == []
    assert "ALERTING_EMAIL: got 'ops-at-hasivu'; expected an email address" in result.stderr


@pytest.mark.slow
def test_first_run_creates_the_stack_adds_the_email_and_a_rerun_changes_nothing(tmp_path):
    d = Deployer(tmp_path)
    result, calls = d.deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert calls[:2] == ["whoami --json", "stack select --create --secrets-provider default production"]
    assert "Created stack 'production'" in result.stdout
    committed = _committed_alerting("production")
    alerting = d.alerting("production")
    for tier in ("critical", "warning", "business"):
        assert alerting[tier]["emails"] == [*committed[tier]["emails"], EMAIL]
    assert alerting["critical"]["sms"] == committed["critical"]["sms"]
    assert alerting["warning"]["slack"] == "webhook"
    text = d.stack_text("production")
    assert SLACK not in text and PAGERDUTY not in text
    assert not any(SLACK in c or PAGERDUTY in c for c in calls)
    assert "config set --secret slackWebhookUrl" in calls
    assert calls[-2:] == [f"preview --stack production {POLICY.format('production')}",
                          f"up --stack production --yes {POLICY.format('production')}"]

    rerun, calls = d.deploy(**PRODUCTION)
    assert rerun.returncode == 0, rerun.stderr
    assert "Created stack" not in rerun.stdout
    assert d.alerting("production") == alerting
    assert not [c for c in calls if c.startswith("config set --path")]


@pytest.mark.slow
def test_staging_keeps_its_chatbot_mapping_when_a_webhook_is_given(tmp_path):
    d = Deployer(tmp_path)
    result, calls = d.deploy(ENVIRONMENT="staging", ALERTING_EMAIL=EMAIL, AWS_REGION="ap-south-1",
                             SLACK_WEBHOOK_URL=SLACK)
    assert result.returncode == 0, result.stderr
    assert d.alerting("staging")["warning"]["slack"] == _committed_alerting("staging")["warning"]["slack"]
    assert "alerting.warning.slack is already a Slack channel mapping; keeping it" in result.stderr
    assert not [c for c in calls if "alerting.warning.slack" in c and c.startswith("config set")]
    assert calls[-1] == f"up --stack staging --yes {POLICY.format('staging')}"


@pytest.mark.parametrize("where", ["diy-backend", "committed-salt"])
def test_passphrase_stack_without_passphrase_fails_before_changing_anything(tmp_path, where):
    d = Deployer(tmp_path)
    env = dict(PRODUCTION)
    backend = "https://api.pulumi.com"
    if where == "diy-backend":  # a file:// backend's default provider is the passphrase
        backend = env["PULUMI_BACKEND_URL"] = f"file://{tmp_path / 'state'}"
    else:  # a stack file that carries its passphrase salt, on Pulumi Cloud
        stack = d.checkout / "Pulumi.production.yaml"
        stack.write_text("encryptionsalt: v1:c2FsdHNhbHQ=:v1:bm9uY2Vub25jZQ==:Y2lwaGVy\n" + stack.read_text())
    before = d.stack_text("production")
    result, calls = d.deploy(**env)
    assert result.returncode == 2
    assert result.stderr == (
        f"deploy-monitoring: stack production uses the passphrase secrets provider (backend {backend}); "
        "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE\n")
    assert calls == ["whoami --json"]
    assert d.stack_text("production") == before


@pytest.mark.slow
def test_passphrase_backend_with_passphrase_encrypts_with_the_stack_salt(tmp_path):
    d = Deployer(tmp_path)
    backend = f"file://{tmp_path / 'state'}"
    passphrase = "correct horse battery staple"
    result, calls = d.deploy(**PRODUCTION, PULUMI_BACKEND_URL=backend, PULUMI_CONFIG_PASSPHRASE=passphrase)
    assert result.returncode == 0, result.stderr
    document = yaml.safe_load(d.stack_text("production"))
    assert document["encryptionsalt"].startswith("v1:")
    assert document["config"]["hasivu-monitoring:slackWebhookUrl"]["secure"].startswith("v1:")
    assert not any(passphrase in c or SLACK in c for c in calls)
    read_back = d.pulumi("config", "get", "slackWebhookUrl", PULUMI_BACKEND_URL=backend,
                         PULUMI_CONFIG_PASSPHRASE=passphrase)
    assert read_back.stdout == SLACK + "\n"
    wrong = d.pulumi("preview", PULUMI_BACKEND_URL=backend, PULUMI_CONFIG_PASSPHRASE="wrong")
    assert wrong.returncode == 255 and wrong.stderr == "error: incorrect passphrase\n"
