"""The least-privilege IAM policy of the account check: read-only actions, each one the check uses.

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
            {"Sid": "AccountCheckReadOnly", "Effect": "Allow",
             "Action": [a for a in ACTIONS if not a.startswith("apigateway:")], "Resource": "*"},
        ],
    }


if __name__ == "__main__":
    print(json.dumps(policy_document(), indent=2))
