"""Lambda handler: SNS alert -> Slack incoming webhook.

The webhook URL lives in an SSM SecureString parameter whose name is the only thing in the
environment; it is read with decryption once per container and never logged.
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any, Optional

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=2, read_timeout=5)
_STATE_EMOJI = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:", "INSUFFICIENT_DATA": ":grey_question:"}
_webhook_url: Optional[str] = None


def _webhook() -> str:
    global _webhook_url
    if _webhook_url is None:
        ssm = boto3.client("ssm", config=_RETRIES)
        response = ssm.get_parameter(Name=os.environ["SLACK_WEBHOOK_PARAMETER"], WithDecryption=True)
        _webhook_url = response["Parameter"]["Value"]
    return _webhook_url


def format_message(subject: Optional[str], message: str) -> dict[str, Any]:
    """Slack payload for an SNS message: CloudWatch alarm JSON, or any other text as-is."""
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
        post(format_message(sns.get("Subject"), sns.get("Message", "")), _webhook())
        delivered += 1
    return {"delivered": delivered}
