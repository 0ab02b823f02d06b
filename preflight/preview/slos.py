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
        return f"{budget['minutes']:,.1f} bad minutes of {budget['judgedMinutes']:,} judged"
    return f"{budget['requests']:,} bad requests of {budget['monthlyRequests']:,}"


def slo_section(model: StackModel) -> str:
    found = slos(model)
    if not found:
        return "Service level objectives: none measured by this stack"
    lines = [f"Service level objectives: {len(found)}, error budgets over a {found[0]['windowDays']}-day window"]
    for slo in found:
        # The report judges a window on its requests alone; the burn-rate alarms want bad ones too.
        guard = (f"; a window of fewer than {slo['minRequests']} requests is never bad, and a burn-rate alarm's "
                 f"needs {slo['minBadRequests']} bad ones" if slo.get("minBadRequests") else "")
        threshold = f" ({slo['thresholdMs']:,} ms)" if slo.get("thresholdMs") else ""
        lines.append(f"  {slo['name']} ({slo['service']}, {slo['kind']}-based): {slo['target']:g} % of "
                     f"{slo['description']}{threshold}; budget {budget_text(slo)}{guard}")
        lines.append(f"    {pairs_text(slo.get('burnRateAlarms') or [])}")
    return "\n".join(lines)


def pairs_text(pairs: list[dict[str, Any]]) -> str:
    """`pages (critical): 1h and 5m over 1.44 % bad (14.4x, 70+ requests), ...; tickets (warning): ...`:
    a request-based window is judged from that many requests (its SLO's `minRequests` at least)."""
    if not pairs:
        return "no burn-rate alarms"
    parts = []
    for action in ("page", "ticket"):
        rows = [p for p in pairs if p["action"] == action]
        if rows:
            parts.append(f"{action}s ({rows[0]['tier']}): " + ", ".join(
                f"{long} and {short} over {p['badPercent']:g} % bad ({p['rate']:g}x"
                + (f", {p['minRequests']:,}+ requests)" if "minRequests" in p else ")")
                for p in rows for long, short in [p["windows"]]))
    return "burn-rate " + "; ".join(parts)
