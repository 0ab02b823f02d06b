"""Two sides' facts -> the diff document: only what changed, renames as renames, and what got worse.

A rename is an alarm that is gone from the base and an alarm new in the change that watch the same
thing (`facts.identity`: the same metrics with their dimensions, statistic and period, and the same
expression; for a composite the same rule), paired only when exactly one of each has that identity.
Whatever else differs between the two (threshold, window, tier) is listed with the rename.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

from preflight.diff.facts import identity

TIERS = ("critical", "warning", "business")


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before.get(key), after.get(key)] for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)}


def _renames(removed: list[str], added: list[str], base: dict[str, Any], head: dict[str, Any]) -> list[tuple[str, str]]:
    gone: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    for name in removed:
        if (key := identity(base[name])) is not None:
            gone.setdefault(key, []).append(name)
    for name in added:
        if (key := identity(head[name])) is not None:
            new.setdefault(key, []).append(name)
    return sorted((gone[key][0], new[key][0]) for key in gone.keys() & new.keys()
                  if len(gone[key]) == 1 and len(new[key]) == 1)


def alarms(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    removed = sorted(base.keys() - head.keys())
    added = sorted(head.keys() - base.keys())
    renamed = []
    for old, new in _renames(removed, added, base, head):
        removed.remove(old)
        added.remove(new)
        entry: dict[str, Any] = {"from": old, "to": new}
        if changes := _changes(base[old], head[new]):
            entry["changes"] = changes
        renamed.append(entry)
    changed = [{"name": name, "changes": changes} for name in sorted(base.keys() & head.keys())
               if (changes := _changes(base[name], head[name]))]
    return {"added": added, "removed": removed, "renamed": renamed, "changed": changed,
            "facts": {name: head[name] for name in added} | {name: base[name] for name in removed}}


def paging(base: dict[str, Any], head: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per tier, how many alarms page it (themselves or through a pager), where that number changed."""
    def count(side: dict[str, Any]) -> Counter[str]:
        return Counter(tier for facts in side.values() for tier in facts["pages"].split(" + ") if tier in TIERS)

    before, after = count(base), count(head)
    return {tier: {"before": before[tier], "after": after[tier]} for tier in TIERS if before[tier] != after[tier]}


def coverage(base: dict[str, list[str]], head: dict[str, list[str]]) -> dict[str, list[dict[str, str]]]:
    def pairs(side: dict[str, list[str]]) -> set[tuple[str, str]]:
        return {(resource, kind) for resource, kinds in side.items() for kind in kinds}

    before, after = pairs(base), pairs(head)
    return {"lost": [{"resource": r, "alarm": k} for r, k in sorted(before - after)],
            "gained": [{"resource": r, "alarm": k} for r, k in sorted(after - before)]}


def cost(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    before = {line["item"]: line["monthly_usd"] for line in base["lines"]}
    after = {line["item"]: line["monthly_usd"] for line in head["lines"]}
    lines = [{"item": item, "before": round(before.get(item, 0.0), 2), "after": round(after.get(item, 0.0), 2),
              "delta": round(after.get(item, 0.0) - before.get(item, 0.0), 2)}
             for item in [*before, *(i for i in after if i not in before)]]
    return {"before": base["monthly_usd"], "after": head["monthly_usd"],
            "delta": round(head["monthly_usd"] - base["monthly_usd"], 2),
            "lines": [line for line in lines if line["delta"]]}


def policy(base: list[dict[str, str]], head: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    def keys(side: list[dict[str, str]]) -> dict[tuple[str, ...], dict[str, str]]:
        return {(v["policy"], v["level"], v["resource"], v["message"]): v for v in side}

    before, after = keys(base), keys(head)
    return {"new": [after[k] for k in sorted(after.keys() - before.keys())],
            "resolved": [before[k] for k in sorted(before.keys() - after.keys())]}


def dashboards(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    changed = []
    for name in sorted(base.keys() & head.keys()):
        entry: dict[str, Any] = {"name": name}
        for key in ("widgets", "thresholds"):
            before, after = Counter(base[name][key] or []), Counter(head[name][key] or [])
            if after - before:
                entry[f"{key}Added"] = sorted((after - before).elements())
            if before - after:
                entry[f"{key}Removed"] = sorted((before - after).elements())
        if len(entry) > 1:
            changed.append(entry)
    return {"added": sorted(head.keys() - base.keys()), "removed": sorted(base.keys() - head.keys()),
            "changed": changed}


def resources(base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    changed = [{"name": name, "changes": changes} for name in sorted(base.keys() & head.keys())
               if (changes := _changes(base[name], head[name]))]
    return {"added": sorted(head.keys() - base.keys()), "removed": sorted(base.keys() - head.keys()),
            "changed": changed}


def access(base: dict[str, list[str]], head: dict[str, list[str]]) -> dict[str, list[dict[str, str]]]:
    """Statements an Allow adds, or a Deny no longer holds, widen access; the opposite narrows it."""
    widened, narrowed = [], []
    for resource in sorted(base.keys() | head.keys()):
        before, after = set(base.get(resource, [])), set(head.get(resource, []))
        for statement in sorted(after - before):
            (narrowed if '"Effect": "Deny"' in statement else widened).append(
                {"resource": resource, "statement": statement})
        for statement in sorted(before - after):
            (widened if '"Effect": "Deny"' in statement else narrowed).append(
                {"resource": resource, "statement": statement})
    return {"widened": widened, "narrowed": narrowed}


def diff(base: dict[str, Any], head: dict[str, Any], drills: list[dict[str, Any]], drills_unchanged: int,
         max_cost_increase: Optional[float]) -> dict[str, Any]:
    doc = {
        "stack": head["stack"],
        "alarms": alarms(base["alarms"], head["alarms"]),
        "paging": paging(base["alarms"], head["alarms"]),
        "coverage": coverage(base["coverage"], head["coverage"]),
        "cost": cost(base["cost"], head["cost"]),
        "policy": policy(base["policy"], head["policy"]),
        "drills": {"changed": drills, "unchanged": drills_unchanged},
        "dashboards": dashboards(base["dashboards"], head["dashboards"]),
        "resources": resources(base["resources"], head["resources"]),
        "access": access(base["access"], head["access"]),
    }
    doc["worse"] = worse(doc, max_cost_increase)
    return doc


def worse(doc: dict[str, Any], max_cost_increase: Optional[float]) -> list[str]:
    """What makes the exit status 3: lost coverage, a drill that passed and now fails, a cost rise over the limit."""
    reasons = [f"coverage lost: {c['resource']} no longer has a {c['alarm']} alarm" for c in doc["coverage"]["lost"]]
    reasons += [f"drill {d['name']} passed on the base and now {d['after']}" for d in doc["drills"]["changed"]
                if d["before"] == "passed" and d["after"] in ("failed", "error")]
    delta = doc["cost"]["delta"]
    if max_cost_increase is not None and delta > max_cost_increase:
        reasons.append(f"monthly cost rises by ${delta:.2f}, more than --max-cost-increase ${max_cost_increase:.2f}")
    return reasons
