"""The security events log group, created by the stack: KMS-encrypted with its own key, retention set.

The platform's Lambdas write failed logins and fraud attempts here; the metric filters that count
them need the group to exist first, so they take its name from this component (a dependency).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import pulumi
import pulumi_aws
from pulumi_aws import cloudwatch, kms

from components.iam_documents import log_group_key_policy
from stackconfig.model import SecurityLogGroupCreation, StackSettings


@dataclasses.dataclass
class SecurityLogGroupArgs:
    settings: StackSettings
    name: str
    creation: SecurityLogGroupCreation


class SecurityLogGroup(pulumi.ComponentResource):
    key: kms.Key
    log_group: cloudwatch.LogGroup

    def __init__(self, name: str, args: SecurityLogGroupArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:SecurityLogGroup", name, None, opts)
        settings = args.settings
        account_id = pulumi_aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        tags = settings.tags(Service="security", Tier="critical")
        self.key = kms.Key(
            f"{name}-key",
            description=f"Encrypts the {settings.environment} security events log group",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account_id.apply(lambda account: log_group_key_policy(account, settings.region, args.name)),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.log_group = cloudwatch.LogGroup(
            f"{name}-log-group",
            name=args.name,
            retention_in_days=args.creation.retention_days,
            kms_key_id=self.key.arn,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"logGroupName": self.log_group.name})
