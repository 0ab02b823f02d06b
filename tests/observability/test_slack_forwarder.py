"""The Slack forwarder handler: webhook read from an encrypted SSM parameter (moto server), posted locally;
a pager's page names the contributors in ALARM of its triggering fleet alarm (DescribeAlarmContributors
on a loopback endpoint, tests/support/cloudwatch_contributors.py: moto lacks the call)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from components.slack_forwarder import TIMEOUT_SECONDS
from observability import slack_forwarder
from tests.observability.test_health_monitor_bounded import HungEndpoint
from tests.support.cloudwatch_contributors import composite_notification, contributor, contributors_endpoint
from tests.support.stack import by_name, props, run


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


def test_a_hung_ssm_fails_the_invocation_with_its_own_error_inside_the_lambda_timeout(aws, monkeypatch):
    hung = HungEndpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", hung.url)
    monkeypatch.setenv("SLACK_WEBHOOK_PARAMETER", "/test/slack-webhook-url")
    monkeypatch.setattr(slack_forwarder, "_webhook_url", None)
    try:
        start = time.monotonic()
        with pytest.raises(Exception, match=r"(?i)timeout"):
            slack_forwarder.handler(_alarm_event(), None)
        elapsed = time.monotonic() - start
    finally:
        hung.close()
    # A timeout error the logs name, not "Task timed out": Lambda's async retry delivers the page again.
    assert len(hung.connections) == 2
    assert elapsed < TIMEOUT_SECONDS - 1, elapsed


# -- a pager composite names the functions behind a fleet alarm (DescribeAlarmContributors) -------

FLEET_ALARM = "production-fleet-fleet-errors"


@pytest.fixture
def contributors(webhook_parameter, monkeypatch):
    """CloudWatch's DescribeAlarmContributors on a loopback endpoint; SSM stays on moto."""
    with contributors_endpoint() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", endpoint.url)
        slack_forwarder._cloudwatch.cache_clear()
        yield endpoint
    slack_forwarder._cloudwatch.cache_clear()


def _page(notification: dict) -> dict:
    return {"Records": [{"Sns": {"Subject": "ALARM: production-warning-pager", "Message": json.dumps(notification)}}]}


def _posted(recorder) -> str:
    [request] = recorder.requests
    return json.loads(request["body"])["text"]


def test_a_pager_page_names_the_failing_function_of_the_fleet_alarm(contributors, webhook_parameter):
    contributors.contributors[FLEET_ALARM] = [contributor("hasivu-fleet-menu-list-137")]
    contributors.errors["production-system-health"] = (404, "ResourceNotFoundException")
    children = [FLEET_ALARM, "production-db-cpu", "production-system-health"]
    slack_forwarder.handler(_page(composite_notification(children)), None)
    text = _posted(webhook_parameter)
    assert text.startswith(":rotating_light: *production-warning-pager* is *ALARM*")
    assert text.endswith(f"_In ALARM in {FLEET_ALARM}:_ FunctionName=hasivu-fleet-menu-list-137")
    # Each triggering child is asked; a plain metric alarm (no contributors) and a child without a
    # contributor list (ResourceNotFoundException) add no line.
    assert [r["AlarmName"] for r in contributors.requests] == children


def test_many_contributors_over_two_pages_show_the_first_ones_and_a_count(contributors, webhook_parameter):
    contributors.contributors[FLEET_ALARM] = [contributor(f"hasivu-fleet-menu-list-{i:03d}", i) for i in range(25)]
    contributors.page_size = 20
    notification = composite_notification([FLEET_ALARM], children_as_objects=False)  # as documented: ARNs
    slack_forwarder.handler(_page(notification), None)
    line = _posted(webhook_parameter).splitlines()[-1]
    shown = [f"FunctionName=hasivu-fleet-menu-list-{i:03d}" for i in range(slack_forwarder.CONTRIBUTORS_SHOWN)]
    assert line == f"_In ALARM in {FLEET_ALARM}:_ {', '.join(shown)} and 15 more"
    assert [r.get("NextToken") for r in contributors.requests] == [None, "20"]


def test_a_failing_lookup_still_posts_the_page_with_one_line_saying_so(contributors, webhook_parameter):
    contributors.errors[FLEET_ALARM] = (400, "AccessDeniedException")
    assert slack_forwarder.handler(_page(composite_notification([FLEET_ALARM])), None) == {"delivered": 1}
    text = _posted(webhook_parameter)
    assert "*production-warning-pager* is *ALARM*" in text
    assert text.splitlines()[-1].startswith(
        f"_Contributors in ALARM could not be read_ ({FLEET_ALARM}: AccessDeniedException: ")
    assert "FunctionName=" not in text


def test_a_hung_cloudwatch_costs_at_most_the_lookup_budget_and_the_page_goes_out(webhook_parameter, monkeypatch):
    hung = HungEndpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", hung.url)
    slack_forwarder._cloudwatch.cache_clear()
    try:
        start = time.monotonic()
        slack_forwarder.handler(_page(composite_notification([FLEET_ALARM, "production-db-cpu"])), None)
        elapsed = time.monotonic() - start
    finally:
        slack_forwarder._cloudwatch.cache_clear()
        hung.close()
    text = _posted(webhook_parameter)
    assert "_Contributors in ALARM could not be read_" in text and "timeout" in text.lower()
    # 2 attempts of 0.5 s connect + 1 s read, with backoff between them; the Lambda has 10 s.
    assert len(hung.connections) == 2
    assert elapsed < TIMEOUT_SECONDS / 2, elapsed


def test_metric_alarm_and_recovery_notifications_ask_nothing(contributors, webhook_parameter):
    slack_forwarder.handler(_alarm_event(), None)
    slack_forwarder.handler(_page(composite_notification([FLEET_ALARM], state="OK")), None)
    assert contributors.requests == []
    texts = [json.loads(r["body"])["text"] for r in webhook_parameter.requests]
    assert texts[0].endswith("_Reason:_ Threshold Crossed: 3 datapoints were greater than 5.0")
    assert texts[1].startswith(":white_check_mark: *production-warning-pager* is *OK*") and "In ALARM" not in texts[1]


def test_the_forwarder_may_read_contributors_of_this_environments_alarms_only():
    policy = json.loads(props(by_name(run(), "warning-alerts-slack-lambda-policy"))["policy"])
    granted = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    assert set(granted) == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                            "xray:PutTelemetryRecords", "ssm:GetParameter", "kms:Decrypt",
                            "cloudwatch:DescribeAlarmContributors"}
    assert granted["cloudwatch:DescribeAlarmContributors"] == (
        "arn:aws:cloudwatch:ap-south-1:123456789012:alarm:production-*")


def test_a_runtime_botocore_without_the_operation_still_posts_the_page(webhook_parameter, monkeypatch, tmp_path):
    """An older bundled botocore (Lambda's "Runtime-included SDK versions") lacks DescribeAlarmContributors:
    botocore's own model, with the operation taken out, loaded through AWS_DATA_PATH."""
    import gzip

    import botocore

    model_dir = tmp_path / "cloudwatch" / "2010-08-01"
    model_dir.mkdir(parents=True)
    bundled = Path(botocore.__file__).parent / "data" / "cloudwatch" / "2010-08-01" / "service-2.json.gz"
    model = json.loads(gzip.decompress(bundled.read_bytes()))
    del model["operations"]["DescribeAlarmContributors"]
    (model_dir / "service-2.json").write_text(json.dumps(model))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    slack_forwarder._cloudwatch.cache_clear()
    try:
        slack_forwarder.handler(_page(composite_notification([FLEET_ALARM])), None)
    finally:
        slack_forwarder._cloudwatch.cache_clear()
    assert _posted(webhook_parameter).splitlines()[-1] == (
        f"_Contributors in ALARM could not be read_ ({FLEET_ALARM}: RuntimeError: this runtime's botocore "
        f"{botocore.__version__} has no DescribeAlarmContributors)")
