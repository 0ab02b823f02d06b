"""When the health monitor judges the RFID readers: school hours on school days, closures left out."""

from __future__ import annotations

import datetime as dt

import pytest

from observability.health import BusinessProfile, EnhancedHealthMonitor, enhanced_health_monitor
from observability.health_checks import HealthCheck
from observability.health_handler import handler
from observability.school_hours import IST, SchoolHours
from observability.settings import ConfigurationError

# 07:30 to 15:00 IST, Monday to Saturday, closed for Deepavali (Saturday 7 to Tuesday 10 November 2026).
SCHOOL = SchoolHours(dt.time(7, 30), dt.time(15, 0), 6, ((dt.date(2026, 11, 7), dt.date(2026, 11, 10)),))


@pytest.mark.parametrize(("when", "judged"), [
    (dt.datetime(2026, 11, 4, 7, 30, tzinfo=IST), True),  # Wednesday, the first minute of school
    (dt.datetime(2026, 11, 4, 14, 59, tzinfo=IST), True),
    (dt.datetime(2026, 11, 4, 15, 0, tzinfo=IST), False),  # the day's end is not in it
    (dt.datetime(2026, 11, 4, 2, 0, tzinfo=dt.UTC), True),  # 07:30 IST, given in UTC
    (dt.datetime(2026, 11, 4, 1, 59, tzinfo=dt.UTC), False),  # 07:29 IST
    (dt.datetime(2026, 11, 8, 10, 0, tzinfo=IST), False),  # Sunday
    (dt.datetime(2026, 11, 9, 10, 0, tzinfo=IST), False),  # Monday of the Deepavali closure
    (dt.datetime(2026, 11, 11, 10, 0, tzinfo=IST), True),  # the day after it
])
def test_school_hours_include_school_days_between_start_and_end(when, judged):
    assert SCHOOL.includes(when) is judged


def test_the_variable_reads_back_as_written():
    assert SchoolHours.from_variable(SCHOOL.as_variable()) == SCHOOL


@pytest.mark.parametrize("text", [
    "07:30-15:00", '{"start": "15:00", "end": "07:30", "days": 6}', '{"start": "07:30", "end": "15:00", "days": 8}',
    '{"start": "07:30", "end": "15:00", "days": 6, "closed": [["2026-11-10", "2026-11-07"]]}',
    '{"start": "07:30", "days": 6}',
])
def test_a_bad_variable_is_one_line_naming_it(text):
    with pytest.raises(ConfigurationError) as error:
        SchoolHours.from_variable(text)
    message = str(error.value)
    assert message.startswith("HASIVU_SCHOOL_HOURS: got ") and "\n" not in message


def _readers(active: bool) -> HealthCheck:
    def probe() -> tuple[str, dict]:
        return "unhealthy", {"offline_readers": ["r-1", "r-2"]}  # switched off
    return HealthCheck("rfid", 1.0, probe, active=lambda _: active, idle_reason="outside school hours")


def test_readers_outside_school_hours_are_not_judged_and_publish_no_minute(capsys, monkeypatch):
    monkeypatch.setenv("HASIVU_ENVIRONMENT", "production")
    database = HealthCheck("database", 1.0, lambda: ("healthy", {}))
    monitor = EnhancedHealthMonitor([database, _readers(active=False)], BusinessProfile(500_000, 12_000))
    report = monitor.get_enhanced_system_health()
    assert (report["status"], report["score"], set(report["checks"])) == ("healthy", 100.0, {"database"})
    assert report["not_checked"] == {"rfid": "outside school hours"}
    handler({}, None, monitor=monitor)
    published = [line for line in capsys.readouterr().out.splitlines() if '"DependencyHealthy"' in line]
    assert len(published) == 1 and '"database"' in published[0]


def test_at_night_one_slow_database_scores_as_it_does_by_day():
    """Weights: database 35, Razorpay 30, RFID 20, Redis 15; degraded counts half. A slow database is
    (35 x 50 + 30 x 100 + 20 x 100 + 15 x 100) / 100 = 82.5 by day, above the health-score alarm's 80;
    with the readers' weight left out at night it would be (1750 + 3000 + 1500) / 80 = 78.1 and page."""
    checks = [HealthCheck("database", 1.0, lambda: ("degraded", {})),
              HealthCheck("redis", 1.0, lambda: ("healthy", {})),
              HealthCheck("payment_gateway", 1.0, lambda: ("healthy", {}))]
    profile = BusinessProfile(500_000, 12_000)
    night = EnhancedHealthMonitor([*checks, _readers(active=False)], profile).get_enhanced_system_health()
    day = EnhancedHealthMonitor([*checks, HealthCheck("rfid", 1.0, lambda: ("healthy", {}))], profile)
    assert night["score"] == day.get_enhanced_system_health()["score"] == 82.5
    assert set(night["checks"]) == {"database", "redis", "payment_gateway"}


def test_readers_switched_off_in_school_hours_are_unhealthy():
    monitor = EnhancedHealthMonitor([_readers(active=True)], BusinessProfile(500_000, 12_000))
    report = monitor.get_enhanced_system_health()
    assert report["checks"]["rfid"]["status"] == "unhealthy" and "not_checked" not in report


def test_the_monitor_judges_the_readers_by_the_variable(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")  # the CloudWatch client is made, never called
    env = {"HASIVU_ENVIRONMENT": "production", "HASIVU_RFID_READER_IDS": "r-1,r-2",
           "HASIVU_SCHOOL_HOURS": SCHOOL.as_variable()}
    [readers] = enhanced_health_monitor(env=env).checks
    assert readers.active is not None and readers.active(dt.datetime(2026, 11, 4, 10, 0, tzinfo=IST))
    assert not readers.active(dt.datetime(2026, 11, 4, 22, 0, tzinfo=IST))
    with pytest.raises(ConfigurationError):
        enhanced_health_monitor(env={**env, "HASIVU_SCHOOL_HOURS": "always"})
