"""What an alarm is, as data: built by the per-service modules, turned into resources by the factory."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Optional

import pulumi

from stackconfig.model import Tier
from stackconfig.muting import PLATFORM

GREATER = "GreaterThanThreshold"
GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
LESS = "LessThanThreshold"
BELOW_BAND = "LessThanLowerThreshold"
ABOVE_BAND = "GreaterThanUpperThreshold"

# treat_missing_data per metric kind: an error count that is absent means no errors; a heartbeat
# or health metric that is absent means the thing reporting it is down.
NO_DATA_IS_FINE = "notBreaching"
NO_DATA_IS_BAD = "breaching"
NO_DATA_KEEPS_STATE = "missing"
# Same setting, named for where silence means "no judgement" rather than "unchanged".
NO_DATA_IS_MISSING = "missing"
# "The current alarm state is maintained" while there is no datapoint: a scheduled job's alarm says
# how its last run went until the next run.
LAST_DATAPOINT_STANDS = "ignore"
# The most frequent schedule of a job judged on its last run: hourly.
NEXT_RUN_MINUTES = 60


@dataclasses.dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    stat: str
    period: int


@dataclasses.dataclass(frozen=True)
class Query:
    """One metric-math query: a metric or an expression over other queries."""

    id: str
    metric: Optional[Metric] = None
    expression: Optional[str] = None
    label: Optional[str] = None
    returns: bool = False
    # An expression's own period: required for a Metrics Insights (SELECT) query.
    period: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Cause:
    """An alarm that names why other alarms fire: a page lists it first, as `label (alarm name)`.

    `rank` orders causes in ALARM at once: a dependency that is unreachable (DEPENDENCY) explains a low
    health score or a silent monitor (HEALTH_CHECKS), not the other way round; a dependency that answers
    slowly (SLOW_DEPENDENCY) comes after every unreachable one and before the health checks.
    """

    label: str
    rank: int


DEPENDENCY = 0
SLOW_DEPENDENCY = 1
HEALTH_CHECKS = 2


@dataclasses.dataclass(frozen=True)
class AlarmSpec:
    service: str
    metric_key: str
    resource: str
    tier: Tier
    summary: str
    impact: str
    runbook: str
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    metric: Optional[Metric] = None
    queries: tuple[Query, ...] = ()
    # The id of an ANOMALY_DETECTION_BAND query that takes the place of a fixed threshold.
    band_query_id: Optional[str] = None
    # Which pager it pages through (stackconfig/muting.py): the scope a maintenance window of that
    # scope mutes, whether it assumes a school day (the calendar mutes it), whether it judges a
    # scheduled job over a long window (muted by every window, for that window plus its own).
    scope: str = PLATFORM
    school_day: bool = False
    job: bool = False
    # Judged every minute over a trailing window of an hour or more, on a rate with a floor of failures:
    # it enters ALARM while the failures happen, so a dependency's down-recently hold need not wait for
    # its period to close (components/alarms/catalogue.py).
    sliding: bool = False
    # An alarm that only holds pages (a dependency down recently): no pager's member, no actions.
    hold_only: bool = False
    # Set on the alarms a page names first when they are in ALARM (observability/slack_forwarder.py).
    cause: Optional[Cause] = None
    # One window of a burn-rate pair (components/alarms/burn_rates.py): the metric key of the other
    # window, both of which must be in ALARM for the pair to page, and how soon the pair clears after
    # a burn ends (its short window's), which is what holds and mutes wait for.
    partner: Optional[str] = None
    clears_within: Optional[int] = None

    def name(self, environment: str) -> str:
        return f"{environment}-{self.service}-{self.metric_key}"

    @property
    def period_minutes(self) -> int:
        periods = [self.metric.period] if self.metric else []
        periods += [q.metric.period if q.metric else q.period or 0 for q in self.queries]
        return max(periods, default=60) // 60

    @property
    def window_minutes(self) -> int:
        """How far back one evaluation looks: period x evaluation periods."""
        return self.period_minutes * self.evaluation_periods

    @property
    def detection_minutes(self) -> int:
        """The soonest it can enter ALARM after a fault starts: its datapoints to alarm, each a period."""
        return self.period_minutes * self.datapoints_to_alarm

    @property
    def recovery_minutes(self) -> int:
        """How long after a fault ends the alarm may still be in ALARM: the fault's last period closes
        within one period, and that datapoint stays in the evaluated window for the window's length.
        A scheduled job's alarm keeps its state until the job runs again: at least the hour an hourly
        job takes, so that a run failing in a maintenance window and the next run succeeding page nobody;
        a daily or weekly job that failed in a window pages when the mute ends, its work not done.
        A burn-rate pair pages only while both its windows are in ALARM: it clears with the short one.
        A sliding window clears as soon as it has moved past the last failure."""
        if self.clears_within is not None:
            return self.clears_within
        if self.sliding:
            return self.window_minutes
        if self.treat_missing_data == LAST_DATAPOINT_STANDS:
            return max(NEXT_RUN_MINUTES, self.period_minutes + self.window_minutes)
        return self.period_minutes + self.window_minutes


def probable_causes(specs: Sequence[AlarmSpec], environment: str) -> dict[str, str]:
    """Alarm name -> label of every cause among `specs`, in the order a page lists them."""
    causes = [(s.cause.rank, s.name(environment), s.cause.label) for s in specs if s.cause is not None]
    return {name: label for _, name, label in sorted(causes, key=lambda cause: cause[0])}


def filled(query_id: str) -> str:
    """A metric with every period present: CloudWatch publishes no datapoint for a period in which a
    count had no events (no Errors, no OrdersCompleted), and `FILL(m, 0)` makes that period a 0.
    User guide, "Using metric math" (FILL); without it a ratio has no value exactly when it matters."""
    return f"FILL({query_id}, 0)"


def rate(
    numerator: Metric, denominator: Metric, label: str, when_idle: float = 0, min_denominator: float = 0
) -> tuple[Query, ...]:
    """100 * numerator / denominator, as `when_idle` while the denominator is below `min_denominator`.

    Both sides are filled with 0, so a window with attempts but no successes is 0 %, not a gap, and
    a window without attempts is `when_idle`, not missing data. Guarding on volume keeps a single
    failure among three requests at night from paging anyone.
    """
    n, d = filled("m1"), filled("m2")
    guard = f"{d} >= {literal(min_denominator)}" if min_denominator > 0 else f"{d} > 0"
    return (
        Query("m1", metric=numerator),
        Query("m2", metric=denominator),
        Query("e1", expression=f"IF({guard}, 100 * {n} / {d}, {literal(when_idle)})", label=label, returns=True),
    )


def literal(value: float) -> str:
    """A number as metric math reads it: a whole number in full, since `1e+09` is no number there."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def floored_rate(numerator: Metric, denominator: Metric, min_numerator: float, label: str,
                 judged_while: Optional[tuple[Query, str]] = None) -> tuple[Query, ...]:
    """100 * numerator / denominator with no minimum of the denominator, once the numerator reaches
    `min_numerator` (0 below it): over a long window, a few failures of a rarely called thing are a rate
    as telling as thousands, and the floor keeps one sporadic failure from counting. `judged_while`: one
    more query and the condition on it under which the rate is judged at all (0 otherwise)."""
    n, d = filled("m1"), filled("m2")
    condition = f"{d} > 0 AND {n} >= {literal(min_numerator)}"
    extra: tuple[Query, ...] = ()
    if judged_while is not None:
        extra = (judged_while[0],)
        condition = f"{judged_while[1]} AND {condition}"
    return (
        Query("m1", metric=numerator),
        Query("m2", metric=denominator),
        *extra,
        Query("e1", expression=f"IF({condition}, 100 * {n} / {d}, 0)", label=label, returns=True),
    )


@dataclasses.dataclass(frozen=True)
class Window:
    """A daily window in IST on school days, as a metric-math condition on a query's timestamps.

    `HOUR`, `MINUTE` and `DAY` return a non-sparse series from the timestamps of their argument, in
    UTC, with `DAY` 1 = Monday ... 7 = Sunday (user guide, "Using metric math": MINUTE HOUR DAY ...).
    IST is UTC+05:30 with no daylight saving, and a window from 05:30 IST on stays on the same UTC day.
    """

    start_ist_hours: float
    end_ist_hours: float
    school_days: int = 6

    def condition(self, query_id: str) -> str:
        minute = f"(HOUR({query_id}) * 60 + MINUTE({query_id}))"
        start = round(self.start_ist_hours * 60) - IST_OFFSET_MINUTES
        end = round(self.end_ist_hours * 60) - IST_OFFSET_MINUTES
        return f"({minute} >= {start} AND {minute} < {end} AND DAY({query_id}) <= {self.school_days})"

    def describe(self) -> str:
        def clock(hours: float) -> str:
            return f"{int(hours):02d}:{round(hours % 1 * 60):02d}"
        days = f"the first {self.school_days} days of the week"
        return f"{clock(self.start_ist_hours)}-{clock(self.end_ist_hours)} IST on {days}"


IST_OFFSET_MINUTES = 330


def silent_in_window(metric: Metric, window: Window, minimum: float, label: str) -> tuple[Query, ...]:
    """1 for a period inside `window` in which `metric` (a count) stayed below `minimum`, else 0.

    Outside the window the value is 0, so readers switched off at night or no orders at midnight
    never breach; inside it an absent metric counts as 0 (FILL), so silence is what breaches.
    """
    return (
        Query("m1", metric=metric),
        Query("e1", expression=f"IF({window.condition('m1')} AND {filled('m1')} < {literal(minimum)}, 1, 0)",
              label=label, returns=True),
    )
