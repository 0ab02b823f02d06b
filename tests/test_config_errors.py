"""Bad stack config: one line naming key, bad value and expected form; nothing registered."""

from __future__ import annotations

import copy

import pulumi
import pytest

from preflight.engine import ProgramFailed
from tests.stack import REPO, SLACK, inventory_section, preflight_cli, run

ALERTING = {
    "critical": {"emails": ["oncall@hasivu.com"], "sms": ["+919800000001"], "pagerduty": True},
    "warning": {"emails": ["ops@hasivu.com"], "slack": "webhook"},
    "business": {"emails": ["biz@hasivu.com"]},
}


def _duplicate_function() -> dict:
    inventory = copy.deepcopy(inventory_section())
    inventory["lambdaGroups"]["orders"]["functions"].append("hasivu-production-payments-verify")
    return inventory


CASES = {
    "malformed email": (
        {"set_": {"alerting": {**ALERTING, "business": {"emails": ["finance@"]}}}},
        ["hasivu-monitoring:alerting.business.emails[0]", "'finance@'", "an email address"],
    ),
    "negative threshold": (
        {"set_": {"thresholds": {"rds": {"cpuPercent": -5}}}},
        ["hasivu-monitoring:thresholds.rds.cpuPercent", "-5", "a number >= 0"],
    ),
    "non-numeric threshold": (
        {"set_": {"thresholds": {"lambda": {"errorsPerMinute": "lots"}}}},
        ["hasivu-monitoring:thresholds.lambda.errorsPerMinute", "'lots'", "a number"],
    ),
    "unknown threshold name": (
        {"set_": {"thresholds": {"api": {"latencyP95Ms": 10}}}},
        ["thresholds.api.latencyP95Ms", "latencyP99Ms"],
    ),
    "unknown tier name": (
        {"set_": {"alerting": {**ALERTING, "urgent": {"emails": ["a@hasivu.com"]}}}},
        ["hasivu-monitoring:alerting.urgent", "'urgent'", "one of the tiers critical, warning, business"],
    ),
    "missing required key": (
        {"remove": ("environment",)},
        ["hasivu-monitoring:environment", "the key is missing", "lower-case environment name"],
    ),
    "missing inventory": (
        {"remove": ("inventory",)},
        ["hasivu-monitoring:inventory", "the key is missing"],
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
    "function listed twice": (
        {"set_": {"inventory": _duplicate_function()}},
        ["inventory.lambdaGroups.orders.functions[4].name", "'hasivu-production-payments-verify'",
         "each function listed once (already at inventory.lambdaGroups.payments.functions[1])"],
    ),
    "timeout out of range": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rfid": {"tier": "warning", "timeoutSeconds": 1200, "functions": ["hasivu-production-rfid-x"]}}}}},
        ["inventory.lambdaGroups.rfid.functions[0].timeoutSeconds", "1200", "a whole number from 1 to 900"],
    ),
    "unknown function tier": (
        {"set_": {"inventory": {**inventory_section(), "lambdaGroups": {
            "rfid": {"tier": "sev1", "functions": ["hasivu-production-rfid-x"]}}}}},
        ["inventory.lambdaGroups.rfid.tier", "'sev1'", "one of the tiers"],
    ),
    "per-endpoint alarms without detailed metrics on the stage": (
        {"set_": {"inventory": {**inventory_section(), "api": {
            **inventory_section()["api"], "detailedMetrics": False}}}},
        ["inventory.api.detailedMetrics", "False", "detailed metrics enabled on the stage", "update-stage"],
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
    "low-volume window longer than a day": (
        {"set_": {"thresholds": {"lambda": {"lowVolumeWindowMinutes": 2880}}}},
        ["thresholds.lambda.lowVolumeWindowMinutes", "2880", "whole minutes from 5 to 1440"],
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
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((REPO / "__main__.py").read_text())
    broken = (REPO / "Pulumi.production.yaml").read_text().replace("[oncall@hasivu.com]", "[oncall-at-hasivu]")
    (tmp_path / "Pulumi.production.yaml").write_text(broken)
    result = preflight_cli("--stack", "production", "--program", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "preflight: config hasivu-monitoring:alerting.critical.emails[0]: got 'oncall-at-hasivu'; "
        "expected an email address like ops@hasivu.com"
    ]
