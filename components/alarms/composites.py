"""The seed's two composite alarms, silenced by a maintenance-mode alarm during maintenance windows."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch

from components.alarms.factory import AlarmFactory
from components.alarms.spec import GREATER_OR_EQUAL, NO_DATA_IS_FINE, AlarmSpec, Metric
from stackconfig.model import Tier

MAINTENANCE = AlarmSpec(
    service="operations", metric_key="maintenance-mode", resource="HASIVU/Operations", tier=Tier.BUSINESS,
    runbook="maintenance",
    summary="Maintenance mode is on (HASIVU/Operations MaintenanceMode = 1): composite alarms are suppressed.",
    impact="none by itself; pages from composite alarms are held until maintenance ends.",
    comparison=GREATER_OR_EQUAL, threshold=1, evaluation_periods=1, datapoints_to_alarm=1,
    treat_missing_data=NO_DATA_IS_FINE,
    metric=Metric("HASIVU/Operations", "MaintenanceMode", {}, "Maximum", 60),
)


@dataclasses.dataclass(frozen=True)
class CompositeSpec:
    key: str
    summary: str
    impact: str
    members: Sequence[str]


@dataclasses.dataclass
class CompositeAlarmsArgs:
    factory: AlarmFactory
    alarms: Mapping[str, cloudwatch.MetricAlarm]
    payment_members: Sequence[str]
    platform_members: Sequence[str]


def rule(names: Sequence[str]) -> str:
    return " OR ".join(f'ALARM("{n}")' for n in names)


class CompositeAlarms(pulumi.ComponentResource):
    composites: dict[str, cloudwatch.CompositeAlarm]
    maintenance: cloudwatch.MetricAlarm

    def __init__(self, name: str, args: CompositeAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:CompositeAlarms", name, None, opts)
        env = args.factory.settings.environment
        self.maintenance = args.factory.create(MAINTENANCE, self)
        payment = CompositeSpec(
            "payment-system-health",
            "Payment system unhealthy: payment errors, verification failures or webhook failures.",
            "parents cannot pay; revenue stops.",
            args.payment_members,
        )
        self.composites = {}
        self.composites[payment.key] = self._composite(args, payment, [args.alarms[m] for m in payment.members])
        platform = CompositeSpec(
            "system-health",
            "Platform unhealthy: a critical component (payments, database, API, health score) is failing.",
            "the platform is down or failing for many users.",
            args.platform_members,
        )
        members = [args.alarms[m] for m in platform.members] + [self.composites[payment.key]]
        self.composites[platform.key] = self._composite(args, platform, members)
        self.register_outputs({"compositeNames": [f"{env}-{k}" for k in self.composites]})

    def _composite(
        self, args: CompositeAlarmsArgs, spec: CompositeSpec, members: Sequence[pulumi.Resource]
    ) -> cloudwatch.CompositeAlarm:
        factory = args.factory
        env = factory.settings.environment
        name = f"{env}-{spec.key}"
        names = [m.alarm_name if isinstance(m, cloudwatch.CompositeAlarm) else m.name for m in members]
        return cloudwatch.CompositeAlarm(
            name,
            alarm_name=name,
            alarm_description=(
                f"{spec.summary} Impact: {spec.impact} Runbook: {factory.settings.runbook('composites#' + spec.key)}"
            ),
            alarm_rule=pulumi.Output.all(*names).apply(rule),
            actions_enabled=True,
            alarm_actions=factory.actions(Tier.CRITICAL),
            ok_actions=factory.ok_actions(Tier.CRITICAL),
            actions_suppressor=cloudwatch.CompositeAlarmActionsSuppressorArgs(
                alarm=self.maintenance.name, extension_period=600, wait_period=120
            ),
            tags=factory.settings.tags(Service="platform", Tier=Tier.CRITICAL.value, Resource="composite"),
            opts=pulumi.ResourceOptions(parent=self),
        )
