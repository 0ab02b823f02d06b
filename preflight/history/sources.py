"""What a replay reads: each alarm's series (metric, statistic, period) and anomaly bands.

One reading for the three places that need it, so they cannot disagree: the drill export writes
these series, the account fetch asks GetMetricData for them, and the replay finds them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Optional

from preflight.cloudwatch.cloudwatch import EXTRA_RANGE_PERIODS, MetricAlarmDefinition, query_sources
from preflight.cloudwatch.insights import InsightsError, selected, statistics_needed
from preflight.cloudwatch.metric_math import ExpressionSource, tokenize
from preflight.cloudwatch.store import MetricKey

Source = tuple[MetricKey, str, int]  # metric, statistic, period in seconds


@dataclasses.dataclass(frozen=True)
class BandSource:
    """The band an anomaly alarm compares with: ANOMALY_DETECTION_BAND(<query>, deviations)."""

    source: Source
    deviations: float
    query_id: str  # the alarm's band query (its thresholdMetricId)


# An alarm whose window slides minute by minute reads a window ending at any minute: it is answered from
# one-minute series, a Sum or SampleCount by adding them up, an Average or percentile rank by weighting
# each minute with its SampleCount (a percentile rank is the share of samples under its bound, so the
# weighted mean of the minutes' shares is the window's).
MINUTE = 60
ADDED_UP = ("Sum", "SampleCount")


def sliding_sources(key: MetricKey, stat: str) -> list[Source]:
    return [(key, stat, MINUTE)] if stat in ADDED_UP else [(key, stat, MINUTE), (key, "SampleCount", MINUTE)]


def alarm_sources(alarm: MetricAlarmDefinition) -> list[Source]:
    """The series of a metric or metric-math alarm (a Metrics Insights alarm's are `insights_sources`)."""
    if alarm.sliding:
        return [source for key, stat, _ in alarm.metrics.values() for source in sliding_sources(key, stat)]
    found = list(alarm.metrics.values())
    stat = alarm.props.get("extendedStatistic")
    if stat and alarm.props.get("evaluateLowSampleCountPercentile") == "ignore":
        # Whether a period had enough samples for its percentile.
        key, _, period = found[0]
        found.append((key, "SampleCount", period))
    return found


def insights_sources(alarm: MetricAlarmDefinition, keys: Iterable[MetricKey]) -> list[Source]:
    """Of `keys`, the metrics a Metrics Insights alarm's query selects, at each statistic it reads."""
    query = alarm.insights
    if query is None:
        return []
    return [(key, stat, alarm.period) for key, _ in selected(query, keys) for stat in statistics_needed(query)]


def band_source(alarm: MetricAlarmDefinition) -> Optional[BandSource]:
    band_id = alarm.props.get("thresholdMetricId")
    if not band_id:
        return None
    query = next(q for q in alarm.props["metricQueries"] if q["id"] == band_id)
    tokens = tokenize(query.get("expression") or "")
    sources = query_sources(alarm)
    if len(tokens) < 4 or tokens[0].upper() != "ANOMALY_DETECTION_BAND" or tokens[2] not in sources:
        return None
    if isinstance(sources[tokens[2]], ExpressionSource):
        return None  # a band on an expression is not one metric's band: a history file cannot carry it
    deviations = float(tokens[4]) if len(tokens) > 5 and tokens[3] == "," else 2.0
    return BandSource(sources[tokens[2]], deviations, band_id)


def every_source(alarms: Sequence[MetricAlarmDefinition], keys: Iterable[MetricKey] = ()) -> list[Source]:
    """Every series the alarms read, once; Metrics Insights alarms' among `keys` (the metrics there are)."""
    keys = list(keys)
    found: dict[Source, None] = {}
    for alarm in alarms:
        try:
            insights = alarm.insights is not None
        except InsightsError:
            continue  # a query the model cannot read: the replay reports it
        for source in insights_sources(alarm, keys) if insights else alarm_sources(alarm):
            found[source] = None
    return list(found)


def evaluation_range_minutes(alarm: MetricAlarmDefinition) -> int:
    """How far back the first evaluation reads: Evaluation Periods + 2 periods (the model's range); a
    sliding window only its own length."""
    if alarm.sliding:
        return int(alarm.props["evaluationPeriods"]) * alarm.period // 60
    return (int(alarm.props["evaluationPeriods"]) + EXTRA_RANGE_PERIODS) * alarm.period // 60
