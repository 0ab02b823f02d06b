"""`python -m preflight diff`: real pairs of program runs, the base a commit of a real git repository
checked out into a temporary worktree, compared in reviewer terms."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.program_repo import (
    ORDERS_FUNCTION,
    blunt_razorpay_detection,
    commit,
    diff,
    diff_json,
    edit_config,
    edit_source,
    function_entry,
    git,
    groups,
    program_repo,
)
from tests.support.stack import PROJECT


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return program_repo(tmp_path)


def set_errors_per_minute(value: float) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        entry = function_entry(config, "payments", "hasivu-production-payments-verify")
        entry.setdefault("thresholds", {})["errorsPerMinute"] = value

    return change


def no_worktree_left(repo: Path) -> bool:
    return git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


@pytest.mark.slow
def test_a_threshold_change_is_one_changed_alarm_and_no_cost_change(repo: Path, tmp_path: Path):
    edit_config(repo, set_errors_per_minute(4))
    commit(repo, "payments-verify pages from 4 errors a minute")
    edit_config(repo, set_errors_per_minute(3))
    status, doc = diff_json(repo, "--base", "HEAD", "--drills", "none")
    assert status == 0 and doc["worse"] == []
    alarms = doc["alarms"]
    assert alarms["added"] == alarms["removed"] == alarms["renamed"] == []
    assert alarms["changed"] == [{"name": "production-payments-verify-errors",
                                  "changes": {"condition": ["> 4", "> 3"]}}]
    # CloudWatch bills an alarm per metric it reads, whatever its threshold.
    assert doc["cost"]["delta"] == 0 and doc["cost"]["lines"] == []
    assert doc["coverage"] == {"lost": [], "gained": []}
    assert no_worktree_left(repo)


@pytest.mark.slow
def test_a_saved_side_gives_the_diff_of_the_commit(repo: Path, tmp_path: Path):
    edit_config(repo, set_errors_per_minute(4))
    saved = tmp_path / "base.json"
    result = diff(repo, "--save-json", str(saved), "--drills", "drills/redis-down.yaml")
    assert result.returncode == 0
    # Playing the drills takes a while: the side says so before, and where it went after.
    assert result.stderr.splitlines() == [f"preflight: --save-json {saved}: playing 1 drill on this side",
                                          f"preflight: --save-json {saved}: saved; compare a change with "
                                          f"--base-json {saved}"]
    side = json.loads(saved.read_text())
    assert side["drills"]["redis-down"]["verdict"] == "passed"
    assert side["alarms"]["production-payments-verify-errors"]["condition"] == "> 4"
    edit_config(repo, set_errors_per_minute(3))
    compared = diff(repo, "--base-json", str(saved), "--drills", "drills/redis-down.yaml", "--json")
    assert compared.returncode == 0
    assert compared.stderr.splitlines() == ["preflight: diff: playing 1 drill on this side (0 of 1 unchanged)"]
    doc = json.loads(compared.stdout)
    assert doc["alarms"]["changed"] == [{"name": "production-payments-verify-errors",
                                         "changes": {"condition": ["> 4", "> 3"]}}]
    # The drill's inputs changed (an alarm's threshold), so it ran again: same verdict, not listed.
    assert doc["drills"] == {"changed": [], "unchanged": 0}
    # A saved drill left out of this run is not compared: it is not "absent", nor "now failing".
    left_out = diff(repo, "--base-json", str(saved), "--drills", "none")
    assert left_out.returncode == 0 and left_out.stderr == ""
    assert "now failing" not in left_out.stdout and "absent" not in left_out.stdout


@pytest.mark.slow
def test_adding_a_function_adds_its_alarms_coverage_and_cost(repo: Path):
    edit_config(repo, lambda config: groups(config)["orders"]["functions"].append(ORDERS_FUNCTION))
    status, doc = diff_json(repo, "--base", "HEAD", "--drills", "none", "--max-cost-increase", "0.25")
    alarms = doc["alarms"]
    assert alarms["removed"] == alarms["renamed"] == []
    # A Lambda function gets four alarms: errors, error rate, throttles and p99 duration.
    assert len(alarms["added"]) == 4
    for name in alarms["added"]:
        assert any(f"FunctionName={ORDERS_FUNCTION}" in m for m in alarms["facts"][name]["metrics"]), name
    assert sorted(c["alarm"] for c in doc["coverage"]["gained"] if c["resource"] == f"lambda {ORDERS_FUNCTION}") \
        == ["Duration", "Errors", "Errors%", "Throttles"]
    assert doc["coverage"]["lost"] == []
    # Five alarm metrics (the error rate reads Errors and Invocations) at $0.10 a metric a month, and the
    # traces of the requests the new function is expected to serve (its group's sampling class).
    lines = {line["item"]: line["delta"] for line in doc["cost"]["lines"]}
    assert set(lines) == {"alarm metrics, standard resolution", "X-Ray traces recorded (millions)"}
    assert lines["alarm metrics, standard resolution"] == pytest.approx(0.50)
    assert 0 < lines["X-Ray traces recorded (millions)"] < 0.25
    assert doc["cost"]["delta"] == pytest.approx(sum(lines.values()), abs=0.011)  # each rounded to cents
    assert status == 3
    assert doc["worse"] == [f"monthly cost rises by ${doc['cost']['delta']:.2f}, more than --max-cost-increase $0.25"]


# The RFID functions with a count of errors a minute (card registration, low-volume, has only its error rate).
RFID_FUNCTIONS = ("hasivu-production-rfid-verify-card", "hasivu-production-rfid-reader-heartbeat")


@pytest.mark.slow
def test_removing_a_groups_error_alarm_loses_coverage_and_exits_3(repo: Path):
    edit_source(repo, "components/alarms/lambda_.py", '    if function.invocation in ("async", "scheduled"):\n',
                '    if function.group == "rfid":\n'
                '        specs = [s for s in specs if s.metric_key != "errors"]\n'
                '    if function.invocation in ("async", "scheduled"):\n')
    result = diff(repo, "--base", "HEAD", "--drills", "none", "--json")
    assert result.returncode == 3, result.stderr
    doc = json.loads(result.stdout)
    removed = doc["alarms"]["removed"]
    assert len(removed) == len(RFID_FUNCTIONS) and doc["alarms"]["added"] == []
    for name in removed:
        [metric] = doc["alarms"]["facts"][name]["metrics"]
        assert metric.startswith("AWS/Lambda Errors {FunctionName=hasivu-production-rfid-"), metric
    assert doc["coverage"] == {"lost": [{"resource": f"lambda {f}", "alarm": "Errors"} for f in sorted(RFID_FUNCTIONS)],
                               "gained": []}
    assert all(reason.startswith("coverage lost: lambda hasivu-production-rfid-") for reason in doc["worse"])
    assert no_worktree_left(repo)


@pytest.mark.slow
def test_a_default_changed_in_the_programs_own_stackconfig_shows(repo: Path):
    # The base's stackconfig is its own, not the one this preflight imported: a default changed there shows.
    edit_source(repo, "stackconfig/thresholds.py", "    errors_per_minute: float = 5\n",
                "    errors_per_minute: float = 4\n")
    status, doc = diff_json(repo, "--base", "HEAD", "--drills", "none")
    changed = doc["alarms"]["changed"]
    assert status == 0 and doc["alarms"]["facts"] == {}  # none added or removed
    # Every function with a count of errors a minute at the default threshold: the 23 listed but the 3
    # scheduled jobs, the 7 low-volume functions, and the readers' heartbeat and logout (their own).
    assert len(changed) == 11
    assert "production-auth-logout-errors" not in {c["name"] for c in changed}
    assert all(c["name"].endswith("-errors") and c["changes"] == {"condition": ["> 5", "> 4"]} for c in changed)


@pytest.mark.slow
def test_a_change_that_breaks_a_drill_shows_its_new_failure(repo: Path):
    edit_config(repo, blunt_razorpay_detection)
    result = diff(repo, "--base", "HEAD", "--drills", "drills/razorpay-outage-at-lunch.yaml", "--json")
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == ["preflight: diff: playing 1 drill on both sides (0 of 1 unchanged)"]
    doc = json.loads(result.stdout)
    [drill] = doc["drills"]["changed"]
    assert drill["name"] == "razorpay-outage-at-lunch"
    assert (drill["before"], drill["after"]) == ("passed", "failed")
    # The drill expects a payment alarm within 5 minutes of Razorpay going down at minute 60: the payment
    # errors alarm no longer fires, and the next payment alarm to fire is too late.
    [failure] = drill["failures"]
    assert failure.startswith("fires production-payments-*: expected ALARM within 5 minutes of minute 60, first at "), \
        failure
    assert doc["worse"] == ["drill razorpay-outage-at-lunch passed on the base and now failed"]


@pytest.mark.slow
def test_a_renamed_alarm_is_a_rename(repo: Path):
    edit_source(repo, "components/alarms/business.py", 'metric_key="payment-errors"',
                'metric_key="payment-error-count"')
    result = diff(repo, "--base", "HEAD", "--drills", "none", "--markdown")
    assert result.returncode == 0, result.stderr
    _, doc = diff_json(repo, "--base", "HEAD", "--drills", "none")
    alarms = doc["alarms"]
    assert alarms["renamed"] == [{"from": "production-payments-payment-errors",
                                  "to": "production-payments-payment-error-count"}]
    assert alarms["added"] == alarms["removed"] == []
    # The pager that named the alarm now names it by its new name: its members change, nothing else.
    for entry in alarms["changed"]:
        assert set(entry["changes"]) == {"rule"}, entry
    assert "| `production-payments-payment-errors` | renamed |" in result.stdout


def test_a_base_that_is_not_a_commit_is_one_line_and_exit_2(repo: Path):
    result = diff(repo, "--base", "no-such-branch")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"preflight: --base no-such-branch: not a commit of {repo} (expected a branch, tag or commit; "
        "in CI fetch it first, e.g. actions/checkout with fetch-depth: 0)"]


@pytest.mark.slow
def test_a_base_whose_program_fails_is_named_and_its_worktree_removed(repo: Path):
    edit_config(repo, lambda config: config[f"{PROJECT}:alerting"]["critical"].update(emails=["oncall-at-hasivu"]))
    commit(repo, "a broken address")
    edit_config(repo, lambda config: config[f"{PROJECT}:alerting"]["critical"].update(emails=["oncall@hasivu.com"]))
    result = diff(repo, "--base", "HEAD", "--drills", "none")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "preflight: base HEAD: config hasivu-monitoring:alerting.critical.emails[0]: "
        "got 'oncall-at-hasivu'; expected an email address like ops@hasivu.com"]
    assert no_worktree_left(repo)


def test_a_file_that_is_not_a_saved_side_is_refused(repo: Path, tmp_path: Path):
    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps({"project": PROJECT, "stack": "production", "resources": []}))
    result = diff(repo, "--base-json", str(preview))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"preflight: --base-json {preview}: snapshot version None, this preflight reads 1; expected what "
        "`python -m preflight diff --stack production --save-json FILE` writes"]


def test_a_saved_side_without_its_facts_is_refused(repo: Path, tmp_path: Path):
    saved = tmp_path / "base.json"
    saved.write_text(json.dumps({"snapshot": 1, "stack": "production", "alarms": {}}))
    result = diff(repo, "--base-json", str(saved))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"preflight: --base-json {saved}: no coverage, dashboards, resources, access, cost, policy; expected what "
        "`python -m preflight diff --stack production --save-json FILE` writes"]
