"""Lambda handler: SNS alert -> Slack incoming webhook.

The webhook URL lives in an SSM SecureString parameter whose name is the only thing in the
environment; it is read with decryption once per container and never logged.

A pager composite's notification names the alarms that triggered it (`TriggeringChildren`: "Schema
when a composite alarm changes state", Notify_Users_Alarm_Changes.html), not the functions behind a
Metrics Insights fleet alarm, whose StateReason only counts them ("1 out of 300 time series evaluated
to ALARM", alarm-limits.html). So for an ALARM of a composite the forwarder asks
DescribeAlarmContributors ("the current alarm contributors that are in ALARM state",
API_DescribeAlarmContributors.html) about each triggering child and adds their attributes (the
dimension values, e.g. `FunctionName=hasivu-fleet-menu-list-137`) to the Slack text. The lookup is
bounded (2 attempts, short timeouts, LOOKUP_BUDGET_SECONDS per notification) and never loses the page:
when it fails, the page is posted without the names and one line says they could not be read.
"""

from __future__ import annotations

import functools
import json
import os
import time
import urllib.request
from collections.abc import Callable
from typing import Any, Optional

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

# The webhook read at cold start: 2 attempts of 1 s + 2 s, so a hung SSM endpoint fails the invocation
# with its own error in about 7 s, inside the 10 s timeout, and Lambda's async retry delivers it again.
_SECRET_READ = Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=1, read_timeout=2)
# At most 2 attempts in all (`total_max_attempts` counts the first) of 0.5 s + 1 s: a hung CloudWatch
# endpoint costs about 4 s with backoff, which leaves the webhook post (5 s) inside the 10 s timeout.
_LOOKUP = Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=0.5, read_timeout=1)
LOOKUP_BUDGET_SECONDS = 3.0
CONTRIBUTORS_SHOWN = 10
CHILDREN_LOOKED_UP = 5
# Answers that mean "this child has no contributor list": a plain metric alarm, a composite, or an
# alarm deleted since. (Not documented per alarm type; a third-party binding of the API treats
# these two as an empty list, alchemy.run providers/aws/cloudwatch/describealarmcontributors.)
_NO_CONTRIBUTORS = frozenset({"ResourceNotFoundException", "ValidationException", "ValidationError"})
_STATE_EMOJI = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:", "INSUFFICIENT_DATA": ":grey_question:"}
_webhook_url: Optional[str] = None

# Alarm name -> its AlarmContributors (DescribeAlarmContributors' response items).
ContributorLookup = Callable[[str], list[dict[str, Any]]]


def _webhook() -> str:
    global _webhook_url
    if _webhook_url is None:
        ssm = boto3.client("ssm", config=_SECRET_READ)
        response = ssm.get_parameter(Name=os.environ["SLACK_WEBHOOK_PARAMETER"], WithDecryption=True)
        _webhook_url = response["Parameter"]["Value"]
    return _webhook_url


@functools.cache
def _cloudwatch() -> Any:
    client = boto3.client("cloudwatch", config=_LOOKUP)
    if not hasattr(client, "describe_alarm_contributors"):
        # The runtime's bundled botocore decides which operations exist (Lambda: "Runtime-included SDK versions").
        raise RuntimeError(f"this runtime's botocore {botocore.__version__} has no DescribeAlarmContributors")
    return client


def describe_contributors(client: Any, alarm_name: str, deadline: float) -> list[dict[str, Any]]:
    """Every contributor in ALARM of one alarm, following NextToken until the deadline."""
    contributors: list[dict[str, Any]] = []
    token: Optional[str] = None
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{LOOKUP_BUDGET_SECONDS:g} s spent before all contributors were read")
        page = client.describe_alarm_contributors(AlarmName=alarm_name, **({"NextToken": token} if token else {}))
        contributors += page.get("AlarmContributors", [])
        token = page.get("NextToken")
        if not token:
            return contributors


def cloudwatch_lookup() -> ContributorLookup:
    """The lookup the handler uses for one notification: CloudWatch, within LOOKUP_BUDGET_SECONDS."""
    deadline = time.monotonic() + LOOKUP_BUDGET_SECONDS
    return lambda alarm_name: describe_contributors(_cloudwatch(), alarm_name, deadline)


def triggering_alarm_names(alarm: dict[str, Any]) -> list[str]:
    """Names of a composite's triggering children: documented as ARNs ([String]), sent as objects
    with `Arn` and `State`; both are read."""
    names = []
    for child in alarm.get("TriggeringChildren") or []:
        arn = child.get("Arn") if isinstance(child, dict) else child
        if isinstance(arn, str) and ":alarm:" in arn:
            names.append(arn.split(":alarm:", 1)[1])
    return names


def contributor_label(contributor: dict[str, Any]) -> str:
    """`FunctionName=x` from a contributor's attributes (its dimension values); its id without any."""
    attributes = contributor.get("ContributorAttributes") or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(attributes.items())) or str(contributor.get("ContributorId"))


def _error_code(error: Exception) -> str:
    return str(error.response.get("Error", {}).get("Code", "")) if isinstance(error, ClientError) else ""


def contributor_lines(alarm: dict[str, Any], lookup: ContributorLookup) -> list[str]:
    """One line per triggering child with contributors in ALARM; one line instead when they cannot be read."""
    lines = []
    for name in triggering_alarm_names(alarm)[:CHILDREN_LOOKED_UP]:
        try:
            labels = [contributor_label(c) for c in lookup(name)]
        except Exception as error:  # noqa: BLE001 - whatever fails here, the page goes out
            if _error_code(error) in _NO_CONTRIBUTORS:
                continue
            reason = (_error_code(error) or type(error).__name__) + f": {error}"
            return [*lines, f"_Contributors in ALARM could not be read_ ({name}: {reason[:200]})"]
        if labels:
            more = f" and {len(labels) - CONTRIBUTORS_SHOWN} more" if len(labels) > CONTRIBUTORS_SHOWN else ""
            lines.append(f"_In ALARM in {name}:_ {', '.join(labels[:CONTRIBUTORS_SHOWN])}{more}")
    return lines


def format_message(subject: Optional[str], message: str,
                   contributors: Optional[ContributorLookup] = None) -> dict[str, Any]:
    """Slack payload for an SNS message: CloudWatch alarm JSON, or any other text as-is. With a
    lookup, a composite's ALARM also names its triggering children's contributors in ALARM."""
    try:
        alarm = json.loads(message)
    except ValueError:
        alarm = None
    if isinstance(alarm, dict) and "AlarmName" in alarm:
        state = alarm.get("NewStateValue", "UNKNOWN")
        text = (
            f"{_STATE_EMOJI.get(state, ':bell:')} *{alarm['AlarmName']}* is *{state}*\n"
            f"{alarm.get('AlarmDescription') or ''}\n"
            f"_Reason:_ {alarm.get('NewStateReason', '')}"
        ).strip()
        if contributors is not None and state == "ALARM" and "AlarmRule" in alarm:
            text = "\n".join([text, *contributor_lines(alarm, contributors)])
    else:
        text = f"*{subject or 'HASIVU alert'}*\n{message}"
    return {"text": text}


def post(payload: dict[str, Any], url: str, timeout: float = 5.0) -> int:
    request = urllib.request.Request(  # noqa: S310 - https URL from our own parameter
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https URL from our own parameter
        return response.status


def handler(event: dict[str, Any], _context: Any) -> dict[str, int]:
    """Posts every SNS record; an HTTP failure raises so Lambda's async retry delivers it again."""
    delivered = 0
    for record in event.get("Records", []):
        sns = record.get("Sns", {})
        post(format_message(sns.get("Subject"), sns.get("Message", ""), cloudwatch_lookup()), _webhook())
        delivered += 1
    return {"delivered": delivered}
