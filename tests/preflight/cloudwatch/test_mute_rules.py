"""Alarm mute rules: the schedule as CloudWatch reads it (cloudwatch_rules.mute_rules) and what a muted
alarm does in the CloudWatch model (preflight/cloudwatch/mutes.py), from the API reference's `Schedule`
data type and the user guide's "How alarm mute rules work" scenarios."""

from __future__ import annotations

import datetime as dt

import pytest

from cloudwatch_rules.mute_rules import (
    At,
    Cron,
    MuteRuleError,
    Schedule,
    iso_duration,
    mute_rule_problems,
    parse_duration,
    parse_expression,
    schedule_of,
    time_zone,
)
from preflight.cloudwatch.cloudwatch import CloudWatchModel, CompositeDefinition, MetricAlarmDefinition
from preflight.cloudwatch.mutes import MuteClock, MuteRuleDefinition
from preflight.cloudwatch.store import MetricStore

IST = time_zone("Asia/Kolkata")
UTC = dt.UTC


def _props(expression: str, duration: str, timezone: str | None = None, **extra) -> dict:
    schedule = {"expression": expression, "duration": duration, **({"timezone": timezone} if timezone else {})}
    return {"name": "r", "rule": {"schedule": schedule}, "muteTargets": {"alarmNames": ["a"]}, **extra}


# ---- the schedule -------------------------------------------------------------------------------

@pytest.mark.parametrize("expression", [
    # The API reference's examples (Schedule, Expression).
    "cron(0 2 * * *)", "cron(0 2 * * SUN)", "cron(0 1 1 * *)", "cron(0 18 * * FRI)", "cron(0 23 * * *)",
    "at(2024-05-10T14:00)", "at(2024-12-23T00:00)",
    # "The characters *, -, and , are supported in all fields"; names for months and days.
    "cron(0,30 9-17 * JAN-MAR MON-FRI)",
])
def test_the_reference_examples_parse(expression: str):
    assert isinstance(parse_expression(expression), (Cron, At))


@pytest.mark.parametrize(("expression", "why"), [
    ("cron(0 2 * *)", "has 4 fields"),
    ("cron(0 2 ? * SUN *)", "has 6 fields"),  # EventBridge's form is not a mute rule's
    ("cron(*/5 * * * *)", "only numbers, names"),
    ("cron(60 2 * * *)", "minutes 60 is outside 0-59"),
    ("cron(0 2 * * SUNDAY)", "is not a number or a name"),
    ("cron(0 2 1 * MON)", "restricts both"),
    ("cron(0 5-2 * * *)", "runs backwards"),
    ("at(2026-02-30T10:00)", "is not a date and time"),
    ("at(2026-10-02 10:00)", "neither cron"),
    ("rate(1 day)", "neither cron"),
])
def test_expressions_cloudwatch_does_not_define_are_refused(expression: str, why: str):
    with pytest.raises(MuteRuleError, match=why):
        parse_expression(expression)


def test_durations_are_iso_8601_from_one_minute_to_fifteen_days():
    # The reference's examples: PT4H, P2DT12H, PT6H, PT2H, P7D; PT1M and P15D are the bounds.
    assert parse_duration("P2DT12H") == dt.timedelta(days=2, hours=12)
    assert parse_duration("PT1M") == dt.timedelta(minutes=1)
    assert parse_duration("P15D") == dt.timedelta(days=15)
    for bad in ("PT0M", "P15DT1M", "4h", "PT", "P", "PT4H30", "-PT1H"):
        with pytest.raises(MuteRuleError):
            parse_duration(bad)
    assert [iso_duration(m) for m in (1, 120, 125, 1440, 1530, 21600)] == [
        "PT1M", "PT2H", "PT2H5M", "P1D", "P1DT1H30M", "P15D"]
    assert all(parse_duration(iso_duration(m)) == dt.timedelta(minutes=m) for m in (1, 59, 61, 1441, 21600))


def test_the_time_zone_is_read_in_the_expression_and_utc_without_one():
    sunday_2am_ist = schedule_of(_props("cron(0 2 * * SUN)", "PT2H", "Asia/Kolkata"))
    starts = list(sunday_2am_ist.occurrences(dt.datetime(2026, 7, 1, tzinfo=UTC), dt.datetime(2026, 7, 15, tzinfo=UTC)))
    assert starts == [dt.datetime(2026, 7, 4, 20, 30, tzinfo=UTC), dt.datetime(2026, 7, 11, 20, 30, tzinfo=UTC)]
    utc = schedule_of(_props("cron(0 2 * * SUN)", "PT2H"))
    assert next(utc.occurrences(dt.datetime(2026, 7, 1, tzinfo=UTC), dt.datetime(2026, 7, 15, tzinfo=UTC))) == \
        dt.datetime(2026, 7, 5, 2, 0, tzinfo=UTC)
    with pytest.raises(MuteRuleError, match="time zone 'India/Bengaluru'"):
        schedule_of(_props("cron(0 2 * * SUN)", "PT2H", "India/Bengaluru"))


def test_a_weekend_mute_from_friday_evening_lasts_its_duration_each_week():
    """The reference's P2DT12H example: "weekend muting from Friday 6:00 PM to Monday 6:00 AM"."""
    weekend = schedule_of(_props("cron(0 18 * * FRI)", "P2DT12H", "Asia/Kolkata"))
    friday = dt.datetime(2026, 7, 3, 18, 0, tzinfo=IST)
    assert not weekend.active(friday - dt.timedelta(minutes=1))
    assert weekend.active(friday) and weekend.active(friday + dt.timedelta(days=2, hours=11, minutes=59))
    assert not weekend.active(friday + dt.timedelta(days=2, hours=12))
    assert weekend.next_activation(friday + dt.timedelta(minutes=1)) == friday + dt.timedelta(days=7)


def test_start_and_expire_dates_bound_a_recurring_rule_and_are_refused_with_at():
    daily = schedule_of(_props("cron(0 0 * * *)", "P1D", "Asia/Kolkata",
                               startDate="2026-10-09T18:30:00Z", expireDate="2026-10-11T18:30:00Z"))
    assert daily.windows(dt.datetime(2026, 10, 1, tzinfo=UTC), dt.datetime(2026, 11, 1, tzinfo=UTC)) == [
        (dt.datetime(2026, 10, 9, 18, 30, tzinfo=UTC), dt.datetime(2026, 10, 11, 18, 30, tzinfo=UTC))]
    # The provider: "Can not set start or expire dates for At expressions"; seconds must be 00.
    assert mute_rule_problems(_props("at(2026-10-02T00:00)", "P1D", startDate="2026-10-01T00:00:00Z")) == [
        "startDate and expireDate cannot be set with an at() expression"]
    assert mute_rule_problems(_props("cron(0 0 * * *)", "P1D", startDate="2026-10-01T00:00:30Z")) == [
        "date '2026-10-01T00:00:30Z' must have its seconds at 00"]


def test_a_rule_mutes_at_most_100_alarms_of_the_stack():
    rule = _props("cron(0 2 * * SUN)", "PT2H", "Asia/Kolkata")
    rule["muteTargets"]["alarmNames"] = [f"a{i}" for i in range(101)]
    assert mute_rule_problems(rule, known_alarms=[f"a{i}" for i in range(100)]) == [
        "mutes 101 alarms (at most 100 a rule)", "target 'a100' is no alarm of this stack"]


# ---- what muting does ---------------------------------------------------------------------------

def _model(rules: list[tuple[int, int]], composites: bool = False) -> CloudWatchModel:
    """A metric alarm `a` paging critical with OK actions (or the same through a composite pager), and
    mute rules over epoch minutes [start, end) targeting the alarm that pages."""
    paging = "pager" if composites else "a"
    definitions = [MuteRuleDefinition(f"rule-{i}", Schedule(At(dt.datetime(1970, 1, 1) + dt.timedelta(minutes=s)),
                                                            dt.timedelta(minutes=e - s), time_zone("UTC")),
                                      frozenset({paging}))
                   for i, (s, e) in enumerate(rules)]
    topics = [] if composites else ["critical"]
    alarm = MetricAlarmDefinition("a", {"period": 60, "evaluationPeriods": 1}, topics, topics)
    pager = [CompositeDefinition("pager", 'ALARM("a")', ["critical"], ["critical"])] if composites else []
    return CloudWatchModel(MetricStore(), [alarm], pager, mutes=MuteClock(definitions, 0, 200))


def _run(model: CloudWatchModel, alarm_minutes: range, minutes: int = 60) -> CloudWatchModel:
    for minute in range(minutes):
        model.tick_states({"a": "ALARM" if minute in alarm_minutes else "OK"}, minute)
    return model


@pytest.mark.parametrize("composites", [False, True], ids=["metric alarm", "composite pager"])
def test_an_alarm_that_recovers_while_muted_runs_no_alarm_action(composites: bool):
    """User guide scenario 1: muted t1-t5, ALARM at t2 (muted), OK at t4, no ALARM action at t5."""
    model = _run(_model([(10, 30)], composites), range(15, 25))
    assert model.pages == []
    # "Muting an alarm will mute actions associated with all alarm states": the OK at t4 was muted too,
    # and runs at t5 because the alarm is still in the state it was muted in.
    assert [(n.minute, n.state) for n in model.ok_notifications if n.minute > 0] == [(30, "OK")]
    assert [(n.minute, n.state, n.muted_by) for n in model.muted] == [(15, "ALARM", "rule-0"), (25, "OK", "rule-0")]


@pytest.mark.parametrize("composites", [False, True], ids=["metric alarm", "composite pager"])
def test_an_alarm_still_in_alarm_when_the_mute_ends_pages_once_then(composites: bool):
    """User guide scenario 2: ALARM at t2 (muted), still ALARM when the mute ends: the action runs then."""
    model = _run(_model([(10, 30)], composites), range(15, 50))
    assert [(p.minute, p.alarm) for p in model.pages] == [(30, "pager" if composites else "a")]


def test_overlapping_rules_mute_until_the_last_one_ends():
    model = _run(_model([(10, 30), (20, 40)]), range(15, 50))
    assert [p.minute for p in model.pages] == [40]


def test_an_alarm_already_in_alarm_when_the_mute_starts_is_not_paged_again():
    model = _run(_model([(10, 30)]), range(5, 50))
    assert [p.minute for p in model.pages] == [5]
