"""Alarm components: one per service concept, every alarm made by the shared factory."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar, Optional

import pulumi
from pulumi_aws import cloudwatch

from components.alarms.business import SECURITY_FILTERS, SECURITY_NAMESPACE
from components.alarms.factory import AlarmFactory
from components.alarms.spec import AlarmSpec
from components.security_log_group import SecurityLogGroup, SecurityLogGroupArgs


@dataclasses.dataclass
class AlarmGroupArgs:
    specs: Sequence[AlarmSpec]
    factory: AlarmFactory
    # Business alarms count security events from this log group through metric filters.
    security_log_group: Optional[str] = None


class AlarmGroup(pulumi.ComponentResource):
    TYPE: ClassVar[str] = "AlarmGroup"
    alarms: dict[str, cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: AlarmGroupArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(f"hasivu:monitoring:{self.TYPE}", name, None, opts)
        self._before_alarms(name, args)
        environment = args.factory.settings.environment
        self.alarms = {spec.name(environment): args.factory.create(spec, self) for spec in args.specs}
        self.register_outputs({"alarmNames": sorted(self.alarms)})

    def _before_alarms(self, name: str, args: AlarmGroupArgs) -> None:
        """Resources the alarms read from (none by default)."""


class LambdaAlarms(AlarmGroup):
    TYPE = "LambdaAlarms"


class ApiGatewayAlarms(AlarmGroup):
    TYPE = "ApiGatewayAlarms"


class DatabaseAlarms(AlarmGroup):
    TYPE = "DatabaseAlarms"


class CacheAlarms(AlarmGroup):
    TYPE = "CacheAlarms"


class TopicAlarms(AlarmGroup):
    TYPE = "TopicAlarms"


class SloAlarms(AlarmGroup):
    TYPE = "SloAlarms"


class BusinessAlarms(AlarmGroup):
    TYPE = "BusinessAlarms"

    def _before_alarms(self, name: str, args: AlarmGroupArgs) -> None:
        if not args.security_log_group:
            return
        settings = args.factory.settings
        log_group_name: pulumi.Input[str] = args.security_log_group
        creation = settings.inventory.security_log_group_creation
        if creation is not None:
            # Created here: the filters take its name from the log group, so they wait for it.
            log_group_name = SecurityLogGroup(
                f"{name}-security-log", SecurityLogGroupArgs(settings, args.security_log_group, creation),
                pulumi.ResourceOptions(parent=self),
            ).log_group.name
        for f in SECURITY_FILTERS:
            cloudwatch.LogMetricFilter(
                f"{name}-{f.key}-filter",
                name=f"{args.factory.settings.environment}-security-{f.key}",
                log_group_name=log_group_name,
                pattern=f.pattern,
                metric_transformation=cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=f.metric_name, namespace=SECURITY_NAMESPACE, value="1", default_value="0"
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
