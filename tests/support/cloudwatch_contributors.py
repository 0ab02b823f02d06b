"""A loopback CloudWatch endpoint that answers DescribeAlarmContributors, which moto 5.2 lacks
(moto/cloudwatch/responses.py has no describe_alarm_contributors), and DescribeAlarms where a test
needs what moto does not do: pages of MaxRecords with NextToken, or an error.

It speaks the protocol botocore 1.44 chooses for CloudWatch among the model's `protocols` (seen on
the wire: awsJson1_0, `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.<Operation>`,
`Content-Type: application/x-amz-json-1.0`, errors as `{"__type": ..., "message": ...}`), and sends
recorded answers that are first validated against the operation's output shape (as botocore's
Stubber validates), so the forwarder's client parses what AWS could send.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import botocore.session
from botocore.validate import validate_parameters

from tests.conftest import QuietServer

OPERATION = "DescribeAlarmContributors"
TARGET = f"GraniteServiceVersion20100801.{OPERATION}"
ALARMS_TARGET = "GraniteServiceVersion20100801.DescribeAlarms"
_SERVICE = botocore.session.get_session().get_service_model("cloudwatch")
_MODEL = _SERVICE.operation_model(OPERATION)
_ALARMS_MODEL = _SERVICE.operation_model("DescribeAlarms")


def contributor(function: str, index: int = 0) -> dict[str, Any]:
    """One AlarmContributor of a `GROUP BY FunctionName` alarm (API_AlarmContributor.html)."""
    return {"ContributorId": f"c{index:015d}"[:16], "ContributorAttributes": {"FunctionName": function},
            "StateReason": "Threshold Crossed: 3 out of the last 5 datapoints were greater than the threshold (5.0)."}


class ContributorsEndpoint:
    """Answers per alarm name: its contributors (`page_size` a page, with NextToken), or an error."""

    def __init__(self) -> None:
        self.contributors: dict[str, list[dict[str, Any]]] = {}
        self.errors: dict[str, tuple[int, str]] = {}
        self.page_size = 100
        # DescribeAlarms: the metric alarms (MetricAlarms items), or the error every call gets.
        self.alarms: list[dict[str, Any]] = []
        self.alarms_error: tuple[int, str] | None = None
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                params = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.requests.append(params)
                status, answer = server.answer(self.headers.get("X-Amz-Target", ""), params)
                encoded = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *_: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, target: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if target == ALARMS_TARGET:
            return self.answer_alarms(params)
        if target != TARGET:
            return 400, {"__type": "UnknownOperationException", "message": target}
        name = params.get("AlarmName", "")
        if name in self.errors:
            status, code = self.errors[name]
            return status, {"__type": f"com.amazonaws.cloudwatch#{code}", "message": f"{code} for {name}"}
        start = int(params.get("NextToken") or 0)
        items = self.contributors.get(name, [])
        response: dict[str, Any] = {"AlarmContributors": items[start:start + self.page_size]}
        if start + self.page_size < len(items):
            response["NextToken"] = str(start + self.page_size)
        validate_parameters(response, _MODEL.output_shape)  # raises when the answer is not what AWS could send
        return 200, response

    def answer_alarms(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """DescribeAlarms as its API reference words the filters: names starting with AlarmNamePrefix,
        in StateValue, at most MaxRecords a page (API_DescribeAlarms.html)."""
        if self.alarms_error is not None:
            status, code = self.alarms_error
            return status, {"__type": f"com.amazonaws.cloudwatch#{code}", "message": f"{code} for DescribeAlarms"}
        found = [a for a in self.alarms if a["AlarmName"].startswith(params.get("AlarmNamePrefix", ""))
                 and a.get("StateValue") == params.get("StateValue", a.get("StateValue"))]
        start, size = int(params.get("NextToken") or 0), int(params.get("MaxRecords") or 50)
        response: dict[str, Any] = {"MetricAlarms": [dict(a) for a in found[start:start + size]]}
        if start + size < len(found):
            response["NextToken"] = str(start + size)
        validate_parameters(response, _ALARMS_MODEL.output_shape)
        # On the wire a timestamp is epoch seconds in this protocol.
        for alarm in response["MetricAlarms"]:
            for key in ("StateUpdatedTimestamp", "StateTransitionedTimestamp"):
                if key in alarm:
                    alarm[key] = alarm[key].timestamp()
        return 200, response

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def contributors_endpoint() -> Iterator[ContributorsEndpoint]:
    endpoint = ContributorsEndpoint()
    try:
        yield endpoint
    finally:
        endpoint.close()


def composite_notification(triggering: list[str], account: str = "123456789012", state: str = "ALARM",
                           region: str = "ap-south-1", name: str = "production-warning-pager",
                           children_as_objects: bool = True) -> dict[str, Any]:
    """A pager composite's SNS message: the documented fields ("Schema when a composite alarm changes
    state", Notify_Users_Alarm_Changes.html) with TriggeringChildren as CloudWatch sends them
    (objects with Arn and State; the page documents [String], `children_as_objects=False`)."""
    arns = [f"arn:aws:cloudwatch:{region}:{account}:alarm:{child}" for child in triggering]
    children: list[Any] = ([{"Arn": arn, "State": {"Value": "ALARM", "Timestamp": "2026-07-01T13:48:00.000+0000"}}
                            for arn in arns] if children_as_objects else arns)
    reason = f"{arns[0]} transitioned to ALARM at Wednesday 01 July, 2026 13:48:00 UTC" if arns else ""
    return {"AlarmName": name, "AlarmDescription": "Pages the warning tier once per incident.",
            "AWSAccountId": account, "NewStateValue": state, "NewStateReason": reason,
            "StateChangeTime": "2026-07-01T13:48:00.000+0000", "Region": "Asia Pacific (Mumbai)",
            "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}", "OKActions": [], "AlarmActions": [],
            "InsufficientDataActions": [], "OldStateValue": "OK",
            "AlarmRule": " OR ".join(f'ALARM("{child}")' for child in triggering), "TriggeringChildren": children}
