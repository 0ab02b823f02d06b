"""`report`: bad input is one line naming what is wrong, exit 2, no traceback."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from preflight.account.calls import CallFailed
from preflight.cli import main
from preflight.report.cli import build
from preflight.report.window import month_window
from tests.conftest import free_port
from tests.support import moto_account
from tests.support.stack import REPO

NO_SLOS_STACK = """config:
  aws:region: ap-south-1
  hasivu-monitoring:environment: noslo
  hasivu-monitoring:runbookBaseUrl: https://runbooks.hasivu.com/monitoring
  hasivu-monitoring:alerting:
    critical: {emails: [oncall@hasivu.com]}
    warning: {emails: [ops@hasivu.com]}
    business: {emails: [business-ops@hasivu.com]}
  hasivu-monitoring:tracing: {manageEncryption: false}
  hasivu-monitoring:inventory:
    lambdaGroups:
      payments: {tier: critical, functions: [hasivu-noslo-payments-verify]}
  hasivu-monitoring:slos:
    paymentSuccess: {enabled: false}
    rfidVerification: {enabled: false}
"""
NO_SLOS_DRILL = """name: no-slos
start: "2026-07-01T12:00:00+05:30"
minutes: 5
traffic: school-day
stack: Pulumi.noslo.yaml
expect: {pages: {critical: 0}}
"""


def _one_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-11", "november", "2026-11-01"])
def test_a_month_not_written_yyyy_mm(month, capsys):
    assert main(["report", "--stack", "production", "--aws", "--month", month]) == 2
    assert _one_line(capsys) == f"preflight: --month: got {month!r}; expected a calendar month as YYYY-MM, like 2026-11"


def test_a_month_that_has_not_begun(capsys):
    assert main(["report", "--stack", "production", "--aws", "--month", "2099-01"]) == 2
    assert _one_line(capsys).startswith("preflight: --month 2099-01: that month has not begun (it is ")


def test_a_month_older_than_cloudwatch_keeps_its_metrics(capsys):
    assert main(["report", "--stack", "production", "--aws", "--month", "2020-01"]) == 2
    assert "CloudWatch keeps metrics 455 days (hourly data)" in _one_line(capsys)


@pytest.mark.parametrize(("now", "period"), [
    ("2026-11-16T00:00", 60),     # the month's first minute 15 days ago
    ("2026-11-16T00:01", 300),    # 15 days and a minute
    ("2027-01-03T00:00", 300),    # 63 days
    ("2027-01-03T00:01", 3600),   # 63 days and a minute
    ("2028-01-30T00:00", 3600),   # 455 days
])
def test_the_period_is_the_finest_cloudwatch_keeps_for_the_months_first_minute(now, period):
    """MetricStat (API reference): a start time between 15 and 63 days ago needs a multiple of 300 s, one
    more than 63 days ago a multiple of 3600 s; hourly data is kept 455 days."""
    assert month_window("2026-11", dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)).period == period


def test_a_month_in_progress_ends_ten_minutes_ago():
    window = month_window("2026-12", dt.datetime(2026, 12, 6, 18, 23, tzinfo=dt.UTC))
    assert (window.start, window.end, window.period, window.in_progress, window.budget_minutes) == (
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 6, 18, 13, tzinfo=dt.UTC), 60, True, 31 * 1440)


def test_month_and_drill_do_not_go_together(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--stack", "production", "--drill", "drills/redis-down.yaml", "--month", "2026-11"])
    assert exit_.value.code == 2
    assert "--month goes with --aws" in capsys.readouterr().err


def test_aws_needs_a_month(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--stack", "production", "--aws"])
    assert exit_.value.code == 2
    assert "--aws needs --month YYYY-MM" in capsys.readouterr().err


def test_a_stack_that_measures_no_slo(tmp_path, capsys):
    (tmp_path / "Pulumi.noslo.yaml").write_text(NO_SLOS_STACK)
    (tmp_path / "no-slos.yaml").write_text(NO_SLOS_DRILL)
    assert main(["report", "--stack", "production", "--drill", str(tmp_path / "no-slos.yaml")]) == 2
    assert _one_line(capsys) == ("preflight: stack noslo measures no SLO (hasivu-monitoring:slos, docs/slos.md): "
                                 "nothing to report")


def test_a_drill_file_that_cannot_be_read(tmp_path, capsys):
    assert main(["report", "--stack", "production", "--drill", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in _one_line(capsys)


def test_an_account_that_cannot_be_reached(monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert main(["report", "--stack", "production", "--aws", "--month", "2026-11"]) == 2
    assert _one_line(capsys).startswith("preflight: AWS account: cannot reach it: sts GetCallerIdentity: ")


def test_get_metric_data_refused(moto_endpoint, monkeypatch):
    """An AccessDenied answer to GetMetricData (the caller's policy lacks it) is one line naming the call."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    session = moto_account.fresh_account(moto_endpoint)
    moto_account.deny(session, "cloudwatch", "GetMetricData")
    args = argparse.Namespace(stack="production", program=REPO, drill=None, aws=True, month="2026-11")
    with pytest.raises(CallFailed) as failed:
        build(args, session, now=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
    assert "\n" not in str(failed.value)
    assert "GetMetricData" in str(failed.value) and "AccessDeniedException" in str(failed.value)
