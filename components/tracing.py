"""X-Ray: the sampling classes (critical 50 %, business 30 %, general 20 %, health checks 1 %) as
centralized sampling rules (API Gateway honours them),
groups with Insights for payments, RFID and errors, and encryption with a customer-managed key
(only in the one stack per account that owns X-Ray's account-wide EncryptionConfig)."""

from __future__ import annotations

import dataclasses
from typing import Optional

import pulumi
from pulumi_aws import kms, xray

from stackconfig.model import StackSettings

GROUPS = {
    "payments": 'annotation.operation_type = "payment"',
    "rfid": 'annotation.operation_type = "rfid"',
    "errors": "error = true OR fault = true",
}


@dataclasses.dataclass
class TracingArgs:
    settings: StackSettings


class Tracing(pulumi.ComponentResource):
    sampling_rules: dict[str, xray.SamplingRule]

    def __init__(self, name: str, args: TracingArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:Tracing", name, None, opts)
        settings, env = args.settings, args.settings.environment
        child = pulumi.ResourceOptions(parent=self)
        self.sampling_rules = {}
        for sampling in settings.costs.sampling:
            # X-Ray matches one URL pattern per rule: a class with several paths gets a rule per path.
            for i, path in enumerate(sampling.url_paths):
                rule_name = f"{env}-{sampling.name}-{i}"[:32]
                self.sampling_rules[rule_name] = xray.SamplingRule(
                    f"{name}-{sampling.name}-{i}",
                    rule_name=rule_name,
                    priority=sampling.priority + i,
                    fixed_rate=sampling.rate,
                    reservoir_size=sampling.reservoir_per_second,
                    url_path=path,
                    host="*",
                    http_method="*",
                    service_name="*",
                    service_type="*",
                    resource_arn="*",
                    version=1,
                    tags=settings.tags(Service="tracing", Tier=sampling.name),
                    opts=child,
                )
        for group, expression in GROUPS.items():
            xray.Group(
                f"{name}-{group}",
                group_name=f"{env}-{group}",
                filter_expression=expression,
                insights_configuration=xray.GroupInsightsConfigurationArgs(
                    insights_enabled=True, notifications_enabled=True),
                tags=settings.tags(Service="tracing"),
                opts=child,
            )
        if settings.costs.manage_xray_encryption:
            # One EncryptionConfig per account and region: two stacks owning it would flip it on every up.
            key = kms.Key(
                f"{name}-key",
                description=f"Encrypts {env} X-Ray traces",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                tags=settings.tags(Service="tracing", Tier="warning"),
                opts=child,
            )
            xray.EncryptionConfig(f"{name}-encryption", type="KMS", key_id=key.arn, opts=child)
        self.register_outputs({"samplingRules": sorted(self.sampling_rules)})
