"""SMS paging: what the SNS SMS sandbox does to it, and that it never pages alone.

A new account sends SMS only to verified numbers (up to 10) under a $1/month spend quota
(https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html), so an on-call number that
was never verified gets nothing; India adds sender-ID and template registration on a TRAI DLT
portal (https://docs.aws.amazon.com/sms-voice/latest/userguide/registrations-sms-senderid-india.html).
"""

from __future__ import annotations

from urllib.parse import urlparse

from pulumi_policy import ReportViolation, StackValidationArgs

from hasivu_policy.stack import Resource, StackIndex
from hasivu_policy.values import is_unknown

SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
# Channels that reach a person without the SMS sandbox in the way.
EMAIL_PROTOCOLS = ("email", "email-json")
PAGERDUTY_HOSTS = ("events.pagerduty.com", "events.eu.pagerduty.com")

SANDBOX_STEPS = (
    "Fix, before relying on them: (1) `aws sns get-sms-sandbox-account-status` in the stack's region; while "
    "IsInSandbox is true only verified numbers (up to 10) receive SMS, under a $1/month spend quota. "
    "(2) Leave the sandbox: SNS console > Mobile > Text messaging (SMS) > Exit SMS sandbox (an AWS Support "
    "case for production access), and request a monthly SMS spend quota that covers the paging volume, then "
    "set it in the SMS preferences. (3) India: register the entity and each message template on a TRAI DLT "
    "portal (Entity ID, Template IDs), then register a transactional sender ID (3-6 letters) with those IDs "
    "in AWS End User Messaging SMS > Registrations (local routes only from ap-south-1 or ap-south-2); "
    "without it messages go over international routes from a random numeric sender, at a higher price."
)


def _sms_topics(index: StackIndex) -> dict[str, tuple[Resource, list[Resource]]]:
    """topic URN -> (topic, its subscriptions), for topics with at least one SMS subscription."""
    by_topic: dict[str, tuple[Resource, list[Resource]]] = {}
    for subscription in index.of_type(SUBSCRIPTION):
        for topic in index.topics_reached(subscription, "topic", [subscription.props.get("topic")]):
            by_topic.setdefault(topic.urn, (topic, []))[1].append(subscription)
    return {urn: entry for urn, entry in by_topic.items()
            if any(s.props.get("protocol") == "sms" for s in entry[1])}


def _topic_name(topic: Resource) -> str:
    name = topic.props.get("name")
    return name if isinstance(name, str) else topic.name


def validate_sms_sandbox(args: StackValidationArgs, report: ReportViolation) -> None:
    topics = _sms_topics(StackIndex(args.resources))
    if not topics:
        return
    count = sum(s.props.get("protocol") == "sms" for _, subs in topics.values() for s in subs)
    names = ", ".join(sorted(_topic_name(t) for t, _ in topics.values()))
    report(f"{count} SMS subscription(s) on {names}: a new AWS account is in the SNS SMS sandbox and these "
           f"pages never arrive. {SANDBOX_STEPS}")


def _pages_a_person(subscription: Resource) -> bool:
    protocol = subscription.props.get("protocol")
    if protocol in EMAIL_PROTOCOLS:
        return True
    if protocol == "https":
        endpoint = subscription.props.get("endpoint")
        # A secret endpoint unknown during preview is still the https pager the program subscribed.
        return is_unknown(endpoint) or (isinstance(endpoint, str) and urlparse(endpoint).hostname in PAGERDUTY_HOSTS)
    return False


def validate_sms_not_alone(args: StackValidationArgs, report: ReportViolation) -> None:
    for topic, subscriptions in _sms_topics(StackIndex(args.resources)).values():
        if not any(_pages_a_person(s) for s in subscriptions):
            report(f"{topic.label()} pages only by SMS, which the SNS SMS sandbox, spend quota or DLT "
                   "filtering can silently drop. Fix: add an email or a PagerDuty subscription to the tier "
                   "(alerting.<tier>.emails or pagerduty: true).", topic.urn)
