"""The customer-managed key of the alert topics: one key encrypts the three tiers' topics.

CloudWatch cannot publish to a topic under `alias/aws/sns`, so the topics need a key whose policy lets
the alert publishers use it (docs/decisions/alert-topic-keys.md). One key serves every tier: the grant is
the same for each, and each key costs $1 a month, $3 once rotated twice (KMS price page).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional

import pulumi
from pulumi_aws import kms

from components.iam_documents import alert_key_policy


@dataclasses.dataclass
class AlertKeyArgs:
    environment: str
    account_id: pulumi.Input[str]
    tags: Mapping[str, str]


class AlertKey(pulumi.ComponentResource):
    key: kms.Key

    def __init__(self, name: str, args: AlertKeyArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:AlertKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = kms.Key(
            f"{name}-key",
            description=f"Encrypts the {args.environment}-hasivu-<tier>-alerts topics; usable by CloudWatch, "
                        "Budgets and Cost Anomaly Detection",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.from_input(args.account_id).apply(alert_key_policy),
            # Tagged with the most severe tier it serves: losing it silences the critical pages too.
            tags={**args.tags, "Service": "alerting", "Tier": "critical"},
            opts=child,
        )
        kms.Alias(f"{name}-key-alias", name=f"alias/{args.environment}-hasivu-alerts", target_key_id=self.key.key_id,
                  opts=child)
        self.register_outputs({"keyArn": self.key.arn})
