"""After `pulumi up`: alarms that never saw data, actions to deleted topics, pages nobody receives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from preflight.account.findings import Finding, Level, guarded
from preflight.account.session import Account
from preflight.model.stack import StackModel

STUCK_AFTER = timedelta(days=1)
# DescribeAlarms takes at most 100 names per call (CloudWatch API Reference, DescribeAlarms).
NAMES_PER_CALL = 100
# ListSubscriptionsByTopic shows an unconfirmed subscription with this in place of its ARN.
PENDING = "PendingConfirmation"
# Without a MonthlySpendLimit attribute the account's SMS spend is capped at the default 1 USD.
DEFAULT_SMS_SPEND_LIMIT_USD = 1.0


def deployed_alarms(account: Account, model: StackModel) -> list[dict[str, Any]]:
    names = [a.name for a in model.alarms] + [c.name for c in model.composites]
    found: list[dict[str, Any]] = []
    paginator = account.client("cloudwatch").get_paginator("describe_alarms")
    for start in range(0, len(names), NAMES_PER_CALL):
        for page in paginator.paginate(AlarmNames=names[start:start + NAMES_PER_CALL],
                                       AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            found += page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
    return found


def check_alarm_states(alarms: list[dict[str, Any]], now: datetime) -> list[Finding]:
    findings = []
    for alarm in alarms:
        # When StateValue last changed (StateUpdatedTimestamp also moves with the evaluation state).
        since = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
        if alarm["StateValue"] == "INSUFFICIENT_DATA" and since and now - since > STUCK_AFTER:
            days = (now - since).days
            findings.append(Finding(
                Level.WARNING, "alarm state", alarm["AlarmName"],
                f"INSUFFICIENT_DATA for {days} day{'s' if days != 1 else ''}: it sees no datapoints",
                "compare its metric and dimensions with the metric check above; fix the alarm or the publisher"))
    return findings


def check_alarm_actions(account: Account, alarms: list[dict[str, Any]], existing: set[str]) -> list[Finding]:
    own_prefix = account.topic_arn("")
    findings = []
    for alarm in alarms:
        actions = {*alarm.get("AlarmActions", []), *alarm.get("OKActions", []),
                   *alarm.get("InsufficientDataActions", [])}
        for action in sorted(a for a in actions if a.startswith(own_prefix) and a not in existing):
            findings.append(Finding(
                Level.BLOCKING, "alarm actions", alarm["AlarmName"],
                f"notifies {action}, which no longer exists: its notifications go nowhere",
                "run `pulumi up` for this stack so the alarm points at its tier topic again"))
    return findings


def check_subscriptions(account: Account, model: StackModel, existing: set[str]) -> list[Finding]:
    sns = account.client("sns")
    findings = []
    for topic in model.topics:
        arn = account.topic_arn(topic.name)
        if arn not in existing:
            continue
        subscriptions = [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
                         for s in page["Subscriptions"]]
        pending = [s for s in subscriptions if s["SubscriptionArn"] == PENDING]
        if not pending:
            continue
        who = ", ".join(f"{s['Protocol']}:{s['Endpoint']}" for s in pending)
        confirmed = len(subscriptions) - len(pending)
        findings.append(Finding(
            Level.BLOCKING if confirmed == 0 else Level.WARNING, "subscriptions", f"tier {topic.tier}",
            f"{len(pending)} of {len(subscriptions)} subscriptions pending confirmation ({who})"
            + ("; nobody receives this tier's pages" if confirmed == 0 else ""),
            "each recipient confirms from the 'AWS Notification - Subscription Confirmation' message; if it "
            f"expired: `aws sns subscribe --topic-arn {arn} --protocol PROTOCOL --notification-endpoint ADDRESS`"))
    return findings


def check_sms(account: Account, model: StackModel) -> list[Finding]:
    numbers = [n for t in model.topics for n in t.sms_numbers]
    sns = account.client("sns")
    in_sandbox = sns.get_sms_sandbox_account_status()["IsInSandbox"]
    limit_text = sns.get_sms_attributes(attributes=["MonthlySpendLimit"]).get("attributes", {}).get(
        "MonthlySpendLimit")
    limit = float(limit_text) if limit_text else DEFAULT_SMS_SPEND_LIMIT_USD
    subject = f"{len(numbers)} SMS subscription{'s' if len(numbers) != 1 else ''} in the stack"
    findings = []
    if in_sandbox and numbers:
        pages = sns.get_paginator("list_sms_sandbox_phone_numbers").paginate()
        verified = {n["PhoneNumber"] for page in pages for n in page["PhoneNumbers"] if n["Status"] == "Verified"}
        unverified = sorted(set(numbers) - verified)
        reach = (f"texts to {', '.join(unverified)} go nowhere (not verified sandbox numbers)" if unverified
                 else "texts reach the stack's numbers (all verified) and no others")
        findings.append(Finding(
            Level.BLOCKING if unverified else Level.WARNING, "sms", subject,
            f"the account is in the SNS SMS sandbox: {reach}",
            "verify the numbers in the sandbox, or leave it: SNS console > Text messaging (SMS) > Exit SMS "
            "sandbox (a support case), then a TRAI DLT entity and sender ID for Indian numbers"))
    if numbers and limit <= DEFAULT_SMS_SPEND_LIMIT_USD:
        findings.append(Finding(
            Level.WARNING, "sms", subject,
            f"monthly SMS spend limit is {limit:g} USD: texts stop once it is spent",
            "raise it: `aws sns set-sms-attributes --attributes MonthlySpendLimit=<USD>` (after a quota increase)"))
    findings.append(Finding(Level.INFO, "sms", "account",
                            f"SMS sandbox: {'yes' if in_sandbox else 'no'}; monthly spend limit {limit:g} USD"))
    return findings


def check_delivery_failures(account: Account, model: StackModel, existing: set[str], now: datetime) -> list[Finding]:
    """NumberOfNotificationsFailed (AWS/SNS, per TopicName) summed over the last day."""
    topics = [t for t in model.topics if account.topic_arn(t.name) in existing]
    if not topics:
        return []
    queries = [{
        "Id": f"t{i}",
        "MetricStat": {"Metric": {"Namespace": "AWS/SNS", "MetricName": "NumberOfNotificationsFailed",
                                  "Dimensions": [{"Name": "TopicName", "Value": t.name}]},
                       "Period": 86400, "Stat": "Sum"},
    } for i, t in enumerate(topics)]
    result = account.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(days=1), EndTime=now)
    failed = {r["Id"]: sum(r.get("Values", [])) for r in result["MetricDataResults"]}
    findings = []
    for i, topic in enumerate(topics):
        if failed.get(f"t{i}", 0) > 0:
            findings.append(Finding(
                Level.WARNING, "delivery", f"tier {topic.tier} ({topic.name})",
                f"{failed[f't{i}']:g} notifications failed to deliver in the last day",
                "enable SNS delivery status logging for the failing protocol and read its CloudWatch Logs"))
    return findings


def check_after_deploy(account: Account, model: StackModel, now: datetime) -> list[Finding]:
    """Runs when the stack's alarms exist in the account: otherwise there is nothing deployed to check."""
    alarms = deployed_alarms(account, model)
    if not alarms:
        return [Finding(Level.INFO, "deploy", model.stack,
                        "none of the stack's alarms exist in the account yet: after-deploy checks skipped")]
    existing = account.topic_arns
    return (guarded("alarm state", lambda: check_alarm_states(alarms, now))
            + guarded("alarm actions", lambda: check_alarm_actions(account, alarms, existing))
            + guarded("subscriptions", lambda: check_subscriptions(account, model, existing))
            + guarded("delivery", lambda: check_delivery_failures(account, model, existing, now)))
