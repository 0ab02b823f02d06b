"""Fidelity: the replay's transitions next to the account's alarm history, for deployed alarms whose
definition is the working tree's; matched within one period, scored per alarm kind."""

from __future__ import annotations

import datetime as dt

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.cloudwatch.store import metric_key
from preflight.history.fidelity import (
    definition_of_composite,
    definition_of_described,
    definition_of_props,
    fidelity,
)
from preflight.history.history_file import History, Series, StateChange
from preflight.history.replay import replay

START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
T0 = int(START.timestamp()) // 60
LATENCY = {"namespace": "App", "metricName": "Latency", "dimensions": {"Service": "api"}, "statistic": "Maximum",
           "period": 60, "evaluationPeriods": 3, "datapointsToAlarm": 2, "threshold": 100.0,
           "comparisonOperator": "GreaterThanThreshold", "treatMissingData": "notBreaching"}
RATIO = {"evaluationPeriods": 1, "threshold": 50.0, "comparisonOperator": "GreaterThanThreshold",
         "treatMissingData": "notBreaching", "metricQueries": [
             {"id": "m1", "returnData": False, "metric": {"namespace": "App", "metricName": "Errors",
                                                          "dimensions": {}, "stat": "Sum", "period": 300}},
             {"id": "m2", "returnData": False, "metric": {"namespace": "App", "metricName": "Requests",
                                                          "dimensions": {}, "stat": "Sum", "period": 300}},
             {"id": "e1", "returnData": True, "expression": "100 * FILL(m1, 0) / m2"}]}


def _world(recorded: list[StateChange], deployed_latency: dict | None = None):
    latency = MetricAlarmDefinition("latency", LATENCY, [], [])
    ratio = MetricAlarmDefinition("error-ratio", RATIO, [], [])
    pager = CompositeDefinition("pager", 'ALARM("latency") OR ALARM("error-ratio")', ["critical"], [])
    # Latency above 100 from 02:00 to 02:10; errors 60 % of requests from 03:00 to 03:10.
    spike = [(m * 60, 200.0 if T0 + 120 <= m < T0 + 130 else 50.0) for m in range(T0 - 30, T0 + 240)]
    errors = [(m * 60, 60.0 if T0 + 180 <= m < T0 + 190 else 0.0) for m in range(T0 - 30, T0 + 240, 5)]
    requests = [(m * 60, 100.0) for m in range(T0 - 30, T0 + 240, 5)]
    history = History("test", "ap-south-1", "a test", START, START + dt.timedelta(hours=4), [
        Series(metric_key("App", "Latency", {"Service": "api"}), "Maximum", 60, spike),
        Series(metric_key("App", "Errors", {}), "Sum", 300, errors),
        Series(metric_key("App", "Requests", {}), "Sum", 300, requests)],
        alarm_history=recorded,
        deployed={"latency": deployed_latency or definition_of_props(LATENCY),
                  "error-ratio": definition_of_props(RATIO), "pager": definition_of_composite(pager)},
        states_at_start={"latency": "OK", "error-ratio": "OK", "pager": "OK"})
    return replay(history, [latency, ratio], [pager])


def _at(minute: int, seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60 + seconds, dt.UTC)


def _cloudwatch(latency_alarm_delay: int = 30) -> list[StateChange]:
    """What CloudWatch recorded: the model's transitions, 30 s to 4 min later (within one period each)."""
    return [
        StateChange("latency", _at(T0 + 122, latency_alarm_delay), "OK", "ALARM"),
        StateChange("latency", _at(T0 + 132, 30), "ALARM", "OK"),
        StateChange("pager", _at(T0 + 122, 50), "OK", "ALARM"),
        StateChange("pager", _at(T0 + 132, 50), "ALARM", "OK"),
        StateChange("error-ratio", _at(T0 + 185, 240), "OK", "ALARM"),
        StateChange("error-ratio", _at(T0 + 195, 240), "ALARM", "OK"),
        StateChange("pager", _at(T0 + 185, 50), "OK", "ALARM"),
        StateChange("pager", _at(T0 + 195, 50), "ALARM", "OK"),
    ]


def test_transitions_within_one_period_agree_per_kind():
    found = fidelity(_world(_cloudwatch()))
    assert (found["matched"], found["total"]) == (8, 8)
    assert {k: (v["matched"], v["total"]) for k, v in found["byKind"].items() if v["total"]} == {
        "static": (2, 2), "metric-math": (2, 2), "composite": (4, 4)}
    assert found["disagreements"] == [] and found["skipped"] == []


def test_a_transition_later_than_one_period_is_a_disagreement_with_both_timelines():
    found = fidelity(_world(_cloudwatch(latency_alarm_delay=75)))  # 1 min 15 s: more than the 60 s period
    assert (found["byKind"]["static"]["matched"], found["byKind"]["static"]["total"]) == (1, 3)
    [disagreement] = found["disagreements"]
    assert disagreement["alarm"] == "latency" and disagreement["kind"] == "static"
    assert disagreement["model"] == ["2026-07-01 07:32 OK->ALARM", "2026-07-01 07:42 ALARM->OK"]
    assert disagreement["cloudwatch"] == ["2026-07-01 07:33 OK->ALARM", "2026-07-01 07:42 ALARM->OK"]


def test_an_alarm_deployed_with_another_definition_is_not_compared():
    found = fidelity(_world(_cloudwatch(), deployed_latency={**definition_of_props(LATENCY), "threshold": 120.0}))
    assert found["byKind"]["static"]["total"] == 0
    assert found["skipped"] == [{"alarm": "latency", "why": "the deployed definition differs: threshold 120.0 "
                                                             "deployed, 100.0 in the working tree"}]


def test_the_definition_describe_alarms_returns_compares_equal_to_the_registered_one():
    described = {"AlarmName": "error-ratio", "EvaluationPeriods": 1, "Threshold": 50.0,
                 "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
                 "Metrics": [{"Id": "m1", "ReturnData": False, "MetricStat": {
                     "Metric": {"Namespace": "App", "MetricName": "Errors", "Dimensions": []}, "Period": 300,
                     "Stat": "Sum"}},
                     {"Id": "m2", "ReturnData": False, "MetricStat": {
                         "Metric": {"Namespace": "App", "MetricName": "Requests"}, "Period": 300, "Stat": "Sum"}},
                     {"Id": "e1", "ReturnData": True, "Label": "ratio", "Expression": "100 * FILL(m1, 0) / m2"}]}
    assert definition_of_described(described) == definition_of_props(RATIO)
    assert definition_of_described({**described, "DatapointsToAlarm": 1}) == definition_of_props(RATIO)
    assert definition_of_described({**described, "TreatMissingData": "breaching"}) != definition_of_props(RATIO)


def test_no_alarm_history_no_fidelity():
    assert fidelity(_world([])) is None
