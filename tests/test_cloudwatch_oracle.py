"""The behaviour tests' CloudWatch oracle reproduces the user guide's own examples
(awsdocs/amazon-cloudwatch-user-guide doc_source/using-metric-math.md, AlarmThatSendsEmail.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.cloudwatch_oracle import MathContext, _Parser, pages, rule_holds, state

TIMES = [datetime(2026, 7, 6, 3, 0, tzinfo=UTC) + timedelta(minutes=5 * i) for i in range(5)]


def _math(expression: str, **series: list) -> list:
    n = len(next(iter(series.values())))
    return _Parser(expression, MathContext(series, TIMES[:n])).parse()


def test_comparison_and_logical_operators_table():
    # "metric1 has values of [30, 20, 0, 0] and metric2 has values of [20, -, 20, -]"
    m = {"metric1": [30.0, 20.0, 0.0, 0.0], "metric2": [20.0, None, 20.0, None]}
    assert _math("(metric1 < metric2)", **m) == [0, 0, 1, 0]
    assert _math("(metric1 >= 30)", **m) == [1, 0, 0, 0]
    assert _math("(metric1 > 15 AND metric2 > 15)", **m) == [1, 0, 0, 0]


def test_if_expression_tables():
    metric1 = [1.0, 1.0, 0.0, 0.0, None]
    metric2 = [30.0, None, 0.0, 0.0, 30.0]
    metric3 = [0.0, 0.0, 20.0, None, 20.0]
    assert _math("IF(metric1, metric2, metric3)", metric1=metric1, metric2=metric2, metric3=metric3) == [
        30, 0, 20, None, None]
    assert _math("IF(metric1, 5, metric3)", metric1=metric1, metric3=metric3) == [5, 5, 20, None, None]
    assert _math("IF(metric1, metric2, 5)", metric1=metric1, metric2=metric2) == [30, 0, 5, 5, None]


def test_fill_arithmetic_and_division_by_zero():
    assert _math("FILL(m1, 0)", m1=[None, 2.0, None]) == [0, 2, 0]
    # "Missing values in a time series are treated as 0 ... divide by zero, the data point is dropped."
    assert _math("m1 + m2", m1=[None, 2.0, 1.0], m2=[3.0, None, 1.0]) == [3, 2, 2]
    assert _math("m1 / m2", m1=[1.0, 1.0], m2=[0.0, 2.0]) == [None, 0.5]
    # The stricter reading the behaviour tests also hold the catalogue to.
    strict = _Parser("m1 + m2", MathContext({"m1": [None, 2.0], "m2": [3.0, 2.0]}, TIMES[:2], strict=True)).parse()
    assert strict == [None, 4]


def test_time_functions_read_the_timestamps_in_utc():
    # 2026-07-06 03:00 UTC is a Monday: DAY 1.
    assert _math("HOUR(m1) * 60 + MINUTE(m1)", m1=[None, None]) == [180, 185]
    assert _math("DAY(m1)", m1=[None]) == [1]


@pytest.mark.parametrize("points, treatment, expected", [
    # doc_source/AlarmThatSendsEmail.md, 3 out of 3, the rows that the last three points decide.
    ([0.0, None, None, None, None], "breaching", "ALARM"),
    ([None] * 5, "missing", "INSUFFICIENT_DATA"),
    ([None] * 5, "breaching", "ALARM"),
    ([None] * 5, "notBreaching", "OK"),
    ([0.0, 5.0, 5.0, None, 5.0], "missing", "ALARM"),
])
def test_missing_data_examples(points, treatment, expected):
    alarm = {"threshold": 3, "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 3,
             "datapointsToAlarm": 3, "treatMissingData": treatment}
    assert state(alarm, points) == expected


def test_composite_rule_grammar():
    states = {"a": "ALARM", "b": "OK"}
    assert rule_holds('ALARM("a") AND NOT ALARM("b")', states)
    assert not rule_holds('(ALARM("a") AND ALARM("b")) OR FALSE', states)
    assert rule_holds('OK("b") AND INSUFFICIENT_DATA("c")', states)


def test_a_suppressed_composite_pages_after_the_extension_if_still_in_alarm():
    composites = [
        {"alarmName": "held", "alarmRule": 'ALARM("m")', "alarmActions": ["arn:x:critical"],
         "actionsSuppressor": {"alarm": "maintenance", "waitPeriod": 0, "extensionPeriod": 600}},
    ]
    timeline = [{"maintenance": "ALARM", "m": "ALARM"}] * 5 + [{"m": "ALARM"}] * 9 + [{"m": "ALARM"}] * 2
    assert pages(composites, timeline, lambda arn: arn.split(":")[-1]) == {"critical": 1}
    assert pages(composites, timeline[:14], lambda arn: arn.split(":")[-1]) == {}
