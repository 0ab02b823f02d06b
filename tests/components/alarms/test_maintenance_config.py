"""Planned maintenance windows and the school calendar: strict config, and the alarm mute rules the program
makes of them (what each mutes, when, for how long)."""

from __future__ import annotations

import datetime as dt

import pulumi
import pytest

from cloudwatch_rules.mute_rules import schedule_of, targets_of
from preflight.program.engine import ProgramFailed
from tests.support.stack import of_type, props, run

MUTE_RULE = "aws:cloudwatch/alarmMuteRule:AlarmMuteRule"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
WINDOW = {"name": "weekly-database", "scope": "database", "reason": "RDS patching", "days": ["SUN"],
          "start": "02:00", "duration": "2h"}


def _rules(result) -> dict[str, dict]:
    return {props(r)["name"]: props(r) for r in of_type(result, MUTE_RULE)}


def _pagers(result) -> dict[str, dict]:
    """Every alarm with actions: the pagers (member alarms page through them)."""
    pagers = {props(r)["alarmName"]: props(r) for r in of_type(result, COMPOSITE) if props(r).get("alarmActions")}
    assert not any(props(r).get("alarmActions") for r in of_type(result, ALARM))
    return pagers


def _muted(rules: dict[str, dict], when: dt.datetime) -> set[str]:
    return {name for rule in rules.values() if schedule_of(rule).active(when) for name in targets_of(rule)}


def test_the_weekly_database_window_mutes_the_database_and_job_pagers_and_nothing_else():
    result = run()
    rules, pagers = _rules(result), _pagers(result)
    sunday = dt.datetime(2026, 7, 5, 2, 30, tzinfo=IST)
    muted = _muted({n: r for n, r in rules.items() if "window" in n}, sunday)
    assert muted == {name for name, p in pagers.items() if p["tags"]["MuteScope"] in ("database", "jobs")}
    assert "production-critical-database-pager" in muted and "production-critical-payments-pager" not in muted
    # Nothing on Saturday night, nor on Sunday after the window and the alarms' own windows.
    assert _muted(rules, dt.datetime(2026, 7, 4, 2, 30, tzinfo=IST)) == set()
    after = _muted(rules, dt.datetime(2026, 7, 5, 4, 5, tzinfo=IST))
    assert "production-critical-database-pager" in after  # 2 hours + 10 minutes: free storage, 5-minute periods
    after = _muted(rules, dt.datetime(2026, 7, 5, 4, 10, tzinfo=IST))
    assert "production-critical-database-pager" not in after
    # 2 hours + 120: the low-volume error rates (webhooks, refunds, sign-ups) are judged over the last hour,
    # whose period may close an hour after the fault and stays in the window for an hour more.
    assert "production-critical-jobs-60m-pager" in after
    assert "production-critical-jobs-60m-pager" in _muted(rules, dt.datetime(2026, 7, 5, 5, 55, tzinfo=IST))
    assert "production-critical-jobs-60m-pager" not in _muted(rules, dt.datetime(2026, 7, 5, 6, 5, tzinfo=IST))
    assert {r["rule"]["schedule"]["timezone"] for r in rules.values()} == {"Asia/Kolkata"}
    assert all("RDS patching" in r["description"] for n, r in rules.items() if "window" in n)


def test_the_calendar_mutes_only_the_school_day_pagers_on_days_without_school():
    result = run()
    pagers = _pagers(result)
    rules = {n: r for n, r in _rules(result).items() if "window" not in n}
    school_day = {name for name, p in pagers.items() if p["tags"]["SchoolDay"] == "true"}
    assert school_day == {"production-critical-api-school-day-pager", "production-warning-rfid-school-day-pager",
                          "production-business-platform-school-day-pager"}
    for holiday in (dt.datetime(2026, 10, 2, 12, 30, tzinfo=IST),  # Gandhi Jayanti
                    dt.datetime(2026, 11, 9, 8, 0, tzinfo=IST),  # Deepavali, 7 to 10 November
                    dt.datetime(2026, 10, 20, 10, 0, tzinfo=IST),  # the break between the terms
                    dt.datetime(2026, 7, 12, 11, 0, tzinfo=IST)):  # a Sunday
        assert _muted(rules, holiday) == school_day, holiday
    # School days: nothing is muted at lunch, the payments and API pagers are never muted by the calendar.
    for school in (dt.datetime(2026, 10, 1, 12, 30, tzinfo=IST), dt.datetime(2026, 10, 26, 8, 0, tzinfo=IST),
                   dt.datetime(2026, 11, 11, 12, 0, tzinfo=IST)):
        assert _muted(rules, school) == set(), school


def test_a_long_break_is_one_daily_rule_between_its_first_day_and_the_day_after_its_last():
    # One rule per length of the pagers' recovery (the reader liveness pager's 30-minute window needs 35).
    rule = _rules(run())["production-break-2026-10-10-plus-20m"]
    schedule = schedule_of(rule)
    assert rule["rule"]["schedule"]["expression"] == "cron(0 0 * * *)"
    assert (rule["startDate"], rule["expireDate"]) == ("2026-10-09T18:30:00Z", "2026-10-25T18:30:00Z")
    assert schedule.active(dt.datetime(2026, 10, 10, 0, 0, tzinfo=IST))
    assert schedule.active(dt.datetime(2026, 10, 25, 23, 59, tzinfo=IST))
    assert not schedule.active(dt.datetime(2026, 10, 26, 0, 0, tzinfo=IST))


def test_a_stack_without_windows_or_calendar_has_no_mute_rules():
    assert _rules(run("staging")) == {}


def test_a_one_time_window_of_scope_all_mutes_every_pager_once():
    result = run(set_={"maintenance": {"windows": [
        {"name": "dc-move", "scope": "all", "reason": "moving the NAT gateway", "date": "2026-08-09",
         "start": "01:00", "duration": "90m"}]}})
    rules = {n: r for n, r in _rules(result).items() if "window" in n}
    assert {r["rule"]["schedule"]["expression"] for r in rules.values()} == {"at(2026-08-09T01:00)"}
    assert _muted(rules, dt.datetime(2026, 8, 9, 2, 0, tzinfo=IST)) == set(_pagers(result))
    assert _muted(rules, dt.datetime(2026, 8, 16, 2, 0, tzinfo=IST)) == set()


CASES = {
    "unknown scope": ({"maintenance": {"windows": [{**WINDOW, "scope": "kafka"}]}},
                      ["maintenance.windows[0].scope", "'kafka'", "one of database, redis, api, payments, rfid, all"]),
    "days and date": ({"maintenance": {"windows": [{**WINDOW, "date": "2026-08-09"}]}},
                      ["maintenance.windows[0].date", "'2026-08-09'", "or date (a one-time window), not both"]),
    "neither days nor date": ({"maintenance": {"windows": [{k: v for k, v in WINDOW.items() if k != "days"}]}},
                              ["maintenance.windows[0].date", "either days"]),
    "unknown day": ({"maintenance": {"windows": [{**WINDOW, "days": ["SUNDAY"]}]}},
                    ["maintenance.windows[0].days[0]", "'SUNDAY'", "a day of the week: MON, TUE"]),
    "clock in 12-hour form": ({"maintenance": {"windows": [{**WINDOW, "start": "2am"}]}},
                              ["maintenance.windows[0].start", "'2am'", "a time of day in IST like 02:00"]),
    "duration over 13 days": ({"maintenance": {"windows": [{**WINDOW, "duration": "14d"}]}},
                              ["maintenance.windows[0].duration", "'14d'", "from 1m to 13d"]),
    "duration in words": ({"maintenance": {"windows": [{**WINDOW, "duration": "two hours"}]}},
                          ["maintenance.windows[0].duration", "a duration like 2h"]),
    "window without reason": ({"maintenance": {"windows": [{k: v for k, v in WINDOW.items() if k != "reason"}]}},
                              ["maintenance.windows[0].reason", "the key is missing", "a reason"]),
    "unknown window key": ({"maintenance": {"windows": [{**WINDOW, "timezone": "UTC"}]}},
                           ["maintenance.windows[0].timezone: unknown key"]),
    "two windows of one name": ({"maintenance": {"windows": [WINDOW, WINDOW]}},
                                ["maintenance.windows[1].name", "'weekly-database'", "a name no other window has"]),
    "not a date": ({"schoolCalendar": {"holidays": [{"date": "2026-02-30", "reason": "x"}]}},
                   ["schoolCalendar.holidays[0].date", "'2026-02-30'", "a date like 2026-10-02"]),
    "holiday without a day": ({"schoolCalendar": {"holidays": [{"from": "2026-11-07", "reason": "Deepavali"}]}},
                              ["schoolCalendar.holidays[0].to", "a date, or from and to"]),
    "holiday ending before it starts": (
        {"schoolCalendar": {"holidays": [{"from": "2026-11-10", "to": "2026-11-07", "reason": "Deepavali"}]}},
        ["schoolCalendar.holidays[0].to", "'2026-11-07'", "a date on or after from (2026-11-10)"]),
    "overlapping terms": ({"schoolCalendar": {"terms": [{"name": "a", "start": "2026-06-01", "end": "2026-10-09"},
                                                        {"name": "b", "start": "2026-10-01", "end": "2027-03-31"}]}},
                          ["schoolCalendar.terms[1].start", "'2026-10-01'", "a date after the end of a (2026-10-09)"]),
    "weekends the alarms do not skip": ({"schoolCalendar": {"weekends": ["SAT", "SUN"]}},
                                        ["schoolCalendar.weekends", "['SAT', 'SUN']", "['SUN']",
                                         "thresholds.business.schoolDaysPerWeek (6)"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_maintenance_config_is_one_clear_error_and_registers_nothing(case: str):
    changes, fragments = CASES[case]
    with pytest.raises(ProgramFailed) as failed:
        run(set_=changes)
    assert isinstance(failed.value.cause, pulumi.RunError)
    message = str(failed.value.cause)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    assert failed.value.registrations == []
