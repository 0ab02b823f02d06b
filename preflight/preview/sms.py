"""The SMS sandbox advisory of the preflight summary and `--json`.

A new AWS account is in the SNS SMS sandbox: SMS reaches only verified numbers (up to 10) under a
$1/month spend quota (https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html); India also
wants a DLT-registered sender ID for local routes
(https://docs.aws.amazon.com/sms-voice/latest/userguide/registrations-sms-senderid-india.html).
The policy pack's sms-sandbox rule says the same in `pulumi preview`.
"""

from __future__ import annotations

from typing import Any

from preflight.model.stack import StackModel

STEPS = (
    "aws sns get-sms-sandbox-account-status --region {region}: while IsInSandbox is true only verified "
    "numbers (up to 10) get SMS, within $1 a month",
    "leave the sandbox: SNS console > Mobile > Text messaging (SMS) > Exit SMS sandbox (AWS Support case), "
    "and have the monthly SMS spend quota raised to cover paging",
    "India: register the entity and message templates on a TRAI DLT portal (Entity ID, Template IDs), then a "
    "transactional sender ID with those IDs in AWS End User Messaging SMS > Registrations (local routes only "
    "from ap-south-1 or ap-south-2)",
)


def sms_advisory(model: StackModel) -> dict[str, Any] | None:
    """How many SMS subscriptions, on which topics, and what to do; None when there are none."""
    topics = {t.name: len(t.sms_numbers) for t in model.topics if t.sms_numbers}
    if not topics:
        return None
    return {"subscriptions": sum(topics.values()), "topics": dict(sorted(topics.items())),
            "steps": [step.format(region=model.region) for step in STEPS]}


def sms_section(advisory: dict[str, Any] | None) -> str | None:
    if advisory is None:
        return None
    where = ", ".join(f"{name} ({count})" for name, count in advisory["topics"].items())
    lines = [f"SMS paging: {advisory['subscriptions']} SMS subscriptions on {where}; a new AWS account is in "
             "the SNS SMS sandbox, where these pages never arrive. Before relying on them:"]
    lines += [f"  {i}. {step}" for i, step in enumerate(advisory["steps"], 1)]
    return "\n".join(lines)
