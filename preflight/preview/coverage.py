"""The alarm coverage table: each monitored resource against the kinds of alarm it has.

Built from what the program registered (alarm dimensions, Lambda functions in the stack), so it
works for any program and shows a function in the stack with no alarm as a row of gaps.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from preflight.model.resource_types import FUNCTION, METRIC_ALARM
from preflight.program.engine import Registration
from preflight.program.props import COMPUTED, struct_to_props

RESOURCE_DIMENSIONS = (
    ("lambda", ("FunctionName",)),
    ("api", ("ApiName", "Stage", "Resource", "Method")),
    ("rds", ("DBInstanceIdentifier",)),
    ("redis", ("CacheClusterId",)),
)


def _resource_key(dimensions: dict[str, Any]) -> str | None:
    for kind, keys in RESOURCE_DIMENSIONS:
        if keys[0] in dimensions:
            return f"{kind} " + " ".join(str(dimensions[k]) for k in keys if k in dimensions)
    return None


def _metrics(props: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if props.get("metricName"):
        return [(props["metricName"], props.get("dimensions") or {})]
    # A metric-math alarm is named by its first metric: the numerator of a rate, or the banded metric.
    metrics = [q["metric"] for q in props.get("metricQueries") or [] if q.get("metric")]
    return [(metrics[0]["metricName"], metrics[0].get("dimensions") or {})] if metrics else []


def coverage(registrations: list[Registration]) -> dict[str, set[str]]:
    """resource -> alarm kinds (metric names; `%` marks a metric-math rate)."""
    by_urn = {r.urn: r for r in registrations}
    names = {r.urn: struct_to_props(r.object).get("name") for r in registrations if r.type == FUNCTION}
    table: dict[str, set[str]] = defaultdict(set)
    for urn, name in names.items():
        table[f"lambda {name if name not in (None, COMPUTED) else by_urn[urn].name}"]
    for r in registrations:
        if r.type != METRIC_ALARM:
            continue
        props = struct_to_props(r.object)
        math = bool(props.get("metricQueries"))
        for metric_name, dimensions in _metrics(props):
            if dimensions.get("FunctionName") == COMPUTED:
                source = next((d for d in r.property_dependencies.get("dimensions", []) if d in names), None)
                dimensions = {**dimensions, "FunctionName": names.get(source) or COMPUTED}
            key = _resource_key(dimensions)
            if key:
                table[key].add(metric_name + ("%" if math else ""))
    return table


def coverage_section(registrations: list[Registration]) -> str:
    table = coverage(registrations)
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
    gaps = sorted(r for r in table if r.startswith("lambda ") and "Errors" not in table[r])
    lines.append(f"Lambda functions without an Errors alarm: {', '.join(gaps) if gaps else 'none'}")
    return "\n".join(lines)
