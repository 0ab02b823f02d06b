"""The calls `maintenance` makes: the alarm mute rule operations and DescribeAlarms on the pagers.

Each is one IAM action of the tool's policy (preflight/maintenance/policy.py, tested against the calls
made). ListAlarmMuteRules answers with ARNs, status and type only; GetAlarmMuteRule gives a rule's name,
schedule and targets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any, Optional

from cloudwatch_rules.mute_rules import MuteRuleError, Schedule, schedule_of
from preflight.account.session import Account

LISTED = ["ACTIVE", "SCHEDULED"]


@dataclasses.dataclass(frozen=True)
class DeployedRule:
    """A mute rule as GetAlarmMuteRule describes it."""

    name: str
    arn: str
    status: str
    mute_type: str
    description: str
    expression: str
    duration: str
    timezone: Optional[str]
    targets: tuple[str, ...]
    start_date: Optional[dt.datetime]
    expire_date: Optional[dt.datetime]

    @property
    def schedule(self) -> Optional[Schedule]:
        props: dict[str, Any] = {"rule": {"schedule": {"expression": self.expression, "duration": self.duration,
                                                       "timezone": self.timezone}}}
        for key, value in (("startDate", self.start_date), ("expireDate", self.expire_date)):
            if value is not None:
                props[key] = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            return schedule_of(props)
        except MuteRuleError:
            return None


def rule_name(arn: str) -> str:
    """`arn:aws:cloudwatch:<region>:<account>:alarm-mute-rule:<name>` -> `<name>`."""
    return arn.split(":alarm-mute-rule:", 1)[-1]


def _deployed(answer: dict[str, Any], status: str, mute_type: str) -> DeployedRule:
    schedule = (answer.get("Rule") or {}).get("Schedule") or {}
    return DeployedRule(
        name=answer.get("Name", ""), arn=answer.get("AlarmMuteRuleArn", ""),
        status=answer.get("Status", status), mute_type=answer.get("MuteType", mute_type),
        description=answer.get("Description", ""), expression=schedule.get("Expression", ""),
        duration=schedule.get("Duration", ""), timezone=schedule.get("Timezone"),
        targets=tuple((answer.get("MuteTargets") or {}).get("AlarmNames") or ()),
        start_date=answer.get("StartDate"), expire_date=answer.get("ExpireDate"),
    )


def listed_rules(account: Account) -> list[DeployedRule]:
    """The account's active and scheduled rules in the stack's region, described one by one."""
    cloudwatch = account.client("cloudwatch")
    rules = []
    for page in cloudwatch.get_paginator("list_alarm_mute_rules").paginate(Statuses=LISTED):
        for summary in page.get("AlarmMuteRuleSummaries", []):
            answer = cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName=rule_name(summary["AlarmMuteRuleArn"]))
            rules.append(_deployed(answer, summary.get("Status", ""), summary.get("MuteType", "")))
    return sorted(rules, key=lambda r: r.name)


def put_rule(account: Account, parameters: dict[str, Any]) -> None:
    account.client("cloudwatch").put_alarm_mute_rule(**parameters)


def delete_rule(account: Account, name: str) -> None:
    account.client("cloudwatch").delete_alarm_mute_rule(AlarmMuteRuleName=name)


def pagers_in_alarm(account: Account, names: Sequence[str]) -> list[dict[str, Any]]:
    """The composite alarms among `names` in ALARM (DescribeAlarms takes 100 names a call)."""
    cloudwatch = account.client("cloudwatch")
    found = []
    names = sorted(set(names))
    for start in range(0, len(names), 100):
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=names[start:start + 100], AlarmTypes=["CompositeAlarm"], StateValue="ALARM")
        found += [alarm for page in pages for alarm in page.get("CompositeAlarms", [])]
    return found
