"""The alarm coverage table: each monitored resource against the kinds of alarm it has.

Built from the model of what the program registered (alarm dimensions, Lambda functions), so it
works for any program and shows a function in the stack with no alarm as a row of gaps.
"""

from __future__ import annotations

from collections import defaultdict

from preflight.model.stack import StackModel

RESOURCE_DIMENSIONS = (
    ("lambda", ("FunctionName",)),
    ("api", ("ApiName", "Stage", "Resource", "Method")),
    ("rds", ("DBInstanceIdentifier",)),
    ("redis", ("CacheClusterId",)),
)


def _resource_key(dimensions: dict[str, str]) -> str | None:
    for kind, keys in RESOURCE_DIMENSIONS:
        if keys[0] in dimensions:
            return f"{kind} " + " ".join(str(dimensions[k]) for k in keys if k in dimensions)
    return None


def coverage(model: StackModel) -> dict[str, set[str]]:
    """resource -> alarm kinds (metric names; `%` marks a metric-math rate)."""
    table: dict[str, set[str]] = defaultdict(set)
    for function in model.functions:
        table[f"lambda {function.name}"]
    for alarm in model.alarms:
        # A metric-math alarm is named by its first metric: the numerator of a rate, or the banded metric.
        metric = alarm.metrics[0] if alarm.metrics else None
        if metric is None or metric.dimensions is None:
            continue
        key = _resource_key(dict(metric.dimensions))
        if key:
            table[key].add(metric.name + ("%" if alarm.props.get("metricQueries") else ""))
    return table


def coverage_section(model: StackModel) -> str:
    table = coverage(model)
    if not table:
        return "Alarm coverage: no monitored resources"
    lines = [f"Alarm coverage ({len(table)} resources x alarm kinds; x = alarmed, . = gap)"]
    for kind, _ in RESOURCE_DIMENSIONS:
        rows = sorted(r for r in table if r.startswith(kind + " "))
        if not rows:
            continue
        kinds = sorted({k for r in rows for k in table[r]})
        width = max(len(r) for r in rows) + 2
        lines.append("")
        lines.append(" " * width + " ".join(kinds))
        for resource in rows:
            cells = " ".join(("x" if k in table[resource] else ".").center(len(k)) for k in kinds)
            lines.append(resource.ljust(width) + cells)
    lines.append("")
    # A scheduled job's only errors alarm is its last run's failed share (metric math over Errors).
    gaps = sorted(r for r in table if r.startswith("lambda ") and not {"Errors", "Errors%"} & table[r])
    lines.append(f"Lambda functions without an Errors alarm: {', '.join(gaps) if gaps else 'none'}")
    return "\n".join(lines)
