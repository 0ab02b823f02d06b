"""One metric alarm evaluation, as the CloudWatch user guide describes it.

Source: "Using Amazon CloudWatch alarms", sections "Alarm evaluation" and "How alarm state is
evaluated when data is missing" (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
AlarmThatSendsEmail.html#alarms-evaluating-missing-data; awsdocs/amazon-cloudwatch-user-guide,
doc_source/AlarmThatSendsEmail.md). CloudWatch retrieves more datapoints than Evaluation Periods
(the evaluation range); real datapoints are always used, missing ones are filled with the
`treatMissingData` result only when fewer than Evaluation Periods real datapoints exist, and then
as few times as possible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)

COMPARISONS = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
# Anomaly-detection comparisons: the threshold is a band (lower, upper).
BAND_COMPARISONS = {
    "LessThanLowerOrGreaterThanUpperThreshold": lambda v, b: v < b[0] or v > b[1],
    "LessThanLowerThreshold": lambda v, b: v < b[0],
    "GreaterThanUpperThreshold": lambda v, b: v > b[1],
}


def breaches(alarm: Mapping[str, Any], value: float, band: Optional[tuple[float, float]] = None) -> bool:
    operator = alarm["comparisonOperator"]
    if operator in BAND_COMPARISONS:
        if band is None:
            raise ValueError(f"{operator} needs the band of thresholdMetricId")
        return BAND_COMPARISONS[operator](value, band)
    if operator not in COMPARISONS:
        raise ValueError(f"unknown comparisonOperator {operator!r}")
    return COMPARISONS[operator](value, float(alarm["threshold"]))


def evaluate_breaches(
    alarm: Mapping[str, Any], flags: Sequence[Optional[bool]], previous_state: str = INSUFFICIENT_DATA
) -> str:
    """The state from the evaluation range as breaching (True), not breaching (False) or missing (None)."""
    n = int(alarm["evaluationPeriods"])
    m = int(alarm.get("datapointsToAlarm") or n)
    mode = alarm.get("treatMissingData") or "missing"
    real = [f for f in flags if f is not None]
    if len(real) >= n:
        # Enough real datapoints: the most recent N of them decide; treatMissingData is not needed.
        return ALARM if sum(real[-n:]) >= m else OK
    breaching = sum(real)
    fill = n - len(real)
    if mode == "breaching":
        return ALARM if breaching + fill >= m else OK
    if mode == "notBreaching":
        return ALARM if breaching >= m else OK
    if mode not in ("missing", "ignore"):
        raise ValueError(f"unknown treatMissingData {mode!r}")
    if not real:
        return INSUFFICIENT_DATA if mode == "missing" else previous_state
    if breaching >= m:
        return ALARM
    if breaching < len(real):
        # A real non-breaching datapoint: missing points are not counted against it.
        return OK
    # Only breaching datapoints, fewer than M. "Avoiding premature transitions to alarm state": ALARM
    # once the oldest breaching datapoint is at least M periods old and everything newer is
    # breaching or missing; before that the alarm waits (missing) or keeps its state (ignore).
    oldest_age = len(flags) - next(i for i, f in enumerate(flags) if f is not None)
    if mode == "missing":
        return ALARM if oldest_age >= m else INSUFFICIENT_DATA
    return previous_state


def evaluate_alarm(
    alarm: dict, datapoints: list[float | None], previous_state: str = INSUFFICIENT_DATA
) -> str:
    """The state a MetricAlarm (camelCase props) takes from its evaluation range, oldest first.

    Each datapoint is one period already aggregated with the alarm's statistic; None is missing.
    """
    if previous_state not in STATES:
        raise ValueError(f"previous_state must be one of {', '.join(STATES)}, not {previous_state!r}")
    flags = [None if v is None else breaches(alarm, float(v)) for v in datapoints]
    return evaluate_breaches(alarm, flags, previous_state)
