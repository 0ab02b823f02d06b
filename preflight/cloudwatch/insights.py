"""Metrics Insights alarms over the metric store: the series a query returns, and each one as a contributor.

What the CloudWatch user guide says, and how the model follows it:
- "For multi-time series queries, each returned time series becomes a contributor to the alarm"
  (Create_Metrics_Insights_Alarm.html); each contributor is evaluated with the alarm's own settings
  (period, Evaluation Periods, Datapoints to Alarm, treatMissingData) by `evaluation.evaluate_breaches`.
- "each time series (contributor) can only be in ALARM or OK state, never in INSUFFICIENT_DATA state.
  This is because a time series only exists when data is present" (Acting_Alarm_Changes.html). A new
  contributor starts in OK; where the M-of-N rules give INSUFFICIENT_DATA (too little data, missing
  treated as missing) the contributor keeps its state. The page is silent on a contributor whose series
  stops: the model evaluates it over an all-missing range, so with `notBreaching` it returns to OK and
  with `missing` it stays where it was (the stricter reading: an ALARM is not cleared by silence).
- "SNS notifications | Alarm Level: Yes | Contributor Level: Yes" (Acting_Alarm_Changes.html, "Alarm
  actions and notifications"): a contributor entering ALARM notifies the alarm's topics naming that
  contributor (its ContributorAttributes, "such as metric dimensions", API_AlarmContributor.html), and
  the alarm's own state change notifies them too; the alarm history keeps the two apart
  (DescribeAlarmHistory HistoryItemType `Action` and `AlarmContributorAction`, API reference). The
  page does not say how the alarm's own state follows its contributors; the model reads
  DescribeAlarmContributors ("the individual time series that contribute to the alarm's state"):
  ALARM while any contributor is in ALARM, otherwise OK, and with no series at all the alarm's
  `treatMissingData` decides, as for any alarm without data.
- Limits (alarm-limits.html; cloudwatch-metrics-insights-limits.html): at most 100 contributors in
  ALARM (StateReason "95 out of 150 time series evaluated to ALARM" or "100+ time series evaluated to
  ALARM"); a query returns at most 500 series, with ORDER BY "the 500 that have the highest or lowest
  values", without it "you can't control which 500" (the model refuses such a query instead of
  guessing); a query that matches more than 10,000 metrics processes only "the first 10,000 ... that it
  finds" (refused likewise); only the latest 3 hours are evaluated (the evaluation range must fit).

The query text is read by the one Metrics Insights parser (cloudwatch_rules.metrics_insights), the
same reading the policy pack's coverage rule trusts. SCHEMA(namespace, keys) selects the metrics whose
dimension keys are exactly `keys`; FROM a bare namespace selects any dimension set
(cloudwatch-metrics-insights-querylanguage.html).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, Optional

from cloudwatch_rules.metrics_insights import (
    MAX_METRICS,
    MAX_SERIES,
    InsightsQuery,
    QueryError,
    is_insights_query,
    parse,
)
from preflight.cloudwatch.store import MetricKey, MetricStore

MAX_CONTRIBUTORS_IN_ALARM = 100
EVALUATION_WINDOW_SECONDS = 3 * 3600


class InsightsError(ValueError):
    """A query the model cannot answer the way CloudWatch would."""


@dataclasses.dataclass(frozen=True)
class Contributor:
    """One series a GROUP BY query returns: its label values, named like `FunctionName=payments-verify`."""

    labels: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.labels) or "(all)"


def insights_query(props: dict[str, Any]) -> Optional[InsightsQuery]:
    """The alarm's Metrics Insights query, or None when it has none."""
    for query in props.get("metricQueries") or []:
        if is_insights_query(query.get("expression")):
            try:
                return parse(query["expression"])
            except QueryError as error:
                raise InsightsError(f"cannot read the Metrics Insights query: {error}") from None
    return None


def selected(query: InsightsQuery, keys: Iterable[MetricKey]) -> list[tuple[MetricKey, dict[str, str]]]:
    """The metrics among `keys` that the query's FROM and WHERE select, with their dimensions."""
    found = []
    for key in keys:
        namespace, name, dimensions = key
        if namespace != query.namespace or name != query.metric:
            continue
        labels = dict(dimensions)
        if query.schema is not None and set(labels) != query.schema:
            continue
        if query.matches(labels):
            found.append((key, labels))
    if len(found) > MAX_METRICS:
        raise InsightsError(f"the query matches {len(found)} metrics; CloudWatch processes only the first "
                            f"{MAX_METRICS} it finds, and the model cannot know which")
    return found


# The statistic of each metric that a Metrics Insights function reads, per period.
STATISTICS_OF = {"SUM": ("Sum",), "COUNT": ("SampleCount",), "AVG": ("Sum", "SampleCount"),
                 "MIN": ("Minimum",), "MAX": ("Maximum",)}


def statistics_needed(query: InsightsQuery) -> tuple[str, ...]:
    """The statistics of each selected metric that the query's SELECT and ORDER BY functions read."""
    functions = [query.aggregate] + ([query.order_function] if query.order_function else [])
    return tuple(dict.fromkeys(stat for f in functions for stat in STATISTICS_OF[f]))


def _aggregate(function: str, parts: Sequence[tuple[Any, ...]]) -> Optional[float]:
    """One period of a group: `parts` are (sum, count, minimum, maximum) of each metric with data."""
    if not parts:
        return None
    if function == "SUM":
        return sum(p[0] for p in parts)
    if function == "COUNT":
        return sum(p[1] for p in parts)
    if function == "AVG":
        return sum(p[0] for p in parts) / sum(p[1] for p in parts)
    if function == "MIN":
        return min(p[2] for p in parts)
    return max(p[3] for p in parts)


def _period_parts(store: MetricStore, keys: Sequence[MetricKey], end: int, period: int,
                  needed: tuple[str, ...]) -> list[tuple]:
    """(sum, count, minimum, maximum) of each metric with data in the period; only the statistics the
    query reads are asked of the store (a metric without them has no data), the others are None."""
    parts = []
    for key in keys:
        values = {stat: store.datapoint(key, stat, end, period) for stat in needed}
        if any(v is None for v in values.values()):
            continue
        parts.append((values.get("Sum"), values.get("SampleCount"), values.get("Minimum"), values.get("Maximum")))
    return parts


def returned_series(query: InsightsQuery, store: MetricStore, ends: Sequence[int], period: int,
                    for_alarm: bool = True) -> dict[Contributor, list[Optional[float]]]:
    """The series the query returns over the periods ending at `ends` (minutes, oldest first): per
    GROUP BY value, the SELECT function per period; only series with data; ORDER BY, LIMIT and the
    500-series cap applied. An alarm may read 3 hours; a graph (`for_alarm=False`) two weeks."""
    if for_alarm and len(ends) * period > EVALUATION_WINDOW_SECONDS:
        raise InsightsError("the evaluation range is longer than the 3 hours a Metrics Insights alarm can evaluate")
    groups: dict[Contributor, list[MetricKey]] = {}
    for key, labels in selected(query, store.keys()):
        if any(k not in labels for k in query.group_by):
            raise InsightsError(f"a metric without the GROUP BY key(s) {', '.join(query.group_by)}: not modelled")
        groups.setdefault(Contributor(tuple((k, labels[k]) for k in query.group_by)), []).append(key)
    needed = statistics_needed(query)
    series: dict[Contributor, list[Optional[float]]] = {}
    whole: dict[Contributor, list[tuple]] = {}
    for contributor, keys in groups.items():
        per_period = [_period_parts(store, keys, end, period, needed) for end in ends]
        values = [_aggregate(query.aggregate, parts) for parts in per_period]
        if any(v is not None for v in values):
            series[contributor] = values
            whole[contributor] = [p for parts in per_period for p in parts]
    cap = min(query.limit or MAX_SERIES, MAX_SERIES)
    if query.order_function is None:
        if len(series) > cap:
            raise InsightsError(f"{len(series)} series without ORDER BY: CloudWatch returns {cap} of them and "
                                "does not say which")
        return series
    # ORDER BY sorts by the function over the query's whole range; ties keep a stable order by name.
    ranked = sorted(series, key=lambda c: c.name)
    ranked.sort(key=lambda c: _aggregate(query.order_function or "", whole[c]) or 0.0,
                reverse=query.order == "DESC")
    return {c: series[c] for c in ranked[:cap]}
