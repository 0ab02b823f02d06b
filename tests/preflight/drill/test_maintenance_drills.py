"""Maintenance in drills: the stack's planned windows and calendar apply by themselves, a `maintenance`
fault is an ad-hoc window; without them the same incidents page (so the drills measure the mutes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from preflight.drill.drill_file import DrillError, load_drill
from preflight.drill.runner import run_drill
from preflight.emulator.platform import Platform, platform_from_run
from tests.support.stack import REPO, run

# Each test plays whole drills, seconds each.
pytestmark = pytest.mark.slow

DRILLS = REPO / "drills"


@pytest.fixture(scope="module")
def unplanned() -> Platform:
    """Production without its maintenance windows and school calendar."""
    return platform_from_run(run("production", preview=True, remove=("maintenance", "schoolCalendar")))


@pytest.fixture(scope="module")
def production() -> Platform:
    return platform_from_run(run("production", preview=True))


def test_without_the_weekly_window_the_database_restart_pages_critical(unplanned: Platform):
    result = run_drill(load_drill(DRILLS / "weekly-window-database-restart.yaml"), unplanned)
    assert result.pages["critical"] == 1 and not result.passed


def test_without_the_calendar_the_holiday_pages_the_readers_the_sessions_and_the_ordering(unplanned: Platform):
    """Without the calendar's mute, the breakfast hour without sessions and the lunch without orders (or
    sessions) are two business incidents hours apart on the school-day pager."""
    result = run_drill(load_drill(DRILLS / "school-holiday-no-orders.yaml"), unplanned)
    assert result.pages == {"critical": 0, "warning": 1, "business": 2}
    business = [n for n in result.notifications if n["tier"] == "business"]
    assert [n["alarm"] for n in business] == ["production-business-platform-school-day-pager"] * 2
    assert [n["membersInAlarm"] for n in business] == [
        ["production-users-engagement-drop"],
        ["production-orders-ordering-stopped", "production-users-engagement-drop"]]


def test_without_its_window_the_failed_job_run_pages_warning_after_it(production: Platform):
    drill = load_drill(DRILLS / "job-fails-in-window.yaml")
    unmuted = dataclasses.replace(drill, faults=[f for f in drill.faults if f.kind != "maintenance"])
    assert run_drill(unmuted, production).pages == {"critical": 0, "warning": 1, "business": 0}


def test_the_overrunning_fault_pages_at_once_without_its_window(unplanned: Platform):
    result = run_drill(load_drill(DRILLS / "fault-outlives-window.yaml"), unplanned)
    assert (result.notifications[0]["minute"], result.notifications[0]["tier"]) == (122, "critical")
    assert "critical pages at minutes [160]: got [122] (production-critical-database-pager at 122)" in result.failures


@pytest.mark.slow
def test_the_overrunning_fault_pages_once_whatever_the_nights_webhooks(production: Platform):
    """Each seed draws other minutes for the night's few webhook calls; in some half-hours of the outage only
    two arrive (under the webhook alarm's 3-error floor). Whatever the draw, the critical tier is paged once,
    when the database pager's mute ends, and the job pager stays quiet."""
    drill = load_drill(DRILLS / "fault-outlives-window.yaml")
    for seed in range(12):
        result = run_drill(dataclasses.replace(drill, seed=seed), production)
        assert [(n["minute"], n["alarm"]) for n in result.notifications if n["tier"] == "critical"] == [
            (160, "production-critical-database-pager")], (seed, result.failures)


def test_a_maintenance_fault_is_muted_by_the_rules_the_command_line_would_put(production: Platform):
    result = run_drill(load_drill(DRILLS / "maintenance-window-database-down.yaml"), production)
    rules = {m["rule"] for m in result.muted}
    assert rules and all(r.startswith("production-adhoc-all-20260701T2300-drill-maintenance-window-database-down")
                         for r in rules)


def _drill(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "drill.yaml"
    path.write_text('name: d\nstart: "2026-07-05T01:30:00+05:30"\nminutes: 60\ntraffic: school-night\n' + body)
    return path


@pytest.mark.parametrize(("body", "message"), [
    ("faults: [{kind: maintenance, target: kafka, at: 0, for: 10}]\nexpect: {pages: {critical: 0}}\n",
     "faults[0].target: expected what it maintains: one of database, redis, api, payments, rfid, all (got 'kafka')"),
    ("expect: {pagesAt: {critical: 5}}\n", "expect.pagesAt.critical: expected a list of drill minutes (got 5)"),
    ("faults: [{kind: traffic-stop, target: orders, at: 0, for: 10, background: 1}]\nexpect: {}\n",
     "faults[0].background: expected true or false (got 1)"),
    ("expect: {pagesAt: {urgent: [5]}}\n", "expect.pagesAt.urgent: expected one of the keys critical, warning"),
])
def test_bad_maintenance_in_a_drill_file_is_one_line(tmp_path: Path, body: str, message: str):
    with pytest.raises(DrillError) as error:
        load_drill(_drill(tmp_path, body))
    assert message in str(error.value)
