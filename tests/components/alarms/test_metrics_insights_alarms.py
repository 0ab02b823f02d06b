"""Metrics Insights alarms in the drill model: which series a query returns, each series a contributor.

Expected values follow the CloudWatch user guide (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/):
- Create_Metrics_Insights_Alarm.html: "each returned time series becomes a contributor to the alarm";
- Acting_Alarm_Changes.html: a contributor "can only be in ALARM or OK state, never in INSUFFICIENT_DATA",
  and the table "SNS notifications | Alarm Level: Yes | Contributor Level: Yes";
- alarm-limits.html: "Alarms evaluating multiple time series will limit the number of contributors in
  ALARM to 100", StateReason "95 out of 150 time series evaluated to ALARM" / "100+ time series evaluated
  to ALARM";
- cloudwatch-metrics-insights-limits.html: at most 500 series; "If you use an ORDER BY clause, then all the
  metrics being processed are sorted, and the 500 that have the highest or lowest values ... are returned";
  without it "you can't control which 500 matching metrics are returned";
- cloudwatch-metrics-insights-querylanguage.html: SCHEMA(namespace, keys) means exactly those dimension
  keys; WHERE with =, !=, AND, OR; GROUP BY; ORDER BY FUNCTION() ASC|DESC; LIMIT;
- AlarmThatSendsEmail.html "Alarm evaluation": M out of N datapoints (here 3 of 5, threshold > 5).
"""

from __future__ import annotations

import pytest

from preflight.cloudwatch.cloudwatch import CloudWatchModel, MetricAlarmDefinition, ModelError
from preflight.cloudwatch.insights import parse, returned_series
from preflight.cloudwatch.store import MetricStore, metric_key

SCHEMA = 'SCHEMA("AWS/Lambda", FunctionName)'


def query(where: str = "", tail: str = "GROUP BY FunctionName ORDER BY SUM() DESC LIMIT 500",
          select: str = "SUM(Errors)", source: str = SCHEMA) -> str:
    # A CloudWatch Metrics Insights query for the model, not SQL run anywhere.
    return f"SELECT {select} FROM {source}{' WHERE ' + where if where else ''} {tail}"  # noqa: S608


def fleet_alarm(expression: str, topics: tuple[str, ...] = ("critical",)) -> MetricAlarmDefinition:
    props = {"name": "fleet-errors", "comparisonOperator": "GreaterThanThreshold", "threshold": 5,
             "evaluationPeriods": 5, "datapointsToAlarm": 3, "treatMissingData": "notBreaching",
             "metricQueries": [{"id": "q1", "expression": expression, "period": 60, "returnData": True}]}
    return MetricAlarmDefinition("fleet-errors", props, list(topics), [])


def errors(store: MetricStore, minute: int, per_function: dict[str, float], extra: dict[str, str] | None = None):
    for name, value in per_function.items():
        store.put(metric_key("AWS/Lambda", "Errors", {"FunctionName": name, **(extra or {})}), minute, value)


def series_at(expression: str, store: MetricStore, minute: int = 0) -> dict[str, list]:
    found = returned_series(parse(expression), store, [minute + 1], 60)
    return {c.name: v for c, v in found.items()}


def test_group_by_aggregates_every_metric_of_the_group_and_schema_means_exactly_those_keys():
    store = MetricStore()
    errors(store, 0, {"a": 3, "b": 1})
    # Lambda also publishes per alias (FunctionName, Resource): another metric of the same function.
    errors(store, 0, {"a": 4}, {"Resource": "a:live"})
    assert series_at(query(source='"AWS/Lambda"'), store) == {"FunctionName=a": [7], "FunctionName=b": [1]}
    assert series_at(query(), store) == {"FunctionName=a": [3], "FunctionName=b": [1]}
    samples = MetricStore()
    errors(samples, 0, {"a": 3, "b": 1})
    errors(samples, 0, {"a": 9})  # two samples of a in the minute: MAX is the larger, SUM both
    assert series_at(query(select="MAX(Errors)", tail="GROUP BY FunctionName ORDER BY MAX() DESC"),
                     samples) == {"FunctionName=a": [9], "FunctionName=b": [1]}
    assert series_at(query(), samples) == {"FunctionName=a": [12], "FunctionName=b": [1]}


def test_where_reads_not_equal_and_or():
    store = MetricStore()
    errors(store, 0, {"a": 1, "b": 1, "c": 1, "d": 1})
    assert set(series_at(query("FunctionName != 'b' AND FunctionName != 'c'"), store)) == {
        "FunctionName=a", "FunctionName=d"}
    assert set(series_at(query("FunctionName = 'a' OR FunctionName = 'c'"), store)) == {
        "FunctionName=a", "FunctionName=c"}


def test_order_by_desc_limit_returns_the_highest_and_the_500_cap_applies_without_limit():
    store = MetricStore()
    errors(store, 0, {"a": 5, "b": 50, "c": 20, "d": 1})
    assert set(series_at(query(tail="GROUP BY FunctionName ORDER BY SUM() DESC LIMIT 2"), store)) == {
        "FunctionName=b", "FunctionName=c"}
    assert set(series_at(query(tail="GROUP BY FunctionName ORDER BY SUM() ASC LIMIT 2"), store)) == {
        "FunctionName=a", "FunctionName=d"}
    many = MetricStore()
    errors(many, 0, {f"f{i:03d}": float(i + 1) for i in range(501)})
    returned = series_at(query(tail="GROUP BY FunctionName ORDER BY SUM() DESC"), many)
    assert len(returned) == 500 and "FunctionName=f000" not in returned  # the lowest one is left out
    with pytest.raises(ValueError, match="does not say which"):
        series_at(query(tail="GROUP BY FunctionName"), many)


def run_minutes(model: CloudWatchModel, store: MetricStore, minutes: range, failing: dict[str, float],
                quiet: tuple[str, ...] = ("ok-1", "ok-2")) -> None:
    for minute in minutes:
        errors(store, minute, {**dict.fromkeys(quiet, 0.0), **failing})
        model.tick(minute + 1, minute)


def test_each_contributor_needs_three_of_five_breaching_minutes_and_is_named_in_its_notification():
    store = MetricStore()
    model = CloudWatchModel(store, [fleet_alarm(query())], [])
    run_minutes(model, store, range(10), {})
    assert model.states["fleet-errors"] == "OK" and model.pages == []
    run_minutes(model, store, range(10, 12), {"payments-verify-17": 9})
    assert model.pages == []  # 2 of 5 breaching: not yet
    run_minutes(model, store, range(12, 13), {"payments-verify-17": 9})
    # Minute 12: the third breaching minute. SNS at the contributor level and at the alarm level.
    assert sorted((p.minute, p.tier, p.subject) for p in model.pages) == [
        (12, "critical", "fleet-errors"), (12, "critical", "fleet-errors [FunctionName=payments-verify-17]")]
    assert model.states["fleet-errors"] == "ALARM"
    assert {c.name: s for c, s in model.contributors["fleet-errors"].items()} == {
        "FunctionName=ok-1": "OK", "FunctionName=ok-2": "OK", "FunctionName=payments-verify-17": "ALARM"}
    alarm_level = [t for t in model.transitions if t.contributor is None and t.to_state == "ALARM"]
    assert [t.reason for t in alarm_level] == ["1 out of 3 time series evaluated to ALARM"]
    # A second function failing later: its own contributor notification; the alarm is already in ALARM.
    run_minutes(model, store, range(13, 16), {"payments-verify-17": 9, "orders-get": 30})
    assert [(p.minute, p.subject) for p in model.pages[2:]] == [(15, "fleet-errors [FunctionName=orders-get]")]


def test_contributors_are_never_insufficient_data_and_recover_to_ok():
    store = MetricStore()
    model = CloudWatchModel(store, [fleet_alarm(query())], [])
    model.tick(1, 0)  # no series yet: the alarm's own missing-data treatment (notBreaching) decides
    assert model.states["fleet-errors"] == "OK" and model.contributors["fleet-errors"] == {}
    run_minutes(model, store, range(1, 6), {"f": 9})
    run_minutes(model, store, range(6, 12), {"f": 0})
    states = [(t.from_state, t.to_state) for t in model.transitions if t.contributor == "FunctionName=f"]
    assert states == [("OK", "ALARM"), ("ALARM", "OK")]
    assert model.states["fleet-errors"] == "OK"


def test_a_function_the_where_clause_excludes_never_pages():
    store = MetricStore()
    model = CloudWatchModel(store, [fleet_alarm(query("FunctionName != 'payments-verify-17'"))], [])
    run_minutes(model, store, range(12), {"payments-verify-17": 9})
    assert model.pages == [] and model.states["fleet-errors"] == "OK"
    assert "FunctionName=payments-verify-17" not in {c.name for c in model.contributors["fleet-errors"]}


@pytest.mark.parametrize(("failing", "total", "in_alarm", "reason"), [
    (95, 150, 95, "95 out of 150 time series evaluated to ALARM"),
    (105, 150, 100, "100+ time series evaluated to ALARM"),
])
def test_at_most_100_contributors_are_in_alarm_and_the_state_reason_counts_them(failing, total, in_alarm, reason):
    store = MetricStore()
    model = CloudWatchModel(store, [fleet_alarm(query())], [])
    names = [f"f{i:03d}" for i in range(total)]
    run_minutes(model, store, range(5), {n: (9.0 if i < failing else 0.0) for i, n in enumerate(names)}, quiet=())
    assert sum(s == "ALARM" for s in model.contributors["fleet-errors"].values()) == in_alarm
    assert len([p for p in model.pages if p.contributor]) == in_alarm
    assert model.transitions[-1].reason == reason


def test_a_query_the_model_cannot_answer_is_a_model_error_not_a_guess():
    store = MetricStore()
    errors(store, 0, {f"f{i}": 1.0 for i in range(3)})
    model = CloudWatchModel(store, [fleet_alarm(query(tail="GROUP BY FunctionName LIMIT 2"))], [])
    with pytest.raises(ModelError, match="fleet-errors: the drill model cannot evaluate it"):
        model.tick(1, 0)
