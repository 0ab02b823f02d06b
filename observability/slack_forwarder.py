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

A page also names its probable cause first. A composite's notification names only its own
triggering children, and a cause paging another tier or held by another pager is not among them; so
for an ALARM of a composite the forwarder asks DescribeAlarms which metric alarms of this environment
are in ALARM (`AlarmNamePrefix` `<env>-`, `StateValue` ALARM, every page of the answer; metric alarms
only, the default of `AlarmTypes`, API_DescribeAlarms.html) and writes one line at the top: the causes
in ALARM (dependency connectivity, then the health checks) with their labels, then every other alarm in
ALARM, the page's own triggering children first, then earliest first: "Probable cause: Redis unreachable
(production-cache-connectivity) -> auth-login-errors, api-5xx-rate". A cause whose dependency the
page's scope does not use is not named (a Razorpay outage explains no database warning, no dependency a
reader's silence), nor the health checks when only such dependencies fail. Which alarms are causes,
their labels, the scopes each does not explain and the prefix come from the program in one environment
variable (PAGE_CAUSES). An alarm in ALARM that no named cause explains, by
its name's scope (the payments' error rate on a Redis page), follows the arrow's list apart:
"...; also in ALARM: payments-error-rate". The same lookup budget covers both calls, and a
CloudWatch that did not answer one (a timeout, a refused connection) is not asked again for that
notification. When the alarms cannot be read the page is today's, with one line saying so.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, Optional

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from observability.page_causes import PageCauses, page_causes

# The webhook read at cold start: 2 attempts of 1 s + 2 s, so a hung SSM endpoint fails the invocation
# with its own error in about 7 s, inside the 10 s timeout, and Lambda's async retry delivers it again.
_SECRET_READ = Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=1, read_timeout=2)
# At most 2 attempts in all (`total_max_attempts` counts the first) of 0.5 s + 1 s: a hung CloudWatch
# endpoint costs about 4 s with backoff, which leaves the webhook post (5 s) inside the 10 s timeout.
_LOOKUP = Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=0.5, read_timeout=1)
LOOKUP_BUDGET_SECONDS = 3.0
CONTRIBUTORS_SHOWN = 10
CHILDREN_LOOKED_UP = 5
# Alarms in ALARM the headline names after the causes; the rest are counted.
SYMPTOMS_SHOWN = 8
# DescribeAlarms' largest page (MaxRecords: 1 to 100).
ALARMS_PER_PAGE = 100
# How the headline begins when a cause is in ALARM, and when none is.
PROBABLE_CAUSE = ":mag: *Probable cause:*"
IN_ALARM = ":mag: *In ALARM:*"
# How each line of a fleet alarm's contributors in ALARM begins: `_In ALARM in <alarm>:_ <names>`.
CONTRIBUTORS_IN_ALARM = "_In ALARM in "
# After the causes and what may follow from them: the alarms in ALARM that no named cause explains.
ALSO_IN_ALARM = "also in ALARM:"
# Answers that mean "this child has no contributor list": a plain metric alarm, a composite, or an
# alarm deleted since. (Not documented per alarm type; a third-party binding of the API treats
# these two as an empty list, alchemy.run providers/aws/cloudwatch/describealarmcontributors.)
_NO_CONTRIBUTORS = frozenset({"ResourceNotFoundException", "ValidationException", "ValidationError"})
_STATE_EMOJI = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:", "INSUFFICIENT_DATA": ":grey_question:"}
_webhook_url: Optional[str] = None

# Alarm name -> its AlarmContributors (DescribeAlarmContributors' response items).
ContributorLookup = Callable[[str], list[dict[str, Any]]]
# Alarm-name prefix -> its metric alarms in ALARM (DescribeAlarms' MetricAlarms items).
AlarmsLookup = Callable[[str], list[dict[str, Any]]]


def _webhook() -> str:
    global _webhook_url
    if _webhook_url is None:
        ssm = boto3.client("ssm", config=_SECRET_READ)
        response = ssm.get_parameter(Name=os.environ["SLACK_WEBHOOK_PARAMETER"], WithDecryption=True)
        _webhook_url = response["Parameter"]["Value"]
    return _webhook_url


@functools.cache
def _cloudwatch() -> Any:
    return boto3.client("cloudwatch", config=_LOOKUP)


class CloudWatchReads:
    """One notification's CloudWatch calls, within LOOKUP_BUDGET_SECONDS in all. Once CloudWatch did
    not answer (a timeout, a refused connection), later calls fail at once with that error: a hung
    endpoint costs one call's attempts, not one per lookup."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + LOOKUP_BUDGET_SECONDS
        self.unreachable: Optional[Exception] = None

    def _pages(self, operation: str, items: str, what: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paginated answer, following NextToken until the deadline."""
        found: list[dict[str, Any]] = []
        token: Optional[str] = None
        while True:
            if self.unreachable is not None:
                raise self.unreachable
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"{LOOKUP_BUDGET_SECONDS:g} s spent before all {what} were read")
            try:
                page = getattr(_cloudwatch(), operation)(**params, **({"NextToken": token} if token else {}))
            except (HTTPClientError, EndpointUnreachable) as error:
                self.unreachable = error
                raise
            found += page.get(items, [])
            token = page.get("NextToken")
            if not token:
                return found

    def contributors(self, alarm_name: str) -> list[dict[str, Any]]:
        """Every contributor in ALARM of one alarm (DescribeAlarmContributors)."""
        if not hasattr(_cloudwatch(), "describe_alarm_contributors"):
            # The runtime's bundled botocore decides which operations exist (Lambda: "Runtime-included SDK versions").
            raise RuntimeError(f"this runtime's botocore {botocore.__version__} has no DescribeAlarmContributors")
        return self._pages("describe_alarm_contributors", "AlarmContributors", "contributors", AlarmName=alarm_name)

    def alarms_in_alarm(self, prefix: str) -> list[dict[str, Any]]:
        """Every metric alarm whose name starts with `prefix` that is in ALARM (DescribeAlarms)."""
        return self._pages("describe_alarms", "MetricAlarms", "alarms in ALARM", AlarmNamePrefix=prefix,
                           StateValue="ALARM", MaxRecords=ALARMS_PER_PAGE)


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
            lines.append(f"{CONTRIBUTORS_IN_ALARM}{name}:_ {', '.join(labels[:CONTRIBUTORS_SHOWN])}{more}")
    return lines


def _entered(alarm: dict[str, Any]) -> dt.datetime:
    """When an alarm entered its state: StateTransitionedTimestamp, else StateUpdatedTimestamp (older
    answers have only that one)."""
    stamp = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
    return stamp if isinstance(stamp, dt.datetime) else dt.datetime.max.replace(tzinfo=dt.UTC)


def headline(alarms: list[dict[str, Any]], causes: PageCauses, page: str = "",
             triggering: Sequence[str] = ()) -> Optional[str]:
    """The page's first line: the causes in ALARM that may explain pager `page` (`label (alarm name)`, in
    the program's order; alarms of one label together, `label (name, name)`), then the other alarms in
    ALARM, the page's own `triggering` children first, then earliest first, named without the environment
    prefix; None when none is."""
    # The answer is filtered again by name and state: only what CloudWatch says is in ALARM counts.
    in_alarm = {a["AlarmName"]: a for a in alarms if a.get("StateValue") == "ALARM"
                and str(a.get("AlarmName", "")).startswith(causes.alarm_name_prefix)}
    # An alarm with an empty label is a hold (a dependency down recently): never listed.
    firing = [(name, label) for name, label in causes.causes.items() if label and name in in_alarm]
    leading = [name for name, _ in firing if name not in causes.following]
    # A failing dependency lowers the health score too: with only unrelated dependencies failing, neither
    # explains the page.
    unexplained = bool(leading) and not any(causes.explains(name, page) for name in leading)
    labelled: dict[str, list[str]] = {}
    for name, label in firing:
        if causes.explains(name, page) and not (unexplained and name in causes.following):
            labelled.setdefault(label, []).append(name)
    found = [f"{label} ({', '.join(alarms_of)})" for label, alarms_of in labelled.items()]
    others = sorted((a for name, a in in_alarm.items()
                     if name not in causes.causes and not name.startswith(causes.unlisted)),
                    key=lambda a: (a["AlarmName"] not in triggering, _entered(a), a["AlarmName"]))
    if not found:
        return f"{IN_ALARM} {_symptoms(others, causes)}" if others else None
    named = [name for alarms_of in labelled.values() for name in alarms_of]
    # What no named cause can explain (the alarms of scopes whose flows do not use it) is listed apart. A
    # following cause (the health score) explains nothing beside a leading one: it follows from the alarms.
    explaining = [name for name in named if name not in causes.following] or named
    follow, apart = [], []
    for a in others:
        explained = any(causes.explains_alarm(cause, a["AlarmName"]) for cause in explaining)
        (follow if explained else apart).append(a)
    return (f"{PROBABLE_CAUSE} {', '.join(found)}" + (f" -> {_symptoms(follow, causes)}" if follow else "")
            + (f"; {ALSO_IN_ALARM} {_symptoms(apart, causes)}" if apart else ""))


def _symptoms(alarms: list[dict[str, Any]], causes: PageCauses) -> str:
    """The alarms' names without the environment prefix, the first SYMPTOMS_SHOWN of them, the rest counted."""
    names = [a["AlarmName"].removeprefix(causes.alarm_name_prefix) for a in alarms]
    more = f" and {len(names) - SYMPTOMS_SHOWN} more" if len(names) > SYMPTOMS_SHOWN else ""
    return ", ".join(names[:SYMPTOMS_SHOWN]) + more


def headline_lines(lookup: AlarmsLookup, causes: PageCauses, page: str = "",
                   triggering: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """(the headline, for the top of the page; the line saying it could not be read, for the end)."""
    try:
        line = headline(lookup(causes.alarm_name_prefix), causes, page, triggering)
    except Exception as error:  # noqa: BLE001 - whatever fails here, the page goes out
        reason = (_error_code(error) or type(error).__name__) + f": {error}"
        return [], [f"_Alarms in ALARM could not be read_ ({reason[:200]})"]
    return ([line] if line else []), []


def format_message(subject: Optional[str], message: str, contributors: Optional[ContributorLookup] = None,
                   in_alarm: Optional[AlarmsLookup] = None, causes: Optional[PageCauses] = None) -> dict[str, Any]:
    """Slack payload for an SNS message: CloudWatch alarm JSON, or any other text as-is. With
    lookups, a composite's ALARM starts with its probable cause and what else is in ALARM, and names
    its triggering children's contributors in ALARM."""
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
        if state == "ALARM" and "AlarmRule" in alarm:
            top, unread = (headline_lines(in_alarm, causes, alarm["AlarmName"], triggering_alarm_names(alarm))
                           if in_alarm and causes else ([], []))
            named = contributor_lines(alarm, contributors) if contributors else []
            text = "\n".join([*top, text, *named, *unread])
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
    causes = page_causes(os.environ)
    for record in event.get("Records", []):
        sns = record.get("Sns", {})
        reads = CloudWatchReads()
        post(format_message(sns.get("Subject"), sns.get("Message", ""), reads.contributors, reads.alarms_in_alarm,
                            causes), _webhook())
        delivered += 1
    return {"delivered": delivered}
