"""The Slack forwarder handler: webhook read from an encrypted SSM parameter (moto server), posted locally."""

from __future__ import annotations

import json

import boto3
import pytest

from observability import slack_forwarder


def _alarm_event(state: str = "ALARM") -> dict:
    message = {
        "AlarmName": "production-payments-create-order-errors",
        "AlarmDescription": "Payment order creation is failing. Runbook: https://runbooks.hasivu.com/x",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 3 datapoints were greater than 5.0",
    }
    return {"Records": [{"Sns": {"Subject": "ALARM", "Message": json.dumps(message)}}]}


@pytest.fixture
def webhook_parameter(aws, http_endpoint, monkeypatch):
    url, recorder = http_endpoint
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/test/slack-webhook-url", Value=f"{url}/services/T/B/x", Type="SecureString",
                      Overwrite=True)
    monkeypatch.setenv("SLACK_WEBHOOK_PARAMETER", "/test/slack-webhook-url")
    monkeypatch.setattr(slack_forwarder, "_webhook_url", None)
    return recorder


def test_alarm_is_posted_to_the_webhook_from_the_secure_parameter(webhook_parameter):
    assert slack_forwarder.handler(_alarm_event(), None) == {"delivered": 1}
    [request] = webhook_parameter.requests
    assert request["path"] == "/services/T/B/x"
    text = json.loads(request["body"])["text"]
    assert ":rotating_light: *production-payments-create-order-errors* is *ALARM*" in text
    assert "Runbook: https://runbooks.hasivu.com/x" in text


def test_recovery_and_plain_budget_messages_are_formatted(webhook_parameter):
    slack_forwarder.handler(_alarm_event("OK"), None)
    budget = {"Records": [{"Sns": {"Subject": "AWS Budgets: daily-total", "Message": "You exceeded 80%"}}]}
    slack_forwarder.handler(budget, None)
    texts = [json.loads(r["body"])["text"] for r in webhook_parameter.requests]
    assert texts[0].startswith(":white_check_mark:")
    assert texts[1] == "*AWS Budgets: daily-total*\nYou exceeded 80%"


def test_a_failing_webhook_raises_so_lambda_retries(webhook_parameter):
    webhook_parameter.status = 500
    with pytest.raises(Exception, match="500"):
        slack_forwarder.handler(_alarm_event(), None)
