"""A drill's page as a tier's Slack channel shows it: the forwarder's own `format_message`
(observability/slack_forwarder.py, the code the tier's Lambda runs) over the notification CloudWatch
sends for the pager composite, with DescribeAlarmContributors answered from the model.

The notification has the fields of "Schema when a composite alarm changes state"
(Notify_Users_Alarm_Changes.html in the CloudWatch user guide); `TriggeringChildren` are written as
CloudWatch sends them, objects with `Arn` and `State` (the page documents `[String]`; the forwarder
reads both), and `NewStateReason` as CloudWatch words it for a composite ("<child ARN> transitioned to
ALARM at <time>"). The contributors answered for a triggering child are that alarm's contributors in
ALARM at the page's minute, in the operation's output shape (botocore's service model, validated as
botocore's Stubber validates); a child without contributors answers an empty list. The API reference
(API_DescribeAlarmContributors.html) does not say in which order contributors come back, so the model
answers in a stable one, by contributor attributes (sorted by key, then value): which names the forwarder
shows before "and K more" is the same on every run, though CloudWatch may list others first.

DescribeAlarms, which the forwarder asks for the page's headline (its probable cause), is answered
with the metric alarms in ALARM when the page was sent whose names start with the prefix asked for,
each with the time it entered ALARM (`StateTransitionedTimestamp`, and `StateUpdatedTimestamp`: the
model has no other update), in name order and in the operation's output shape. Which alarms are causes
is what the program handed the tier's forwarder: its Lambda's environment as registered.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import botocore.session
from botocore.validate import validate_parameters

from observability.page_causes import page_causes
from observability.slack_forwarder import format_message
from preflight.cloudwatch.cloudwatch import CompositeDefinition, Notification
from preflight.program.engine import PLACEHOLDER_ACCOUNT

# The notification's `Region` is the region's display name, as in CloudWatch's own messages.
REGION_NAMES = {"ap-south-1": "Asia Pacific (Mumbai)"}
_CLOUDWATCH = botocore.session.get_session().get_service_model("cloudwatch")
_CONTRIBUTORS_OUTPUT = _CLOUDWATCH.operation_model("DescribeAlarmContributors").output_shape
_ALARMS_OUTPUT = _CLOUDWATCH.operation_model("DescribeAlarms").output_shape


def _time(minute: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60, dt.UTC)


def answer_order(contributors: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """Contributors' attributes in the order the model's DescribeAlarmContributors lists them."""
    return sorted(contributors, key=lambda attributes: sorted(attributes.items()))


def composite_notification(page: Notification, composite: CompositeDefinition, at_minute: int,
                           region: str) -> dict[str, Any]:
    """The SNS message of a composite's page; `at_minute`: the minute since the epoch at which the
    composite entered ALARM (its triggering children with it: members are evaluated first)."""
    arn = f"arn:aws:cloudwatch:{region}:{PLACEHOLDER_ACCOUNT}:alarm:{{}}".format
    stamp = _time(at_minute).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    reason = (f"{arn(page.triggering[0])} transitioned to ALARM at "
              f"{_time(at_minute).strftime('%A %d %B, %Y %H:%M:%S UTC')}") if page.triggering else ""
    return {
        "AlarmName": page.alarm, "AlarmDescription": composite.description, "AWSAccountId": PLACEHOLDER_ACCOUNT,
        "NewStateValue": "ALARM", "NewStateReason": reason, "StateChangeTime": stamp,
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": arn(page.alarm), "OKActions": [], "AlarmActions": [], "InsufficientDataActions": [],
        "OldStateValue": "OK", "AlarmRule": composite.rule_text,
        "TriggeringChildren": [{"Arn": arn(child), "State": {"Value": "ALARM", "Timestamp": stamp}}
                               for child in page.triggering],
    }


def alarms_answer(page: Notification, prefix: str, start_minute: int, region: str) -> list[dict[str, Any]]:
    """DescribeAlarms(AlarmNamePrefix=prefix, StateValue=ALARM)'s MetricAlarms when `page` was sent;
    `start_minute`: the minute since the epoch of the model's minute 0."""
    arn = f"arn:aws:cloudwatch:{region}:{PLACEHOLDER_ACCOUNT}:alarm:{{}}".format
    items = [{"AlarmName": name, "AlarmArn": arn(name), "StateValue": "ALARM",
              "StateUpdatedTimestamp": _time(start_minute + minute),
              "StateTransitionedTimestamp": _time(start_minute + minute)}
             for name, minute in sorted(page.alarms_in_alarm.items()) if name.startswith(prefix)]
    validate_parameters({"MetricAlarms": items}, _ALARMS_OUTPUT)
    return items


def slack_text(page: Notification, composite: CompositeDefinition, at_minute: int, region: str,
               start_minute: int, forwarder_environment: Mapping[str, str]) -> str:
    """The Slack text the tier's forwarder, with `forwarder_environment`, posts for this page."""

    def contributors(alarm_name: str) -> list[dict[str, Any]]:
        items = [{"ContributorId": str(i), "ContributorAttributes": dict(attributes), "StateReason": ""}
                 for i, attributes in enumerate(answer_order(page.contributors_in_alarm.get(alarm_name, ())), 1)]
        validate_parameters({"AlarmContributors": items}, _CONTRIBUTORS_OUTPUT)
        return items

    message = json.dumps(composite_notification(page, composite, at_minute, region))
    return format_message(f"ALARM: \"{page.alarm}\" in {region}", message, contributors,
                          lambda prefix: alarms_answer(page, prefix, start_minute, region),
                          page_causes(forwarder_environment))["text"]
