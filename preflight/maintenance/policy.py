"""The least-privilege IAM policy of `python -m preflight maintenance`: exactly the calls it makes.

`python -m preflight.maintenance.policy [ENVIRONMENT [REGION [ACCOUNT]]]` prints it (docs/maintenance.md
shows it). From the API reference: PutAlarmMuteRule needs the permission "on two types of resources: the
alarm mute rule resource itself, and each alarm that the rule targets"; GetAlarmMuteRule and
DeleteAlarmMuteRule act on the rule resource; ListAlarmMuteRules has no resource; DescribeAlarms returns
composite alarms only with the permission "scoped to *". sts:GetCallerIdentity (who starts a window)
needs no permission.
"""

from __future__ import annotations

import json
import sys
from typing import Any

ACTIONS: tuple[str, ...] = (
    "cloudwatch:DeleteAlarmMuteRule",  # stop
    "cloudwatch:DescribeAlarms",  # stop: which pagers are in ALARM
    "cloudwatch:GetAlarmMuteRule",  # status, stop
    "cloudwatch:ListAlarmMuteRules",  # status, stop
    "cloudwatch:PutAlarmMuteRule",  # start; stop shortens the job pagers' rules
)
NEEDS_NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})


def policy_document(environment: str = "production", region: str = "*", account: str = "*") -> dict[str, Any]:
    arn = f"arn:aws:cloudwatch:{region}:{account}"
    adhoc_rules = f"{arn}:alarm-mute-rule:{environment}-adhoc-*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "StartAndEndAdhocWindowsOnThePagers", "Effect": "Allow",
             "Action": ["cloudwatch:PutAlarmMuteRule"],
             "Resource": [adhoc_rules, f"{arn}:alarm:{environment}-*-pager"]},
            {"Sid": "EndAdhocWindows", "Effect": "Allow", "Action": ["cloudwatch:DeleteAlarmMuteRule"],
             "Resource": [adhoc_rules]},
            {"Sid": "ReadEveryMuteRule", "Effect": "Allow", "Action": ["cloudwatch:GetAlarmMuteRule"],
             "Resource": [f"{arn}:alarm-mute-rule:*"]},
            {"Sid": "ListMuteRulesAndPagerStates", "Effect": "Allow",
             "Action": ["cloudwatch:DescribeAlarms", "cloudwatch:ListAlarmMuteRules"], "Resource": "*"},
        ],
    }


if __name__ == "__main__":
    print(json.dumps(policy_document(*sys.argv[1:4]), indent=2))
