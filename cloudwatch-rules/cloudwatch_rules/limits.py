"""What CloudWatch rejects at `pulumi up` and `pulumi preview` does not catch, as pure functions.

Each takes a resource's props in Pulumi's camelCase, as plain data (`values.plain`), and returns
a list of human-readable problems; an empty list means CloudWatch would accept it. A value still
unknown during preview is not judged: the rule that depends on it is skipped, the others still run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cloudwatch_rules.composite import MAX_RULE_LENGTH, RuleError, parse_alarm_rule
from cloudwatch_rules.metrics_insights import QueryError, is_insights_query, parse
from cloudwatch_rules.values import is_unknown

DAY = 86_400
WEEK = 7 * DAY
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
MAX_ALARM_METRICS = 10
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 1024
COMPARISONS = {
    "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
}
BAND_COMPARISONS = {"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}
MISSING_DATA = {"breaching", "notBreaching", "ignore", "missing"}
# PutMetricAlarm MetricDataQuery.Expression: at most 2,048 characters.
MAX_EXPRESSION_LENGTH = 2048
# Alarms on Metrics Insights queries evaluate only the latest 3 hours (alarm-limits.html) and
# Metrics Insights has no high-resolution data (cloudwatch-metrics-insights-limits.html).
INSIGHTS_ALARM_WINDOW = 3 * 3600


def period_problem(period: Any, where: str) -> str | None:
    if is_unknown(period):
        return None
    if isinstance(period, bool) or not isinstance(period, (int, float)) or period <= 0:
        return f"{where}: period {period!r} is not a positive number of seconds"
    if period in HIGH_RESOLUTION_PERIODS or period % 60 == 0:
        return None
    return f"{where}: period {period:g} s is not 10, 20, 30 or a multiple of 60"


def window_problem(period: float, evaluation_periods: int) -> str | None:
    window = period * evaluation_periods
    limit = WEEK if period >= 3600 else DAY
    if window > limit:
        return (f"evaluation window {period:g} s x {evaluation_periods} = {window:g} s is over "
                f"{'7 days' if limit == WEEK else '1 day'} for a {period:g} s period")
    return None


def alarm_periods(props: Mapping[str, Any]) -> list[float]:
    queries = props.get("metricQueries")
    if queries and not is_unknown(queries):
        return [q["metric"].get("period") for q in queries if isinstance(q, dict) and isinstance(q.get("metric"), dict)]
    return [props["period"]] if "period" in props else []


def alarm_problems(props: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    name = props.get("name") or ""
    if len(name) > MAX_NAME_LENGTH:
        problems.append(f"name is {len(name)} characters (at most {MAX_NAME_LENGTH})")
    if len(props.get("alarmDescription") or "") > MAX_DESCRIPTION_LENGTH:
        problems.append(f"alarmDescription is over {MAX_DESCRIPTION_LENGTH} characters")
    if is_unknown(props.get("metricQueries")):
        return problems
    queries: Sequence[Mapping[str, Any]] = props.get("metricQueries") or []
    single = props.get("metricName") is not None
    if single and queries:
        problems.append("sets both metricName and metricQueries")
    if not single and not queries:
        problems.append("has neither metricName nor metricQueries")
    if single:
        if props.get("statistic") and props.get("extendedStatistic"):
            problems.append("sets both statistic and extendedStatistic")
        if not props.get("statistic") and not props.get("extendedStatistic"):
            problems.append("sets neither statistic nor extendedStatistic")
        if not props.get("namespace"):
            problems.append("metricName without namespace")
    evaluation = props.get("evaluationPeriods")
    if is_unknown(evaluation):
        evaluation = None
    elif not isinstance(evaluation, (int, float)) or evaluation < 1:
        problems.append(f"evaluationPeriods {evaluation!r} is not at least 1")
        evaluation = None
    datapoints = props.get("datapointsToAlarm")
    if evaluation is not None and isinstance(datapoints, (int, float)) and not 1 <= datapoints <= evaluation:
        problems.append(f"datapointsToAlarm {datapoints:g} is not between 1 and evaluationPeriods {evaluation:g}")
    for i, period in enumerate(alarm_periods(props)):
        where = f"metricQueries[{i}]" if queries else "period"
        problem = period_problem(period, where)
        if problem:
            problems.append(problem)
        elif evaluation is not None:
            problem = window_problem(period, int(evaluation))
            if problem:
                problems.append(problem)
    if queries:
        problems += _query_problems(props, queries)
    band = props.get("thresholdMetricId")
    comparison = props.get("comparisonOperator")
    if is_unknown(comparison) or is_unknown(band):
        pass
    elif band:
        if comparison not in BAND_COMPARISONS:
            problems.append(f"comparisonOperator {comparison!r} cannot be used with an anomaly detection band")
    else:
        if comparison not in COMPARISONS:
            problems.append(f"comparisonOperator {comparison!r} is not one of {', '.join(sorted(COMPARISONS))}")
        if props.get("threshold") is None:
            problems.append("has no threshold (and no thresholdMetricId)")
    missing = props.get("treatMissingData")
    if missing is not None and not is_unknown(missing) and missing not in MISSING_DATA:
        problems.append(f"treatMissingData {missing!r} is not one of {', '.join(sorted(MISSING_DATA))}")
    return problems


def _query_problems(props: Mapping[str, Any], queries: Sequence[Mapping[str, Any]]) -> list[str]:
    problems = []
    metrics = [q for q in queries if q.get("metric")]
    if len(metrics) > MAX_ALARM_METRICS:
        problems.append(f"uses {len(metrics)} metrics (at most {MAX_ALARM_METRICS})")
    ids = [q.get("id") for q in queries]
    if len(set(ids)) != len(ids):
        problems.append("metricQueries ids are not unique")
    for q in queries:
        problems += _insights_problems(q, props.get("evaluationPeriods"))
        if bool(q.get("metric")) == bool(q.get("expression")):
            problems.append(f"query {q.get('id')!r} must have exactly one of metric or expression")
        if not re.match(r"^[a-z][A-Za-z0-9_]*$", str(q.get("id"))):
            problems.append(f"query id {q.get('id')!r} must start with a lower-case letter")
    returning = [q.get("id") for q in queries if q.get("returnData")]
    band = props.get("thresholdMetricId")
    if band:
        band_query = next((q for q in queries if q.get("id") == band), None)
        if band_query is None or "ANOMALY_DETECTION_BAND" not in str(band_query.get("expression", "")):
            problems.append(f"thresholdMetricId {band!r} is not an ANOMALY_DETECTION_BAND query")
        others = [i for i in returning if i != band]
        if band not in returning or len(others) != 1:
            problems.append("an anomaly detection alarm must return exactly its band and one metric")
    elif len(returning) != 1:
        problems.append(f"{len(returning)} metric queries return data (exactly one must)")
    return problems


def _insights_problems(query: Mapping[str, Any], evaluation: Any) -> list[str]:
    expression = query.get("expression")
    where = f"query {query.get('id')!r}"
    if isinstance(expression, str) and len(expression) > MAX_EXPRESSION_LENGTH:
        return [f"{where}: expression is {len(expression)} characters (at most {MAX_EXPRESSION_LENGTH})"]
    if not is_insights_query(expression):
        return []
    try:
        parse(expression)
    except QueryError as error:
        return [f"{where}: not a valid Metrics Insights query ({error})"]
    period = query.get("period")
    if is_unknown(period):
        return []
    if not isinstance(period, (int, float)) or period < 60 or period % 60:
        return [f"{where}: a Metrics Insights query needs a period that is a multiple of 60 s (got {period!r})"]
    if isinstance(evaluation, (int, float)) and period * evaluation > INSIGHTS_ALARM_WINDOW:
        return [f"{where}: period {period:g} s x {evaluation:g} evaluation periods is over the 3 hours a Metrics "
                "Insights alarm evaluates"]
    return []


def composite_problems(props: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    if is_unknown(props.get("alarmRule")):
        return problems
    rule = props.get("alarmRule") or ""
    if not rule:
        problems.append("has no alarmRule")
    if len(rule) > MAX_RULE_LENGTH:
        problems.append(f"alarmRule is {len(rule)} characters (at most {MAX_RULE_LENGTH})")
    try:
        parse_alarm_rule(rule)
    except RuleError as error:
        problems.append(f"alarmRule does not parse: {error}")
    return problems


GRID_COLUMNS = 24
MAX_WIDGETS = 500
MAX_BODY_BYTES = 1_000_000
MAX_WIDGET_HEIGHT = 1000
METRIC_WIDGETS = {"metric"}


def dashboard_problems(body: Any) -> list[str]:
    """A dashboard body as CloudWatch checks it: JSON, grid placement, counts, metric names."""
    if is_unknown(body):
        return []
    if not isinstance(body, str):
        return ["dashboardBody is not a JSON string"]
    if len(body.encode()) > MAX_BODY_BYTES:
        return [f"dashboardBody is {len(body.encode())} bytes (at most {MAX_BODY_BYTES})"]
    try:
        document = json.loads(body)
    except ValueError as error:
        return [f"dashboardBody is not valid JSON: {error}"]
    widgets = document.get("widgets") if isinstance(document, dict) else None
    if not isinstance(widgets, list):
        return ["dashboardBody has no widgets list"]
    problems: list[str] = []
    if len(widgets) > MAX_WIDGETS:
        problems.append(f"{len(widgets)} widgets (at most {MAX_WIDGETS})")
    cells: dict[tuple[int, int], int] = {}
    for i, widget in enumerate(widgets):
        problems += _widget_problems(i, widget, cells)
    return problems


def _widget_problems(i: int, widget: Any, cells: dict[tuple[int, int], int]) -> list[str]:
    if not isinstance(widget, dict):
        return [f"widget {i} is not an object"]
    problems = []
    x, y = widget.get("x", 0), widget.get("y", 0)
    width, height = widget.get("width", 6), widget.get("height", 6)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (x, y, width, height)):
        return [f"widget {i}: x, y, width and height must be whole numbers"]
    if not 0 <= x < GRID_COLUMNS:
        problems.append(f"widget {i}: x {x} is outside columns 0-{GRID_COLUMNS - 1}")
    if not 1 <= width <= GRID_COLUMNS or x + width > GRID_COLUMNS:
        problems.append(f"widget {i}: width {width} at x {x} does not fit the {GRID_COLUMNS}-column grid")
    if not 1 <= height <= MAX_WIDGET_HEIGHT or y < 0:
        problems.append(f"widget {i}: height {height} / y {y} out of range (height 1-{MAX_WIDGET_HEIGHT})")
    if not problems:
        for cx in range(x, x + width):
            for cy in range(y, y + height):
                other = cells.setdefault((cx, cy), i)
                if other != i:
                    problems.append(f"widget {i} overlaps widget {other} at x {cx}, y {cy}")
                    return problems
    if widget.get("type") in METRIC_WIDGETS:
        metrics = (widget.get("properties") or {}).get("metrics") or []
        if not metrics:
            problems.append(f"widget {i}: metric widget without metrics")
        previous: list[Any] = []
        for row in metrics:
            if not isinstance(row, list) or not row:
                problems.append(f"widget {i}: metric row {row!r} is not a non-empty list")
                continue
            if len(row) == 1 and isinstance(row[0], dict) and "expression" in row[0]:
                expression = row[0]["expression"]
                if is_insights_query(expression):
                    try:
                        parse(expression)
                    except QueryError as error:
                        problems.append(f"widget {i}: not a valid Metrics Insights query ({error})")
                continue
            # "." repeats the previous row's value, as CloudWatch's own shorthand allows.
            names = [previous[k] if v == "." and len(previous) > k else v for k, v in enumerate(row[:2])]
            if len(names) < 2 or not all(isinstance(v, str) and v and v != "." for v in names):
                problems.append(f"widget {i}: metric row {row[:2]!r} does not name a namespace and metric")
            previous = names + list(row[2:])
    return problems
