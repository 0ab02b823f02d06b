"""The least-privilege IAM policy of the account check and the history replay: read-only actions, each
one of them uses.

`python -m preflight.account.policy` prints the policy document (docs/account.md shows it).
sts:GetCallerIdentity needs no permission: AWS answers it for any valid credentials.
"""

from __future__ import annotations

import json

# IAM action per API operation the check calls (API Gateway's management API authorizes by HTTP verb).
ACTIONS: tuple[str, ...] = (
    "apigateway:GET",  # GetRestApis, GetStage
    "ce:GetAnomalyMonitors",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetAlarmMuteRule",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListAlarmMuteRules",
    "cloudwatch:ListMetrics",
    "kms:ListResourceTags",
    "lambda:ListFunctions",
    "logs:DescribeLogGroups",
    "logs:ListTagsForResource",
    "sns:GetSMSAttributes",
    "sns:GetSMSSandboxAccountStatus",
    "sns:ListSMSSandboxPhoneNumbers",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTopics",
    "xray:GetEncryptionConfig",
)
# `history --aws` (docs/history.md): the series, the deployed definitions, the alarm history, the
# metrics a Metrics Insights query selects. DescribeAlarmHistory is the one the account check does not use.
HISTORY_ACTIONS: tuple[str, ...] = (
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
)
NEEDS_NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})


def iam_action(service: str, operation: str, http_method: str) -> str:
    """The IAM action AWS authorizes for one API call (boto3 service names are the IAM prefixes here)."""
    return f"apigateway:{http_method}" if service == "apigateway" else f"{service}:{operation}"


def policy_document() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ApiGatewayStagesReadOnly", "Effect": "Allow", "Action": ["apigateway:GET"],
             "Resource": ["arn:aws:apigateway:*::/restapis", "arn:aws:apigateway:*::/restapis/*/stages/*"]},
            # "*": DescribeAlarmHistory answers for composite alarms only with a permission scoped to *.
            {"Sid": "PreflightReadOnly", "Effect": "Allow",
             "Action": sorted({*ACTIONS, *HISTORY_ACTIONS} - {"apigateway:GET"}), "Resource": "*"},
        ],
    }


if __name__ == "__main__":
    print(json.dumps(policy_document(), indent=2))
