"""The three alert tiers: topics encrypted with the one rotating alert key, exact policies, subscriptions."""

from __future__ import annotations

import json

from tests.support.stack import by_name, of_type, props, run

PUBLISHERS = {"cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"}
TIERS = ("critical", "warning", "business")


def _statement(policy: str, sid: str) -> dict:
    return next(s for s in json.loads(policy)["Statement"] if s["Sid"] == sid)


def test_three_tier_topics_encrypted_with_the_one_rotating_alert_key():
    result = run()
    tiers = of_type(result, "hasivu:monitoring:AlarmTier")
    assert sorted(t.name for t in tiers) == sorted(f"{t}-alerts" for t in TIERS)
    key = by_name(result, "alerts-key")
    assert key.parent == by_name(result, "alerts").urn
    assert props(key)["enableKeyRotation"] is True
    assert props(by_name(result, "alerts-key-alias"))["name"] == "alias/production-hasivu-alerts"
    for tier in TIERS:
        topic = by_name(result, f"{tier}-alerts-topic")
        assert props(topic)["name"] == f"production-hasivu-{tier}-alerts"
        # Encrypted with the alert key, whose policy lets the publishers use it; not alias/aws/sns.
        assert topic.property_dependencies["kmsMasterKeyId"] == [key.urn]
        assert props(topic)["kmsMasterKeyId"].startswith("arn:aws:kms:")


def test_key_policy_lets_exactly_the_alert_publishers_use_the_key():
    policy = props(by_name(run(), "alerts-key"))["policy"]
    grant = _statement(policy, "AlertPublishersUseKey")
    assert set(grant["Principal"]["Service"]) == PUBLISHERS
    assert set(grant["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    admin = _statement(policy, "AccountAdministersKey")
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert len(json.loads(policy)["Statement"]) == 2


def test_topic_policy_lets_the_publishers_publish_only_for_this_account():
    result = run()
    for tier in TIERS:
        policy = props(by_name(result, f"{tier}-alerts-topic-policy"))["policy"]
        grant = _statement(policy, "AlertPublishersPublish")
        assert set(grant["Principal"]["Service"]) == PUBLISHERS
        assert grant["Action"] == "sns:Publish"
        assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        assert grant["Resource"].endswith(f"production-hasivu-{tier}-alerts")


def _subscriptions(result, tier: str) -> list[tuple[str, object]]:
    prefix = "urn:pulumi:production::hasivu-monitoring::hasivu:monitoring:AlarmTier$"
    subs = [
        r for r in of_type(result, "aws:sns/topicSubscription:TopicSubscription")
        if r.urn.startswith(prefix) and r.name.startswith(f"{tier}-alerts-")
    ]
    return sorted((props(s)["protocol"], props(s)["endpoint"]) for s in subs)


def test_critical_tier_pages_by_sms_pagerduty_and_email():
    result = run()
    assert _subscriptions(result, "critical") == [
        ("email", "oncall@hasivu.com"),
        ("https", "[secret]"),
        ("sms", "+919800000001"),
        ("sms", "+919800000002"),
    ]
    pagerduty = by_name(result, "critical-alerts-pagerduty")
    assert pagerduty.additional_secret_outputs == ["endpoint"]


def test_warning_tier_mails_and_forwards_to_slack_through_an_encrypted_parameter():
    result = run()
    subs = _subscriptions(result, "warning")
    assert ("email", "ops@hasivu.com") in subs
    assert [p for p, _ in subs].count("lambda") == 1
    parameter = props(by_name(result, "warning-alerts-slack-webhook"))
    assert parameter["type"] == "SecureString"
    assert parameter["value"] == "[secret]"
    assert by_name(result, "warning-alerts-slack-webhook").property_dependencies["keyId"] == [
        by_name(result, "alerts-key").urn
    ]
    function = props(by_name(result, "warning-alerts-slack-lambda-function"))
    variables = function["environment"]["variables"]
    # The parameter's name, and which alarms a page names first (tests/observability/test_slack_forwarder.py).
    assert set(variables) == {"SLACK_WEBHOOK_PARAMETER", "HASIVU_PAGE_CAUSES"}
    assert "hooks.slack.com" not in json.dumps(function)
    assert function["tracingConfig"] == {"mode": "Active"}


def test_business_tier_mails_only():
    assert _subscriptions(run(), "business") == [
        ("email", "business-ops@hasivu.com"),
        ("email", "finance@hasivu.com"),
    ]


def test_staging_delivers_slack_through_chatbot_ids():
    result = run("staging")
    chatbot = props(by_name(result, "warning-alerts-slack"))
    assert chatbot["slackTeamId"] == "T0HASIVU01"
    assert chatbot["slackChannelId"] == "C0STAGING01"
    # No webhook parameter (the only SSM parameter is the runtime library's pseudonym key).
    assert [props(p)["name"] for p in of_type(result, "aws:ssm/parameter:Parameter")] == [
        "/staging/hasivu-monitoring/pseudonym-key"]


def test_every_tier_child_is_parented_to_its_component():
    result = run()
    tier_urns = {r.urn for r in of_type(result, "hasivu:monitoring:AlarmTier")}
    children = [r for r in result.registrations if r.parent in tier_urns]
    assert len(children) >= 3 * 4
    for child in children:
        assert "hasivu:monitoring:AlarmTier$" in child.urn
    for tier in TIERS:
        for role in ("topic", "topic-policy"):
            assert by_name(result, f"{tier}-alerts-{role}").parent in tier_urns
