"""The diff document as a reviewer reads it: a summary line, a summary table, what needs attention, and
one table per section (rows of plain text; the Markdown and the text report escape and lay them out)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

# Facts under the names a reviewer uses.
FIELD_NAMES = {
    "condition": "threshold", "window": "window (M of N x period)", "statistic": "statistic",
    "missingData": "missing data", "tier": "notifies tier", "pages": "pages tier (itself or through pagers)",
    "okTier": "OK notice to", "pagers": "pager membership",
    "metrics": "metrics", "expression": "expression", "actions": "actions", "kind": "kind", "rule": "rule",
    "suppressor": "suppressed by", "lowSampleCountPercentiles": "low-sample percentiles",
}
MEMBER = re.compile(r'\b(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+)"?\s*\)')
# A long value (a rule of 40 members, a Lambda's environment) is cut in a cell; --json has it whole.
CELL = 600


@dataclasses.dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    named: bool = True  # the first column names a thing (alarm, drill, resource): a code span in Markdown


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def signed(usd: float) -> str:
    return ("+" if usd > 0 else "-" if usd < 0 else "±") + money(abs(usd))


def value(v: Any) -> str:
    if isinstance(v, list):
        text = ", ".join(map(str, v)) or "none"
    elif isinstance(v, dict):
        text = json.dumps(v, sort_keys=True)
    elif v is None:
        text = "(none)"
    else:
        text = str(v)
    return text if len(text) <= CELL else f"{text[:CELL]}... ({len(text):,} characters)"


def _members(rule: Any) -> set[str]:
    return set(MEMBER.findall(rule)) if isinstance(rule, str) else set()


def field_rows(name: str, changes: dict[str, list[Any]]) -> list[list[str]]:
    """One row per changed fact; a composite's rule as the members it gained and lost."""
    rows = []
    for key, (before, after) in changes.items():
        if key in ("rule", "pagers"):
            old = _members(before) if key == "rule" else set(before or [])
            new = _members(after) if key == "rule" else set(after or [])
            if old != new:
                gone, joined = sorted(old - new), sorted(new - old)
                rows.append([name, "members" if key == "rule" else FIELD_NAMES[key],
                             value(gone) if gone else "", value(joined) if joined else ""])
                continue
        rows.append([name, FIELD_NAMES.get(key, key), value(before), value(after)])
    return rows


def _facts_line(facts: dict[str, Any]) -> str:
    if facts["kind"] == "composite":
        return f"composite of {len(_members(facts['rule']))} alarms, pages {facts['pages']}"
    metric = facts["metrics"][0] if len(facts["metrics"]) == 1 else value(facts["metrics"])
    if facts["expression"]:
        metric = f"{facts['expression']} over {metric}"
    return f"{metric}: {facts['condition']}, {facts['window']}, pages {facts['pages']}"


def alarm_rows(alarms: dict[str, Any]) -> list[list[str]]:
    rows = [[name, "added", "", _facts_line(alarms["facts"][name])] for name in alarms["added"]]
    rows += [[name, "removed", _facts_line(alarms["facts"][name]), ""] for name in alarms["removed"]]
    for entry in alarms["renamed"]:
        rows.append([entry["from"], "renamed", entry["from"], entry["to"]])
        rows += field_rows(entry["to"], entry.get("changes", {}))
    for entry in alarms["changed"]:
        rows += field_rows(entry["name"], entry["changes"])
    return rows


def sections(doc: dict[str, Any]) -> list[Section]:
    alarms, cost, policy, drills = doc["alarms"], doc["cost"], doc["policy"], doc["drills"]
    found = [
        Section("alarms", "Alarms", ["Alarm", "Change", "Before", "After"], alarm_rows(alarms)),
        Section("paging", "Paging per tier", ["Tier", "Alarms paging it before", "After"],
                [[tier, str(n["before"]), str(n["after"])] for tier, n in doc["paging"].items()], named=False),
        Section("coverage", "Coverage", ["Function or endpoint", "Alarm", "Change"],
                [[c["resource"], c["alarm"], "lost"] for c in doc["coverage"]["lost"]]
                + [[c["resource"], c["alarm"], "gained"] for c in doc["coverage"]["gained"]], named=False),
        Section("cost", "Monthly cost", ["Line", "Before", "After", "Change"],
                [[line["item"], money(line["before"]), money(line["after"]), signed(line["delta"])]
                 for line in cost["lines"]]
                + ([["total", money(cost["before"]), money(cost["after"]), signed(cost["delta"])]]
                   if cost["lines"] else []), named=False),
        Section("policy", "Policy verdicts", ["Verdict", "Policy", "Level", "Resource", "Message"],
                [[kind, v["policy"], v["level"], v["resource"], v["message"]]
                 for kind in ("new", "resolved") for v in policy[kind]], named=False),
        Section("drills", "Drills", ["Drill", "Before", "After", "Why"],
                [[d["name"], d["before"], d["after"], "\n".join(d["failures"])] for d in drills["changed"]]),
        Section("dashboards", "Dashboards", ["Dashboard", "Change", "Widget or threshold"],
                [[name, "added", ""] for name in doc["dashboards"]["added"]]
                + [[name, "removed", ""] for name in doc["dashboards"]["removed"]]
                + [[d["name"], key.replace("Added", " added").replace("Removed", " removed"), item]
                   for d in doc["dashboards"]["changed"] for key, items in d.items() if key != "name"
                   for item in items]),
        Section("access", "Access (IAM and KMS policy documents)", ["Resource", "Change", "Statement"],
                [[a["resource"], "widens access", a["statement"]] for a in doc["access"]["widened"]]
                + [[a["resource"], "narrows access", a["statement"]] for a in doc["access"]["narrowed"]]),
        Section("resources", "Other resources",
                ["Resource", "Property", "Before", "After"],
                [[name, "(added)", "", ""] for name in doc["resources"]["added"]]
                + [[name, "(removed)", "", ""] for name in doc["resources"]["removed"]]
                + [[r["name"], key, value(before), value(after)]
                   for r in doc["resources"]["changed"] for key, (before, after) in r["changes"].items()]),
    ]
    return [s for s in found if s.rows]


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def summary_rows(doc: dict[str, Any]) -> list[list[str]]:
    alarms, cost, drills = doc["alarms"], doc["cost"], doc["drills"]
    rows = [
        ["Alarms", f"{len(alarms['added'])} added, {len(alarms['removed'])} removed, "
                   f"{len(alarms['renamed'])} renamed, {len(alarms['changed'])} changed"],
        ["Coverage", f"{len(doc['coverage']['lost'])} lost, {len(doc['coverage']['gained'])} gained"],
        ["Monthly cost", f"{money(cost['before'])} -> {money(cost['after'])} ({signed(cost['delta'])})"],
        ["Policy", f"{len(doc['policy']['new'])} new, {len(doc['policy']['resolved'])} resolved"],
        ["Drills", f"{_count(len(drills['changed']), 'verdict')} changed"
                   + (f" ({drills['unchanged']} with unchanged inputs not rerun)" if drills["unchanged"] else "")],
    ]
    rows += [[f"{tier} tier", f"paged by {n['before']} -> {n['after']} alarms"] for tier, n in doc["paging"].items()]
    extra = {"Dashboards": doc["dashboards"], "Other resources": doc["resources"]}
    for label, part in extra.items():
        if any(part[k] for k in ("added", "removed", "changed")):
            rows.append([label, f"{len(part['added'])} added, {len(part['removed'])} removed, "
                                f"{len(part['changed'])} changed"])
    if doc["access"]["widened"] or doc["access"]["narrowed"]:
        rows.append(["Access", f"{_count(len(doc['access']['widened']), 'statement')} widen, "
                               f"{len(doc['access']['narrowed'])} narrow"])
    return rows


def summary_line(doc: dict[str, Any]) -> str:
    alarms, cost = doc["alarms"], doc["cost"]
    parts = [f"{len(alarms[k])} {label}" for k, label in
             (("added", "added"), ("removed", "removed"), ("renamed", "renamed"), ("changed", "changed")) if alarms[k]]
    said = [("alarms: " + ", ".join(parts)) if parts else "no alarm changed"]
    said.append(f"cost {signed(cost['delta'])} a month")
    lost, gained = len(doc["coverage"]["lost"]), len(doc["coverage"]["gained"])
    said.append(f"coverage {lost} lost, {gained} gained" if lost or gained else "coverage unchanged")
    failing = sum(1 for d in doc["drills"]["changed"] if d["before"] == "passed" and d["after"] != "passed")
    said.append(f"{_count(failing, 'drill')} now failing" if failing else
                f"drills: {_count(len(doc['drills']['changed']), 'verdict')} changed")
    if doc["policy"]["new"]:
        said.append(_count(len(doc["policy"]["new"]), "new policy violation"))
    return "; ".join(said)
