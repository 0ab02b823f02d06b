"""The coverage report: every alarm and pager of the stack against the criteria, what the allowlist
excuses, and the per-tier second-incident check; as text for a person and as JSON."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence
from typing import Any, Optional, TextIO

from preflight.cloudwatch.cloudwatch import paged_together
from preflight.drill.coverage.allowlist import Allowlist
from preflight.drill.coverage.criteria import Miss, Recovery, Timelines, fired_in, is_baseline, quiet, recovery
from preflight.drill.coverage.second_incident import TierResult, second_incident, unrelated_outage
from preflight.drill.coverage.targets import CRITERIA, DETECTION_MINUTES, RECOVERY_MINUTES, TIERS, UNRELATED_OUTAGE
from preflight.drill.coverage.traffic import Check, can_fire, unreachable
from preflight.drill.drill_file import PROFILES
from preflight.drill.runner import DrillResult
from preflight.emulator.platform import Platform
from preflight.model.stack import StackModel


@dataclasses.dataclass
class AlarmCoverage:
    name: str
    tier: str
    composite: bool
    quiet: bool
    fired_in: list[str]
    checks: list[Check]
    recoveries: list[Recovery]
    misses: list[Miss]
    # criterion -> the allowlist entry's key and reason
    excused: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)

    @property
    def unexcused(self) -> list[Miss]:
        return [m for m in self.misses if m.criterion not in self.excused]


@dataclasses.dataclass
class CoverageReport:
    stack: str
    drills: list[str]
    baselines: dict[str, list[str]]
    alarms: list[AlarmCoverage]
    tiers: list[TierResult]
    # (tier, criterion) -> (allowlist entry, reason)
    tier_excused: dict[tuple[str, str], tuple[str, str]]
    stale: list[str]
    allowlist: Allowlist
    # tier -> drill -> minutes from the first fault to the tier's first page (drills with faults)
    detection: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)

    def over_target(self, tier: str) -> list[str]:
        return [d for d, minutes in self.detection.get(tier, {}).items() if minutes > DETECTION_MINUTES[tier]]

    @property
    def missing_baselines(self) -> list[str]:
        return [p for p in PROFILES if not self.baselines.get(p)]

    @property
    def unheard_tiers(self) -> list[TierResult]:
        return [t for t in self.tiers if not t.reached and (t.tier, t.criterion) not in self.tier_excused]

    @property
    def passed(self) -> bool:
        return not (self.missing_baselines or self.stale or self.unheard_tiers
                    or any(a.unexcused for a in self.alarms))


def _recoveries(name: str, tier: str, incidents: Sequence[DrillResult], timelines: Timelines,
                platform: Platform, clears_within: int = 0) -> tuple[list[Recovery], Optional[Miss]]:
    bound = max(RECOVERY_MINUTES.get(tier, max(RECOVERY_MINUTES.values())), clears_within)
    definition = next((a for a in platform.alarms if a.name == name), None)
    found = [r for result in incidents if (r := recovery(name, result, timelines, bound, definition)) is not None]
    judged = [r for r in found if r.judged]
    late = next((r for r in judged if r.minutes is None or r.minutes > bound), None)
    if late is not None:
        return found, Miss("recovers", f"not OK within {bound} min ({tier}): {late.detail}")
    if found and not judged:
        return found, Miss("recovers", f"never shown within a drill: {found[0].detail}")
    return found, None


def _excuse(report: CoverageReport) -> None:
    allowlist = report.allowlist
    for alarm in report.alarms:
        for miss in alarm.misses:
            excuse = next((e for e in allowlist.alarms if miss.criterion in e.criteria and e.matches(alarm.name)),
                          None)
            if excuse is not None:
                alarm.excused[miss.criterion] = (excuse.key, excuse.reason)
    for excuse in allowlist.alarms:
        matched = [a for a in report.alarms if excuse.matches(a.name)]
        unmatched = [g for g in excuse.globs if not any(fnmatch.fnmatchcase(a.name, g) for a in report.alarms)]
        if unmatched:
            report.stale.append(f"{excuse.key}: {', '.join(unmatched)} matches no alarm of stack {report.stack}")
        if not matched:
            continue
        for criterion in excuse.criteria:
            if not any(a.excused.get(criterion, ("",))[0] == excuse.key for a in matched):
                report.stale.append(f"{excuse.key}: no alarm matching {excuse.glob} misses {criterion} any more "
                                    "(or an earlier entry excuses it)")
    by_tier = {(t.tier, t.criterion): t for t in report.tiers}
    for excuse in allowlist.tiers:
        for criterion in excuse.criteria:
            result = by_tier.get((excuse.tier, criterion))
            if result is None or result.reached:
                report.stale.append(f"{excuse.key}: the {excuse.tier} tier no longer misses {criterion}")
            elif (excuse.tier, criterion) not in report.tier_excused:
                report.tier_excused[(excuse.tier, criterion)] = (excuse.key, excuse.reason)


def build_report(model: StackModel, platform: Platform, results: Sequence[DrillResult],
                 allowlist: Allowlist) -> CoverageReport:
    """`results`: the drills that ran on this stack (its stack file, its account)."""
    baselines = [r for r in results if is_baseline(r)]
    incidents = [r for r in results if not is_baseline(r)]
    timelines = Timelines(results)
    definitions = {a.name: a for a in platform.alarms}
    # Alarms that page only together (a burn-rate pair's two windows) are judged as one.
    together = paged_together(platform.composites)
    paired = {name for term in together for name in term}
    entries = [(a.name, a.tags.get("Tier", ""), False, ()) for a in model.alarms if a.name not in paired]
    entries += [(c.name, c.tags.get("Tier", ""), True, ()) for c in model.composites]
    tier_of = {a.name: a.tags.get("Tier", "") for a in model.alarms}
    for term in sorted(together):
        name = " AND ".join(term)
        timelines.add_conjunction(name, term)
        entries.append((name, tier_of.get(term[0], ""), False, term))
    alarms = []
    for name, tier, composite, term in sorted(entries):
        misses = []
        loud = quiet(name, baselines, timelines)
        if loud is not None:
            misses.append(loud)
        fired = fired_in(name, incidents, timelines)
        if not fired:
            misses.append(Miss("fires", f"never in ALARM in the {len(incidents)} drills with faults"))
        # A pair's windows share a line and a guard, and each holds its shortest window's requests: the
        # pair can fire when its shortest window can.
        shortest = min(term, key=lambda m: definitions[m].period) if term else name
        checks = [] if composite else can_fire(definitions[shortest], baselines)
        short = unreachable(checks)
        if short is not None:
            misses.append(Miss("can-fire", short))
        # A pair clears when its shortest window has moved past the burn: up to two of its periods.
        clears = 2 * min(definitions[m].period // 60 for m in term) if term else 0
        recoveries, late = _recoveries(name, tier, incidents, timelines, platform, clears)
        if late is not None:
            misses.append(late)
        alarms.append(AlarmCoverage(name, tier, composite, loud is None, fired, checks, recoveries, misses))
    tiers = [second_incident(platform.alarms, platform.composites, tier, DETECTION_MINUTES[tier])
             for tier in TIERS if any(a.tier == tier for a in alarms)]
    tiers += [unrelated_outage(platform.alarms, platform.composites, platform.pagers, tier, DETECTION_MINUTES[tier])
              for tier in TIERS if tier != "critical" and any(a.tier == tier for a in alarms)]
    by_profile: dict[str, list[str]] = {}
    for r in baselines:
        by_profile.setdefault(r.drill.traffic, []).append(r.drill.name)
    detection = {tier: {r.drill.name: r.detection_minutes[tier] for r in incidents if tier in r.detection_minutes}
                 for tier in TIERS}
    report = CoverageReport(model.stack, [r.drill.name for r in results], by_profile, alarms, tiers, {}, [],
                            allowlist, detection)
    _excuse(report)
    return report


def write_text(report: CoverageReport, out: TextIO) -> None:
    alarms = report.alarms
    composites = sum(a.composite for a in alarms)
    out.write(f"Coverage of stack {report.stack}: {len(alarms) - composites} metric alarms and {composites} "
              f"composites over {len(report.drills)} drills\n")
    shown = "; ".join(f"{', '.join(names)} ({profile})" for profile, names in sorted(report.baselines.items()))
    out.write(f"  baselines (drills without faults): {shown or 'none'}\n")
    for profile in report.missing_baselines:
        out.write(f"  MISSING  a baseline drill with traffic {profile} and no faults: quiet cannot be judged\n")
    out.write("  recovery bound once every fault has ended: "
              + ", ".join(f"{t} {m} min" for t, m in RECOVERY_MINUTES.items()) + "\n")
    checked = [a for a in alarms if a.checks]
    judged = [a for a in alarms if any(r.judged for r in a.recoveries)]
    rows = [
        ("quiet in every baseline", sum(a.quiet for a in alarms), len(alarms)),
        ("in ALARM in a drill with faults", sum(bool(a.fired_in) for a in alarms), len(alarms)),
        ("can fire under the traffic (of those with a volume to reach)",
         sum(all(c.reachable for c in a.checks) for a in checked), len(checked)),
        ("back to OK within the bound (of those judged)",
         sum(not any(m.criterion == "recovers" for m in a.misses) for a in judged), len(judged)),
    ]
    for label, good, total in rows:
        out.write(f"  {label}: {good} of {total}\n")
    out.write("  detection, first fault to the tier's first page (reported; drills hold it with expect.detection):\n")
    for tier in TIERS:
        found = report.detection.get(tier, {})
        if not found:
            out.write(f"    {tier}: no drill pages it\n")
            continue
        slow = report.over_target(tier)
        low, high = min(found.values()), max(found.values())
        spread = f"{low}" if low == high else f"{low}-{high}"
        drills = f"{len(found)} drill" + ("s" if len(found) > 1 else "")
        out.write(f"    {tier}: {spread} min in {drills} (target "
                  f"{DETECTION_MINUTES[tier]})" + (f"; later in {', '.join(f'{d} ({found[d]} min)' for d in slow)}"
                                                    if slow else "") + "\n")
    out.write("  a second incident during a first reaches the tier "
              + "(detection: " + ", ".join(f"{t} {m} min" for t, m in DETECTION_MINUTES.items()) + "):\n")
    for tier in report.tiers:
        excused = report.tier_excused.get((tier.tier, tier.criterion))
        note = f"  [allowlisted, {excused[0]}]" if excused else ""
        during = " during a critical outage of a dependency it does not use" if tier.criterion == UNRELATED_OUTAGE \
            else ""
        out.write(f"    {tier.tier}{during}: {tier.summary()}{note}\n")
    open_misses = [(a, m) for a in alarms for m in a.unexcused]
    out.write(f"  not covered and not allowlisted: {len(open_misses)}\n")
    for alarm, miss in open_misses:
        out.write(f"    MISS  {alarm.name}  {miss.criterion}: {miss.detail}\n")
    for tier in report.unheard_tiers:
        out.write(f"    MISS  tier {tier.tier}  {tier.criterion}: {tier.summary()}\n")
    excused = [(key, reason, criterion, a.name) for a in alarms for criterion, (key, reason) in a.excused.items()]
    out.write(f"  allowlisted ({report.allowlist.path}): {len(excused)} misses of "
              f"{len({e[3] for e in excused})} alarms\n")
    for excuse in report.allowlist.alarms:
        names = sorted({e[3] for e in excused if e[0] == excuse.key})
        if names:
            out.write(f"    {excuse.glob}  {', '.join(excuse.criteria)}  ({len(names)}): {excuse.reason}\n")
    for line in report.stale:
        out.write(f"    STALE  {line}\n")
    out.write(f"  coverage: {'clean' if report.passed else 'NOT clean'}\n")


def as_json(report: CoverageReport) -> dict[str, Any]:
    def miss(alarm: AlarmCoverage, m: Miss) -> dict[str, Any]:
        excused = alarm.excused.get(m.criterion)
        return {"criterion": m.criterion, "detail": m.detail,
                **({"allowlisted": {"entry": excused[0], "reason": excused[1]}} if excused else {})}

    return {
        "stack": report.stack, "passed": report.passed, "drills": report.drills, "baselines": report.baselines,
        "criteria": list(CRITERIA), "recoveryMinutes": RECOVERY_MINUTES, "detectionMinutes": DETECTION_MINUTES,
        "alarms": [{"name": a.name, "tier": a.tier, "composite": a.composite, "quiet": a.quiet, "firedIn": a.fired_in,
                    "canFire": [{"check": c.what, "needs": f"{c.operator} {c.needed:g}", "busiest": c.busiest,
                                 "drill": c.drill, "reachable": c.reachable} for c in a.checks],
                    "recoveries": [{"drill": r.drill, "minutes": r.minutes, "judged": r.judged, "detail": r.detail}
                                   for r in a.recoveries],
                    "misses": [miss(a, m) for m in a.misses]} for a in report.alarms],
        "tiers": [{"tier": t.tier, "criterion": t.criterion, "reached": t.reached, "summary": t.summary(),
                   "pairs": [dataclasses.asdict(p) for p in t.pairs],
                   **({"allowlisted": {"entry": report.tier_excused[(t.tier, t.criterion)][0],
                                       "reason": report.tier_excused[(t.tier, t.criterion)][1]}}
                      if (t.tier, t.criterion) in report.tier_excused else {})} for t in report.tiers],
        "stale": report.stale,
        "missingBaselines": report.missing_baselines,
        "detection": {tier: {"target": DETECTION_MINUTES[tier], "drills": report.detection.get(tier, {}),
                             "overTarget": report.over_target(tier)} for tier in TIERS},
    }
