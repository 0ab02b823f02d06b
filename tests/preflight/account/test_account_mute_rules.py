"""The account check's view of alarm mute rules: what the account mutes for the stack, a rule muting alarms
the stack no longer has, a window someone forgot to end. STS is moto; the mute rules are recorded answers
(tests/support/mute_rule_recordings.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from preflight.account import Level, check_account, connect
from preflight.account.mute_rules import check_mute_rules
from preflight.model.stack import build_model
from tests.support.mute_rule_recordings import MuteRuleAccount, oncall_session
from tests.support.stack import run, stack_files

NOW = dt.datetime(2026, 12, 9, 8, 35, tzinfo=dt.UTC)  # Wednesday 14:05 IST


@pytest.fixture(scope="module")
def model():
    return build_model(run("production", preview=True))


@pytest.fixture
def account(aws: str):
    session = oncall_session(aws, "auditor")
    return session, MuteRuleAccount(session, NOW, composite_alarms=False)


def _check(session, model):
    return check_mute_rules(connect(stack_files("production"), session), model, NOW)


def test_the_stacks_rules_are_listed_with_what_they_mute(account, model):
    session, recorded = account
    recorded.hold("production-window-weekly-database-plus-10m", "cron(0 2 * * SUN)", "PT2H10M",
                  ["production-critical-database-pager"], status="SCHEDULED")
    recorded.hold("staging-window-nightly", "cron(0 1 * * *)", "PT1H", ["staging-critical-database-pager"])
    [finding] = _check(session, model)  # another stack's rule is not this stack's business
    assert (finding.level, finding.subject) == (Level.INFO, "production-window-weekly-database-plus-10m")
    assert finding.message == ("scheduled (cron(0 2 * * SUN) Asia/Kolkata for PT2H10M, planned by this stack): "
                               "mutes production-critical-database-pager")


def test_a_rule_muting_alarms_the_stack_no_longer_has_is_a_warning(account, model):
    session, recorded = account
    recorded.hold("production-adhoc-all-20261209T1300-ravi-vacuum", "at(2026-12-09T13:00)", "PT4H",
                  ["production-critical-pager", "production-critical-database-pager"])
    findings = {f.level: f for f in _check(session, model)}
    assert findings[Level.INFO].message.startswith("muting since 2026-12-09 07:30 UTC")
    warning = findings[Level.WARNING]
    assert warning.message.startswith("mutes 1 alarm(s) this stack no longer has: production-critical-pager")
    assert "python -m preflight maintenance --stack production stop" in warning.fix


def test_an_ad_hoc_window_muting_for_more_than_a_day_is_a_warning_and_a_planned_one_is_not(account, model):
    session, recorded = account
    deepavali = dt.datetime(2026, 11, 9, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    recorded.hold("production-adhoc-database-20261107T2300-ravi-upgrade", "at(2026-11-07T23:00)", "P5D",
                  ["production-critical-database-pager"])
    planned = next(r for r in model.mute_rules if r.name.startswith("production-holiday-2026-11-07"))
    recorded.hold(planned.name, planned.expression, planned.duration, list(planned.targets))
    findings = check_mute_rules(connect(stack_files("production"), session), model, deepavali)
    assert [(f.subject, f.message) for f in findings if f.level is Level.WARNING] == [
        ("production-adhoc-database-20261107T2300-ravi-upgrade",
         "has muted 1 alarm(s) for 1.5 days: their pages reach nobody")]
    assert "for 2.5 days" not in " ".join(f.message for f in findings)  # the holiday began on 7 November


def test_the_rules_are_one_check_of_the_account_report(account, model):
    session, recorded = account
    recorded.hold("production-adhoc-redis-20261209T1400-priya-failover", "at(2026-12-09T14:00)", "PT1H",
                  ["production-critical-redis-pager"])
    report = check_account(model, connect(stack_files("production"), session), as_of=NOW)
    assert [f.subject for f in report.findings if f.check == "mute rules"] == [
        "production-adhoc-redis-20261209T1400-priya-failover"]
