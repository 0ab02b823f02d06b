"""How alarms page: one composite "pager" per tier, so one incident pages each tier once, and a
maintenance-mode alarm that holds every page during maintenance windows.

Member alarms have no actions of their own; only the pagers notify. CloudWatch sends a composite
alarm's actions on its transition into ALARM, not again while further members join, so an incident
that trips ten alarms is one page per tier (user guide: "Create a composite alarm"; API reference:
CompositeAlarm `ActionsSuppressor`, `ActionsSuppressorWaitPeriod`, `ActionsSuppressorExtensionPeriod`).

- critical pager: any critical alarm; held only by maintenance.
- warning and business pagers: any alarm of their tier; held by "pages held" = maintenance OR
  critical pager, so the warnings that follow a critical incident (slow payments during a Razorpay
  outage) do not page a second team. The wait period lets a critical alarm that trips a few minutes
  after its warnings still hold them; the extension period lets the tail of an incident settle.
  A warning still in ALARM after that pages then.
- the "payment system health" and "system health" composites stay as status roll-ups (the
  executive dashboard) and page through the critical pager, of which system health is a member.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch

from components.alarms.factory import AlarmFactory
from components.alarms.spec import GREATER_OR_EQUAL, NO_DATA_IS_FINE, AlarmSpec, Metric
from stackconfig.model import Tier

OPERATIONS_NAMESPACE = "HASIVU/Operations"
MAX_RULE_LENGTH = 10_240
# (wait, extension) seconds. A wait period delays every page by that long, so the critical pager does
# not wait: maintenance is switched on before the work starts. Warning and business pages wait 5
# minutes for a critical incident to claim them.
HOLD = {Tier.CRITICAL: (0, 600), Tier.WARNING: (300, 900), Tier.BUSINESS: (300, 900)}


def maintenance_spec(environment: str) -> AlarmSpec:
    """Maintenance mode is on while someone publishes MaintenanceMode = 1 each minute
    (docs/decisions/maintenance-mode.md). Missing data is not breaching: nobody publishing means no maintenance."""
    return AlarmSpec(
        service="operations", metric_key="maintenance-mode", resource=OPERATIONS_NAMESPACE, tier=Tier.BUSINESS,
        runbook="maintenance",
        summary=f"Maintenance mode is on ({OPERATIONS_NAMESPACE} MaintenanceMode = 1 for {environment}): "
                "every pager is held.",
        impact="none by itself; pages are held until maintenance ends and 10 minutes have passed.",
        comparison=GREATER_OR_EQUAL, threshold=1, evaluation_periods=2, datapoints_to_alarm=1,
        treat_missing_data=NO_DATA_IS_FINE,
        metric=Metric(OPERATIONS_NAMESPACE, "MaintenanceMode", {"Environment": environment}, "Maximum", 60),
    )


def rule(names: Sequence[str]) -> str:
    return " OR ".join(f'ALARM("{n}")' for n in names)


def rule_chunks(names: Sequence[str], limit: int = MAX_RULE_LENGTH) -> list[list[str]]:
    """Members split so that each chunk's rule fits CloudWatch's AlarmRule length limit."""
    chunks: list[list[str]] = [[]]
    for name in names:
        if chunks[-1] and len(rule([*chunks[-1], name])) > limit:
            chunks.append([])
        chunks[-1].append(name)
    return chunks


@dataclasses.dataclass
class CompositeAlarmsArgs:
    factory: AlarmFactory
    alarms: Mapping[str, cloudwatch.MetricAlarm]
    # Alarm name -> tier, for every metric alarm that may page.
    tiers: Mapping[str, Tier]
    payment_members: Sequence[str]
    platform_members: Sequence[str]


class CompositeAlarms(pulumi.ComponentResource):
    composites: dict[str, cloudwatch.CompositeAlarm]
    maintenance: cloudwatch.MetricAlarm
    # Tier of each composite, for the alarm count.
    composite_tiers: dict[str, Tier]

    def __init__(self, name: str, args: CompositeAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:CompositeAlarms", name, None, opts)
        self.args = args
        env = args.factory.settings.environment
        self.maintenance = args.factory.create(maintenance_spec(env), self)
        self.composites, self.composite_tiers = {}, {}
        self._composite("payment-system-health", Tier.CRITICAL,
                        "Payment system unhealthy: payment errors or the payment Lambdas failing.",
                        "parents cannot pay; revenue stops.", args.payment_members)
        self._composite("system-health", Tier.CRITICAL,
                        "Platform unhealthy: a critical component (payments, database, API, health score) is failing.",
                        "the platform is down or failing for many users.",
                        [*self._names(["payment-system-health"]), *args.platform_members])
        covered = {*args.payment_members, *args.platform_members}
        critical = [n for n, t in args.tiers.items() if t is Tier.CRITICAL and n not in covered]
        self._composite("critical-pager", Tier.CRITICAL,
                        "Pages the critical tier once per incident: a critical alarm is in ALARM.",
                        "see the member alarms in ALARM (the notification's reason names them).",
                        [*self._names(["system-health"]), *critical], route=True,
                        suppressor=maintenance_spec(env).name(env))
        self._composite("pages-held", Tier.WARNING,
                        "Holds warning and business pages: maintenance is on or a critical incident is paging.",
                        "none by itself.",
                        [maintenance_spec(env).name(env), f"{env}-critical-pager"])
        for tier in (Tier.WARNING, Tier.BUSINESS):
            self._composite(f"{tier.value}-pager", tier,
                            f"Pages the {tier.value} tier once per incident: a {tier.value} alarm is in ALARM.",
                            "see the member alarms in ALARM (the notification's reason names them).",
                            [n for n, t in args.tiers.items() if t is tier], route=True,
                            suppressor=f"{env}-pages-held")
        self.register_outputs({"compositeNames": sorted(self.composites)})

    def _composite(self, key: str, tier: Tier, summary: str, impact: str, members: Sequence[str],
                   route: bool = False, suppressor: Optional[pulumi.Input[str]] = None) -> None:
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
            members = parts
        name = f"{env}-{key}"
        wait, extension = HOLD[tier]
        self.composites[key] = cloudwatch.CompositeAlarm(
            name,
            alarm_name=name,
            alarm_description=f"{summary} Impact: {impact} Runbook: {factory.settings.runbook('composites#' + key)}",
            alarm_rule=rule(members),
            actions_enabled=True,
            alarm_actions=factory.actions(tier) if route else None,
            ok_actions=factory.ok_actions(tier) if route else None,
            actions_suppressor=cloudwatch.CompositeAlarmActionsSuppressorArgs(
                alarm=suppressor, wait_period=wait, extension_period=extension) if suppressor else None,
            tags=factory.settings.tags(Service="platform", Tier=tier.value, Resource="composite"),
            # CloudWatch rejects a rule naming an alarm that does not exist yet.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._resources(
                [*members, *([suppressor] if isinstance(suppressor, str) else [])])),
        )
        self.composite_tiers[key] = tier

    def _names(self, keys: Sequence[str]) -> list[str]:
        """The names of those composites that exist (a stack without payments has no payment roll-up)."""
        env = self.args.factory.settings.environment
        return [f"{env}-{k}" for k in keys if k in self.composites]

    def _resources(self, names: Sequence[str]) -> list[pulumi.Resource]:
        env = self.args.factory.settings.environment
        known: dict[str, pulumi.Resource] = {**self.args.alarms, maintenance_spec(env).name(env): self.maintenance}
        known.update({f"{env}-{k}": c for k, c in self.composites.items()})
        return [known[n] for n in names if n in known]
