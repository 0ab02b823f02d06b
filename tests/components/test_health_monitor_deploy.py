"""The deployed health monitor: its resources, least-privilege role, schedule, secrets by ARN,
and the packaged handler run locally on the event EventBridge sends."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from observability.catalogue import published_metrics
from observability.school_hours import IST, SchoolHours
from preflight.cloudwatch.emf import metrics_in
from preflight.program.engine import ProgramFailed
from tests.support.stack import by_name, of_type, preflight_cli, props, raw, run, stack_files

EVENTBRIDGE_EVENT = {
    "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
    "source": "aws.events", "account": "123456789012", "time": "2026-11-29T03:00:00Z", "region": "ap-south-1",
    "resources": ["arn:aws:events:ap-south-1:123456789012:rule/production-hasivu-health-monitor"], "detail": {},
}
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six.py")


def test_component_resources_schedule_and_endpoint():
    result = run()
    component = by_name(result, "health-monitor")
    children = {r.name: r for r in result.registrations if r.parent == component.urn}
    assert set(children) == {"health-monitor-lambda", "health-monitor-schedule", "health-monitor-invoke-from-schedule",
                             "health-monitor-target", "health-monitor-url"}
    assert props(children["health-monitor-schedule"])["scheduleExpression"] == "rate(1 minute)"
    permission = props(children["health-monitor-invoke-from-schedule"])
    assert permission["principal"] == "events.amazonaws.com"
    assert children["health-monitor-invoke-from-schedule"].property_dependencies["sourceArn"] == [
        children["health-monitor-schedule"].urn]
    assert props(children["health-monitor-url"])["authorizationType"] == "AWS_IAM"
    function = props(by_name(result, "health-monitor-lambda-function"))
    assert function["handler"] == "observability.health_handler.handler"
    assert function["tracingConfig"] == {"mode": "Active"}
    assert function["vpcConfig"]["subnetIds"] == ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
    assert props(by_name(result, "health-monitor-lambda-logs"))["retentionInDays"] == 30


def test_role_policy_is_least_privilege():
    policy = json.loads(props(by_name(run(), "health-monitor-lambda-policy"))["policy"])
    statements = policy["Statement"]
    for statement in statements:
        assert all("*" not in action for action in statement["Action"]), statement
    by_action = {a: s for s in statements for a in s["Action"]}
    assert by_action["cloudwatch:PutMetricData"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "HASIVU/Health"}}
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == [
        "arn:aws:secretsmanager:ap-south-1:123456789012:secret:hasivu/production/health-db-Ab12Cd",
        "arn:aws:secretsmanager:ap-south-1:123456789012:secret:hasivu/production/health-redis-Ef34Gh"]
    assert by_action["logs:PutLogEvents"]["Resource"].startswith("arn:aws:logs:")
    assert by_action["kms:Decrypt"]["Resource"] == (
        "arn:aws:kms:ap-south-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
    assert by_action["kms:Decrypt"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.ap-south-1.amazonaws.com"}}
    # Only actions AWS cannot scope to a resource use "*": metric reads/writes, X-Ray, VPC ENIs.
    unscoped = {a for s in statements if s["Resource"] == "*" for a in s["Action"]}
    assert unscoped <= {"cloudwatch:PutMetricData", "cloudwatch:GetMetricData", "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords", "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                        "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}


def test_credentials_only_by_secret_arn():
    variables = props(by_name(run(), "health-monitor-lambda-function"))["environment"]["variables"]
    assert variables["HASIVU_DB_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert not any("PASSWORD" in k or "password" in v.lower() for k, v in variables.items())


def test_the_health_reports_sla_targets_are_the_stacks_slos():
    variables = props(by_name(run(), "health-monitor-lambda-function"))["environment"]["variables"]
    targets = dict(pair.split("=") for pair in variables["HASIVU_SLO_TARGETS"].split(","))
    assert targets == {"database": "99.9", "redis": "99.5", "payment_gateway": "99.8", "rfid": "99"}
    changed = run(set_={"slos": {"database": {"target": 99.95}, "rfid": {"enabled": False}}})
    variables = props(by_name(changed, "health-monitor-lambda-function"))["environment"]["variables"]
    assert "database=99.95" in variables["HASIVU_SLO_TARGETS"].split(",")
    assert "rfid" not in variables["HASIVU_SLO_TARGETS"]


def test_the_readers_are_judged_in_the_stacks_school_hours():
    variables = props(by_name(run(), "health-monitor-lambda-function"))["environment"]["variables"]
    school = SchoolHours.from_variable(variables["HASIVU_SCHOOL_HOURS"])
    # Production's school day (thresholds.business: 07:30 to 15:00 IST, 6 days a week) and its calendar.
    assert (school.start, school.end, school.days_per_week) == (dt.time(7, 30), dt.time(15, 0), 6)
    assert school.includes(dt.datetime(2026, 12, 7, 10, 0, tzinfo=IST))  # a Monday in term
    assert not school.includes(dt.datetime(2026, 12, 7, 20, 0, tzinfo=IST))
    assert not school.includes(dt.datetime(2026, 12, 25, 10, 0, tzinfo=IST))  # Christmas, a Friday
    assert not school.includes(dt.datetime(2026, 10, 14, 10, 0, tzinfo=IST))  # between the terms
    no_readers = {**json.loads(stack_files().config["hasivu-monitoring:healthMonitor"]), "rfidReaderIds": []}
    variables = props(by_name(run(set_={"healthMonitor": no_readers}), "health-monitor-lambda-function"))
    assert "HASIVU_SCHOOL_HOURS" not in variables["environment"]["variables"]


@pytest.mark.parametrize(("section", "fragment"), [
    ({"databasePassword": "hunter2"}, "healthMonitor.databasePassword: unknown key"),
    ({"databaseSecretArn": "hasivu/db"},
     "healthMonitor.databaseSecretArn: got 'hasivu/db'; expected a Secrets Manager"),
    ({"subnetIds": ["subnet-0a1b2c3d4e5f60718"]}, "healthMonitor.securityGroupIds"),
    ({"schedule": "every minute"}, "healthMonitor.schedule: got 'every minute'"),
    ({"secretsKmsKeyArn": "alias/db"}, "healthMonitor.secretsKmsKeyArn: got 'alias/db'; expected a KMS key ARN"),
])
def test_bad_health_monitor_config(section, fragment):
    with pytest.raises(ProgramFailed) as failed:
        run(set_={"healthMonitor": section})
    assert fragment in str(failed.value.cause)
    assert "hunter2" not in str(failed.value.cause)


def test_the_projects_own_lambdas_are_alarmed_and_pass_the_policy_pack():
    from tests.policy.test_policy_pack import violations

    result = run()
    alarms = {props(a)["name"] for a in of_type(result, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    for own in ("warning-slack-forwarder", "health-monitor"):
        assert {f"production-{own}-{k}" for k in ("throttles", "duration-p99", "error-rate")} <= alarms
    # The one advice production always gets: its SMS numbers need the account out of the SMS sandbox.
    assert [v.policy for v in violations("production", True)] == ["sms-sandbox"]


def _extract_package(tmp_path: Path) -> Path:
    """The zip the program hands to Lambda, unpacked as Lambda does into its task directory."""
    function = raw(by_name(run(), "health-monitor-lambda-function"))
    archive = Path(function["code"]["path"])
    digest = base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()
    assert function["sourceCodeHash"] == digest
    package = tmp_path / "package"
    with zipfile.ZipFile(archive) as z:
        z.extractall(package)
    return package


def _lambda_runtime(tmp_path: Path) -> Path:
    """What the python3.12 Lambda runtime provides besides the package: boto3 and its dependencies."""
    import boto3 as installed

    site = Path(installed.__file__).parent.parent
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site / name)
    return runtime


def test_packaged_handler_runs_on_the_eventbridge_event(tmp_path, aws, postgres_server, redis_server):
    package = _extract_package(tmp_path)
    assert (package / "observability" / "health_handler.py").is_file()
    assert not list(package.rglob("*.so"))
    secrets = boto3.client("secretsmanager")
    db = secrets.create_secret(Name="health-db", SecretString=json.dumps({
        "host": postgres_server["host"], "port": postgres_server["port"], "dbname": "postgres",
        "username": postgres_server["user"], "password": postgres_server["password"], "sslmode": "disable"}))["ARN"]
    cache = secrets.create_secret(Name="health-redis", SecretString=json.dumps({
        "host": redis_server["host"], "port": redis_server["port"], "password": redis_server["password"],
        "ssl": False}))["ARN"]
    variables = props(by_name(run(), "health-monitor-lambda-function"))["environment"]["variables"]
    env = {
        "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{package}:{_lambda_runtime(tmp_path)}",
        **{k: v for k, v in variables.items() if k not in ("HASIVU_PAYMENT_GATEWAY_URL", "HASIVU_RFID_READER_IDS")},
        "HASIVU_DB_SECRET_ARN": db, "HASIVU_REDIS_SECRET_ARN": cache,
        # A packaging test, not a timing one: a cold process on a loaded machine imports slowly.
        "HASIVU_DB_TIMEOUT": "10", "HASIVU_REDIS_TIMEOUT": "10",
        **{k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                      "AWS_DEFAULT_REGION")},
    }
    script = ("import json, sys; from observability.health_handler import handler; "
              "print('REPORT ' + json.dumps(handler(json.load(sys.stdin), None)))")
    # -S: no site-packages, so only the package and the runtime's boto3 are importable.
    result = subprocess.run([sys.executable, "-S", "-c", script], input=json.dumps(EVENTBRIDGE_EVENT),
                            capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    report = json.loads(next(line for line in lines if line.startswith("REPORT "))[7:])
    # Both servers answered (a cold process may be slower than the 100 ms connect target: degraded).
    assert set(report["checks"]) == {"database", "redis"}
    for check in report["checks"].values():
        assert check["error"] is None and check["status"] in ("healthy", "degraded"), check
    emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    score = next(r for r in emf if "SystemHealthScore" in r)
    assert score["SystemHealthScore"] == [report["score"]] and report["score"] >= 50
    assert score["Environment"] == "production"
    assert score["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HASIVU/Health"
    assert {r["Dependency"] for r in emf if "DependencyHealthy" in r} == {"database", "redis"}
    # The SLA compliance of the report is judged against the stack's SLOs (database 99.9 %, Redis 99.5 %).
    assert report["checks"]["database"]["sla"]["target_percent"] == 99.9
    assert report["checks"]["redis"]["sla"]["target_percent"] == 99.5
    # As CloudWatch ingests it, with the function's POWERTOOLS_SERVICE_NAME set: only catalogue metrics.
    assert variables["POWERTOOLS_SERVICE_NAME"] == "health-monitor"
    published = {(ns, name, frozenset(dims.items())) for ns, name, dims in published_metrics("production")}
    assert {metric for metric, _ in metrics_in(result.stdout, strict=True)} <= published


def test_the_packaged_library_traces_in_lambda_mode(tmp_path):
    """Powertools' Tracer needs the X-Ray SDK (and wrapt) once it runs in Lambda: both are packaged."""
    package = _extract_package(tmp_path)
    variables = props(by_name(run(), "health-monitor-lambda-function"))["environment"]["variables"]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{package}:{_lambda_runtime(tmp_path)}",
           "AWS_LAMBDA_FUNCTION_NAME": "production-hasivu-health-monitor", "LAMBDA_TASK_ROOT": str(package),
           "AWS_REGION": "ap-south-1", **variables}
    script = "from observability import tracing; print(tracing.business_tracer().enabled)"
    result = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True, env=env,
                            timeout=60, cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "True"), result.stderr


@pytest.mark.slow
def test_preflight_prints_the_operator_links():
    result = preflight_cli("--stack", "production", "--no-policy")
    out = result.stdout
    for name in ("Executive-Overview", "Lambda-Performance", "API-Gateway", "Database-Performance",
                 "Business-Metrics"):
        assert f"#dashboards:name=production-HASIVU-{name}" in out
    assert 'xrayServiceMapUrl: "https://ap-south-1.console.aws.amazon.com/cloudwatch/home?region=ap-south-1#xray' in out
    for tier in ("critical", "warning", "business"):
        assert f"{tier}TopicArn: <computed>" in out
    assert "healthEndpointUrl: <computed>" in out
    assert 'alarmCountByTier: {"critical": ' in out

