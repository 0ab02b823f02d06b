"""Who watches the watchers: failed deliveries of each tier topic, reported to another tier."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.alarms.spec import GREATER, NO_DATA_IS_FINE, AlarmSpec, Metric
from stackconfig.model import Tier
from stackconfig.muting import MONITORING

# A tier whose deliveries fail cannot be told so through itself.
REPORTED_TO = {Tier.CRITICAL: Tier.WARNING, Tier.WARNING: Tier.CRITICAL, Tier.BUSINESS: Tier.WARNING}


def topic_alarms(topic_names: Mapping[Tier, pulumi.Input[str]]) -> list[AlarmSpec]:
    return [
        AlarmSpec(
            service="alerting", metric_key=f"{tier.value}-deliveries-failed", resource=f"{tier.value} topic",
            scope=MONITORING,
            tier=REPORTED_TO[tier], runbook="alerting#delivery-failures",
            summary=f"The {tier.value} tier topic failed to deliver notifications (SMS, email, PagerDuty, Slack "
                    "forwarder) in the last 5 minutes.",
            impact=f"people on the {tier.value} tier are not being told about alarms.",
            comparison=GREATER, threshold=0, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric("AWS/SNS", "NumberOfNotificationsFailed", {"TopicName": name}, "Sum", 300),
        )
        for tier, name in topic_names.items()
    ]
