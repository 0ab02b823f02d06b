"""The CloudWatch model against CloudWatch itself: the replay's transitions next to the account's alarm
history (DescribeAlarmHistory), for each deployed alarm whose definition is the working tree's.

A transition is matched when CloudWatch recorded one into the same state within one period of it (one
minute for a composite); each is matched at most once. The share is matched pairs over pairs plus
everything left unmatched on either side, per alarm kind. Only what decides transitions is compared
as the definition (metric or queries, statistic, period, M of N, threshold or band, missing data;
a composite's rule and suppressor); actions, names and descriptions are not.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.history.figures import ist
from preflight.history.history_file import History
from preflight.history.replay import Replay
from preflight.model.stack import alarm_kind

KINDS = ("static", "metric-math", "anomaly", "metrics-insights", "composite")


def _dimensions(items: Any) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in sorted(items.items())}
    return {d["Name"]: d["Value"] for d in sorted(items or [], key=lambda d: d["Name"])}


def _number(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def definition_of_props(props: dict[str, Any]) -> dict[str, Any]:
    """A metric alarm as the program registers it (camelCase props), in the compared form."""
    n = int(props["evaluationPeriods"])
    queries = [{"id": q["id"], "expression": q.get("expression"), "returnData": bool(q.get("returnData")),
                "period": q.get("period"),
                "metric": None if not q.get("metric") else {
                    "namespace": q["metric"]["namespace"], "metricName": q["metric"]["metricName"],
                    "dimensions": _dimensions(q["metric"].get("dimensions")), "stat": q["metric"]["stat"],
                    "period": int(q["metric"]["period"])}}
               for q in props.get("metricQueries") or []]
    return {
        "namespace": props.get("namespace"), "metricName": props.get("metricName"),
        "dimensions": _dimensions(props.get("dimensions")) if props.get("metricName") else {},
        "statistic": props.get("statistic"), "extendedStatistic": props.get("extendedStatistic"),
        "period": props.get("period") and int(props["period"]),
        "evaluationPeriods": n, "datapointsToAlarm": int(props.get("datapointsToAlarm") or n),
        "threshold": _number(props.get("threshold")), "comparisonOperator": props["comparisonOperator"],
        "thresholdMetricId": props.get("thresholdMetricId"),
        "treatMissingData": props.get("treatMissingData") or "missing",
        "evaluateLowSampleCountPercentile": props.get("evaluateLowSampleCountPercentile") or None,
        "metricQueries": queries,
    }


def definition_of_described(alarm: dict[str, Any]) -> dict[str, Any]:
    """A metric alarm as DescribeAlarms returns it (MetricAlarms[]), in the compared form."""
    n = int(alarm["EvaluationPeriods"])
    queries = []
    for q in alarm.get("Metrics") or []:
        stat = q.get("MetricStat")
        queries.append({"id": q["Id"], "expression": q.get("Expression"), "returnData": bool(q.get("ReturnData")),
                        "period": q.get("Period"),
                        "metric": None if not stat else {
                            "namespace": stat["Metric"]["Namespace"], "metricName": stat["Metric"]["MetricName"],
                            "dimensions": _dimensions(stat["Metric"].get("Dimensions")), "stat": stat["Stat"],
                            "period": int(stat["Period"])}})
    return {
        "namespace": alarm.get("Namespace"), "metricName": alarm.get("MetricName"),
        "dimensions": _dimensions(alarm.get("Dimensions")) if alarm.get("MetricName") else {},
        "statistic": alarm.get("Statistic"), "extendedStatistic": alarm.get("ExtendedStatistic"),
        "period": alarm.get("Period") and int(alarm["Period"]),
        "evaluationPeriods": n, "datapointsToAlarm": int(alarm.get("DatapointsToAlarm") or n),
        "threshold": _number(alarm.get("Threshold")), "comparisonOperator": alarm["ComparisonOperator"],
        "thresholdMetricId": alarm.get("ThresholdMetricId"),
        "treatMissingData": alarm.get("TreatMissingData") or "missing",
        "evaluateLowSampleCountPercentile": alarm.get("EvaluateLowSampleCountPercentile") or None,
        "metricQueries": queries,
    }


def definition_of_composite(composite: CompositeDefinition) -> dict[str, Any]:
    return {"alarmRule": composite.rule_text, "actionsSuppressor": composite.suppressor,
            "waitPeriod": composite.wait_seconds if composite.suppressor else None,
            "extensionPeriod": composite.extension_seconds if composite.suppressor else None}


def definition_of_described_composite(alarm: dict[str, Any]) -> dict[str, Any]:
    suppressor = alarm.get("ActionsSuppressor")
    return {"alarmRule": alarm["AlarmRule"], "actionsSuppressor": suppressor,
            "waitPeriod": alarm.get("ActionsSuppressorWaitPeriod") if suppressor else None,
            "extensionPeriod": alarm.get("ActionsSuppressorExtensionPeriod") if suppressor else None}


def deployed_definitions(described: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """DescribeAlarms' metric and composite alarms by name, in the compared form."""
    return {a["AlarmName"]: (definition_of_described_composite(a) if "AlarmRule" in a else definition_of_described(a))
            for a in described}


def _differences(deployed: dict[str, Any], working: dict[str, Any]) -> list[str]:
    return [f"{key} {deployed.get(key)!r} deployed, {working.get(key)!r} in the working tree"
            for key in sorted(set(deployed) | set(working)) if deployed.get(key) != working.get(key)]


@dataclasses.dataclass(frozen=True)
class Change:
    minute: float  # Unix minutes (CloudWatch's to the second)
    from_state: str
    to_state: str

    def shown(self) -> str:
        return f"{ist(int(self.minute)).strftime('%Y-%m-%d %H:%M')} {self.from_state}->{self.to_state}"


def _match(model: list[Change], cloudwatch: list[Change], tolerance: float) -> int:
    """Pairs of one model and one CloudWatch change into the same state within `tolerance` minutes, in time order."""
    used: set[int] = set()
    pairs = 0
    for change in model:
        for i, recorded in enumerate(cloudwatch):
            near = abs(recorded.minute - change.minute) <= tolerance
            if i not in used and recorded.to_state == change.to_state and near:
                used.add(i)
                pairs += 1
                break
    return pairs


def fidelity(replay: Replay) -> Optional[dict[str, Any]]:
    """None when the history holds no alarm history to compare with."""
    history: History = replay.history
    if not history.alarm_history:
        return None
    recorded_names = {c.alarm for c in history.alarm_history}
    first = replay.first_evaluations()
    by_kind = {kind: {"matched": 0, "total": 0} for kind in KINDS}
    disagreements, skipped, compared = [], [], []
    definitions: list[MetricAlarmDefinition | CompositeDefinition] = [*replay.alarms, *replay.composites]
    for definition in definitions:
        name = definition.name
        composite = isinstance(definition, CompositeDefinition)
        working = definition_of_composite(definition) if composite else definition_of_props(definition.props)
        deployed = history.deployed.get(name)
        if deployed is None:
            if name in recorded_names:
                skipped.append({"alarm": name, "why": "its deployed definition was not fetched"})
            continue
        differences = _differences(deployed, working)
        if differences:
            skipped.append({"alarm": name, "why": "the deployed definition differs: " + "; ".join(differences)})
            continue
        kind = "composite" if composite else alarm_kind(definition.props)
        model = [Change(t.minute, t.from_state, t.to_state) for i, t in enumerate(replay.transitions)
                 if t.alarm == name and t.contributor is None and i not in first
                 and replay.start <= t.minute <= replay.end]
        cloudwatch = [Change(c.time.timestamp() / 60, c.from_state, c.to_state) for c in history.alarm_history
                      if c.alarm == name and history.start <= c.time < history.end]
        tolerance = 1 if composite else definition.period // 60
        pairs = _match(model, cloudwatch, tolerance)
        total = len(model) + len(cloudwatch) - pairs
        by_kind[kind]["matched"] += pairs
        by_kind[kind]["total"] += total
        compared.append(name)
        if pairs < total:
            disagreements.append({"alarm": name, "kind": kind, "model": [c.shown() for c in model],
                                  "cloudwatch": [c.shown() for c in cloudwatch]})
    matched = sum(k["matched"] for k in by_kind.values())
    total = sum(k["total"] for k in by_kind.values())
    return {"matched": matched, "total": total, "share": round(matched / total, 4) if total else None,
            "byKind": {kind: {**k, "share": round(k["matched"] / k["total"], 4) if k["total"] else None}
                       for kind, k in by_kind.items()},
            "compared": compared, "skipped": skipped, "disagreements": disagreements}
