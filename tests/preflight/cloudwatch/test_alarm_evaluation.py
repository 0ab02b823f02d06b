"""`evaluate_alarm` against the CloudWatch user guide's worked examples.

Source: "Using Amazon CloudWatch alarms" -> "How alarm state is evaluated when data is missing" and
"Avoiding premature transitions to alarm state",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
(awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md at fbd27d47, 2023 edition;
the 2019 edition's extra rows at 05fd32f6). Evaluation range 5, most recent datapoint on the right;
0 = not breaching, X = breaching, - = missing.
"""

from __future__ import annotations

import pytest

from preflight.cloudwatch import evaluate_alarm

MODES = ("missing", "ignore", "breaching", "notBreaching")
RETAIN = "retain"


def alarm(m: int, n: int, mode: str) -> dict:
    return {"comparisonOperator": "GreaterThanThreshold", "threshold": 3, "evaluationPeriods": n,
            "datapointsToAlarm": m, "treatMissingData": mode}


def points(row: str) -> list[float | None]:
    """Threshold 3: X is 5 (breaching), 0 is 1."""
    return [{"0": 1.0, "X": 5.0, "-": None}[c] for c in row.split()]


# (data points, MISSING, IGNORE, BREACHING, NOT BREACHING)
THREE_OF_THREE = [
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("0 - - - -", "OK", "OK", "OK", "OK"),
    ("- - - - -", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - X - -", "ALARM", RETAIN, "ALARM", "OK"),
    # 2019 edition, same rules: a lone recent breach waits, an old one with nothing after it alarms.
    ("- - - - X", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
    ("X - - - -", "ALARM", RETAIN, "ALARM", "OK"),
]
TWO_OF_THREE = [
    ("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 - X - -", "OK", "OK", "ALARM", "OK"),
    ("- - - - 0", "OK", "OK", "ALARM", "OK"),
    ("- - - X -", "ALARM", RETAIN, "ALARM", "OK"),
    ("- - - - X", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),  # 2019 edition
]


@pytest.mark.parametrize(("m", "row"), [(3, r) for r in THREE_OF_THREE] + [(2, r) for r in TWO_OF_THREE])
def test_documented_missing_data_examples(m: int, row: tuple[str, ...]) -> None:
    data, *expected = row
    for mode, want in zip(MODES, expected, strict=True):
        for previous in ("OK", "ALARM", "INSUFFICIENT_DATA"):
            got = evaluate_alarm(alarm(m, 3, mode), points(data), previous)
            assert got == (previous if want == RETAIN else want), (data, mode, previous)


def test_default_treat_missing_data_is_missing_and_m_defaults_to_n():
    spec = {"comparisonOperator": "LessThanThreshold", "threshold": 1, "evaluationPeriods": 3}
    assert evaluate_alarm(spec, [None] * 5) == "INSUFFICIENT_DATA"
    assert evaluate_alarm(spec, [1, 0, 0, 0, 1]) == "OK"
    assert evaluate_alarm(spec, [1, 1, 0, 0, 0]) == "ALARM"


def test_band_comparison_needs_the_band():
    spec = {"comparisonOperator": "LessThanLowerThreshold", "evaluationPeriods": 1, "thresholdMetricId": "ad1"}
    with pytest.raises(ValueError, match="band"):
        evaluate_alarm(spec, [1.0])
