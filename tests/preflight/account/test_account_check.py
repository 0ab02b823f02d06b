"""`python -m preflight account`: the account report against moto in server mode, seeded as the
production platform's account would be (tests/support/moto_account.py says what moto lacks and how those
few calls are answered)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from preflight.account import AccountReport, Finding, Level, check_account, connect, preconditions
from preflight.account.policy import ACTIONS, HISTORY_ACTIONS, NEEDS_NO_PERMISSION, iam_action, policy_document
from preflight.model.stack import build_model
from preflight.program.engine import run_program
from tests.support import moto_account
from tests.support.stack import REPO, inventory_section, run, stack_files


def preflight_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m preflight ARGS` in its own process, with only the AWS settings given in `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**clean, **env, "PYTHONPATH": str(REPO)})


@pytest.fixture(scope="module")
def seeded(moto_endpoint: str) -> Iterator[dict]:
    """One seeded account and its report for the module (seeding and the program run are the slow
    parts); the environment is the `aws` fixture's, held for the module."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", moto_endpoint)
        env.setenv("AWS_DEFAULT_REGION", "ap-south-1")
        program = run("production", preview=True)
        session = moto_account.fresh_account(moto_endpoint)
        # CloudWatch keeps the real clock: the report is taken a day and two hours after seeding.
        as_of = datetime.now(UTC) + timedelta(days=1, hours=2)
        ids = moto_account.populate_production(session, moto_endpoint, program, as_of)
        calls = moto_account.record_operations(session)
        report = check_account(build_model(program), connect(program.files, session), as_of=as_of)
        yield {"report": report, "calls": calls, "ids": ids, "session": session}


def findings(report: AccountReport, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def one(report: AccountReport, check: str, subject_part: str) -> Finding:
    matches = [f for f in findings(report, check) if subject_part in f.subject]
    assert len(matches) == 1, (check, subject_part, report.section())
    return matches[0]


def metric_finding(report: AccountReport, metric_name: str) -> Finding:
    """The finding on the dimension set published under other dimensions whose metrics (listed first in
    the message) include this one."""
    names = {f: re.match(r"(.+?) never published", f.message) for f in findings(report, "metric")}
    matches = [f for f, named in names.items() if named and metric_name in named.group(1).split(", ")]
    assert len(matches) == 1, (metric_name, report.section())
    return matches[0]


def test_each_alarm_metric_is_looked_up_with_its_exact_dimensions(seeded):
    report: AccountReport = seeded["report"]
    rows = {row["alarm"]: row["metrics"] for row in report.alarm_metrics}
    assert len(rows) == 208  # the production catalogue (docs/alarms.md), SLO burn-rate windows included
    assert rows["production-db-cpu"] == [{
        "namespace": "AWS/RDS", "metricName": "CPUUtilization",
        "dimensions": {"DBInstanceIdentifier": "hasivu-production-db"}, "exists": True, "nearest": None}]
    # Published by Powertools with `service` added: the alarm on {Environment} never sees it.
    emf = metric_finding(report, "PaymentErrors")
    assert (emf.level, emf.subject) == (Level.BLOCKING, "HASIVU/Business {Environment=production}")
    assert emf.message == ("PaymentErrors never published with these dimensions in two weeks, but as "
                           "{Environment=production, service=payments} (read by 11 alarms: "
                           "production-payments-error-rate, production-payments-outage, "
                           "production-payments-payment-errors, ...)")
    # A metric-math alarm reads two metrics; both are checked, with the nearest published set.
    rate = rows["production-payments-verify-error-rate"]
    assert [(m["metricName"], m["exists"]) for m in rate] == [("Errors", False), ("Invocations", False)]
    assert rate[0]["nearest"] == {"FunctionName": moto_account.PUBLISHED_AS}
    # The function's metrics exist under its real name: one blocking finding for all alarms on it.
    typo = metric_finding(report, "Invocations")
    assert (typo.level, typo.subject) == (Level.BLOCKING, f"AWS/Lambda {{FunctionName={moto_account.TYPO_FUNCTION}}}")
    assert typo.message.startswith("Duration, Errors, Invocations, Throttles never published with these "
                                   f"dimensions in two weeks, but as {{FunctionName={moto_account.PUBLISHED_AS}}} "
                                   "(read by 4 alarms: ")
    # Every other missing metric is one finding per cause, each listing what it covers. A listed function the
    # account does not have:
    absent = one(report, "metric", "not in the account")
    assert (absent.level, absent.subject) == (Level.WARNING, "1 function not in the account")
    assert absent.message.startswith(f"{moto_account.ABSENT_FUNCTION}: no such function in this account and Region, "
                                     "so nothing publishes their 4 metrics (read by 4 alarms: ")
    # Resources that exist (a function not invoked in two weeks) or name no function, and nothing published:
    # the alarm stays green forever, a warning, not a typo (no nearest set offered for a function that exists).
    # The security log group's fraud filter publishes only when a log event matches, and none did: its
    # metric (no dimensions) is missing outright, not published under other dimensions.
    unpublished = one(report, "metric", "not published")
    assert (unpublished.level, unpublished.subject) == (Level.WARNING, "5 metrics not published")
    assert unpublished.message.startswith(
        f"AWS/Lambda {{FunctionName={moto_account.IDLE_FUNCTION}}}: Duration, Errors, Invocations, Throttles; "
        f"HASIVU/Security {{}}: {moto_account.UNPUBLISHED}: none in the last two weeks, so the alarms see no data "
        "(read by 4 alarms: ")
    assert "nearest" not in unpublished.message
    assert not [f for f in findings(report, "metric") if f is not unpublished and moto_account.UNPUBLISHED in f.message]
    # Functions this stack creates have no metrics before the deploy: one info line, no alarm about them.
    own = one(report, "metric", "metrics of resources this stack creates")
    assert own.level is Level.INFO and own.subject.startswith("8 ")
    assert "FunctionName=production-hasivu-health-monitor}: Duration, Errors, Invocations, Throttles" in own.message
    assert len(findings(report, "metric")) == 5  # two dimension sets published as others, three causes


def test_list_metrics_lists_each_namespace_once_following_its_pages(seeded):
    listed = [c for c in seeded["calls"] if c[1] == "ListMetrics"]
    rows = seeded["report"].alarm_metrics
    namespaces = {m["namespace"] for row in rows for m in row["metrics"]}
    assert len(namespaces) == 8  # AWS/SNS for the tier topics' delivery failures
    # AWS/Lambda holds more than 500 metrics (ListMetrics' page size): two pages, every other namespace one.
    assert len(listed) == len(namespaces) + 1
    # This stack's Lambda metrics were published after 450 others, most land on the second page: all found.
    lambda_rows = [m for row in rows for m in row["metrics"] if m["namespace"] == "AWS/Lambda" and m["dimensions"]]
    found = [m for m in lambda_rows if m["exists"]]
    listed_functions = {m["dimensions"]["FunctionName"] for m in found}
    # The 23 inventory functions but the one the account knows under another name, the one it lacks and
    # the one not invoked in two weeks.
    assert len(listed_functions) == 20 and moto_account.TYPO_FUNCTION not in listed_functions


def test_after_a_deploy_stuck_alarms_orphaned_actions_pending_subscriptions_and_failures(seeded):
    report: AccountReport = seeded["report"]
    stuck = one(report, "alarm state", moto_account.STUCK_ALARM)
    assert stuck.level is Level.WARNING and "INSUFFICIENT_DATA for 1 day" in stuck.message
    assert not [f for f in findings(report, "alarm state") if "db-cpu" in f.subject]  # OK, recently updated
    orphaned = one(report, "alarm actions", moto_account.ORPHANED_ALARM)
    assert orphaned.level is Level.BLOCKING and seeded["ids"]["deleted_topic"] in orphaned.message
    pending = one(report, "subscriptions", "tier business")
    assert pending.level is Level.WARNING
    assert "1 of 2 subscriptions pending confirmation (email:finance@hasivu.com)" in pending.message
    assert len(findings(report, "subscriptions")) == 1  # moto confirmed the critical tier's email and SMS
    failed = one(report, "delivery", "tier critical")
    assert "2 notifications failed to deliver in the last day" in failed.message
    sandbox, spend = (f for f in findings(report, "sms") if f.level is not Level.INFO)
    assert sandbox.level is Level.BLOCKING
    assert sandbox.message.endswith("texts to +919800000002 go nowhere (not verified sandbox numbers)")
    assert spend.level is Level.WARNING and "1 USD" in spend.message


def test_preconditions_stage_metrics_anomaly_monitor_xray_log_group_and_unlisted_functions(seeded):
    report: AccountReport = seeded["report"]
    ids = seeded["ids"]
    stage = one(report, "api stage", "hasivu-production-api stage prod")
    assert stage.level is Level.BLOCKING
    assert stage.fix == (f"aws apigateway update-stage --rest-api-id {ids['api_id']} --stage-name prod "
                         "--patch-operations op=replace,path=/*/*/metrics/enabled,value=true")
    monitor = one(report, "anomaly monitors", "production-hasivu-services")
    assert monitor.level is Level.BLOCKING
    assert monitor.fix.startswith(f"reuse it: costAnomaly.existingMonitorArn: {ids['monitor_arn']}")
    xray = one(report, "x-ray encryption", "account")
    assert xray.level is Level.WARNING and ids["key_arn"] in xray.message
    security = one(report, "log group", moto_account.SECURITY_LOG_GROUP)
    assert security.level is Level.BLOCKING and "ResourceAlreadyExistsException" in security.message
    assert security.fix == ("the platform made it: inventory.securityLogGroup: {name: /hasivu/production/"
                            "security-events, create: false} in Pulumi.production.yaml")
    hand_made = one(report, "log group", moto_account.HAND_MADE_LOG_GROUP)
    assert hand_made.level is Level.BLOCKING and "ResourceAlreadyExistsException" in hand_made.message
    assert (f"pulumi import aws:cloudwatch/logGroup:LogGroup health-monitor-lambda-logs "
            f"{moto_account.HAND_MADE_LOG_GROUP} --parent 'parent=urn:pulumi:production::hasivu-monitoring::"
            in hand_made.fix)
    unlisted = one(report, "unlisted function", moto_account.UNLISTED_FUNCTION)
    assert unlisted.fix.startswith(f"add the line `          - {moto_account.UNLISTED_FUNCTION}` before "
                                   "Pulumi.production.yaml line ")
    line = int(re.search(r"Pulumi.production.yaml line (\d+)", unlisted.fix).group(1))
    stack_file = (stack_files().directory / "Pulumi.production.yaml").read_text().splitlines()
    assert stack_file[line - 1].strip() == "- hasivu-production-payments-create-order"
    typo = one(report, "unlisted function", moto_account.PUBLISHED_AS)
    assert "replace `hasivu-production-payments-verify`" in typo.fix
    assert not [f for f in report.findings if moto_account.OTHER_STACK_FUNCTION in f.subject]


def test_every_call_is_a_read_only_action_of_the_documented_policy(seeded):
    used = {iam_action(service, operation, method) for service, operation, method in seeded["calls"]}
    assert used - NEEDS_NO_PERMISSION == set(ACTIONS)  # nothing outside the policy, nothing unused in it
    read_only = ("Get", "List", "Describe")
    assert all(a == "apigateway:GET" or a.split(":")[1].startswith(read_only) for a in ACTIONS)
    statements = policy_document()["Statement"]
    # The history replay's actions too (tests/preflight/history/test_history_account.py checks those against its calls).
    assert sorted(a for s in statements for a in s["Action"]) == sorted({*ACTIONS, *HISTORY_ACTIONS})


def test_exit_status_and_json_follow_the_blocking_findings(aws, moto_endpoint):
    """The command line end to end against moto (without the recorded answers: the calls moto lacks
    become 'not checked' warnings, never a crash)."""
    session = moto_account.fresh_account(moto_endpoint)
    # Blocking: the platform made the security log group the production stack file says to create.
    session.client("logs").create_log_group(logGroupName=moto_account.SECURITY_LOG_GROUP)
    credentials = session.get_credentials()
    env = {"AWS_ACCESS_KEY_ID": credentials.access_key, "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
           "AWS_SESSION_TOKEN": credentials.token, "AWS_ENDPOINT_URL": aws}
    result = preflight_cli("account", "--stack", "production", "--json", env=env)
    assert result.returncode == 1, result.stderr
    account = json.loads(result.stdout)["account"]
    assert account["accountId"] == session.client("sts").get_caller_identity()["Account"]
    assert account["blocking"] >= 1
    not_checked = {f["check"] for f in account["findings"] if f["subject"] == "not checked"}
    assert not_checked == {"anomaly monitors", "x-ray encryption", "sms", "mute rules"}


def test_discovery_is_answered_from_the_account(aws, moto_endpoint):
    session = moto_account.fresh_account(moto_endpoint)
    role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    moto_account._function(session, moto_endpoint, "hasivu-staging-reports-export", role)
    files = stack_files("staging")
    account = connect(files, session)
    offline = run("staging", preview=True)
    online = run_program(files, preview=True, invokes=account.invokes())
    names = {r.name for r in online.registrations} - {r.name for r in offline.registrations}
    assert any("reports-export" in n for n in names), sorted(names)


def test_without_credentials_one_line_and_exit_2(tmp_path):
    env = {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_EC2_METADATA_DISABLED": "true"}
    result = preflight_cli("account", "--stack", "production", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "preflight: AWS account: no credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or run `aws sso login`)"]
    assert result.stdout == ""


def test_without_aws_flag_no_request_leaves_the_machine(http_endpoint):
    url, recorder = http_endpoint
    env = {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    result = preflight_cli("--stack", "staging", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "account" not in json.loads(result.stdout)
    assert recorder.requests == []


def test_every_finding_that_needs_action_has_a_one_line_fix(seeded):
    report: AccountReport = seeded["report"]
    doc = report.as_json()
    assert doc["blocking"] == report.count(Level.BLOCKING) > 0
    assert [f["level"] for f in doc["findings"]] == sorted(
        (f["level"] for f in doc["findings"]), key=["blocking", "warning", "info"].index)
    for finding in report.findings:
        if finding.level is not Level.INFO:
            assert finding.fix and "\n" not in finding.fix, finding
    summary = report.section().splitlines()
    assert summary[0] == (f"Account report (account {seeded['ids']['account_id']}, ap-south-1): "
                          f"{report.count(Level.BLOCKING)} blocking, {report.count(Level.WARNING)} warning, "
                          f"{report.count(Level.INFO)} info")


def test_the_docs_show_the_policy_the_check_is_held_to():
    page = (REPO / "docs" / "account.md").read_text()
    section = page[page.index("## IAM policy"):]
    block = section[section.index("```json\n") + len("```json\n"):]
    assert json.loads(block[:block.index("```")]) == policy_document()


def test_a_denied_call_is_a_warning_and_the_rest_of_the_report_stands(aws, moto_endpoint):
    session = moto_account.fresh_account(moto_endpoint)
    moto_account.deny(session, "ce", "GetAnomalyMonitors")
    moto_account.answer_from_recording(session, "xray", "GetEncryptionConfig", {"EncryptionConfig": {"Type": "NONE"}})
    moto_account.answer_from_recording(session, "sns", "GetSMSSandboxAccountStatus", {"IsInSandbox": False})
    program = run("staging", preview=True)
    report = check_account(build_model(program), connect(program.files, session))
    denied = one(report, "anomaly monitors", "not checked")
    assert denied.level is Level.WARNING
    assert denied.message == "ce GetAnomalyMonitors: HTTP 400 AccessDeniedException"
    assert "policy" in denied.fix
    # Nothing deployed in this empty account: said once.
    assert one(report, "deploy", "staging").level is Level.INFO
    manages = any(r.type == "aws:xray/encryptionConfig:EncryptionConfig" for r in program.registrations)
    assert one(report, "x-ray encryption", "account").message == "X-Ray encryption is NONE; " + (
        "this stack sets its own key" if manages else "this stack leaves it alone")
    assert all(m["exists"] is False for row in report.alarm_metrics for m in row["metrics"] if m["dimensions"])


def test_an_existing_security_log_group_that_is_missing_blocks(aws, moto_endpoint):
    inventory = inventory_section()
    inventory["securityLogGroup"] = {"name": moto_account.SECURITY_LOG_GROUP, "create": False}
    program = run("production", preview=True, set_={"inventory": inventory})
    account = connect(program.files, moto_account.fresh_account(moto_endpoint))
    missing, = preconditions.check_log_groups(account, build_model(program))
    assert (missing.level, missing.subject) == (Level.BLOCKING, moto_account.SECURITY_LOG_GROUP)
    assert "ResourceNotFoundException" in missing.message
    assert missing.fix == "let this stack create it: inventory.securityLogGroup.create: true in Pulumi.production.yaml"


def test_a_reused_anomaly_monitor_must_exist_in_the_account(aws, moto_endpoint):
    session = moto_account.fresh_account(moto_endpoint)
    account = connect(stack_files("production"), session)
    configured = moto_account.EXISTING_MONITOR_ARN.format(account=account.account_id)
    other = configured.rsplit("/", 1)[0] + "/11111111-2222-4333-8444-555555555555"
    moto_account.answer_from_recording(session, "ce", "GetAnomalyMonitors", {"AnomalyMonitors": [{
        "MonitorArn": other, "MonitorName": "Default-Services-Monitor", "MonitorType": "DIMENSIONAL",
        "MonitorDimension": "SERVICE"}]})
    program = run("production", preview=True, set_={"costAnomaly": {"thresholdUsd": 50,
                                                                     "existingMonitorArn": configured}})
    found = preconditions.check_anomaly_monitors(account, build_model(program))
    blocking = [f for f in found if f.level is Level.BLOCKING]
    assert [(f.subject, f.message) for f in blocking] == [
        (configured, "the anomaly subscription names a monitor the account does not have")]


def test_an_empty_account_blocks_once_naming_the_account_the_region_and_the_count(aws, moto_endpoint):
    """A wrong account or Region looks like an empty account: one blocking line says so, the exit status
    is 1, and the alarms' missing metrics are one line per cause, not one per function."""
    session = moto_account.fresh_account(moto_endpoint)
    account_id = session.client("sts").get_caller_identity()["Account"]
    credentials = session.get_credentials()
    env = {"AWS_ACCESS_KEY_ID": credentials.access_key, "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
           "AWS_SESSION_TOKEN": credentials.token, "AWS_ENDPOINT_URL": aws}
    result = preflight_cli("account", "--stack", "production", env=env)
    assert result.returncode == 1, result.stderr
    lines = result.stdout[result.stdout.index("Account report"):].splitlines()
    assert lines[0].startswith(f"Account report (account {account_id}, ap-south-1): 1 blocking, ")
    # The production inventory lists 23 functions (inventory.lambdaGroups in Pulumi.production.yaml).
    assert lines[2] == (f"  [BLOCKING] functions: inventory.lambdaGroups: account {account_id} in ap-south-1 holds "
                        "0 of the stack's 23 functions: wrong account or Region? Their alarms would never see data")
    assert lines[3] == (f"      fix: the credentials in use are arn:aws:sts::{account_id}:assumed-role/"
                        "preflight-account-check/preflight: use the platform account's (AWS_PROFILE) and check "
                        "aws:region in Pulumi.production.yaml, or deploy the platform's functions there first")
    metric = [re.match(r"  \[(\w+)\] metric: ([^:]+):", line).groups() for line in lines if "] metric: " in line]
    assert metric[0] == ("WARNING", "23 functions not in the account")
    assert metric[1][0] == "WARNING" and re.fullmatch(r"\d+ metrics not published", metric[1][1])
    # The stack's own resources before its deploy: the health monitor and the Slack forwarder (4 Lambda
    # metrics each) and the three tier topics (NumberOfNotificationsFailed).
    assert metric[2] == ("INFO", "11 metrics of resources this stack creates")
    assert len(metric) == 3
    # moto answers the SNS sandbox call it lacks (tests/support/moto_account.py) with an HTML error page: one line.
    assert "  [WARNING] sms: not checked: sns GetSMSSandboxAccountStatus: HTTP 500" in lines
    assert "html" not in result.stdout.lower()


def test_the_account_is_the_stacks_when_it_holds_half_the_listed_functions(aws, moto_endpoint):
    names = ["hasivu-production-orders-create", "hasivu-production-orders-get",
             "hasivu-production-orders-update-status", "hasivu-production-orders-cancel"]
    inventory = {**inventory_section(), "lambdaGroups": {"orders": {"tier": "warning", "functions": names}}}
    view = build_model(run("production", preview=True, set_={"inventory": inventory}))
    found = {}
    for held in (2, 1):
        session = moto_account.fresh_account(moto_endpoint)
        role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        for name in names[:held]:
            moto_account._function(session, moto_endpoint, name, role)
        account = connect(stack_files("production"), session)
        found[held] = (account.account_id, preconditions.check_inventory_functions(account, view))
    assert found[2][1] == []
    account_id, [blocking] = found[1]
    assert blocking.level is Level.BLOCKING
    assert blocking.message.startswith(f"account {account_id} in ap-south-1 holds 1 of the stack's 4 functions: "
                                       "wrong account or Region?")


def test_a_deployed_function_of_the_stack_without_metrics_is_missing_not_pending(aws, moto_endpoint):
    program = run("production", preview=True)
    session = moto_account.fresh_account(moto_endpoint)
    cloudwatch = session.client("cloudwatch")
    for namespace, data in moto_account._metric_data(build_model(program)).items():
        for start in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + 500])
    role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    moto_account._function(session, moto_endpoint, "production-hasivu-health-monitor", role)
    report = check_account(build_model(program), connect(program.files, session))
    deployed = "AWS/Lambda {FunctionName=production-hasivu-health-monitor}: Duration, Errors, Invocations, Throttles"
    assert deployed in one(report, "metric", "not published").message
    pending = one(report, "metric", "metrics of resources this stack creates")
    assert "production-hasivu-health-monitor" not in pending.message
    assert "AWS/Lambda {FunctionName=production-hasivu-warning-slack-forwarder}" in pending.message
