"""An AWS account set up as the production platform's account would be, in moto server mode, plus
recorded responses for the three calls moto does not implement.

moto 5.2 (checked in its source) has no `GetAnomalyMonitors` (moto/ce/responses.py), no
`GetEncryptionConfig` (moto/xray/responses.py), no alarm mute rules (moto/cloudwatch/responses.py)
and neither `GetSMSSandboxAccountStatus` nor
`ListSMSSandboxPhoneNumbers` (moto/sns/responses.py); it confirms every subscription on Subscribe (moto/sns/models.py:
`"PendingConfirmation": False`, `confirm_subscription` is a no-op), so a pending email subscription
cannot exist in it. Those five calls are answered with recorded responses, each validated against
the botocore service model's output shape (as botocore's Stubber validates), for that operation
only: every other call of the check goes to moto over HTTP. The account's mute rules: the stack's weekly
database window, and an ad-hoc window started three days before the report on a pager name the stack no
longer has.

`python -m tests.support.moto_account` prints the production report against a freshly populated account
(docs/account.md shows its output).
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from preflight.account.preconditions import listed_groups
from preflight.model.stack import StackModel, build_model
from preflight.program.engine import ProgramRun
from tests.support.mute_rule_recordings import MuteRuleAccount

REGION = "ap-south-1"
# What the platform really publishes, where the stack file's words differ from it:
TYPO_FUNCTION = "hasivu-production-payments-verify"  # the account's function is "...-payment-verify"
PUBLISHED_AS = "hasivu-production-payment-verify"
EMF_EXTRA_DIMENSION = "PaymentErrors"  # published by Powertools with its `service` dimension added
# A log metric filter publishes when a log event matches: no fraud attempt was logged in two weeks.
UNPUBLISHED = "FraudAttempts"
ABSENT_FUNCTION = "hasivu-production-rfid-reader-heartbeat"  # listed, not deployed: no metrics either
IDLE_FUNCTION = "hasivu-production-payments-refund"  # deployed, not invoked in two weeks: no metrics
UNLISTED_FUNCTION = "hasivu-production-payments-refund-v2"
OTHER_STACK_FUNCTION = "hasivu-staging-orders-export"
OTHER_STACK_METRICS = 450
STUCK_ALARM = "production-orders-create-errors"
FORGOTTEN_RULE = "production-adhoc-all-20261128T2300-ravi-db-upgrade"
PLANNED_RULE = "production-window-weekly-database-plus-10m"
ORPHANED_ALARM = "production-menu-list-errors"
DELETED_TOPIC = "production-hasivu-old-alerts"
HAND_MADE_LOG_GROUP = "/aws/lambda/production-hasivu-health-monitor"
SECURITY_LOG_GROUP = "/hasivu/production/security-events"
EXISTING_MONITOR_ARN = "arn:aws:ce::{account}:anomalymonitor/0b7c6f0e-3f0d-4c1e-9b5e-8c1d2a3b4c5d"
_accounts = itertools.count(210000000001)


def fresh_account(endpoint: str) -> boto3.Session:
    """A session in an account no other test has touched: moto keys its state by the account of the
    role the credentials were issued for (sts AssumeRole), as AWS does."""
    account_id = next(_accounts)
    sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/preflight-account-check",
                                  RoleSessionName="preflight")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name=REGION)


def answer_from_recording(session: boto3.Session, service: str, operation: str, response: dict[str, Any],
                          when: Callable[[dict[str, Any]], bool] = lambda _: True) -> None:
    """Answers one operation (optionally only for some requests) with a recorded response."""
    output_shape = session.client(service, region_name=REGION).meta.service_model.operation_model(
        operation).output_shape
    validate_parameters(response, output_shape)  # raises when the recording does not match the model

    def handler(model: Any, params: dict[str, Any], **_: Any) -> Any:
        if model.service_model.service_name == service and model.name == operation and when(params):
            return AWSResponse(None, 200, {}, None), response
        return None

    session.events.register("before-call", handler)


def deny(session: boto3.Session, service: str, operation: str) -> None:
    """Answers one operation as AWS answers a caller without the permission (HTTP 400, AccessDenied)."""
    error = {"Error": {"Code": "AccessDeniedException", "Message": f"not authorized to perform {operation}"},
             "ResponseMetadata": {"HTTPStatusCode": 400}}

    def handler(model: Any, **_: Any) -> Any:
        if model.service_model.service_name == service and model.name == operation:
            return AWSResponse(None, 400, {}, None), error
        return None

    session.events.register("before-call", handler)


def record_operations(session: boto3.Session) -> list[tuple[str, str, str]]:
    """Every operation clients of the session call: (service, operation, HTTP method)."""
    calls: list[tuple[str, str, str]] = []

    def record(model: Any, **_: Any) -> None:
        calls.append((model.service_model.service_name, model.name, model.http["method"]))

    session.events.register_first("before-call", record)
    return calls


def _metric_data(view: StackModel) -> dict[str, list[dict[str, Any]]]:
    """Every metric the stack's alarms read, as the platform publishes it (flaws included, as populated)."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    own = view.function_names
    for alarm in view.alarms:
        for metric in alarm.metrics:
            dims = dict(metric.dimensions or ())
            if (metric.dimensions is None or metric.name == UNPUBLISHED
                    or dims.get("FunctionName") in {*own, ABSENT_FUNCTION, IDLE_FUNCTION}):
                continue
            if dims.get("FunctionName") == TYPO_FUNCTION:
                dims["FunctionName"] = PUBLISHED_AS
            if metric.name == EMF_EXTRA_DIMENSION:
                dims["service"] = "payments"
            by_namespace.setdefault(metric.namespace, []).append({
                "MetricName": metric.name, "Value": 0.0,
                "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims.items())]})
    return by_namespace


def _function(session: boto3.Session, endpoint: str, name: str, role: str) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    session.client("lambda", endpoint_url=endpoint).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()})


def populate_production(session: boto3.Session, endpoint: str, run: ProgramRun, as_of: datetime) -> dict[str, str]:
    """Seeds the account; returns the ids the report names (API id, foreign X-Ray key, ...)."""
    account_id = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
    view = build_model(run)
    client = lambda service: session.client(service, endpoint_url=endpoint)  # noqa: E731
    cloudwatch, sns = client("cloudwatch"), client("sns")
    # Metrics: published in the last two weeks, some with other dimensions than the alarms read.
    metric_data = _metric_data(view)
    # Another stack's functions, published first: AWS/Lambda lists over two pages (500 a page) and most
    # of this stack's metrics are on the second.
    metric_data["AWS/Lambda"][:0] = [{"MetricName": "Errors", "Value": 0.0, "Dimensions": [
        {"Name": "FunctionName", "Value": f"hasivu-staging-batch-{i:03d}"}]} for i in range(OTHER_STACK_METRICS)]
    for namespace, data in metric_data.items():
        for start in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + 500])
    # Lambda: the inventory's functions but one (and one under another name), one named like the stack
    # but in no group, one of another stack.
    role = client("iam").create_role(RoleName="platform-lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    listed = [n for names in listed_groups(view).values() for n in names if n not in (TYPO_FUNCTION, ABSENT_FUNCTION)]
    for name in (*listed, PUBLISHED_AS, UNLISTED_FUNCTION, OTHER_STACK_FUNCTION):
        _function(session, endpoint, name, role)
    # A deployed stack: the tier topics and subscriptions, three of its alarms.
    topics = {t.tier: sns.create_topic(Name=t.name)["TopicArn"] for t in view.topics}
    sns.subscribe(TopicArn=topics["critical"], Protocol="email", Endpoint="oncall@hasivu.com")
    sns.subscribe(TopicArn=topics["critical"], Protocol="sms", Endpoint="+919800000001")
    deleted = sns.create_topic(Name=DELETED_TOPIC)["TopicArn"]
    for name, actions in ((STUCK_ALARM, [topics["warning"]]), (ORPHANED_ALARM, [deleted]),
                          ("production-db-cpu", [topics["warning"]])):
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
                                    Period=60, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanThreshold", AlarmActions=actions)
    sns.delete_topic(TopicArn=deleted)
    # moto starts alarms in OK; AWS starts them in INSUFFICIENT_DATA, where this one stayed.
    cloudwatch.set_alarm_state(AlarmName=STUCK_ALARM, StateValue="INSUFFICIENT_DATA", StateReason="no data")
    # SNS failed to deliver to the critical topic in the last day (as_of is about a day after populating it).
    cloudwatch.put_metric_data(Namespace="AWS/SNS", MetricData=[{
        "MetricName": "NumberOfNotificationsFailed", "Value": 2.0, "Timestamp": as_of - timedelta(hours=1),
        "Dimensions": [{"Name": "TopicName", "Value": topics["critical"].split(":")[-1]}]}])
    # The platform's API, deployed without detailed metrics on its stage.
    apigateway = client("apigateway")
    api_id = apigateway.create_rest_api(name="hasivu-production-api")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    # The health monitor's log group, made by hand before this stack existed (without the stack's tags),
    # and the security events group the platform already writes to (the stack file says to create it).
    for name in (HAND_MADE_LOG_GROUP, SECURITY_LOG_GROUP):
        client("logs").create_log_group(logGroupName=name, tags={"Owner": "platform-team"})
    # Another stack's X-Ray key (its tags are not this stack's).
    other_key = client("kms").create_key(Description="Encrypts shared X-Ray traces",
                                         Tags=[{"TagKey": "Project", "TagValue": "platform-tracing"}])
    key_arn = other_key["KeyMetadata"]["Arn"]
    monitor_arn = EXISTING_MONITOR_ARN.format(account=account_id)
    _record_missing_apis(session, topics["business"], monitor_arn, key_arn)
    _record_mute_rules(session, as_of)
    return {"api_id": api_id, "key_arn": key_arn, "monitor_arn": monitor_arn, "account_id": account_id,
            "deleted_topic": deleted}


def _record_missing_apis(session: boto3.Session, business_topic: str, monitor_arn: str, key_arn: str) -> None:
    answer_from_recording(session, "ce", "GetAnomalyMonitors", {"AnomalyMonitors": [{
        "MonitorArn": monitor_arn, "MonitorName": "Default-Services-Monitor", "MonitorType": "DIMENSIONAL",
        "MonitorDimension": "SERVICE", "CreationDate": "2025-02-01", "LastEvaluatedDate": "2026-11-28"}]})
    answer_from_recording(session, "xray", "GetEncryptionConfig", {
        "EncryptionConfig": {"KeyId": key_arn, "Status": "ACTIVE", "Type": "KMS"}})
    answer_from_recording(session, "sns", "GetSMSSandboxAccountStatus", {"IsInSandbox": True})
    answer_from_recording(session, "sns", "ListSMSSandboxPhoneNumbers", {"PhoneNumbers": [
        {"PhoneNumber": "+919800000001", "Status": "Verified"}, {"PhoneNumber": "+919800000002", "Status": "Pending"}]})
    # ListSubscriptionsByTopic shows an unconfirmed subscription with "PendingConfirmation" for its ARN.
    answer_from_recording(session, "sns", "ListSubscriptionsByTopic", {"Subscriptions": [
        {"SubscriptionArn": f"{business_topic}:8a21d249-4329-4871-acc6-7be709c6ea7f", "Owner": "",
         "Protocol": "email", "Endpoint": "business-ops@hasivu.com", "TopicArn": business_topic},
        {"SubscriptionArn": "PendingConfirmation", "Owner": "", "Protocol": "email",
         "Endpoint": "finance@hasivu.com", "TopicArn": business_topic},
    ]}, when=lambda params: params.get("body", {}).get("TopicArn") == business_topic)


def _record_mute_rules(session: boto3.Session, as_of: datetime) -> None:
    started = as_of - timedelta(days=3)
    recorded = MuteRuleAccount(session, started, composite_alarms=False)
    recorded.hold(PLANNED_RULE, "cron(0 2 * * SUN)", "PT2H10M", ["production-critical-database-pager"],
                  status="SCHEDULED")
    # Before the pagers were split by what a window can mute, the critical tier had one pager.
    ist = started.astimezone(timezone(timedelta(hours=5, minutes=30)))
    recorded.hold(FORGOTTEN_RULE, f"at({ist:%Y-%m-%dT%H:%M})", "P15D", ["production-critical-pager"])


def populated_account_report() -> str:
    """The production report against a freshly populated account (for docs/account.md)."""
    from moto.server import ThreadedMotoServer

    from preflight.account import check_account, connect
    from tests.conftest import free_port
    from tests.support.stack import run

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    import os

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        program = run("production", preview=True)
        session = fresh_account(endpoint)
        as_of = datetime.now(UTC) + timedelta(days=1, hours=2)
        populate_production(session, endpoint, program, as_of)
        account = connect(program.files, session)
        return check_account(build_model(program), account, as_of=as_of).section()
    finally:
        server.stop()


if __name__ == "__main__":
    print(populated_account_report())
