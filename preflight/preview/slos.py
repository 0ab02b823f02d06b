"""The SLOs the program measures (its `slos` output), with their error budgets, for the preview."""

from __future__ import annotations

from typing import Any

from preflight.model.stack import StackModel


def slos(model: StackModel) -> list[dict[str, Any]]:
    found = model.output("slos")
    return list(found) if isinstance(found, list) else []


def budget_text(slo: dict[str, Any]) -> str:
    budget = slo["budget"]
    if "minutes" in budget:
        return f"{budget['minutes']:,.1f} bad minutes"
    return f"{budget['requests']:,} bad requests of {budget['monthlyRequests']:,}"


def slo_section(model: StackModel) -> str:
    found = slos(model)
    if not found:
        return "Service level objectives: none measured by this stack"
    lines = [f"Service level objectives: {len(found)}, error budgets over a {found[0]['windowDays']}-day window"]
    for slo in found:
        guard = f"; windows under {slo['minRequests']} requests do not count" if slo.get("minRequests") else ""
        threshold = f" ({slo['thresholdMs']:,} ms)" if slo.get("thresholdMs") else ""
        lines.append(f"  {slo['name']} ({slo['service']}, {slo['kind']}-based): {slo['target']:g} % of "
                     f"{slo['description']}{threshold}; budget {budget_text(slo)}{guard}")
    return "\n".join(lines)
