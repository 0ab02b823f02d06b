"""The facade: settings in, every monitoring component out, in dependency order.

Tiers come first because every alarm, budget and anomaly subscription needs a tier topic.
"""

from __future__ import annotations

import dataclasses

import pulumi
import pulumi_aws

from components.alarm_tier import AlarmTier, AlarmTierArgs
from stackconfig.model import StackSettings, Tier


@dataclasses.dataclass
class Monitoring:
    settings: StackSettings
    tiers: dict[Tier, AlarmTier]


def build_monitoring(settings: StackSettings) -> Monitoring:
    account_id = pulumi_aws.get_caller_identity_output().account_id
    tiers = {
        tier: AlarmTier(
            f"{tier.value}-alerts",
            AlarmTierArgs(
                environment=settings.environment,
                contacts=settings.alerting[tier],
                account_id=account_id,
                tags=settings.tags(),
            ),
        )
        for tier in Tier
    }
    return Monitoring(settings=settings, tiers=tiers)


def export_outputs(monitoring: Monitoring) -> None:
    for tier, component in monitoring.tiers.items():
        pulumi.export(f"{tier.value}TopicArn", component.topic.arn)
