"""Recorded CloudWatch answers for what moto 5.2 does not implement: the alarm mute rule operations
(moto/cloudwatch/responses.py has no PutAlarmMuteRule, GetAlarmMuteRule, ListAlarmMuteRules or
DeleteAlarmMuteRule) and composite alarms in DescribeAlarms (DESIGN.md: moto lacks composite alarms).

Each answer is checked against the operation's output shape in botocore's service model, as
tests/support/moto_account.py's recordings are, and every request is checked against its input shape by
botocore itself before it is answered. The rules an account holds are kept here, so that `start`,
`status` and `stop` see each other's work as they would in one account.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

REGION = "ap-south-1"
ACCOUNT = "123456789012"
OPERATIONS = ("PutAlarmMuteRule", "GetAlarmMuteRule", "ListAlarmMuteRules", "DeleteAlarmMuteRule", "DescribeAlarms")


class MuteRuleAccount:
    """An account's mute rules and composite alarm states, answering the calls moto cannot."""

    def __init__(self, session: boto3.Session, now: dt.datetime, composite_alarms: bool = True) -> None:
        """`composite_alarms`: answer DescribeAlarms too (the pagers' states); otherwise it goes to moto."""
        self.session, self.now = session, now
        self.operations = OPERATIONS if composite_alarms else OPERATIONS[:-1]
        self.rules: dict[str, dict[str, Any]] = {}
        self.in_alarm: list[dict[str, Any]] = []  # DescribeAlarms' CompositeAlarms entries
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._model = session.client("cloudwatch", region_name=REGION).meta.service_model
        self._last: dict[str, Any] = {}
        # On the general events, as answer_from_recording registers: tests/support/moto_account.py's
        # record_operations (registered first there) still sees each call.
        session.events.register("before-parameter-build", self._parameters)
        session.events.register("before-call", self._answer)

    def hold(self, name: str, expression: str, duration: str, targets: list[str], status: str = "ACTIVE",
             description: str = "", timezone: str = "Asia/Kolkata") -> None:
        """A rule the account already has (GetAlarmMuteRule's answer)."""
        self.rules[name] = {
            "Name": name, "AlarmMuteRuleArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm-mute-rule:{name}",
            "Description": description, "Status": status, "LastUpdatedTimestamp": self.now,
            "MuteType": "ONE_TIME" if expression.startswith("at(") else "RECURRING",
            "Rule": {"Schedule": {"Expression": expression, "Duration": duration, "Timezone": timezone}},
            "MuteTargets": {"AlarmNames": targets},
        }

    def alarm(self, name: str, reason: str, **extra: Any) -> None:
        self.in_alarm.append({"AlarmName": name, "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
                              "StateValue": "ALARM", "StateReason": reason, **extra})

    def _parameters(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        """The call's parameters as the caller gave them (botocore then validates them against the input
        shape and serializes them; `before-call` sees only the serialized request)."""
        self._last = dict(params)

    def _answer(self, model: Any, **_: Any) -> Any:
        if model.service_model.service_name != "cloudwatch" or model.name not in self.operations:
            return None
        self.calls.append((model.name, self._last))
        response = self._response(model.name, self._last)
        output = self._model.operation_model(model.name).output_shape
        if output is not None:
            validate_parameters(response, output)  # raises when the recording does not match the model
        return AWSResponse(None, 200, {}, None), response

    def _response(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "PutAlarmMuteRule":
            schedule = request["Rule"]["Schedule"]
            self.hold(request["Name"], schedule["Expression"], schedule["Duration"],
                      request.get("MuteTargets", {}).get("AlarmNames", []), description=request.get("Description", ""),
                      timezone=schedule.get("Timezone", "UTC"))
            return {}
        if operation == "DeleteAlarmMuteRule":
            self.rules.pop(request["AlarmMuteRuleName"], None)  # "This operation is idempotent."
            return {}
        if operation == "GetAlarmMuteRule":
            return dict(self.rules[request["AlarmMuteRuleName"]])
        if operation == "ListAlarmMuteRules":
            wanted = set(request.get("Statuses") or ["SCHEDULED", "ACTIVE", "EXPIRED"])
            return {"AlarmMuteRuleSummaries": [
                {k: rule[k] for k in ("AlarmMuteRuleArn", "Status", "MuteType", "LastUpdatedTimestamp")}
                for rule in self.rules.values() if rule["Status"] in wanted]}
        names = set(request.get("AlarmNames") or [])
        return {"MetricAlarms": [], "CompositeAlarms": [a for a in self.in_alarm if a["AlarmName"] in names]}


_accounts = itertools.count(220000000001)


def oncall_session(endpoint: str, person: str) -> boto3.Session:
    """`person` signed in to the on-call role of an account no other test touches (moto keys state by it)."""
    account_id = next(_accounts)
    sts = boto3.client("sts", region_name="ap-south-1", endpoint_url=endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/oncall",
                                  RoleSessionName=person)["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name="ap-south-1")
