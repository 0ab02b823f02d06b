"""What an alarm is, as data: built by the per-service modules, turned into resources by the factory."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional

import pulumi

from stackconfig.model import Tier

GREATER = "GreaterThanThreshold"
GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
LESS = "LessThanThreshold"
BELOW_BAND = "LessThanLowerThreshold"

# treat_missing_data per metric kind: an error count that is absent means no errors; a heartbeat
# or health metric that is absent means the thing reporting it is down.
NO_DATA_IS_FINE = "notBreaching"
NO_DATA_IS_BAD = "breaching"
NO_DATA_KEEPS_STATE = "missing"


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

    def name(self, environment: str) -> str:
        return f"{environment}-{self.service}-{self.metric_key}"


def rate(
    numerator: Metric, denominator: Metric, label: str, when_idle: float = 0, min_denominator: float = 0
) -> tuple[Query, ...]:
    """100 * numerator / denominator, as `when_idle` while the denominator is below `min_denominator`.

    Guarding on volume keeps a single failure among three requests at night from paging anyone.
    """
    guard = max(min_denominator, 0)
    comparison = f"m2 >= {guard:g}" if guard > 0 else "m2 > 0"
    return (
        Query("m1", metric=numerator),
        Query("m2", metric=denominator),
        Query("e1", expression=f"IF({comparison}, 100 * m1 / m2, {when_idle:g})", label=label, returns=True),
    )
