"""`python -m preflight maintenance`: ad-hoc windows as mute rules in the caller's account. STS is moto in
server mode; the mute rule operations and composite alarm states, which moto lacks, are answered from
recordings checked against botocore's shapes (tests/support/mute_rule_recordings.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from preflight.account.policy import iam_action
from preflight.cli import maintenance_parser
from preflight.maintenance.cli import maintenance_main
from preflight.maintenance.policy import ACTIONS, NEEDS_NO_PERMISSION, policy_document
from tests.support.moto_account import record_operations
from tests.support.mute_rule_recordings import MuteRuleAccount, oncall_session
from tests.support.stack import REPO

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
NOW = dt.datetime(2026, 12, 9, 14, 5, 30, tzinfo=IST)  # a Wednesday
JOB_PAGERS = {"production-critical-jobs-60m-pager", "production-warning-jobs-60m-pager"}

Invoke = Callable[..., tuple[int, str]]


@pytest.fixture
def account(aws: str) -> Iterator[tuple[MuteRuleAccount, Invoke, list]]:
    session = oncall_session(aws, "priya")
    recorded = MuteRuleAccount(session, NOW)
    operations = record_operations(session)

    def invoke(*argv: str, now: dt.datetime = NOW) -> tuple[int, str]:
        out = io.StringIO()
        code = maintenance_main(maintenance_parser().parse_args(["--stack", "production", *argv]), session, now, out)
        return code, out.getvalue()

    yield recorded, invoke, operations


def _puts(recorded: MuteRuleAccount) -> list[dict]:
    return [p for op, p in recorded.calls if op == "PutAlarmMuteRule"]


def test_start_mutes_what_is_maintained_and_the_job_pagers_from_this_minute(account):
    recorded, invoke, _ = account
    code, out = invoke("start", "--for", "2h", "--reason", "RDS failover test", "--scope", "database")
    assert code == 0, out
    puts = _puts(recorded)
    # The rule name carries who started it and why; the description says it in words.
    assert {p["Name"].rsplit("-plus-", 1)[0] for p in puts} == {
        "production-adhoc-database-20261209T1405-priya-rds-failover-test"}
    assert {p["Description"] for p in puts} == {"Ad-hoc maintenance of database, started by priya: RDS failover test"}
    assert {p["Rule"]["Schedule"]["Expression"] for p in puts} == {"at(2026-12-09T14:05)"}
    assert {p["Rule"]["Schedule"]["Timezone"] for p in puts} == {"Asia/Kolkata"}
    muted = {name: p["Rule"]["Schedule"]["Duration"] for p in puts for name in p["MuteTargets"]["AlarmNames"]}
    # Two hours, plus the time each pager's alarms need to clear (free storage: two 5-minute periods; the
    # low-volume error rates of both tiers' job pagers: an hour's period and its window); nothing of
    # payments, the API or the platform.
    # The database SLO's ticket pager: until its 6-hour windows have moved past the window, twice.
    assert muted == {"production-critical-database-pager": "PT2H10M", "production-warning-database-pager": "PT2H20M",
                     "production-critical-jobs-60m-pager": "PT4H", "production-warning-jobs-60m-pager": "PT4H",
                     "production-warning-database-slo-pager": "PT14H"}
    assert "until Wed 09 Dec 16:15 IST: production-critical-database-pager" in out


def test_status_lists_the_planned_and_ad_hoc_rules_with_what_they_mute_in_ist(account):
    recorded, invoke, _ = account
    recorded.hold("production-window-weekly-database-plus-10m", "cron(0 2 * * SUN)", "PT2H10M",
                  ["production-critical-database-pager"], status="SCHEDULED")
    recorded.hold("staging-window-nightly", "cron(0 1 * * *)", "PT1H", ["staging-critical-database-pager"],
                  status="SCHEDULED")
    invoke("start", "--for", "90m", "--reason", "Razorpay API v2 cut-over", "--scope", "payments")
    code, out = invoke("status", now=NOW + dt.timedelta(minutes=30))
    assert code == 0
    assert "SCHEDULED production-window-weekly-database-plus-10m\n" in out
    assert "cron(0 2 * * SUN) Asia/Kolkata for PT2H10M: next Sun 13 Dec 02:00 IST" in out
    assert "staging-window-nightly  [not this stack's]" in out
    # 90 minutes plus the hour the payment-success SLO's 6h/30m pair may take to clear (two 30-minute periods).
    muting = out.split("at(2026-12-09T14:05) Asia/Kolkata for PT2H30M: muting until Wed 09 Dec 16:35 IST\n", 1)
    assert len(muting) == 2 and "production-critical-payments-pager" in muting[1].splitlines()[0]
    code, out = invoke("status", "--json")
    rules = {r["name"]: r for r in json.loads(out)["rules"]}
    weekly = rules["production-window-weekly-database-plus-10m"]
    assert weekly["nextActivation"] == "2026-12-12T20:30:00+00:00" and weekly["activeUntil"] is None
    assert weekly["targets"] == ["production-critical-database-pager"] and weekly["ofThisStack"]


def test_stop_ends_the_window_says_what_pages_now_and_keeps_the_jobs_muted_until_they_clear(account):
    recorded, invoke, _ = account
    invoke("start", "--for", "2h", "--reason", "RDS failover test", "--scope", "database")
    recorded.alarm("production-critical-database-pager",
                   "arn:aws:cloudwatch:ap-south-1:123456789012:alarm:production-database-connectivity "
                   "transitioned to ALARM")
    recorded.alarm("production-critical-payments-pager", "payments errors")  # not muted by this window
    code, out = invoke("stop", now=NOW + dt.timedelta(minutes=40))
    assert code == 0, out
    # DeleteAlarmMuteRule: "If those alarms are in an ALARM state, their configured actions will trigger."
    assert "In ALARM, paging now:\n  production-critical-database-pager: arn:aws:cloudwatch" in out
    assert "production-critical-payments-pager" not in out
    remaining = {t: r["Rule"]["Schedule"] for r in recorded.rules.values() for t in r["MuteTargets"]["AlarmNames"]}
    assert set(remaining) == JOB_PAGERS  # the scope's rules are gone
    # A job run that failed in the window is judged for its period and window from now on, not paged at once.
    assert remaining["production-critical-jobs-60m-pager"] == {
        "Expression": "at(2026-12-09T14:45)", "Duration": "PT2H", "Timezone": "Asia/Kolkata"}
    assert "no active or scheduled ad-hoc" not in out
    code, out = invoke("stop", "--name", "production-adhoc-redis")
    assert code == 2


def test_the_policy_lists_exactly_the_calls_the_tool_makes(account):
    recorded, invoke, operations = account
    invoke("start", "--for", "1h", "--reason", "x", "--scope", "redis")
    invoke("status")
    recorded.alarm("production-critical-redis-pager", "cache unreachable")
    invoke("stop")
    # Calls answered from recordings stop at their recording; the others (STS) reach moto and are recorded there.
    made = {iam_action(service, operation, method) for service, operation, method in operations}
    made |= {f"cloudwatch:{operation}" for operation, _ in recorded.calls}
    assert made == set(ACTIONS) | NEEDS_NO_PERMISSION
    granted = {a for s in policy_document()["Statement"] for a in s["Action"]}
    assert granted == set(ACTIONS)
    put = next(s for s in policy_document("production", "ap-south-1", "123456789012")["Statement"]
               if s["Action"] == ["cloudwatch:PutAlarmMuteRule"])
    # On the rule and on each alarm it targets (PutAlarmMuteRule, Permissions): only this stack's pagers.
    assert put["Resource"] == ["arn:aws:cloudwatch:ap-south-1:123456789012:alarm-mute-rule:production-adhoc-*",
                               "arn:aws:cloudwatch:ap-south-1:123456789012:alarm:production-*-pager"]
    assert all(p["Name"].startswith("production-adhoc-") for p in _puts(recorded))
    assert all(t.endswith("-pager") for p in _puts(recorded) for t in p["MuteTargets"]["AlarmNames"])


def _cli(*args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([sys.executable, "-m", "preflight", "maintenance", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120,
                          env={**clean, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                               "AWS_CONFIG_FILE": "/nonexistent", "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize(("args", "message"), [
    (("start", "--for", "14d", "--reason", "x"),
     "--for 14d: expected a duration like 2h, 90m or 1h30m, from 1m to 13d"),
    (("start", "--for", "-1h", "--reason", "x"),
     "--for -1h: expected a duration like 2h, 90m or 1h30m, from 1m to 13d"),
    (("start", "--for", "2h", "--reason", " "), "--reason: expected why"),
    (("status",), "AWS account: no credentials found"),
])
def test_bad_use_is_one_line_and_exit_2(args: tuple[str, ...], message: str):
    result = _cli("--stack", "production", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_docs_show_the_policy_the_tool_is_held_to():
    doc = (REPO / "docs" / "maintenance.md").read_text()
    block = doc[doc.index("```json\n") + len("```json\n"):]
    assert json.loads(block[:block.index("```")]) == policy_document("production")
