"""A dashboard widget's lines as a drill saw them: the simulated metric store read the way a
CloudWatch graph reads it (statistic and period per line, metric math over the lines' ids, one line
per series a Metrics Insights query returns, named by its GROUP BY values). A single-value widget with
`setPeriodToTimeRange` is one period over its whole time range: its own `start` (a relative ISO 8601
duration such as "-P30D"; "Dashboard body structure and syntax": "start ... the time range to use for
each widget independently from those of the dashboard") or the range shown."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, Optional

from preflight.cloudwatch.insights import InsightsError, QueryError, is_insights_query, parse, returned_series
from preflight.cloudwatch.metric_math import Evaluator
from preflight.cloudwatch.store import MetricKey, MetricStore, metric_key

MIN_POINTS = 12
# -P30D, -PT3H, -P1W, -PT15M: the relative durations a widget's `start` takes.
RELATIVE = re.compile(r"-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


@dataclasses.dataclass
class Series:
    label: str
    points: list[tuple[int, Optional[float]]]  # (drill minute at the period's end, value)
    key: Optional[MetricKey]
    expression: Optional[str] = None  # a metric-math line's expression, or the query that returned it


def read_metrics(properties: dict[str, Any]) -> list[MetricKey]:
    """Every metric a widget's lines name, the hidden inputs of its metric math included."""
    return [key for key, _ in (_row(r) for r in properties.get("metrics", []) if isinstance(r, list)) if key]


def insights_queries(properties: dict[str, Any]) -> list[str]:
    """The Metrics Insights queries among a widget's lines."""
    return [options["expression"] for _, options in (_row(r) for r in properties.get("metrics", [])
                                                       if isinstance(r, list))
            if is_insights_query(options.get("expression"))]


def graph_period(period: int, minutes: int) -> int:
    """The widget's period, or a shorter whole-minute one so the drill shows at least MIN_POINTS."""
    longest = max(60, (minutes * 60 // MIN_POINTS) // 60 * 60)
    return min(period, longest)


def _row(row: list[Any]) -> tuple[Optional[MetricKey], dict[str, Any]]:
    options = row[-1] if row and isinstance(row[-1], dict) else {}
    names = [v for v in row if isinstance(v, str)]
    if options.get("expression") or len(names) < 2:
        return None, options
    dims = {names[i]: names[i + 1] for i in range(2, len(names) - 1, 2)}
    return metric_key(names[0], names[1], dims), options


def _insights_lines(expression: str, store: MetricStore, end_minutes: list[int], ends: list[int],
                    period: int) -> list[Series]:
    """The series a Metrics Insights query returns over the graph's range; none if the model cannot
    answer it (like any line it cannot draw)."""
    try:
        returned = returned_series(parse(expression), store, end_minutes, period, for_alarm=False)
    except (InsightsError, QueryError):
        return []
    return [Series(contributor.name, list(zip(ends, values, strict=True)), None, expression)
            for contributor, values in returned.items()]


def relative_minutes(start: str) -> int:
    """A widget's relative `start` in whole minutes back from the end of its range."""
    match = RELATIVE.fullmatch(start)
    if not match or not any(match.groups()):
        raise ValueError(f"{start!r} is not a relative ISO 8601 duration like -PT3H or -P30D")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((weeks * 7 + days) * 24 + hours) * 60 + minutes + seconds // 60


def is_whole_range(properties: dict[str, Any]) -> bool:
    """A single value computed over the widget's whole time range."""
    return properties.get("view") == "singleValue" and properties.get("setPeriodToTimeRange") is True


def range_minutes(properties: dict[str, Any], shown_minutes: int) -> int:
    start = properties.get("start")
    return relative_minutes(start) if isinstance(start, str) else shown_minutes


def range_values(properties: dict[str, Any], store: MetricStore, end_minute: int, shown_minutes: int) -> list[Series]:
    """A whole-range single value's lines: each one datapoint, the statistic over the widget's range that
    ends at `end_minute` (its own `start`, or the `shown_minutes` a dashboard shows), at drill minute
    `shown_minutes`."""
    minutes = range_minutes(properties, shown_minutes)
    rows = [r for r in properties.get("metrics", []) if isinstance(r, list)]
    values: dict[str, list[Optional[float]]] = {}
    keys: dict[str, MetricKey] = {}
    for i, row in enumerate(rows):
        key, options = _row(row)
        if key is not None:
            line_id = options.get("id") or f"m{i}"
            stat = options.get("stat") or properties.get("stat") or "Average"
            values[line_id] = [store.window_statistic(key, stat, end_minute - minutes, minutes)]
            keys[line_id] = key
    return _shown(rows, values, keys, [shown_minutes], lambda _: [])


def widget_series(properties: dict[str, Any], store: MetricStore, start_minute: int, minutes: int) -> list[Series]:
    period = graph_period(int(properties.get("period") or 300), minutes)
    step = period // 60
    ends = list(range(step, minutes + 1, step))
    values: dict[str, list[Optional[float]]] = {}
    keys: dict[str, MetricKey] = {}
    rows = [r for r in properties.get("metrics", []) if isinstance(r, list)]
    for i, row in enumerate(rows):
        key, options = _row(row)
        if key is None:
            continue
        line_id = options.get("id") or f"m{i}"
        stat = options.get("stat") or properties.get("stat") or "Average"
        values[line_id] = [store.datapoint(key, stat, start_minute + e, period) for e in ends]
        keys[line_id] = key
    return _shown(rows, values, keys, ends, lambda expression: _insights_lines(
        expression, store, [start_minute + e for e in ends], ends, period))


def _shown(rows: list[list[Any]], values: dict[str, list[Optional[float]]], keys: dict[str, MetricKey],
           ends: list[int], insights: Callable[[str], list[Series]]) -> list[Series]:
    """The visible lines: metrics as read, metric math evaluated over them in order, Insights queries."""
    math = Evaluator(values, len(ends))
    shown: list[Series] = []
    for i, row in enumerate(rows):
        key, options = _row(row)
        line_id = options.get("id") or f"m{i}"
        if key is None and is_insights_query(options.get("expression")):
            if options.get("visible") is not False:
                shown += insights(options["expression"])
            continue
        if key is None:
            try:
                result = math.evaluate(options["expression"])
            except (ValueError, KeyError, TypeError, ZeroDivisionError):
                continue
            values[line_id] = result if isinstance(result, list) else [result] * len(ends)
        if options.get("visible") is False or line_id not in values:
            continue
        label = options.get("label") or (key[1] if key else options.get("expression", line_id))
        shown.append(Series(str(label), list(zip(ends, values[line_id], strict=True)), keys.get(line_id),
                            None if key else options.get("expression")))
    return shown
