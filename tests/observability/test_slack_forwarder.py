"""The Slack forwarder handler: webhook read from an encrypted SSM parameter (moto server), posted locally;
a pager's page names the contributors in ALARM of its triggering fleet alarm (DescribeAlarmContributors
on a loopback endpoint, tests/support/cloudwatch_contributors.py: moto lacks the call), and starts with
its probable cause, from the alarms in ALARM (DescribeAlarms on moto, and on the loopback endpoint for
pages of answers and errors)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import time
from pathlib import Path

import boto3
import pytest

from components.slack_forwarder import TIMEOUT_SECONDS
from observability import slack_forwarder
from observability.page_causes import PAGE_CAUSES, PageCauses, page_causes
from tests.observability.test_health_monitor_bounded import HungEndpoint
from tests.support.cloudwatch_contributors import composite_notification, contributor, contributors_endpoint
from tests.support.stack import by_name, inventory_section, of_type, props, run


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
    monkeypatch.setenv(PAGE_CAUSES, PageCauses("production-", CAUSES).variable())
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
    assert text.startswith(":rotating_light: *production-warning-pager* is *ALARM*")
    assert "_Contributors in ALARM could not be read_" in text and "timeout" in text.lower()
    assert text.splitlines()[-1].startswith("_Alarms in ALARM could not be read_ (")
    # 2 attempts of 0.5 s connect + 1 s read, with backoff between them; the Lambda has 10 s. The
    # alarms are asked first; once CloudWatch did not answer, the contributors are not asked again.
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
                            "cloudwatch:DescribeAlarmContributors", "cloudwatch:DescribeAlarms"}
    # DescribeAlarms scoped narrower than `*` lists metric alarms only (API_DescribeAlarms.html), all
    # the forwarder asks for.
    for action in ("cloudwatch:DescribeAlarmContributors", "cloudwatch:DescribeAlarms"):
        assert granted[action] == "arn:aws:cloudwatch:ap-south-1:123456789012:alarm:production-*"


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


# -- a page names its probable cause first (DescribeAlarms) ---------------------------------------

CAUSES = {"production-database-connectivity": "Database unreachable",
          "production-cache-connectivity": "Redis unreachable"}


def _put_alarm(cloudwatch, name: str, state: str) -> None:
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace="HASIVU/Health", MetricName="DependencyHealthy",
                                Statistic="Minimum", Period=60, EvaluationPeriods=3, Threshold=1,
                                ComparisonOperator="LessThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="drilled")


def test_the_page_starts_with_the_causes_in_alarm_then_the_other_alarms_earliest_first(
        aws, webhook_parameter, monkeypatch):
    """moto answers DescribeAlarms (moto/cloudwatch/responses.py describe_alarms). Each environment
    of a test run gets its own prefix: moto's alarms outlive the test."""
    env = f"cause{time.time_ns()}"
    causes = {f"{env}-database-connectivity": "Database unreachable", f"{env}-cache-connectivity": "Redis unreachable"}
    monkeypatch.setenv(PAGE_CAUSES, PageCauses(f"{env}-", causes).variable())
    monkeypatch.setattr(slack_forwarder, "_cloudwatch", functools.cache(lambda: boto3.client("cloudwatch")))
    cloudwatch = boto3.client("cloudwatch")
    # Entering ALARM in this order: symptoms first, the causes after them, the cache before the database.
    for name, state in [("auth-login-errors", "ALARM"), ("api-5xx-rate", "ALARM"), ("menu-list-errors", "OK"),
                        ("cache-connectivity", "ALARM"), ("database-connectivity", "ALARM"),
                        ("database-cpu", "INSUFFICIENT_DATA")]:
        _put_alarm(cloudwatch, f"{env}-{name}", state)
        time.sleep(0.01)
    _put_alarm(cloudwatch, f"other{env}-cache-connectivity", "ALARM")  # another environment's
    notification = composite_notification([f"{env}-cache-connectivity"], name=f"{env}-critical-redis-pager")
    slack_forwarder.handler(_page(notification), None)
    lines = _posted(webhook_parameter).splitlines()
    # The causes in the order the program lists them, then the others in the order they entered ALARM;
    # alarms not in ALARM (moto ignores StateValue beside AlarmNamePrefix) and other environments' are not named.
    assert lines[0] == (f":mag: *Probable cause:* Database unreachable ({env}-database-connectivity), "
                        f"Redis unreachable ({env}-cache-connectivity) -> auth-login-errors, api-5xx-rate")
    assert lines[1] == f":rotating_light: *{env}-critical-redis-pager* is *ALARM*"


def _symptom(name: str, minute: int) -> dict:
    stamp = dt.datetime(2026, 7, 1, 8, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
    return {"AlarmName": name, "StateValue": "ALARM", "StateUpdatedTimestamp": stamp,
            "StateTransitionedTimestamp": stamp}


def test_without_a_cause_in_alarm_the_page_lists_the_alarms_in_alarm_over_several_answers(
        contributors, webhook_parameter, monkeypatch):
    monkeypatch.setenv(PAGE_CAUSES, PageCauses("production-", CAUSES).variable())
    # Named in one order, entered ALARM in the other: the page's own trigger (fn-000, the latest) first, then
    # fn-149, the earliest.
    contributors.alarms = [_symptom(f"production-fn-{i:03d}-errors", 150 - i) for i in range(150)]
    slack_forwarder.handler(_page(composite_notification(["production-fn-000-errors"])), None)
    first = _posted(webhook_parameter).splitlines()[0]
    earliest = [f"fn-{i:03d}-errors" for i in range(149, 149 - slack_forwarder.SYMPTOMS_SHOWN + 1, -1)]
    assert first == (f":mag: *In ALARM:* fn-000-errors, {', '.join(earliest)} "
                     f"and {150 - slack_forwarder.SYMPTOMS_SHOWN} more")
    alarm_requests = [r for r in contributors.requests if "AlarmNamePrefix" in r]
    assert [(r["AlarmNamePrefix"], r["StateValue"], r.get("NextToken")) for r in alarm_requests] == [
        ("production-", "ALARM", None), ("production-", "ALARM", "100")]


def test_a_failing_describe_alarms_still_posts_todays_page(contributors, webhook_parameter, monkeypatch):
    """Every DescribeAlarms answered 500: botocore's standard mode retries it once, then the page is
    what it would have been without the headline, with one line saying the alarms could not be read."""
    contributors.contributors[FLEET_ALARM] = [contributor("hasivu-fleet-menu-list-137")]
    page = _page(composite_notification([FLEET_ALARM]))
    slack_forwarder.handler(page, None)  # a forwarder deployed before it was told the causes
    today = _posted(webhook_parameter)
    webhook_parameter.requests.clear()
    monkeypatch.setenv(PAGE_CAUSES, PageCauses("production-", CAUSES).variable())
    contributors.alarms_error = (500, "InternalServiceFault")
    assert slack_forwarder.handler(page, None) == {"delivered": 1}
    lines = _posted(webhook_parameter).splitlines()
    assert lines[:-1] == today.splitlines()
    assert lines[-1].startswith("_Alarms in ALARM could not be read_ (InternalServiceFault: ")
    assert len([r for r in contributors.requests if "AlarmNamePrefix" in r]) == 2


def test_the_forwarder_is_told_the_stacks_causes_in_order_in_a_small_variable():
    result = run()
    function = by_name(result, "warning-alerts-slack-lambda-function")
    value = props(function)["environment"]["variables"][PAGE_CAUSES]
    alarms = {props(r)["name"] for r in of_type(result, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(json.loads(value)["causes"]) <= alarms  # each one an alarm the program registers
    # Dependencies before the health checks that their outage also fails (components/alarms/catalogue.py).
    assert json.loads(value) == {"alarmNamePrefix": "production-", "causes": {
        "production-database-connectivity": "Database unreachable",
        "production-cache-connectivity": "Redis unreachable",
        "production-payments-connectivity": "Razorpay unreachable",
        # Answering, but slowly: after every dependency that does not answer.
        "production-db-read-latency": "Database slow", "production-db-write-latency": "Database slow",
        "production-db-replica-read-latency": "Database slow", "production-db-replica-write-latency": "Database slow",
        "production-cache-slow": "Redis slow",
        "production-payments-gateway-slow": "Razorpay slow",
        "production-platform-health-score": "Health checks failing",
        "production-platform-health-monitor-silent": "Health monitor silent",
        # Holds, never listed on a page (an empty label).
        "production-database-down-recently": "", "production-cache-down-recently": "",
        "production-payments-down-recently": ""},
        # The SLOs' burn-rate windows: a page names the pair that pages among its own members.
        "unlisted": ["production-slo-"],
        # A dependency explains no page of a scope whose flows do not use it: Razorpay neither the database's
        # nor the cache's nor the readers' warnings; Redis only the API's (logins and menus); the database
        # everything but the cache's own. None explains the readers' heartbeats (their school-day pager).
        "unrelated": {
            **{name: ["redis", "rfid-school-day"] for name in [
                "production-db-read-latency", "production-db-write-latency", "production-db-replica-read-latency",
                "production-db-replica-write-latency", "production-database-connectivity"]},
            **{name: ["database", "payments", "rfid", "rfid-school-day"] for name in [
                "production-cache-connectivity", "production-cache-slow"]},
            **{name: ["database", "redis", "rfid", "rfid-school-day"] for name in [
                "production-payments-connectivity", "production-payments-gateway-slow"]}},
        # What a failing dependency brings about too: not named when only unrelated dependencies fail.
        "following": ["production-platform-health-score", "production-platform-health-monitor-silent"],
        # Whose alarms are whose, for those scopes: an alarm is its scope's when its name (less the prefix)
        # starts with one of these, then "-". The payments jobs' error rates page through the jobs pager,
        # but they are payments' alarms all the same. The readers' heartbeat alarms (`rfid-reader-<id>-silent`)
        # are the readers' pager's; the RFID functions' alarms, the heartbeat function's included, the RFID
        # scope's.
        "scopes": {"database": ["db", "database"], "payments": ["payments"], "redis": ["cache"],
                   "rfid": ["rfid-verify-card", "rfid-register-card", "rfid-reader-heartbeat"],
                   "rfid-school-day": ["rfid"]}}
    slo_windows = sorted(name for name in alarms if name.startswith("production-slo-"))
    assert slo_windows, "the production stack alarms on its SLOs' burn rates"
    in_alarm = [{"AlarmName": name, "StateValue": "ALARM"} for name in
                ["production-cache-connectivity", slo_windows[0], "production-auth-login-errors"]]
    assert slack_forwarder.headline(in_alarm, page_causes({PAGE_CAUSES: value})) == \
        f"{slack_forwarder.PROBABLE_CAUSE} Redis unreachable (production-cache-connectivity) -> auth-login-errors"
    # Lambda allows 4 KB of environment variables in all (Lambda quotas); the others take a few dozen bytes.
    assert len(value) < 2048
    # Razorpay down while the database's CPU runs hot: the database's page blames neither Razorpay nor the
    # health score Razorpay's failed checks lower; the payments' page names both, and lists the database's
    # CPU apart: Razorpay does not explain it, and the health score follows from the alarms, it explains none.
    causes = page_causes({PAGE_CAUSES: value})
    hot = [{"AlarmName": name, "StateValue": "ALARM"} for name in
           ["production-payments-connectivity", "production-platform-health-score", "production-db-cpu"]]
    assert slack_forwarder.headline(hot, causes, "production-warning-database-pager") == \
        f"{slack_forwarder.IN_ALARM} db-cpu"
    assert slack_forwarder.headline(hot, causes, "production-critical-payments-pager") == (
        f"{slack_forwarder.PROBABLE_CAUSE} Razorpay unreachable (production-payments-connectivity), "
        f"Health checks failing (production-platform-health-score); {slack_forwarder.ALSO_IN_ALARM} db-cpu")
    # A low health score with no dependency failing is named on every page.
    assert slack_forwarder.headline(hot[1:], causes, "production-warning-database-pager") == (
        f"{slack_forwarder.PROBABLE_CAUSE} Health checks failing (production-platform-health-score) -> db-cpu")


def test_symptoms_a_named_cause_does_not_explain_are_listed_apart():
    """Redis slow during a Razorpay incident: the cache's warning page names Redis, and the payments' error
    rate, Razorpay's, is not put after the arrow as if Redis caused it. The API's 5XX may be either's."""
    causes = page_causes({PAGE_CAUSES: PageCauses(
        "production-",
        {"production-cache-slow": "Redis slow", "production-payments-connectivity": "Razorpay unreachable"},
        unrelated={"production-cache-slow": ("payments",), "production-payments-connectivity": ("redis",)},
        scopes={"payments": ("payments",), "redis": ("cache",)}).variable()})
    in_alarm = [_symptom(name, minute) for minute, name in enumerate(
        ["production-payments-error-rate", "production-api-5xx-rate", "production-cache-slow",
         "production-cache-001-engine-cpu"])]
    assert slack_forwarder.headline(in_alarm, causes, "production-warning-redis-pager") == (
        f"{slack_forwarder.PROBABLE_CAUSE} Redis slow (production-cache-slow) -> api-5xx-rate, cache-001-engine-cpu; "
        "also in ALARM: payments-error-rate")
    # Razorpay down too: each symptom has a cause that may explain it.
    both = [*in_alarm, _symptom("production-payments-connectivity", 9)]
    assert slack_forwarder.headline(both, causes, "production-critical-api-pager") == (
        f"{slack_forwarder.PROBABLE_CAUSE} Redis slow (production-cache-slow), Razorpay unreachable "
        "(production-payments-connectivity) -> payments-error-rate, api-5xx-rate, cache-001-engine-cpu")
    # A name that only begins like a scope's ("paymentsx-") is not that scope's.
    odd = [_symptom("production-cache-slow", 0), _symptom("production-paymentsx-errors", 1)]
    assert slack_forwarder.headline(odd, causes, "production-warning-redis-pager") == (
        f"{slack_forwarder.PROBABLE_CAUSE} Redis slow (production-cache-slow) -> paymentsx-errors")
    # No cause named: nothing is said to follow from one.
    assert slack_forwarder.headline(in_alarm[:2], causes, "production-warning-api-pager") == (
        f"{slack_forwarder.IN_ALARM} payments-error-rate, api-5xx-rate")


def test_a_readers_page_blames_no_dependency_and_names_the_dead_reader_first():
    """A reader dead while the database answers slowly: the database explains the RFID verifications, not a
    reader's heartbeats, so the readers' page names no probable cause, and the reader that made it page comes
    first, before the slow database's symptoms that were in ALARM earlier."""
    result = run()
    function = by_name(result, "warning-alerts-slack-lambda-function")
    causes = page_causes({PAGE_CAUSES: props(function)["environment"]["variables"][PAGE_CAUSES]})
    in_alarm = [_symptom(name, minute) for minute, name in enumerate(
        ["production-db-read-latency", "production-api-rfid-verify-latency-p99",
         "production-rfid-reader-reader-002-silent"])]
    reader = "production-rfid-reader-reader-002-silent"
    assert slack_forwarder.headline(in_alarm, causes, "production-warning-rfid-school-day-pager", (reader,)) == (
        f"{slack_forwarder.IN_ALARM} rfid-reader-reader-002-silent, api-rfid-verify-latency-p99")
    # The card verifications' own pager is the database's to explain; the dead reader is not.
    assert slack_forwarder.headline(in_alarm, causes, "production-warning-rfid-pager",
                                    ("production-api-rfid-verify-latency-p99",)) == (
        f"{slack_forwarder.PROBABLE_CAUSE} Database slow (production-db-read-latency) -> "
        f"api-rfid-verify-latency-p99; {slack_forwarder.ALSO_IN_ALARM} rfid-reader-reader-002-silent")
    # The health score the two lower together is named too, but explains nothing: it follows from them.
    score = _symptom("production-platform-health-score", 3)
    assert slack_forwarder.headline([*in_alarm, score], causes, "production-warning-database-pager",
                                    ("production-db-read-latency",)) == (
        f"{slack_forwarder.PROBABLE_CAUSE} Database slow (production-db-read-latency), Health checks failing "
        f"(production-platform-health-score) -> api-rfid-verify-latency-p99; {slack_forwarder.ALSO_IN_ALARM} "
        "rfid-reader-reader-002-silent")
    # So is the RFID functions' own failing (their calls need the database), the reader heartbeats'
    # function included.
    assert causes.explains_alarm("production-db-read-latency", "production-rfid-reader-heartbeat-error-rate")
    assert causes.explains_alarm("production-db-read-latency", "production-rfid-verify-card-errors")


def test_a_group_named_like_a_dependency_keeps_its_alarms_in_its_own_scope():
    """A platform group `cache-warmers` has alarm names that begin like the cache's (`cache-`): the forwarder
    is told they are the platform's, so a Razorpay page, which explains no cache alarm, lists their errors
    after the arrow and the cache's memory apart."""
    inventory = copy.deepcopy(inventory_section())
    inventory["lambdaGroups"]["cache-warmers"] = {"tier": "warning",
                                                  "functions": ["hasivu-production-cache-warmers-fill"]}
    result = run(set_={"inventory": inventory})
    function = by_name(result, "warning-alerts-slack-lambda-function")
    causes = page_causes({PAGE_CAUSES: props(function)["environment"]["variables"][PAGE_CAUSES]})
    assert causes.scope_of("production-cache-warmers-fill-errors") == "platform"
    assert causes.scope_of("production-cache-001-engine-cpu") == "redis"
    in_alarm = [_symptom(name, minute) for minute, name in enumerate(
        ["production-payments-connectivity", "production-cache-warmers-fill-errors", "production-cache-001-memory"])]
    assert slack_forwarder.headline(in_alarm, causes, "production-critical-payments-pager") == (
        f"{slack_forwarder.PROBABLE_CAUSE} Razorpay unreachable (production-payments-connectivity) -> "
        "cache-warmers-fill-errors; also in ALARM: cache-001-memory")


def test_causes_of_one_label_are_named_together_in_the_programs_order():
    """A slow database trips its read and write latency alarms, both "Database slow": one label, each alarm
    named, before the symptoms."""
    causes = PageCauses("production-", {"production-db-read-latency": "Database slow",
                                        "production-cache-slow": "Redis slow",
                                        "production-db-write-latency": "Database slow"})
    in_alarm = [_symptom(name, minute) for minute, name in enumerate(
        ["production-api-latency-p99", "production-db-write-latency", "production-db-read-latency"])]
    assert slack_forwarder.headline(in_alarm, causes) == (
        f"{slack_forwarder.PROBABLE_CAUSE} Database slow (production-db-read-latency, production-db-write-latency)"
        " -> api-latency-p99")
