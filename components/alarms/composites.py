"""How alarms page: composite "pagers", grouped so that a maintenance window or the school calendar can
mute exactly what it concerns, and held so that one incident pages each tier once.

Member alarms have no actions of their own; only the pagers notify. CloudWatch sends a composite
alarm's actions on its transition into ALARM, not again while further members join (user guide:
"Create a composite alarm"; API reference: CompositeAlarm `ActionsSuppressor`, `ActionsSuppressorWaitPeriod`,
`ActionsSuppressorExtensionPeriod`).

Pagers: one per tier and group (stackconfig/muting.py), `<env>-<tier>-<scope>[-school-day]-pager` or
`<env>-<tier>-jobs-<N>m-pager`. A mute rule mutes pagers, never members: a muted member would still put
its pager into ALARM (muted alarms keep evaluating), so only muting the pager silences it.

Holds, so that an incident pages its cause and not each of its symptoms (the table and the reasons:
docs/decisions/one-page-per-incident-per-tier.md):
- critical: the database, cache and security pagers are held by nothing; the payments pager by the
  database's "down recently" alarm (payments fail when the database does); the API pagers by
  "dependency down" (database, cache or payments pager in ALARM, or a dependency down recently); every
  other critical pager by "critical claimed" (dependency down, or an API pager in ALARM).
- warning and business: the database and cache pagers by their own "down recently" alarm only (an
  unrelated critical incident, a payments outage, must not hold a slow cache's page); the other scopes'
  pagers by "critical incident" (a critical pager in ALARM, or a dependency down recently), and by the
  tier's alarms of the database or cache answering slowly, not their whole pagers ("<tier> dependency
  degraded"); the API pagers also by the tier's payments pager ("<tier> API dependency degraded": a slow
  payment gateway slows the payment endpoints); the platform and job pagers also by any scoped pager of
  their tier ("<tier> claimed"). A scope whose flows need only some of the causes (the platform's
  dependency map, `stackconfig.traffic.DEPENDENCY_USERS`: the RFID readers use the database, not Redis or
  Razorpay) has a hold of its own ("<tier> <scope> dependency degraded"): the critical pagers of what it
  uses and its own, and the other critical pagers only while none of the
  dependencies it does not use failed its health checks recently, so that its own incident pages
  during their outages. The readers' heartbeat pager (RFID, school day) is held by nothing: no dependency
  silences a reader.
A "down recently" alarm stays in ALARM for the longest period of the paging alarms after an outage, so
that a symptom judged over a long period, which enters ALARM only after a short outage ended, is held.
A held pager waits for its suppressor (critical 2 minutes, the others 5) unless every symptom in it is
slower than the cause's own signal, and stays held after the cause cleared for as long as its own alarms
may take to return to OK (`AlarmSpec.recovery_minutes`, at least 15 minutes).
A held pager still in ALARM when its hold ends pages then; one that enters ALARM after its hold has
ended pages too, which is why a low-volume error rate judges one sliding window and not 1 of 2 shorter
ones, whose older window would bring a short burst back into ALARM (components/alarms/lambda_.py).
The "payment system health" (every critical payment signal) and "system health" (every critical pager)
composites are the executive dashboard's status roll-ups.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Optional, Union

import pulumi
from pulumi_aws import cloudwatch

from components.alarms.factory import AlarmFactory
from components.alarms.spec import SLOW_DEPENDENCY, AlarmSpec
from stackconfig.maintenance import SCOPES
from stackconfig.model import Tier
from stackconfig.muting import JOBS, MONITORING, PLATFORM, SECURITY, Pager
from stackconfig.traffic import uses_cause

MAX_RULE_LENGTH = 10_240
# Seconds a held pager waits for its suppressor before paging.
WAIT = {Tier.CRITICAL: 120, Tier.WARNING: 300, Tier.BUSINESS: 300}
# At least this long after its suppressor clears, a held pager stays held (the tail of an incident).
MIN_EXTENSION = 900
# A dependency's connectivity alarm fires 2 minutes into an outage (2 of 3 one-minute health checks).
CAUSE_DETECTION_MINUTES = 2
# Critical pagers of the causes every flow depends on, in the order they hold each other.
CAUSES = ("database", "redis", "payments")
# The causes whose slowness (not only their outage) slows every flow: their slowness alarms hold the others'.
DATASTORES = ("database", "redis")


def causes_of(scope: str) -> tuple[str, ...]:
    """The causes a scope's flows need, by the platform's dependency map: a warning of the scope is a
    symptom of their outage or pressure, not of the others'. The API serves every flow."""
    return tuple(c for c in CAUSES if uses_cause(scope, c))


@dataclasses.dataclass(frozen=True)
class Unless:
    """A member that counts while `alarm` is in ALARM and none of `unless` is."""

    alarm: str
    unless: tuple[str, ...]


# A member of a composite: one alarm's name, the names of alarms that count only while all are in ALARM,
# or an alarm that counts unless others are in ALARM.
Member = Union[str, tuple[str, ...], Unless]


def term(member: Member) -> str:
    if isinstance(member, str):
        return f'ALARM("{member}")'
    if isinstance(member, Unless):
        return "(" + " AND NOT ".join(term(name) for name in (member.alarm, *member.unless)) + ")"
    return "(" + " AND ".join(term(name) for name in member) + ")"


def rule(members: Sequence[Member]) -> str:
    return " OR ".join(term(m) for m in members)


def alarm_names(members: Sequence[Member]) -> list[str]:
    return [name for m in members
            for name in ((m,) if isinstance(m, str) else (m.alarm, *m.unless) if isinstance(m, Unless) else m)]


def rule_chunks(members: Sequence[Member], limit: int = MAX_RULE_LENGTH) -> list[list[Member]]:
    """Members split so that each chunk's rule fits CloudWatch's AlarmRule length limit."""
    chunks: list[list[Member]] = [[]]
    for member in members:
        if chunks[-1] and len(rule([*chunks[-1], member])) > limit:
            chunks.append([])
        chunks[-1].append(member)
    return chunks


def pager_members(specs: Sequence[AlarmSpec], environment: str) -> list[Member]:
    """A pager's rule terms: each alarm by itself, and each burn-rate pair once, as both its windows."""
    by_key = {(spec.service, spec.metric_key): spec for spec in specs}
    members: list[Member] = []
    paired: set[tuple[str, str]] = set()
    for spec in specs:
        if spec.partner is None:
            members.append(spec.name(environment))
        elif (spec.service, spec.metric_key) not in paired:
            partner = by_key[(spec.service, spec.partner)]
            paired.update({(spec.service, spec.metric_key), (spec.service, spec.partner)})
            members.append((spec.name(environment), partner.name(environment)))
    return members


@dataclasses.dataclass(frozen=True)
class Group:
    """The pager an alarm pages through: its scope (or JOBS), whether it assumes a school day, and
    for a job alarm its period, `lowVolumeWindowMinutes` (job alarms are muted for a window plus their
    own recovery)."""

    scope: str
    school_day: bool = False
    job_minutes: int = 0
    # The SLO burn-rate tickets of the scope: a slow burn lasts hours and must not hold its other warnings.
    slo_tickets: bool = False

    @classmethod
    def of(cls, spec: AlarmSpec) -> Group:
        if spec.job:
            return cls(JOBS, False, spec.period_minutes)
        return cls(spec.scope, spec.school_day, slo_tickets=spec.partner is not None and spec.tier is Tier.WARNING)

    def key(self, tier: Tier) -> str:
        return f"{tier.value}-{self.scoped_name}-pager"

    @property
    def scoped_name(self) -> str:
        """The pager's name between its tier and `-pager`: what `PageCauses.explains` reads a page's scope from."""
        if self.scope == JOBS:
            return f"jobs-{self.job_minutes}m"
        if self.slo_tickets:
            return f"{self.scope}-slo"
        return f"{self.scope}{'-school-day' if self.school_day else ''}"

    @property
    def order(self) -> tuple[int, bool, bool, int]:
        scopes = (*CAUSES, *[s for s in SCOPES if s not in CAUSES], SECURITY, MONITORING, PLATFORM, JOBS)
        rank = {s: i for i, s in enumerate(scopes)}
        return rank[self.scope], self.slo_tickets, self.school_day, self.job_minutes


# Pagers whose alarms no dependency's incident explains: the readers' heartbeats (a reader's heartbeat needs
# no database). They are held by nothing, and a Slack page of theirs names no dependency as its probable cause.
UNCAUSED = (Group("rfid", school_day=True),)


@dataclasses.dataclass
class CompositeAlarmsArgs:
    factory: AlarmFactory
    alarms: Mapping[str, cloudwatch.MetricAlarm]
    # Every metric alarm that may page.
    specs: Sequence[AlarmSpec]
    payment_members: Sequence[str]


class CompositeAlarms(pulumi.ComponentResource):
    composites: dict[str, cloudwatch.CompositeAlarm]
    # Tier of each composite, for the alarm count.
    composite_tiers: dict[str, Tier]
    pagers: list[Pager]

    def __init__(self, name: str, args: CompositeAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:CompositeAlarms", name, None, opts)
        self.args = args
        self.composites, self.composite_tiers, self.pagers = {}, {}, []
        self._composite("payment-system-health", Tier.CRITICAL,
                        "Payment system unhealthy: payment errors or the payment Lambdas failing.",
                        "parents cannot pay; revenue stops.", args.payment_members)
        env = args.factory.settings.environment
        groups: dict[Tier, dict[Group, list[AlarmSpec]]] = {tier: {} for tier in Tier}
        for spec in args.specs:
            if not spec.hold_only:
                groups[spec.tier].setdefault(Group.of(spec), []).append(spec)
        # scope -> the alarm in ALARM while that cause is down and for as long after as its symptoms
        # may take to notice (components/alarms/datastores.py, down_recently).
        recently = {spec.scope: spec.name(env) for spec in args.specs if spec.hold_only}
        # Suppressors that are a dependency's own signals, never a symptom that may fire first.
        self.cause_holds: set[str] = set(recently.values())
        critical = dict(sorted(groups[Tier.CRITICAL].items(), key=lambda item: item[0].order))
        causes = [g for g in critical if g.scope in CAUSES]
        for group in causes:
            self._pager(Tier.CRITICAL, group, critical[group],
                        recently.get("database") if group.scope == "payments" else None)
        dependency_down = self._or("dependency-down", "A dependency every flow uses is down, or was in the last "
                                   "minutes: a database, cache or payments pager is in ALARM, or a dependency "
                                   "failed its health checks recently.",
                                   [*self._names([g.key(Tier.CRITICAL) for g in causes]), *recently.values()])
        apis = [g for g in critical if g.scope == "api"]
        for group in apis:
            self._pager(Tier.CRITICAL, group, critical[group], dependency_down)
        claimed = self._or("critical-claimed", "A critical incident has a cause: a dependency is down or an API "
                           "pager is in ALARM.",
                           self._names(["dependency-down", *[g.key(Tier.CRITICAL) for g in apis]]))
        for group, specs in critical.items():
            if group not in causes and group not in apis:
                self._pager(Tier.CRITICAL, group, specs, None if group.scope in (SECURITY, MONITORING) else claimed)
        # The system-wide roll-up is every critical pager (the payment roll-up is theirs too): in ALARM
        # exactly when a critical page is claimed or held, so it is also the hold of the other tiers.
        self._composite("system-health", Tier.CRITICAL,
                        "Platform unhealthy: a critical alarm of a component (payments, database, cache, API, "
                        "logins, health score) is in ALARM; holds the warning and business pages.",
                        "the platform is down or failing for many users.",
                        [*self._names(["payment-system-health"]), *[p.name for p in self.pagers]])
        held = self._or("critical-incident", "Holds the warning and business pages: a critical pager is in "
                        "ALARM, or a dependency failed its health checks recently.",
                        [*self._names(["system-health"]), *recently.values()])
        for tier in (Tier.WARNING, Tier.BUSINESS):
            ordered = sorted(groups[tier].items(), key=lambda item: item[0].order)
            scoped = [(g, s) for g, s in ordered if g.scope in SCOPES]
            # A datastore's own pages are held by its own outage ("down recently": during it and while its
            # symptoms may still notice it), never by another incident: held by every critical incident, a
            # cache turning slow during a payments incident paged nobody.
            for group, specs in scoped:
                if group.scope in DATASTORES:
                    self._pager(tier, group, specs, recently.get(group.scope, held))
            # A database or cache that answers slowly: what the other flows' latency and durations follow.
            # Not the datastores' whole pagers: a hot CPU or a full disk queue slows nothing by itself, and
            # held by them an unrelated incident (an app release's 4XX) paged nobody.
            tier_causes = [spec.name(env) for spec in args.specs
                           if spec.tier == tier and spec.scope in DATASTORES and not spec.hold_only
                           and spec.cause is not None and spec.cause.rank == SLOW_DEPENDENCY]
            for group, specs in scoped:
                if group in UNCAUSED:
                    # Held, a reader that died during a database outage paged an hour late or not at all.
                    self._pager(tier, group, specs, None)
                elif group.scope not in (*DATASTORES, "api"):
                    used = causes_of(group.scope)
                    self._pager(tier, group, specs, self._degraded(tier, tier_causes, held)
                                if used == CAUSES else
                                self._scope_hold(tier, group.scope, used, critical, recently))
            # A slow or failing payment gateway slows the payment endpoints: the API's warnings are its
            # symptoms too, as the API's critical pages are those of a payments outage.
            payments = self._names([g.key(tier) for g, _ in scoped if g.scope == "payments" and not g.slo_tickets])
            apis = [(g, s) for g, s in scoped if g.scope == "api"]
            api_held = (self._or(f"{tier.value}-api-dependency-degraded", f"Holds the {tier.value} API pages: "
                                 f"pages are held, the database or cache answers slowly, or a {tier.value} "
                                 "payments pager is in ALARM.",
                                 [*self._degraded_members(tier_causes), *payments])
                        if payments else self._degraded(tier, tier_causes, held)) if apis else None
            for group, specs in scoped:
                if group.scope == "api":
                    self._pager(tier, group, specs, api_held)
            tier_claimed = self._or(f"{tier.value}-claimed", f"Holds the {tier.value} platform and job pages: pages "
                                    f"are held or a {tier.value} pager of a scope is in ALARM.",
                                    self._names(["critical-incident",
                                                 *[g.key(tier) for g, _ in scoped if not g.slo_tickets]]))
            for group, specs in ordered:
                if group.scope not in SCOPES:
                    # The monitoring's own pager is held by a critical incident (whose symptoms its
                    # functions share, throttled or slowed with the rest), never by this tier's others.
                    self._pager(tier, group, specs, held if group.scope == MONITORING else tier_claimed)
        self.register_outputs({"compositeNames": sorted(self.composites)})

    def _degraded(self, tier: Tier, tier_causes: Sequence[str], held: Optional[str]) -> Optional[str]:
        """The tier's hold of the pages of symptoms of every cause: the critical incident, or one of the
        tier's datastore slowness alarms (`tier_causes`); the critical incident itself when the tier has none."""
        key = f"{tier.value}-dependency-degraded"
        if key in self.composites:
            return self._names([key])[0]
        return self._or(key, f"Holds the {tier.value} pages of symptoms: pages are held or the database or cache "
                        "answers slowly.", self._degraded_members(tier_causes)) if tier_causes else held

    def _degraded_members(self, tier_causes: Sequence[str]) -> list[str]:
        """A tier's symptoms are held while pages are (the critical incident) or a datastore they need answers
        slowly (the tier's datastore slowness alarms)."""
        return [*self._names(["critical-incident"]), *tier_causes]

    def _scope_hold(self, tier: Tier, scope: str, used: Sequence[str], critical: Mapping[Group, object],
                    recently: Mapping[str, str]) -> Optional[str]:
        """The hold of a scope's warning or business pagers when its flows need only some of the causes:
        "critical incident" without the causes it does not use (their critical pagers, the payment roll-up,
        their "down recently" alarms). The other critical pagers (the API's, the platform's, ...) hold it
        unless one of those causes failed its health checks recently: their ALARM is then that cause's symptom
        (a Razorpay outage's 5XX, its share of the health score), and a second incident of the scope (a reader
        dead while Razorpay is down) still pages. Not this tier's datastore pagers: a hot database silences no
        reader, and held by it a reader dead meanwhile paged nobody; a slow one pages the scope's warnings
        through the database's critical pager, or not at all (drill database-slow-at-lunch)."""
        key = f"{tier.value}-{scope}-dependency-degraded"
        if key in self.composites:
            return self._names([key])[0]
        unused = [c for c in CAUSES if c not in used]
        # The health monitor's word that one of those is failing; their pagers also carry symptoms of
        # other incidents (a concurrency limit throttling the payment functions with everything else).
        others = tuple(recently[c] for c in unused if c in recently)
        own = [g for g in critical if g.scope in (*used, scope)]
        members: list[Member] = [
            *self._names([g.key(Tier.CRITICAL) for g in own]),
            *[Unless(name, others) for name in self._names([g.key(Tier.CRITICAL) for g in critical
                                                            if g not in own and g.scope not in unused])],
            *(self._names(["payment-system-health"]) if "payments" in used else []),
            *[recently[c] for c in used if c in recently]]
        return self._or(key, f"Holds the {tier.value} pages of {scope}, whose flows need {', '.join(used)} and not "
                        f"{', '.join(unused)}: a critical pager of those or of {scope} is in ALARM, or another one "
                        f"while {', '.join(unused)} did not fail its health checks recently; or one of its causes "
                        "did.", members)

    def _pager(self, tier: Tier, group: Group, specs: Sequence[AlarmSpec], held_by: Optional[str]) -> None:
        env = self.args.factory.settings.environment
        key = group.key(tier)
        recovery = max(spec.recovery_minutes for spec in specs)
        what = (f"low-volume error rates judged over {group.job_minutes}-minute windows" if group.scope == JOBS
                else f"{group.scope} SLO burn-rate tickets" if group.slo_tickets
                else f"{group.scope} alarms" + (" that assume a school day" if group.school_day else ""))
        pager = Pager(f"{env}-{key}", tier.value, group.scope, group.school_day, recovery)
        self._composite(key, tier, f"Pages the {tier.value} tier once per incident: one of its {what} is in ALARM.",
                        "see the member alarms in ALARM (the notification's reason names them).",
                        pager_members(specs, env), route=True, suppressor=held_by,
                        extension=max(MIN_EXTENSION, recovery * 60), tags=pager.tags(),
                        wait=self._wait(tier, specs, held_by))
        self.pagers.append(pager)

    def _wait(self, tier: Tier, specs: Sequence[AlarmSpec], held_by: Optional[str]) -> int:
        """How long a held pager waits for its suppressor: none when the suppressor is a dependency's own
        signal and every symptom in the pager needs longer to fire than that signal (it is then in ALARM
        first), so that a symptom's page is not delayed past the critical tier's 5-minute detection target.
        The other tiers' targets leave room for the wait, which covers a symptom crossing its line just before
        the cause's signal does."""
        symptoms = [spec for spec in specs if spec.metric_key != "connectivity"]
        if tier is Tier.CRITICAL and held_by in self.cause_holds and symptoms and all(
                spec.detection_minutes > CAUSE_DETECTION_MINUTES for spec in symptoms):
            return 0
        return WAIT[tier]

    def _or(self, key: str, summary: str, members: Sequence[Member]) -> Optional[str]:
        """A composite (no actions) in ALARM when any of `members` is: a hold. Its name, if it has members."""
        self._composite(key, Tier.CRITICAL, summary, "none by itself.", members)
        return self._names([key])[0] if key in self.composites else None

    def _composite(self, key: str, tier: Tier, summary: str, impact: str, members: Sequence[Member],
                   route: bool = False, suppressor: Optional[str] = None, extension: int = MIN_EXTENSION,
                   tags: Optional[Mapping[str, str]] = None, wait: Optional[int] = None) -> None:
        factory = self.args.factory
        env = factory.settings.environment
        if not members:
            return
        chunks = rule_chunks(members)
        if len(chunks) > 1:
            parts = []
            for i, chunk in enumerate(chunks, 1):
                part = f"{key}-part-{i}"
                self._composite(part, tier, f"{summary} (members {i} of {len(chunks)})", impact, chunk)
                parts.append(f"{env}-{part}")
            members = list(parts)
        name = f"{env}-{key}"
        held_by = suppressor
        self.composites[key] = cloudwatch.CompositeAlarm(
            name,
            alarm_name=name,
            alarm_description=f"{summary} Impact: {impact} Runbook: {factory.settings.runbook('composites#' + key)}",
            alarm_rule=rule(members),
            actions_enabled=True,
            alarm_actions=factory.actions(tier) if route else None,
            ok_actions=factory.ok_actions(tier) if route else None,
            actions_suppressor=cloudwatch.CompositeAlarmActionsSuppressorArgs(
                alarm=held_by, wait_period=WAIT[tier] if wait is None else wait,
                extension_period=extension) if held_by else None,
            tags=factory.settings.tags(Service="platform", Tier=tier.value, Resource="composite", **(tags or {})),
            # CloudWatch rejects a rule naming an alarm that does not exist yet.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._resources(
                [*alarm_names(members), *([held_by] if held_by else [])])),
        )
        self.composite_tiers[key] = tier

    def _names(self, keys: Sequence[str]) -> list[str]:
        """The names of those composites that exist (a stack without payments has no payment roll-up)."""
        env = self.args.factory.settings.environment
        return [f"{env}-{k}" for k in keys if k in self.composites]

    def _resources(self, names: Sequence[str]) -> list[pulumi.Resource]:
        env = self.args.factory.settings.environment
        known: dict[str, pulumi.Resource] = dict(self.args.alarms)
        known.update({f"{env}-{k}": c for k, c in self.composites.items()})
        return [known[n] for n in names if n in known]
