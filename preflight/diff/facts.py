"""One program run in a reviewer's terms, as plain JSON values: each alarm's metric, statistic,
threshold, window, missing-data treatment, tier and pagers; the coverage; the dashboards' widgets and
drawn thresholds; every other resource's inputs; the access its policy documents grant; the cost and
the policy verdicts. Read from the model only. Plain values, so a side saved to a file compares with
a side computed now."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from preflight.model.resource_types import COMPOSITE_ALARM, DASHBOARD, METRIC_ALARM
from preflight.model.stack import CompositeAlarm, MetricAlarm, MetricRef, StackModel
from preflight.preview.analyzer import Violation
from preflight.preview.cost import estimate
from preflight.preview.coverage import coverage
from preflight.program.props import SECRET_SIG_KEY

# Increase when a fact's meaning changes: a saved side of another version is refused.
SNAPSHOT_VERSION = 1

COMPARISON = {
    "GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=", "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
    "LessThanLowerThreshold": "below the band", "GreaterThanUpperThreshold": "above the band",
}
BAND = re.compile(r"ANOMALY_DETECTION_BAND\(\s*\w+\s*(?:,\s*([0-9.]+))?\s*\)")
# Props that hold an IAM-style policy document (a JSON string) on the resources that carry one.
POLICY_PROPS = ("policy", "assumeRolePolicy")
COVERED_ELSEWHERE = {METRIC_ALARM, COMPOSITE_ALARM, DASHBOARD}


def duration(seconds: Any) -> str:
    """`60` -> `1 min`, `86400` -> `1 d`: a period as a reviewer reads it."""
    if not isinstance(seconds, (int, float)):
        return str(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def _metric_label(ref: MetricRef, stat: Any, period: Any) -> str:
    return f"{ref.label()} {stat} {duration(period)}"


def _metrics(alarm: MetricAlarm) -> tuple[list[str], list[Any], list[Any]]:
    """(each metric with its statistic and period, the statistics, the periods)."""
    props = alarm.props
    sources: list[tuple[Any, Any]] = []
    if props.get("metricName"):
        sources.append((props.get("extendedStatistic") or props.get("statistic"), props.get("period")))
    sources += [(q["metric"].get("stat"), q["metric"].get("period"))
                for q in props.get("metricQueries") or [] if q.get("metric")]
    labels = [_metric_label(ref, stat, period) for ref, (stat, period) in zip(alarm.metrics, sources, strict=True)]
    return labels, [s for s, _ in sources], [p for _, p in sources]


def _returned(props: dict[str, Any]) -> Optional[dict[str, Any]]:
    queries = props.get("metricQueries") or []
    return next((q for q in queries if q.get("returnData")), None) or next(
        (q for q in queries if q.get("expression")), None)


def _threshold(props: dict[str, Any]) -> Any:
    if props.get("thresholdMetricId"):
        band = next((q for q in props.get("metricQueries") or [] if q.get("id") == props["thresholdMetricId"]), {})
        match = BAND.search(str(band.get("expression", "")))
        width = match.group(1) if match and match.group(1) else "2"
        return f"band of {width} standard deviations"
    return props.get("threshold")


def _tiers(tiers: Iterable[str]) -> str:
    return " + ".join(sorted(tiers)) or "none"


def alarm_facts(alarm: MetricAlarm, pagers: list[str]) -> dict[str, Any]:
    props = alarm.props
    labels, stats, periods = _metrics(alarm)
    returned = _returned(props)
    period = props.get("period") or (returned or {}).get("period") or (max(periods) if periods else None)
    facts: dict[str, Any] = {
        "kind": alarm.kind,
        "metrics": labels,
        "expression": (returned or {}).get("expression") or "",
        "statistic": ", ".join(sorted({str(s) for s in stats if s})) or "",
        "condition": f"{COMPARISON.get(props.get('comparisonOperator'), props.get('comparisonOperator'))} "
                     f"{_threshold(props)}",
        "window": f"{props.get('datapointsToAlarm') or props.get('evaluationPeriods')} of "
                  f"{props.get('evaluationPeriods')} x {duration(period)}",
        "missingData": props.get("treatMissingData") or "missing",
        "tier": _tiers(alarm.alarm_tiers),
        "okTier": _tiers(alarm.ok_tiers),
        "actions": "enabled" if props.get("actionsEnabled", True) else "disabled",
        "pagers": pagers,
    }
    if "evaluateLowSampleCountPercentile" in props:
        facts["lowSampleCountPercentiles"] = props["evaluateLowSampleCountPercentile"]
    return facts


def composite_facts(composite: CompositeAlarm, pagers: list[str]) -> dict[str, Any]:
    suppressor = (f"{composite.suppressor} (wait {duration(composite.suppressor_wait_seconds)}, "
                  f"extension {duration(composite.suppressor_extension_seconds)})") if composite.suppressor else ""
    return {"kind": "composite", "rule": composite.rule, "tier": _tiers(composite.alarm_tiers),
            "okTier": _tiers(composite.ok_tiers), "suppressor": suppressor, "pagers": pagers}


def identity(facts: dict[str, Any]) -> Optional[str]:
    """What an alarm watches, without its name: the same metrics (namespace, name, dimensions,
    statistic, period) and expression, or for a composite the same rule. None where a dimension is
    unknown until deploy (two such alarms cannot be told apart)."""
    if facts["kind"] == "composite":
        return json.dumps(["composite", facts["rule"]])
    if any("unknown until deploy" in m for m in facts["metrics"]) or (not facts["metrics"] and not facts["expression"]):
        return None
    return json.dumps([facts["kind"], sorted(facts["metrics"]), facts["expression"]])


def _pagers(model: StackModel) -> dict[str, list[str]]:
    """alarm name -> the composites (pagers) whose rule names it."""
    pagers: dict[str, list[str]] = {}
    for composite in model.composites:
        for member in composite.members:
            pagers.setdefault(member, []).append(composite.name)
    return {name: sorted(found) for name, found in pagers.items()}


def _pages(alarms: dict[str, dict[str, Any]]) -> None:
    """Each alarm's `pages`: the tiers its own actions notify and those of every pager above it."""
    def tiers(name: str, seen: frozenset[str]) -> set[str]:
        facts = alarms.get(name)
        if facts is None or name in seen:
            return set()
        own = {t for t in facts["tier"].split(" + ") if t != "none"}
        return own.union(*(tiers(p, seen | {name}) for p in facts["pagers"]))

    for name, facts in alarms.items():
        facts["pages"] = _tiers(tiers(name, frozenset()))


def _dashboard(body: Optional[dict[str, Any]]) -> dict[str, Any]:
    if body is None:
        return {"widgets": None, "thresholds": None}
    widgets, thresholds = [], []
    titled = [(w, w.get("properties") or {}) for w in body.get("widgets") or []]
    repeated = {t for t, n in Counter(p.get("title") for _, p in titled).items() if t and n > 1}
    heading = ""
    for widget, props in titled:
        title = props.get("title") or (props.get("markdown") or "").split("\n")[0].lstrip("# ") or "(untitled)"
        if widget.get("type") == "text":
            heading = title
        elif title in repeated and heading:
            # The same title in several sections (each database's "CPU %"): named with its section's heading,
            # so that a change reads as the one widget it is.
            title = f"{heading} / {title}"
        widgets.append(f"{widget.get('type')}: {title}")
        for line in (props.get("annotations") or {}).get("horizontal") or []:
            thresholds.append(f"{title}: {line.get('label', '')} {line.get('value')}".strip())
    return {"widgets": sorted(widgets), "thresholds": sorted(thresholds)}


def resource_key(type_: str, name: str) -> str:
    """`aws:budgets/budget:Budget` named `x` -> `budgets Budget x`."""
    module = type_.split(":")[1].split("/")[0] if type_.count(":") == 2 else type_
    return f"{module} {type_.rsplit(':', 1)[-1]} {name}"


def _statements(document: Any) -> Optional[list[str]]:
    """A policy document's statements, each as canonical JSON; None when it is not a known document."""
    if not isinstance(document, str):
        return None
    try:
        parsed = json.loads(document)
    except ValueError:
        return None
    statements = parsed.get("Statement") if isinstance(parsed, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return None
    return sorted(json.dumps(_canonical(s), sort_keys=True) for s in statements if isinstance(s, dict))


def _canonical(value: Any) -> Any:
    """Lists as sorted sets and a one-item list as its item, as IAM reads them; `Sid` is a label."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items() if k != "Sid"}
    if isinstance(value, list):
        items = sorted({json.dumps(_canonical(v), sort_keys=True) for v in value})
        return json.loads(items[0]) if len(items) == 1 else [json.loads(i) for i in items]
    return value


def _content(value: Any, program: Path) -> Any:
    """Props with each file asset named by its content: the same file in two checkouts is one asset
    (Pulumi compares an asset by the hash of its contents, not by its path)."""
    if isinstance(value, dict):
        path = value.get("path")
        if SECRET_SIG_KEY in value and isinstance(path, str) and Path(path).is_file():
            file = Path(path)
            name = str(file.relative_to(program)) if file.is_relative_to(program) else file.name
            return {"file": name, "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}
        return {k: _content(v, program) for k, v in value.items()}
    if isinstance(value, list):
        return [_content(v, program) for v in value]
    return value


def _violation(v: Violation) -> dict[str, str]:
    resource = v.urn.split("::")[-1] if v.urn else "(stack)"
    return {"policy": v.policy, "level": v.level, "resource": resource, "message": v.message}


def snapshot(model: StackModel, violations: list[Violation]) -> dict[str, Any]:
    """The side's facts (drills are added by the caller, which runs them)."""
    pagers = _pagers(model)
    alarms = {a.name: alarm_facts(a, pagers.get(a.name, [])) for a in model.alarms}
    alarms.update({c.name: composite_facts(c, pagers.get(c.name, [])) for c in model.composites})
    _pages(alarms)
    resources, access = {}, {}
    program = model.stack_file.parent
    for r in model.resources:
        if not r.custom or r.type in COVERED_ELSEWHERE:
            continue
        key = resource_key(r.type, r.name)
        resources[key] = _content(r.props, program)
        for prop in POLICY_PROPS:
            statements = _statements(r.props.get(prop))
            if statements is not None:
                access[f"{key} {prop}"] = statements
    return {
        "snapshot": SNAPSHOT_VERSION,
        "project": model.project,
        "stack": model.stack,
        "alarms": alarms,
        "coverage": {resource: sorted(kinds) for resource, kinds in coverage(model).items()},
        "dashboards": {d.name: _dashboard(d.body) for d in model.dashboards},
        "resources": resources,
        "access": access,
        "cost": estimate(model),
        "policy": [_violation(v) for v in violations],
    }
