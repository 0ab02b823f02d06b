"""Per SLO over a report window: attainment, error budget spent and bad windows, read from a metric store
(the drill's simulated one, or the series fetched from the account), and for the dependency SLOs the
revenue at risk and users affected as the health report counts them.

The SLI is the program's `slos` output (components/slos.py), read as the executive dashboard's
error-budget widgets read it (components/dashboards/error_budgets.py):
- period-based: the health monitor's `DependencyHealthy`, 1 or 0 a check; a period's bad minutes are
  SampleCount x (1 - Average). Attainment is 1 - bad minutes / the minutes checked; a minute without a
  check spends nothing. The budget is (1 - target) x the minutes checked (all of them, or for the RFID
  readers those of school hours), extended to the whole month for a month in progress.
- request-based: bad requests are the `bad` count, `total - good`, or `total x (100 - PR(:T)) / 100`.
  They are judged in windows of the dashboard's burn-rate period (5 minutes, or the data's period when
  that is longer): a window with fewer than `minRequests` requests is never judged bad, so its bad
  requests spend nothing. The budget is (1 - target) x the month's requests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Optional, Protocol

from components.dashboards.error_budgets import BURN_PERIOD
from observability.health import BusinessProfile, EnhancedHealthMonitor
from observability.health_checks import UNHEALTHY, CheckResult
from preflight.cloudwatch.store import MetricKey, metric_key
from preflight.report.window import Window
from stackconfig.slos import PERIOD

Source = tuple[MetricKey, str, int]  # metric, statistic, period in seconds
DAY_MINUTES = 1440


class Store(Protocol):
    def datapoint(self, key: MetricKey, stat: str, period_end_minute: int, period_seconds: int) -> Optional[float]:
        ...


@dataclasses.dataclass(frozen=True)
class Period:
    """One judged period: its end (minutes since the epoch), length, bad minutes or requests, and the
    minutes checked or requests it held."""

    end_minute: int
    minutes: int
    bad: float
    total: float

    @property
    def start_minute(self) -> int:
        return self.end_minute - self.minutes


@dataclasses.dataclass
class BadWindow:
    start_minute: int
    end_minute: int
    bad: float = 0.0  # bad minutes, or bad requests
    total: float = 0.0  # minutes checked, or requests
    revenue_inr: Optional[float] = None
    users: Optional[int] = None


@dataclasses.dataclass
class SloFigures:
    slo: dict[str, Any]  # the `slos` output's entry
    periods: list[Period]  # the judged periods that had data
    bad: float  # bad minutes, or bad requests that spend budget
    total: float  # minutes measured, or requests
    attained: Optional[float]  # percent; None without data
    budget_spent: Optional[float]  # percent of the window's budget
    windows: list[BadWindow]
    span: Optional[tuple[int, int]]  # first and last minute with data
    whole_window: bool  # the data spans the whole window
    ignored_bad: float = 0.0  # request-based: bad requests in windows under minRequests
    revenue_inr: Optional[float] = None
    users: Optional[int] = None

    @property
    def period_based(self) -> bool:
        return self.slo["kind"] == PERIOD


def _key(metric: dict[str, Any]) -> MetricKey:
    return metric_key(metric["namespace"], metric["metricName"], metric.get("dimensions"))


def sources(slos: list[dict[str, Any]], period: int) -> list[Source]:
    """Every series the SLIs read, once, at `period`."""
    found: dict[Source, None] = {}
    for slo in slos:
        for metric in slo["sli"].values():
            found[(_key(metric), metric["stat"], period)] = None
    return list(found)


def _read(store: Store, metric: dict[str, Any], end: int, period: int) -> Optional[float]:
    return store.datapoint(_key(metric), metric["stat"], end, period)


def _data_periods(store: Store, slo: dict[str, Any], window: Window) -> list[Period]:
    """Each period of the data with a datapoint of the SLI's total: its bad minutes or requests."""
    sli, step = slo["sli"], window.period // 60
    found = []
    for end in range(window.start_minute + step, window.end_minute + 1, step):
        total = _read(store, sli["total"], end, window.period)
        if total is None:
            continue
        if slo["kind"] == PERIOD:
            healthy = _read(store, sli["good"], end, window.period)
            bad = total * (1 - (healthy if healthy is not None else 1.0))
        elif "bad" in sli:
            bad = _read(store, sli["bad"], end, window.period) or 0.0
        elif "good" in sli:
            bad = total - (_read(store, sli["good"], end, window.period) or 0.0)
        else:
            # As the dashboard's (100 - p) / 100: a period without a percentile rank has no value.
            good_percent = _read(store, sli["goodPercent"], end, window.period)
            if good_percent is None:
                continue
            bad = total * (100 - good_percent) / 100
        # Floating point: 5 checks at an Average of 0.8 are 1 bad minute, not 0.9999999999999998.
        found.append(Period(end, step, round(max(bad, 0.0), 6), total))
    return found


def judged_minutes(window: Window) -> int:
    """The length of a request-based SLO's judged window: the dashboard's burn-rate period, or longer data."""
    return max(BURN_PERIOD, window.period) // 60


def _judged(periods: list[Period], window: Window) -> list[Period]:
    """Request-based: the data periods summed into windows of `judged_minutes`, from the window's start."""
    length = judged_minutes(window)
    sums: dict[int, list[float]] = {}
    for p in periods:
        start = window.start_minute + (p.end_minute - window.start_minute - 1) // length * length
        bad_total = sums.setdefault(start, [0.0, 0.0])
        bad_total[0] += p.bad
        bad_total[1] += p.total
    # The last window stops with the span: a 37-minute drill's last is minutes 35 to 37, not 32 to 37.
    return [Period(end, end - start, round(bad, 6), total)
            for start, (bad, total) in sorted(sums.items())
            if (end := min(start + length, window.end_minute))]


def _merge(bad: list[Period]) -> list[BadWindow]:
    windows: list[BadWindow] = []
    for p in bad:
        if windows and windows[-1].end_minute == p.start_minute:
            windows[-1].end_minute = p.end_minute
        else:
            windows.append(BadWindow(p.start_minute, p.end_minute))
        windows[-1].bad += p.bad
        windows[-1].total += p.total
    return windows


def dependency_impact(dependency: str, environment: Mapping[str, str]) -> dict[str, Any]:
    """What the health report says a day of this dependency down puts at risk: its own `impact` of an
    unhealthy check, with the business profile the deployed monitor reads from its environment."""
    monitor = EnhancedHealthMonitor([], BusinessProfile.from_env(environment))
    return monitor.impact(CheckResult(dependency, UNHEALTHY, 0.0))


def measure(store: Store, slo: dict[str, Any], window: Window,
            monitor_environment: Mapping[str, str]) -> SloFigures:
    periods = _data_periods(store, slo, window)
    span = (periods[0].start_minute, periods[-1].end_minute) if periods else None
    whole = span == (window.start_minute, window.end_minute)
    # 1 - 99.9 / 100 is 0.0010000000000000009: a window at exactly the target is not bad.
    fraction = round(1 - slo["target"] / 100, 12)
    if slo["kind"] == PERIOD:
        bad = sum(p.bad for p in periods)
        # The checks made: every minute of the window, or only those the dependency is judged in (the RFID
        # readers in school hours). The budget is theirs, extended to the whole budget window when it
        # is still running (a month in progress spends against the month's budget).
        measured = sum(p.total for p in periods)
        judged = measured * window.budget_minutes / (window.end_minute - window.start_minute)
        windows = _merge([p for p in periods if p.bad > 0])
        per_day = dependency_impact(str(slo["sli"]["good"]["dimensions"]["Dependency"]), monitor_environment)
        for w in windows:
            # The health report's figure is per day of outage: a window is its share of a day.
            w.revenue_inr = round(per_day["revenue_at_risk_inr_per_day"] * w.bad / DAY_MINUTES, 2)
            w.users = int(per_day["users_affected"])
        return SloFigures(
            slo, periods, round(bad, 6), measured,
            attained=100 * (1 - bad / measured) if measured else None,
            budget_spent=100 * bad / (fraction * judged) if periods else None,
            windows=windows, span=span, whole_window=whole,
            revenue_inr=round(sum(w.revenue_inr or 0.0 for w in windows), 2),
            users=max((w.users or 0 for w in windows), default=0))
    judged = _judged(periods, window)
    guard = slo.get("minRequests", 0)
    counted = [p for p in judged if p.total >= guard]
    bad = sum(p.bad for p in counted)
    total = sum(p.total for p in judged)
    windows = _merge([p for p in counted if p.total > 0 and round(p.bad / p.total, 12) > fraction])
    return SloFigures(
        slo, judged, round(bad, 6), total,
        attained=100 * (1 - bad / total) if total else None,
        budget_spent=100 * bad / (fraction * total) if total else None,
        windows=windows, span=span, whole_window=whole,
        ignored_bad=round(sum(p.bad for p in judged if p.total < guard), 6))
