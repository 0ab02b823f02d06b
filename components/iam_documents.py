"""IAM / KMS / SNS policy documents as plain dicts, built in one place."""

from __future__ import annotations

import json
from typing import Any

# The AWS services that publish alerts to a tier topic and so must use its key.
ALERT_PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com")


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def _account_administers_key(account_id: str) -> dict[str, Any]:
    """The account root administers a customer-managed key (the KMS default key policy's statement)."""
    return {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def alert_key_policy(account_id: str) -> str:
    """Key policy: the account administers the key; the alert publishers may encrypt with it.

    CloudWatch cannot publish to a topic under `alias/aws/sns`, whose policy it cannot change,
    which is why the alert topics have a customer-managed key with this grant.
    """
    return document(
        _account_administers_key(account_id),
        {
            "Sid": "AlertPublishersUseKey",
            "Effect": "Allow",
            "Principal": {"Service": list(ALERT_PUBLISHERS)},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
        },
    )


def tier_topic_policy(topic_arn: str, account_id: str) -> str:
    """Topic policy: the account owns the topic; the alert publishers may publish for this account only."""
    return document(
        {
            "Sid": "AccountOwnsTopic",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": [
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
            ],
            "Resource": topic_arn,
        },
        {
            "Sid": "AlertPublishersPublish",
            "Effect": "Allow",
            "Principal": {"Service": list(ALERT_PUBLISHERS)},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
    )


def assume_role_policy(service: str) -> str:
    return document({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def log_group_key_policy(account_id: str, region: str, log_group_name: str) -> str:
    """Key policy of a log group's CMK: CloudWatch Logs in this region may use it for that log group only.

    As the CloudWatch Logs user guide (encrypt-log-data-kms) writes it: the regional service
    principal, and `kms:EncryptionContext:aws:logs:arn` bound to the log group's ARN.
    """
    return document(
        _account_administers_key(account_id),
        {
            "Sid": "CloudWatchLogsUseKeyForTheLogGroup",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn":
                                        f"arn:aws:logs:{region}:{account_id}:log-group:{log_group_name}"}},
        },
    )
