"""Per tier: while one incident holds the tier, does a second, unrelated one still reach someone?

Played through the CloudWatch model's routing alone (`tick_states`: composites, suppressors and
actions with the metric alarms in given states): one alarm of the tier goes into ALARM at minute 10
and stays; at minute 40, long after its page, an alarm of another service of the same tier joins it.
The second incident reaches someone when the tier's topic gets a page within the tier's detection
target of minute 40. Each service of the tier is the second incident once (its first alarm by name),
the first incident being the first alarm of another service; alarms that hold pages (a pager's
actions suppressor, maintenance mode) are not incidents.

Across tiers (`unrelated-outage`): a warning or business pager of a scope must page during a critical
incident of a dependency its flows do not use, by the platform's dependency map
(`stackconfig.traffic.DEPENDENCY_USERS`: the RFID readers need the database, not Redis or Razorpay; the
cache's own warnings need neither the database nor Razorpay). The first incident is the dependency's
critical pager's first alarm, the second the scope pager's first alarm."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from preflight.cloudwatch.cloudwatch import (
    CloudWatchModel,
    CompositeDefinition,
    MetricAlarmDefinition,
    paged_together,
)
from preflight.cloudwatch.evaluation import ALARM
from preflight.cloudwatch.store import MetricStore
from preflight.drill.coverage.targets import SECOND_INCIDENT, UNRELATED_OUTAGE
from stackconfig.maintenance import SCOPES
from stackconfig.muting import Pager
from stackconfig.traffic import CAUSE_DEPENDENCY, uses_cause

FIRST_AT, SECOND_AT = 10, 40


@dataclasses.dataclass(frozen=True)
class Pair:
    first: str
    second: str
    reached: bool


@dataclasses.dataclass(frozen=True)
class TierResult:
    tier: str
    pairs: tuple[Pair, ...]
    criterion: str = SECOND_INCIDENT

    @property
    def reached(self) -> bool:
        return all(p.reached for p in self.pairs)

    def summary(self) -> str:
        heard = sum(p.reached for p in self.pairs)
        if not self.pairs:
            return ("no scope of this tier without a dependency" if self.criterion == UNRELATED_OUTAGE
                    else "no two services of this tier to pair")
        what = "pairs of an outage and a scope that does not use it" if self.criterion == UNRELATED_OUTAGE \
            else "pairs of services"
        text = f"reached in {heard} of {len(self.pairs)} {what}"
        missed = next((p for p in self.pairs if not p.reached), None)
        if missed is not None:
            text += f"; e.g. {missed.second} during {missed.first} pages nobody"
        return text


@dataclasses.dataclass(frozen=True)
class _Incidents:
    """What an incident is made of: alarms that hold pages (a pager's actions suppressor, maintenance
    mode) are none, and an alarm that pages only together with others (an SLO's burn-rate pair) comes
    with them."""

    holders: frozenset[str]
    together: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, composites: Sequence[CompositeDefinition]) -> _Incidents:
        return cls(frozenset(c.suppressor for c in composites if c.suppressor),
                   {name: term for term in paged_together(composites) for name in term})

    def alarms(self, name: str) -> tuple[str, ...]:
        return self.together.get(name, (name,))


def _representatives(alarms: Sequence[MetricAlarmDefinition], composites: Sequence[CompositeDefinition],
                     tier: str) -> list[tuple[str, tuple[str, ...]]]:
    """(service, its first alarm by name, with those it pages together with) for each service with alarms
    of the tier."""
    incidents = _Incidents.of(composites)
    first: dict[str, tuple[str, ...]] = {}
    for alarm in sorted(alarms, key=lambda a: a.name):
        tags = alarm.props.get("tags") or {}
        if tags.get("Tier") == tier and alarm.name not in incidents.holders:
            first.setdefault(str(tags.get("Service", alarm.name)), incidents.alarms(alarm.name))
    return sorted(first.items())


def _reaches(alarms: Sequence[MetricAlarmDefinition], composites: Sequence[CompositeDefinition], tier: str,
             first: tuple[str, ...], second: tuple[str, ...], within: int) -> bool:
    model = CloudWatchModel(MetricStore(), alarms, composites)
    for minute in range(SECOND_AT + within + 1):
        states: Mapping[str, str] = {
            **(dict.fromkeys(first, ALARM) if minute >= FIRST_AT else {}),
            **(dict.fromkeys(second, ALARM) if minute >= SECOND_AT else {})}
        model.tick_states(states, minute)
    return any(p.tier == tier and SECOND_AT <= p.minute <= SECOND_AT + within for p in model.pages)


def second_incident(alarms: Sequence[MetricAlarmDefinition], composites: Sequence[CompositeDefinition], tier: str,
                    within: int) -> TierResult:
    services = _representatives(alarms, composites, tier)
    pairs = []
    for i, (_, second) in enumerate(services):
        if len(services) < 2:
            break
        first = services[1][1] if i == 0 else services[0][1]
        pairs.append(Pair(" AND ".join(first), " AND ".join(second),
                          _reaches(alarms, composites, tier, first, second, within)))
    return TierResult(tier, tuple(pairs))


def unrelated_outage(alarms: Sequence[MetricAlarmDefinition], composites: Sequence[CompositeDefinition],
                     pagers: Sequence[Pager], tier: str, within: int) -> TierResult:
    by_name = {c.name: c for c in composites}
    incidents, metric_alarms = _Incidents.of(composites), {a.name for a in alarms}

    def first_member(pager: Pager) -> tuple[str, ...]:
        """The pager's first metric alarm by name that is no hold."""
        return incidents.alarms(min(m for m in by_name[pager.name].members
                                    if m in metric_alarms and m not in incidents.holders))

    causes = [(p, first_member(p)) for p in sorted(pagers, key=lambda p: p.name)
              if p.tier == "critical" and p.scope in CAUSE_DEPENDENCY and p.name in by_name]
    pairs = []
    for pager in sorted((p for p in pagers if p.tier == tier and p.scope in SCOPES and p.name in by_name),
                        key=lambda p: p.name):
        second = first_member(pager)
        for cause, first in causes:
            if not uses_cause(pager.scope, cause.scope):
                pairs.append(Pair(" AND ".join(first), " AND ".join(second),
                                  _reaches(alarms, composites, tier, first, second, within)))
    return TierResult(tier, tuple(pairs), UNRELATED_OUTAGE)
