"""Bad stack config: one line naming key, bad value and expected form; nothing registered."""

from __future__ import annotations

import copy

import pulumi
import pytest

from preflight.cli import main as preflight_main
from preflight.program.engine import ProgramFailed, run_program
from preflight.program.stack_files import ProgramError, load_stack_files
from tests.support.fleet import CRITICAL_GROUPS, account_with, function_names
from tests.support.stack import REPO, SLACK, inventory_section, preflight_cli, program_copy, run

ALERTING = {
    "critical": {"emails": ["oncall@hasivu.com"], "sms": ["+919800000001"], "pagerduty": True},
    "warning": {"emails": ["ops@hasivu.com"], "slack": "webhook"},
    "business": {"emails": ["biz@hasivu.com"]},
}


def _duplicate_function() -> dict:
    inventory = copy.deepcopy(inventory_section())
    inventory["lambdaGroups"]["orders"]["functions"].append("hasivu-production-payments-verify")
    return inventory


def _fleet_inventory(discovery: dict, platform: dict | None = None) -> dict:
    """Production's critical groups listed, a catch-all fleet group `platform`, and this discovery."""
    inventory = copy.deepcopy(inventory_section())
    groups = {name: inventory["lambdaGroups"][name] for name in CRITICAL_GROUPS}
    inventory["lambdaGroups"] = {**groups, "platform": {"tier": "warning", "fleet": True, **(platform or {})}}
    inventory["discovery"] = {"functionPrefix": "hasivu-production-", **discovery}
    return inventory


# 2,000 discovered functions, as the tester's `--functions` file had them.
FLEET_ACCOUNT = account_with(function_names(2000))

CASES = {
    "malformed email": (
        {"set_": {"alerting": {**ALERTING, "business": {"emails": ["finance@"]}}}},
        ["hasivu-monitoring:alerting.business.emails[0]", "'finance@'", "an email address"],
    ),
    "negative threshold": (
        {"set_": {"thresholds": {"rds": {"freeableMemoryMb": -5}}}},
        ["hasivu-monitoring:thresholds.rds.freeableMemoryMb", "-5", "a number >= 0"],
    ),
    "percentage above 100": (
        {"set_": {"thresholds": {"rds": {"cpuPercent": 120}}}},
        ["hasivu-monitoring:thresholds.rds.cpuPercent", "120", "a percentage between 0 and 100"],
    ),
    "non-numeric threshold": (
        {"set_": {"thresholds": {"lambda": {"errorsPerMinute": "lots"}}}},
        ["hasivu-monitoring:thresholds.lambda.errorsPerMinute", "'lots'", "a number"],
    ),
    "endpoint volume guard below one request": (
        {"set_": {"inventory": {**inventory_section(), "api": {
            **inventory_section()["api"], "criticalEndpoints": [{"path": "/auth/login", "minRequests": 0}]}}}},
        ["hasivu-monitoring:inventory.api.criticalEndpoints[0].minRequests", "got 0",
         "expected a number of requests >= 1"],
    ),
    "unknown threshold name": (
        {"set_": {"thresholds": {"api": {"latencyP95Ms": 10}}}},
        ["thresholds.api.latencyP95Ms: unknown key; did you mean `latencyP99Ms`?"],
    ),
    "unknown tier name": (
        {"set_": {"alerting": {**ALERTING, "urgent": {"emails": ["a@hasivu.com"]}}}},
        ["hasivu-monitoring:alerting.urgent: unknown key", "known keys here: critical, warning, business"],
    ),
    "missing required key": (
        {"remove": ("environment",)},
        ["hasivu-monitoring:environment", "the key is missing",
         "expected a value (the key is required): a lower-case environment name like production"],
    ),
    "missing inventory": (
        {"remove": ("inventory",)},
        ["hasivu-monitoring:inventory", "the key is missing", "a mapping with lambdaGroups, api, rds"],
    ),
    "plaintext webhook secret": (
        {"set_": {"slackWebhookUrl": SLACK}},
        ["hasivu-monitoring:slackWebhookUrl", "plaintext value, not shown", "pulumi config set --secret"],
    ),
    "webhook pasted into plaintext alerting": (
        {"set_": {"alerting": {**ALERTING, "warning": {"slack": SLACK}}}},
        ["hasivu-monitoring:alerting.warning.slack", "not shown", "no webhook URL in plaintext config"],
    ),
    "secret of the wrong form": (
        {"secrets": {"pagerdutyEndpoint": "http://example.com/hook"}},
        ["hasivu-monitoring:pagerdutyEndpoint", "secret value, not shown", "an HTTPS URL on pagerduty.com"],
    ),
    "required secret unset": (
        {"remove": ("pagerdutyEndpoint",)},
        ["hasivu-monitoring:pagerdutyEndpoint", "alerting.critical.pagerduty is true",
         "pulumi config set --secret pagerdutyEndpoint"],
    ),
    "required key of a nested mapping": (
        {"set_": {"inventory": {**inventory_section(), "redis": {"nodeIds": ["hasivu-production-cache-001"]}}}},
        ["hasivu-monitoring:inventory.redis.replicationGroupId: got nothing (the key is missing); expected a value "
         "(the key is required): a resource name"],
    ),
    "slack channel key": (
        {"set_": {"alerting": {**ALERTING, "warning": {
            "slack": {"workspaceID": "T0HASIVU01", "channelId": "C0HASIVU01"}}}}},
        ["alerting.warning.slack.workspaceID: unknown key; did you mean `workspaceId`?"],
    ),
    "discovery key": (
        {"set_": {"inventory": {**inventory_section(), "discovery": {"functionPrefx": "hasivu-production-"}}}},
        ["inventory.discovery.functionPrefx: unknown key; did you mean `functionPrefix`?"],
    ),
    "budget service key": (
        {"set_": {"budgets": {"daily": {"lamda": 10}}}},
        ["budgets.daily.lamda: unknown key; did you mean `lambda`?"],
    ),
    "sampling class key": (
        {"set_": {"tracing": {"sampling": {"critcal": {"rate": 0.5}}}}},
        ["tracing.sampling.critcal: unknown key; did you mean `critical`?"],
    ),
    "sampling field key": (
        {"set_": {"tracing": {"sampling": {"critical": {"rat": 0.5}}}}},
        ["tracing.sampling.critical.rat: unknown key; did you mean `rate`?"],
    ),
    "misspelt namespace": (
        {"set_": {"hasivu-monitorng:monitoringBudgetUsd": "100"}},
        ["config hasivu-monitorng:monitoringBudgetUsd: unknown key; did you mean "
         "`hasivu-monitoring:monitoringBudgetUsd`?"],
    ),
    "aws provider key": (
        {"set_": {"aws:regoin": "ap-south-1"}},
        ["config aws:regoin: unknown key; did you mean `region`?"],
    ),
    "function listed twice": (
        {"set_": {"inventory": _duplicate_function()}},
        ["inventory.lambdaGroups.orders.functions[hasivu-production-payments-verify]: "
         "got 'hasivu-production-payments-verify'; expected each function listed once (already listed in group "
         "payments)"],
    ),
    "timeout out of range": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rfid": {"tier": "warning", "timeoutSeconds": 1200, "functions": ["hasivu-production-rfid-x"]}}}}},
        ["inventory.lambdaGroups.rfid.timeoutSeconds", "1200", "a whole number from 1 to 900"],
    ),
    "unknown function tier": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rfid": {"tier": "sev1", "functions": ["hasivu-production-rfid-x"]}}}}},
        ["inventory.lambdaGroups.rfid.tier", "'sev1'", "one of the tiers"],
    ),
    "group without functions or fleet": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {"rfid": {"tier": "warning"}}}}},
        ["inventory.lambdaGroups.rfid.functions", "[]", "a non-empty list of functions (or fleet: true"],
    ),
    "two catch-all fleets": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rest": {"tier": "warning", "fleet": True}, "more": {"tier": "business", "fleet": True}}}}},
        ["inventory.lambdaGroups.more: got 'a second fleet group without functions'; expected its functions "
         "listed: only one fleet group without functions may cover the rest of the account (rest already does)"],
    ),
    "fleet flag not a boolean": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rest": {"tier": "warning", "fleet": "yes"}}}}},
        ["inventory.lambdaGroups.rest.fleet", "'yes'"],
    ),
    "fleet query over CloudWatch's length": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {"orders": {
            "tier": "warning", "fleet": True,
            "functions": [f"hasivu-production-orders-{i:03d}" for i in range(60)]}}}}},
        ["inventory.lambdaGroups.orders.functions: the fleet query of group orders selects its 60 functions by name",
         "characters; CloudWatch allows at most 2,048 characters in an alarm expression: list fewer functions"],
    ),
    "discovery group naming no group": (
        {"set_": {"inventory": _fleet_inventory({"group": "platfrom"})}, "invokes": FLEET_ACCOUNT},
        ["config hasivu-monitoring:inventory.discovery.group: got 'platfrom'; expected a group of "
         "inventory.lambdaGroups (payments, auth, platform), or `discovered` (the default)",
         "did you mean `platform`?"],
    ),
    "discovered functions alarmed one by one overflow the catch-all fleet's query": (
        {"set_": {"inventory": _fleet_inventory({})}, "invokes": FLEET_ACCOUNT},
        ["inventory.lambdaGroups.platform: the catch-all fleet query of group platform leaves out by name the",
         "2,000 of them discovered into group discovered", "CloudWatch allows at most 2,048 characters",
         "set inventory.discovery.group: platform"],
    ),
    "discovery tier other than its fleet group's": (
        {"set_": {"inventory": _fleet_inventory({"group": "platform", "tier": "critical"})}, "invokes": FLEET_ACCOUNT},
        ["inventory.discovery.tier: got 'critical'; expected 'warning' or no tier: discovered functions join fleet "
         "group platform", "(inventory.lambdaGroups.platform.tier: 'warning')"],
    ),
    "discovery timeout other than its fleet group's": (
        {"set_": {"inventory": _fleet_inventory({"group": "platform", "timeoutSeconds": 60})}},
        ["inventory.discovery.timeoutSeconds: got 60; expected 30 or no timeoutSeconds",
         "(inventory.lambdaGroups.platform.timeoutSeconds: 30)"],
    ),
    "group alarmed per function without a tier": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rfid": {"functions": ["hasivu-production-rfid-x"]}}}}},
        ["inventory.lambdaGroups.rfid.tier: got nothing (the key is missing); expected one of the tiers critical, "
         "warning, business (required for a group alarmed per function; only a fleet: true group defaults"],
    ),
    "fleet function with its own tier": (
        {"set_": {"inventory": _fleet_inventory({}, {"functions": [
            "hasivu-production-menu-a", {"name": "hasivu-production-menu-b", "tier": "critical"}]})}},
        ["inventory.lambdaGroups.platform.functions[hasivu-production-menu-b].tier: got 'critical'; expected no tier "
         "of its own for hasivu-production-menu-b in fleet group platform",
         "list hasivu-production-menu-b in a group without fleet"],
    ),
    "fleet function with its own thresholds": (
        {"set_": {"inventory": _fleet_inventory({}, {"functions": [
            {"name": "hasivu-production-menu-b", "thresholds": {"errorsPerMinute": 1}}]})}},
        ["inventory.lambdaGroups.platform.functions[hasivu-production-menu-b].thresholds: got {'errorsPerMinute': "
         "1.0}; expected no thresholds of its own for hasivu-production-menu-b"],
    ),
    "fleet function with its own timeout": (
        {"set_": {"inventory": _fleet_inventory({}, {"functions": [
            {"name": "hasivu-production-menu-b", "timeoutSeconds": 300}]})}},
        ["inventory.lambdaGroups.platform.functions[hasivu-production-menu-b].timeoutSeconds: got 300; expected no "
         "timeoutSeconds"],
    ),
    "async fleet group": (
        {"set_": {"inventory": _fleet_inventory({}, {"invocation": "async"})}},
        ["inventory.lambdaGroups.platform.invocation: got 'async'; expected sync in a fleet group (fleet alarms have "
         "no lost-event alarms): list the async functions in a group without fleet: true"],
    ),
    "per-endpoint alarms without detailed metrics on the stage": (
        {"set_": {"inventory": {**inventory_section(), "api": {
            **inventory_section()["api"], "detailedMetrics": False}}}},
        ["inventory.api.detailedMetrics", "False", "detailed metrics enabled on the stage", "update-stage"],
    ),
    "scheduled function in a fleet group": (
        {"set_": {"inventory": _fleet_inventory({}, {"functions": [
            {"name": "hasivu-production-menu-list", "invocation": "scheduled"}]})}},
        ["inventory.lambdaGroups.platform.functions[hasivu-production-menu-list].invocation: got 'scheduled'; "
         "expected no invocation of its own"],
    ),
    "unknown invocation type": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rfid": {"tier": "warning", "invocation": "queue", "functions": ["hasivu-production-rfid-x"]}}}}},
        ["inventory.lambdaGroups.rfid.invocation", "'queue'", "one of sync, async"],
    ),
    "school hours before 05:30 IST": (
        {"set_": {"thresholds": {"business": {"schoolDayStartIst": 4}}}},
        ["thresholds.business.schoolDayStartIst", "4", "an IST time in hours from 5.5 (05:30) to 24"],
    ),
    "school day ending before it starts": (
        {"set_": {"thresholds": {"business": {"schoolDayStartIst": 9, "schoolDayEndIst": 8}}}},
        ["thresholds.business.schoolDayEndIst", "8", "a time after schoolDayStartIst (9)"],
    ),
    "SLO target of 100 %": (
        {"set_": {"slos": {"database": {"target": 100}}}},
        ["hasivu-monitoring:slos.database.target", "100", "a percentage above 93.06 and at most 99.999"],
    ),
    "SLO target just above what a budget can count": (
        {"set_": {"slos": {"database": {"target": 99.9995}}}},
        ["hasivu-monitoring:slos.database.target", "99.9995", "at most 99.999"],
    ),
    "SLO target written as a fraction": (
        {"set_": {"slos": {"paymentSuccess": {"target": 0.999}}}},
        ["hasivu-monitoring:slos.paymentSuccess.target", "0.999", "above 93.06",
         "the 14.4x burn rate is more than every request or minute bad"],
    ),
    "misspelt SLO": (
        {"set_": {"slos": {"apiAvailabilty": {"target": 99.5}}}},
        ["hasivu-monitoring:slos", "apiAvailabilty", "apiAvailability"],
    ),
    "latency threshold on a period-based SLO": (
        {"set_": {"slos": {"redis": {"thresholdMs": 500}}}},
        ["hasivu-monitoring:slos.redis", "thresholdMs"],
    ),
    "threshold of an alarm an SLO replaces": (
        {"set_": {"thresholds": {"business": {"rfidVerificationPercent": 98}}}},
        ["thresholds.business.rfidVerificationPercent", "98", "rfid-verification SLO",
         "slos.rfidVerification.enabled: false"],
    ),
    "low-volume window longer than a day": (
        {"set_": {"thresholds": {"lambda": {"lowVolumeWindowMinutes": 2880}}}},
        ["thresholds.lambda.lowVolumeWindowMinutes", "2880", "a whole number from 0 to 1440"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_one_clear_error_and_registers_nothing(case: str):
    changes, fragments = CASES[case]
    with pytest.raises(ProgramFailed) as failed:
        run(**changes)
    assert isinstance(failed.value.cause, pulumi.RunError)
    message = str(failed.value.cause)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    assert "hooks.slack.com/services" not in message
    assert failed.value.registrations == []


def test_preflight_reports_a_config_error_in_one_line_without_traceback(tmp_path):
    program_copy(tmp_path, [("[oncall@hasivu.com]", "[oncall-at-hasivu]")])
    result = preflight_cli("--stack", "production", "--program", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "preflight: config hasivu-monitoring:alerting.critical.emails[0]: got 'oncall-at-hasivu'; "
        "expected an email address like ops@hasivu.com"
    ]


# Edits of the committed production stack file, run through `python -m preflight` as a user would:
# (text replaced, replacement, fragments of the one line on stderr). Typos at every level.
FILE_CASES = {
    "top-level key": ("hasivu-monitoring:healthMonitor:", "hasivu-monitoring:healthMonitr:",
                      ["config hasivu-monitoring:healthMonitr: unknown key; did you mean `healthMonitor`?"]),
    "inventory key": ("    rds:\n", "    rdss:\n", ["inventory.rdss: unknown key; did you mean `rds`?"]),
    "lambda group key": ("        tier: critical\n        timeoutSeconds: 30",
                         "        teir: critical\n        timeoutSeconds: 30",
                         ["inventory.lambdaGroups.payments.teir: unknown key; did you mean `tier`?"]),
    "function entry key": ("            timeoutSeconds: 15", "            timeoutSecond: 15",
                           ["lambdaGroups.payments.functions[hasivu-production-payments-webhook].timeoutSecond: "
                            "unknown key; "
                            "did you mean `timeoutSeconds`?"]),
    "per-function threshold": ("durationMaxMs: 120000", "durationMaxMS: 120000",
                               ["lambdaGroups.payments.functions[hasivu-production-payments-reconcile]"
                                ".thresholds.durationMaxMS: unknown key; did you mean `durationMaxMs`?"]),
    "alerting tier": ("    critical:\n      emails: [oncall", "    critcal:\n      emails: [oncall",
                      ["alerting.critcal: unknown key; did you mean `critical`?"]),
    "tier contact": ("      pagerduty: true", "      pagerdutty: true",
                     ["alerting.critical.pagerdutty: unknown key; did you mean `pagerduty`?"]),
    "thresholds section": ("    account:\n      concurrencyLimit", "    acount:\n      concurrencyLimit",
                           ["thresholds.acount: unknown key; did you mean `account`?"]),
    "threshold name": ("concurrencyLimit: 1000", "concurencyLimit: 1000",
                       ["thresholds.account.concurencyLimit: unknown key; did you mean `concurrencyLimit`?"]),
    # EventBridge refuses these at deploy time: a unit that disagrees with its value, a cron not of six fields.
    "schedule unit for 1": ("    schedule: rate(1 minute)", "    schedule: rate(1 minutes)",
                            ["healthMonitor.schedule: got 'rate(1 minutes)'; expected an EventBridge schedule"]),
    "schedule unit above 1": ("    schedule: rate(1 minute)", "    schedule: rate(5 minute)",
                              ["healthMonitor.schedule: got 'rate(5 minute)'; expected an EventBridge schedule"]),
    "schedule cron": ("    schedule: rate(1 minute)", "    schedule: cron(every minute)",
                      ["healthMonitor.schedule: got 'cron(every minute)'; expected an EventBridge schedule"]),
    "health monitor key": ("    schedule: rate(1 minute)", "    schedul: rate(1 minute)",
                           ["healthMonitor.schedul: unknown key; did you mean `schedule`?"]),
    "api key": ("      stage: prod", "      stag: prod", ["inventory.api.stag: unknown key; did you mean `stage`?"]),
    "critical endpoint key": ("method: POST, latencyP99Ms: 2000,", "method: POST, latencyP99: 2000,",
                              ["criticalEndpoints[0].latencyP99: unknown key; did you mean `latencyP99Ms`?"]),
    "rds entry key": ("{instanceId: hasivu-production-db,", "{instanceID: hasivu-production-db,",
                      ["inventory.rds[0].instanceID: unknown key; did you mean `instanceId`?"]),
    "redis key": ("      nodeIds:", "      nodeId:", ["inventory.redis.nodeId: unknown key; did you mean `nodeIds`?"]),
    "cost anomaly key": ("    thresholdUsd: 50", "    thresholdUSD: 50",
                         ["costAnomaly.thresholdUSD: unknown key; did you mean `thresholdUsd`?"]),
    "tracing key": ("    manageEncryption: true", "    manageEncryptions: true",
                    ["tracing.manageEncryptions: unknown key; did you mean `manageEncryption`?"]),
    "security log group key": ("      retentionDays: 365", "      retentionDay: 365",
                               ["securityLogGroup.retentionDay: unknown key; did you mean `retentionDays`?"]),
    "budget not a number": ("monitoringBudgetUsd: 100", "monitoringBudgetUsd: lots",
                            ["config hasivu-monitoring:monitoringBudgetUsd: got 'lots'; expected a number"]),
    "unknown region": ("aws:region: ap-south-1", "aws:region: ap-south-9",
                       ["config aws:region: got 'ap-south-9'; expected an AWS region botocore knows",
                        "(did you mean `ap-south-"]),
    "retention not allowed": ("retentionDays: 365", "retentionDays: 42",
                              ["securityLogGroup.retentionDays: got 42; expected a CloudWatch Logs retention period"]),
    "monitor ARN of another kind": (
        "    thresholdUsd: 50\n", "    thresholdUsd: 50\n    existingMonitorArn: arn:aws:ce::123456789012:"
        "anomalysubscription/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\n",
        ["costAnomaly.existingMonitorArn: got 'arn:aws:ce::123456789012:anomalysubscription/",
         "expected a Cost Explorer anomaly monitor ARN"]),
    "flag not a boolean": ("manageEncryption: true", "manageEncryption: maybe",
                           ["tracing.manageEncryption: got 'maybe'; expected true or false"]),
    "tier value": ("        tier: critical\n        timeoutSeconds: 30",
                   "        tier: urgent\n        timeoutSeconds: 30",
                   ["inventory.lambdaGroups.payments.tier: got 'urgent'; expected one of the tiers"]),
    "slack form": ("      slack: webhook", "      slack: webhok",
                   ["alerting.warning.slack: got 'webhok'; expected one of 'webhook' or a mapping"]),
    "sms number": ('"+919800000001"', '"9800000001"',
                   ["alerting.critical.sms[0]: got '9800000001'; expected an E.164 phone number"]),
    "required key missing (Pulumi.yaml)": ("  hasivu-monitoring:environment: production\n", "",
                                           ["Stack 'production' is missing configuration value 'environment'"]),
    # A required key misspelt is missing to the CLI; the message names the stack file and the key it
    # holds instead.
    "required key misspelt (Pulumi.yaml)": ("  hasivu-monitoring:inventory:\n", "  hasivu-monitoring:inventori:\n",
                                           ["Pulumi.production.yaml: Stack 'production' is missing configuration "
                                            "value 'inventory'; it sets 'inventori', which the project does not "
                                            "declare: did you mean 'inventory'? (declared in Pulumi.yaml)"]),
    "required key's namespace misspelt (Pulumi.yaml)": (
        "  hasivu-monitoring:inventory:\n", "  hasivu-monitorng:inventory:\n",
        ["Pulumi.production.yaml: Stack 'production' is missing configuration value 'inventory'; it sets "
         "'hasivu-monitorng:inventory', outside the project's namespace: did you mean "
         "'hasivu-monitoring:inventory'? (declared in Pulumi.yaml)"]),
    # YAML's `.inf` and `.nan` are floats; AWS takes neither as a budget, an amount or a threshold.
    "infinite amount": ("    thresholdUsd: 50\n", "    thresholdUsd: .inf\n",
                        ["costAnomaly.thresholdUsd: got inf; expected a finite number (no .inf or .nan)"]),
    "infinite threshold": ("      concurrencyLimit: 1000", "      concurrencyLimit: .inf",
                           ["thresholds.account.concurrencyLimit: got inf; expected a finite number"]),
    # The stack file's own keys are those the CLI reads (ProjectStack in sdk/go/common/workspace/project.go).
    "top-level key misspelt": ("\nconfig:\n", "\nconfigs:\n",
                               ["Pulumi.production.yaml: unknown top-level key 'configs': expected one of "
                                "secretsprovider, encryptedkey, encryptionsalt, config, environment; did you mean "
                                "`config`?"]),
    "stray top-level key": ("\nconfig:\n", "\nencryptionsalt2: x\nconfig:\n",
                            ["unknown top-level key 'encryptionsalt2'", "did you mean `encryptionsalt`?"]),
    "declared type (Pulumi.yaml)": ("hasivu-monitoring:environment: production",
                                    "hasivu-monitoring:environment: {name: production}",
                                    ["Stack 'production' with configuration key 'environment' must be of type "
                                     "'string'"]),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_stack_file_exits_2_with_one_line_and_registers_nothing(case, tmp_path, capsys):
    old, new, fragments = FILE_CASES[case]
    program_copy(tmp_path, [(old, new)])
    status = preflight_main(["--stack", "production", "--program", str(tmp_path), "--no-policy"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    [line] = err.strip().splitlines()
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in line
    try:
        files = load_stack_files(tmp_path, "production")
    except ProgramError:
        return  # refused before the program starts, as the CLI refuses it: nothing can be registered
    with pytest.raises(ProgramFailed) as failed:
        run_program(files, preview=False)
    assert failed.value.registrations == []


def _preflight_errors(capsys, program, stack: str = "production") -> list[str]:
    status = preflight_main(["--stack", stack, "--program", str(program), "--no-policy"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert "Traceback" not in err
    return err.splitlines()


def test_every_mistake_of_a_stack_file_is_one_line_of_the_same_run(tmp_path, capsys):
    program = program_copy(tmp_path, [
        ("aws:region: ap-south-1", "aws:region: ap-south-9"),
        ("[oncall@hasivu.com]", "[oncall-at-hasivu]"),
        ("    rds:\n", "    rdss:\n"),
        ("            timeoutSeconds: 300", "            timeoutSeconds: 3000"),
    ])
    lines = _preflight_errors(capsys, program)
    assert len(lines) == 4, lines
    assert all(line.startswith("preflight: config ") for line in lines)
    assert lines[0].startswith("preflight: config aws:region: got 'ap-south-9'; expected an AWS region botocore knows")
    assert lines[1:] == [
        "preflight: config hasivu-monitoring:alerting.critical.emails[0]: got 'oncall-at-hasivu'; "
        "expected an email address like ops@hasivu.com",
        "preflight: config hasivu-monitoring:inventory.rdss: unknown key; did you mean `rds`? known keys here: "
        "lambdaGroups, api, rds, redis, businessNamespace, healthNamespace, securityLogGroup, discovery",
        "preflight: config hasivu-monitoring:inventory.lambdaGroups.payments.functions"
        "[hasivu-production-payments-reconcile].timeoutSeconds: got 3000; expected a whole number from 1 to 900",
    ]


def test_more_than_twenty_mistakes_show_twenty_lines_and_a_count(tmp_path, capsys):
    emails = ", ".join(f"oncall{i}-at-hasivu" for i in range(25))
    lines = _preflight_errors(capsys, program_copy(tmp_path, [("[oncall@hasivu.com]", f"[{emails}]")]))
    assert len(lines) == 21
    assert lines[19].startswith("preflight: config hasivu-monitoring:alerting.critical.emails[19]: "
                                "got 'oncall19-at-hasivu'")
    assert lines[20] == "preflight: ... and 5 more"


def test_a_misspelt_required_key_is_one_line_not_also_a_missing_key(tmp_path, capsys):
    program = program_copy(tmp_path, [("      replicationGroupId:", "      replicationGroupID:")])
    assert _preflight_errors(capsys, program) == [
        "preflight: config hasivu-monitoring:inventory.redis.replicationGroupID: unknown key; did you mean "
        "`replicationGroupId`? known keys here: replicationGroupId, nodeIds"]


def test_mistakes_found_after_the_schema_are_all_reported_too():
    inventory = copy.deepcopy(inventory_section())
    groups = inventory["lambdaGroups"]
    groups["orders"]["functions"].append("hasivu-production-payments-verify")
    del groups["rfid"]["tier"]
    groups["menu"] = {"tier": "warning", "fleet": True, "invocation": "async"}
    with pytest.raises(ProgramFailed) as failed:
        run(set_={"inventory": inventory, "thresholds": {"business": {"lunchStartIst": 14, "lunchEndIst": 13}}})
    lines = str(failed.value.cause).splitlines()
    assert [line.split(":")[1].split(" ")[0] for line in lines] == [
        "thresholds.business.lunchEndIst", "inventory.lambdaGroups.orders.functions[hasivu-production-payments-verify]",
        "inventory.lambdaGroups.rfid.tier", "inventory.lambdaGroups.menu.invocation"], lines
    assert failed.value.registrations == []


@pytest.mark.parametrize(("content", "expected"), [
    (b"- a\n", "expected a mapping with secretsprovider, encryptedkey, encryptionsalt, config, environment at the "
                "top (got list ['a'])"),
    (b"just a string\n", "expected a mapping with secretsprovider, encryptedkey, encryptionsalt, config, "
                          "environment at the top (got str 'just a string')"),
    (b"config: [1, 2]\n", "config: expected a mapping of config keys to values (got list)"),
    (b"\xff\xfe bad", "not UTF-8 text (byte 0xff at offset 0); expected a YAML stack or project file"),
])
def test_a_stack_file_of_the_wrong_shape_is_one_line(tmp_path, capsys, content: bytes, expected: str):
    program = program_copy(tmp_path, [])
    (program / "Pulumi.production.yaml").write_bytes(content)
    assert _preflight_errors(capsys, program) == [f"preflight: {program / 'Pulumi.production.yaml'}: {expected}"]


def test_a_yaml_error_keeps_the_parsers_reason_and_where(tmp_path, capsys):
    program = program_copy(tmp_path, [("emails: [oncall@hasivu.com]", "emails: [oncall@hasivu.com")])
    text = (program / "Pulumi.production.yaml").read_text().splitlines()
    opened = next(i for i, line in enumerate(text) if line.endswith("[oncall@hasivu.com"))
    # PyYAML reads the next line's `sms:` as a key inside the unclosed list: a ':' where ',' or ']' must be.
    assert _preflight_errors(capsys, program) == [
        f"preflight: {program / 'Pulumi.production.yaml'}: not valid YAML at line {opened + 2}, column "
        f"{text[opened + 1].index(':') + 1}: expected ',' or ']', but got ':' (while parsing a flow sequence that "
        f"starts at line {opened + 1}, column {text[opened].index('[') + 1})"]


def test_a_key_written_twice_is_refused_where_it_is_written_again(tmp_path, capsys):
    # In go-yaml v3's words ("mapping key %#v already defined at line %d", decode.go); go-yaml v2, which
    # some CLI versions read stack files with, would keep the later value and drop the first silently.
    program = program_copy(tmp_path, [("  hasivu-monitoring:thresholds:\n    account:\n",
                                        "  hasivu-monitoring:thresholds:\n    account: {concurrencyLimit: 900}\n"
                                        "    account:\n")])
    text = (program / "Pulumi.production.yaml").read_text().splitlines()
    first = text.index("    account: {concurrencyLimit: 900}") + 1
    assert _preflight_errors(capsys, program) == [
        f"preflight: {program / 'Pulumi.production.yaml'}: not valid YAML at line {first + 1}, column 5: "
        f"mapping key 'account' already defined at line {first} (while constructing a mapping that starts at "
        f"line {first}, column 5)"]


def test_an_unknown_stack_names_the_stacks_there(tmp_path, capsys):
    program = program_copy(tmp_path, [])
    (program / "Pulumi.staging.yaml").write_text((REPO / "Pulumi.staging.yaml").read_text())
    assert _preflight_errors(capsys, program, stack="prod") == [
        f"preflight: no stack 'prod': Pulumi.prod.yaml not found in {program}; stacks here: production, staging"]
