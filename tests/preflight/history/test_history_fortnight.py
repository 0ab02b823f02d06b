"""Two weeks of the production platform, one-minute data for every metric the stack reads, with two real
incidents and one noisy alarm (tests/support/history_scenario.py), written as a history file and replayed
offline as `history --from FILE` does: the report finds both incidents, names the noisy alarm with a
threshold that keeps it quiet, and counts the pages per tier that a direct count of the data gives."""

from __future__ import annotations

import datetime as dt

import pytest

from preflight.emulator.platform import platform_from_model
from preflight.history import history_file
from preflight.history.cli import history_report
from preflight.history.report import document
from preflight.model.stack import build_model
from preflight.program.engine import run_program
from tests.support import history_scenario
from tests.support.history_scenario import CPU, DATABASE, PAYMENT_ERRORS, m_of_n_changes
from tests.support.stack import stack_files

# Two weeks of minutes through the program's alarms: the full suite runs it, the quick loop does not.
pytestmark = pytest.mark.slow

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
START = int(dt.datetime(2026, 7, 1, tzinfo=IST).timestamp()) // 60  # a Wednesday, 00:00 IST
DAY = 1440
DATABASE_DOWN = [START + 2 * DAY + 11 * 60]  # Friday 11:00 IST, in school hours
PAYMENTS = [START + 8 * DAY + 12 * 60 + 30]  # the next Thursday, 12:30 IST, at lunch
# Nine nights at 02:00 IST and one afternoon at 16:00 IST.
NOISE = [START + d * DAY + 2 * 60 for d in (0, 1, 3, 4, 5, 7, 9, 10, 11)] + [START + 6 * DAY + 16 * 60]


def _ist_hour(minute: int) -> int:
    return (minute + 330) // 60 % 24


@pytest.fixture(scope="module")
def fortnight(tmp_path_factory):
    files = stack_files("production", set_=history_scenario.SCENARIO_SETTINGS)  # SCENARIO_SETTINGS says why
    model = build_model(run_program(files, preview=True))
    platform = platform_from_model(model)
    s = history_scenario.scenario(platform, START, 14 * DAY, DATABASE_DOWN, PAYMENTS, NOISE)
    path = tmp_path_factory.mktemp("history") / "fortnight.json"
    history_file.save(history_scenario.history(s, platform), path)
    report = history_report(files, model, history_file.read(path), None, 6)
    return s, document(report), model


def test_two_weeks_of_every_metric_at_one_minute(fortnight):
    s, doc, model = fortnight
    assert doc["window"]["days"] == 14
    assert len(s.keys()) == len({m for a in model.alarms for m in a.metrics})  # every metric the alarms read
    one_minute = [a for a in doc["alarms"] if a["periods"] == 14 * DAY]
    assert one_minute and all(a["noDataPeriods"] == 0 for a in one_minute)


def test_the_report_finds_both_incidents(fortnight):
    s, doc, _ = fortnight
    database = m_of_n_changes(s, DATABASE, "Minimum", 1, lambda v: v < 1, 2, 3)
    payments = m_of_n_changes(s, PAYMENT_ERRORS, "Sum", 5, lambda v: v > 10, 1, 1)
    windows = doc["incidents"]["windows"]
    assert [(dt.datetime.fromisoformat(w["start"]), dt.datetime.fromisoformat(w["end"])) for w in windows] == [
        (dt.datetime.fromtimestamp(a * 60, dt.UTC), dt.datetime.fromtimestamp(b * 60, dt.UTC))
        for (a, _), (b, _) in (database, payments)]


def test_the_report_names_the_noisy_alarm_with_a_threshold_that_keeps_it_quiet(fortnight):
    s, doc, _ = fortnight
    suggested = {a["name"]: a["suggestion"] for a in doc["alarms"] if "suggestion" in a}
    assert set(suggested) == {"production-db-cpu"}
    suggestion = suggested["production-db-cpu"]
    assert len(suggestion["outsideIncidents"]) == len(NOISE)
    assert (suggestion["key"], suggestion["value"]) == ("thresholds.rds.cpuPercent", suggestion["threshold"])
    assert m_of_n_changes(s, CPU, "Average", 5, lambda v: v > suggestion["threshold"], 3, 3) == []
    assert len(m_of_n_changes(s, CPU, "Average", 5, lambda v: v > 80, 3, 3)) == 2 * len(NOISE)


def test_per_tier_pages_and_night_pages_match_a_direct_count_of_the_data(fortnight):
    s, doc, _ = fortnight
    # Critical: the pager pages as either incident's alarm enters ALARM. Warning: the pager waits five
    # minutes (its suppressor's WaitPeriod) and pages while the CPU alarm is still in ALARM.
    database = m_of_n_changes(s, DATABASE, "Minimum", 1, lambda v: v < 1, 2, 3)
    payments = m_of_n_changes(s, PAYMENT_ERRORS, "Sum", 5, lambda v: v > 10, 1, 1)
    cpu = m_of_n_changes(s, CPU, "Average", 5, lambda v: v > 80, 3, 3)
    pages = {"critical": [m for m, state in database + payments if state == "ALARM"],
             "warning": [m + 5 for (m, _), (left, _) in zip(cpu[::2], cpu[1::2], strict=True) if left - m > 5],
             "business": []}
    for tier, minutes in pages.items():
        shown = doc["tiers"][tier]
        assert shown["pages"] == len(minutes)
        assert shown["nightPages"] == sum(1 for m in minutes if _ist_hour(m) >= 22 or _ist_hour(m) < 6)
        assert shown["byHourIst"] == [sum(1 for m in minutes if _ist_hour(m) == h) for h in range(24)]
        assert shown["pagesPerWeek"] == pytest.approx(len(minutes) / 2, abs=0.01)
    assert (doc["tiers"]["critical"]["pages"], doc["tiers"]["warning"]["pages"]) == (2, len(NOISE))
    assert doc["tiers"]["warning"]["nightPages"] == len(NOISE) - 1
