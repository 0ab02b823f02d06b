"""The figures of one SLO from recorded series, on the edges: the guard, the target's own bad share, a
missing percentile rank, a month without a check."""

from __future__ import annotations

import datetime as dt

import pytest

from preflight.cloudwatch.store import metric_key
from preflight.history.history_file import Series
from preflight.history.recorded_store import RecordedStore
from preflight.report.measure import measure
from preflight.report.window import Window

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
T0 = int(START.timestamp())
STAGE = {"ApiName": "api", "Stage": "prod"}
WINDOW = Window("2026-11", START, START + dt.timedelta(minutes=20), 20, 60)


def _metric(name: str, stat: str) -> dict:
    return {"namespace": "AWS/ApiGateway", "metricName": name, "dimensions": STAGE, "stat": stat}


def _slo(**sli: dict) -> dict:
    return {"name": "api-availability", "service": "api", "kind": "request", "target": 99.9, "minRequests": 50,
            "sli": {"total": _metric("Count", "Sum"), **sli}}


def _series(name: str, stat: str, values: list[float]) -> Series:
    """One value a minute from the window's start."""
    return Series(metric_key("AWS/ApiGateway", name, STAGE), stat, 60, [(T0 + 60 * i, v) for i, v in enumerate(values)])


def test_a_window_with_exactly_min_requests_is_judged_and_one_with_fewer_is_not():
    """5-minute windows: 50 requests (10 a minute) with 5 errors is judged bad; 45 with 45 errors is not judged."""
    store = RecordedStore([_series("Count", "Sum", [10] * 5 + [9] * 5 + [1000] * 10),
                           _series("5XXError", "Sum", [1] * 5 + [9] * 5 + [0] * 10)])
    figures = measure(store, _slo(bad=_metric("5XXError", "Sum")), WINDOW, {})
    assert (figures.bad, figures.ignored_bad, figures.total) == (5, 45, 10_095)
    assert [(w.start_minute - T0 // 60, w.end_minute - T0 // 60) for w in figures.windows] == [(0, 5)]
    assert figures.attained == pytest.approx(100 * (1 - 5 / 10_095))


def test_a_window_at_exactly_the_targets_bad_share_is_not_bad():
    """1 error in 1,000 requests is the 0.1 % that 99.9 % allows: it spends budget, it is no bad window."""
    store = RecordedStore([_series("Count", "Sum", [200] * 20), _series("5XXError", "Sum", [1] + [0] * 19)])
    figures = measure(store, _slo(bad=_metric("5XXError", "Sum")), WINDOW, {})
    assert figures.bad == 1 and figures.windows == []
    assert figures.budget_spent == pytest.approx(100 * 1 / (0.001 * 4000))


def test_a_period_without_a_percentile_rank_counts_neither_good_nor_bad():
    store = RecordedStore([_series("Count", "Sum", [100] * 20), _series("Latency", "PR(:3000)", [90.0] * 10)])
    figures = measure(store, _slo(goodPercent=_metric("Latency", "PR(:3000)")), WINDOW, {})
    assert (figures.bad, figures.total) == (100, 1000)
    assert figures.attained == 90


HEALTH_ENVIRONMENT = {"HASIVU_DAILY_REVENUE_INR": "100", "HASIVU_ACTIVE_USERS": "5"}


def _dependency_slo(dependency: str, target: float) -> dict:
    healthy = {"namespace": "HASIVU/Health", "metricName": "DependencyHealthy",
               "dimensions": {"Environment": "production", "Dependency": dependency}}
    return {"name": dependency, "service": dependency, "kind": "period", "target": target,
            "sli": {"good": {**healthy, "stat": "Average"}, "total": {**healthy, "stat": "SampleCount"}}}


def _checks(dependency: str, results: list[float]) -> RecordedStore:
    """One check a minute from the window's start."""
    healthy = metric_key("HASIVU/Health", "DependencyHealthy", {"Environment": "production", "Dependency": dependency})
    return RecordedStore([Series(healthy, "Average", 60, [(T0 + 60 * i, v) for i, v in enumerate(results)]),
                          Series(healthy, "SampleCount", 60, [(T0 + 60 * i, 1.0) for i in range(len(results))])])


def test_a_dependency_never_checked_has_no_attainment_and_no_budget_spent():
    figures = measure(RecordedStore([]), _dependency_slo("redis", 99.5), WINDOW, HEALTH_ENVIRONMENT)
    assert (figures.attained, figures.budget_spent, figures.windows, figures.span) == (None, None, [], None)


def test_readers_judged_in_school_hours_only_spend_the_budget_of_those_minutes():
    """School starts 12 minutes into the 20-minute window: the readers are checked in its last 8 minutes
    only (the report reads them as the monitor publishes them), one check failing."""
    figures = measure(_checks("rfid", [1.0] * 7 + [0.0]), _dependency_slo("rfid", 99.0), WINDOW, HEALTH_ENVIRONMENT)
    assert (figures.bad, figures.total) == (1, 8)
    assert figures.attained == pytest.approx(87.5)  # 1 bad of the 8 minutes checked; the others not counted
    assert figures.budget_spent == pytest.approx(100 * 1 / (0.01 * 8))  # 1 % of those 8 minutes


def test_a_month_in_progress_spends_against_the_whole_months_budget():
    """20 minutes into a 40-minute "month", every minute checked and one bad: 1 % of 40 minutes is 0.4."""
    month = Window("2026-11", START, START + dt.timedelta(minutes=20), 40, 60, in_progress=True)
    figures = measure(_checks("redis", [1.0] * 19 + [0.0]), _dependency_slo("redis", 99.0), month, HEALTH_ENVIRONMENT)
    assert figures.attained == pytest.approx(95.0)
    assert figures.budget_spent == pytest.approx(100 * 1 / (0.01 * 40))
