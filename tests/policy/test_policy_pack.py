"""The policy pack, driven through the analyzer interface the Pulumi CLI uses, in preview
(unknown ids, ARNs and generated names) and update fidelity."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from google.protobuf import empty_pb2

from preflight.preview.analyzer import PolicyError, PolicyPackProcess, Violation, analyze
from preflight.program.engine import run_program
from preflight.program.stack_files import load_stack_files
from tests.support.stack import PROGRAMS, REPO, preflight_cli, stack_files

PACK = REPO / "policy"
PRODUCTION = PACK / "config" / "production.json"
STAGING = PACK / "config" / "staging.json"


@functools.cache
def violations(program: str, preview: bool, config: Path | None = PRODUCTION) -> tuple[Violation, ...]:
    if program in ("production", "staging"):
        files = stack_files(program)
    else:
        files = load_stack_files(PROGRAMS / program, "dev")
    return tuple(analyze(run_program(files, preview=preview), PACK, config))


def _found(found: tuple[Violation, ...], policy: str, resource: str) -> list[Violation]:
    return [v for v in found if v.policy == policy and v.urn.split("::")[-1] == resource]


# (policy, resource that breaks it, level in production, only in preview)
EXPECTED = [
    ("alarm-coverage", "coverage-orphan-fn", "mandatory", False),
    ("alarm-coverage", "coverage-auto-fn", "mandatory", False),
    ("alarm-coverage", "coverage-stage", "mandatory", False),
    ("alarm-coverage", "coverage-db", "mandatory", False),
    ("alert-encryption", "encryption-plain-topic", "mandatory", False),
    ("alert-encryption", "encryption-managed-topic", "mandatory", False),
    ("alert-encryption", "encryption-norotate-key", "mandatory", False),
    ("alert-encryption", "encryption-narrow-key", "mandatory", False),
    ("alert-encryption", "encryption-unknown-key-topic", "mandatory", True),
    ("alert-encryption", "encryption-logs-key", "mandatory", False),
    ("alarm-routing", "routing-silent-alarm", "mandatory", False),
    ("alarm-routing", "routing-disabled-alarm", "mandatory", False),
    ("alarm-routing", "routing-critical-no-ok", "mandatory", False),
    ("alarm-routing", "routing-to-lambda", "mandatory", False),
    ("account-singletons", "singletons-second-monitor", "mandatory", False),
    ("account-singletons", "singletons-second-encryption", "mandatory", False),
    ("account-singletons", "singletons-bad-subscription", "mandatory", False),
    ("deploy-time-validity", "validity-bad-period", "mandatory", False),
    ("deploy-time-validity", "validity-long-window", "mandatory", False),
    ("deploy-time-validity", "validity-datapoints", "mandatory", False),
    ("deploy-time-validity", "validity-two-returns", "mandatory", False),
    ("deploy-time-validity", "validity-bad-rule", "mandatory", False),
    ("deploy-time-validity", "validity-overlap-dashboard", "mandatory", False),
    ("deploy-time-validity", "validity-bad-rate", "mandatory", False),
    ("deploy-time-validity", "validity-silent-budget", "mandatory", False),
    ("deploy-time-validity", "validity-daily-forecast", "mandatory", False),
    ("alarm-mute-rules", "mute-too-many", "mandatory", False),
    ("alarm-mute-rules", "mute-eventbridge-cron", "mandatory", False),
    ("alarm-mute-rules", "mute-sixteen-days", "mandatory", False),
    ("alarm-mute-rules", "mute-no-time-zone", "mandatory", False),
    ("no-plaintext-secrets", "secrets-leaky-fn", "mandatory", False),
    ("no-plaintext-secrets", "secrets-pagerduty-plain", "mandatory", False),
    ("no-plaintext-secrets", "secrets-plain-parameter", "mandatory", False),
    ("sms-not-alone", "sms-only-topic", "mandatory", False),
    ("required-tags", "tags-untagged-alarm", "advisory", False),
    ("runbook-links", "runbook-missing", "advisory", False),
    ("monitoring-cost", "cost-high-resolution", "advisory", False),
    ("monitoring-cost", "cost-unbounded-dimension", "advisory", False),
    ("monitoring-cost", "cost-health-sampling", "advisory", False),
]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize(("policy", "resource", "level", "preview_only"), EXPECTED,
                         ids=[f"{p}:{r}" for p, r, _, _ in EXPECTED])
def test_each_rule_flags_its_noncompliant_resource(policy, resource, level, preview_only, preview):
    found = _found(violations("noncompliant", preview), policy, resource)
    if preview_only and not preview:
        # Once created, the key is a known external ARN; the rule only insists while it cannot tell.
        assert found == []
        return
    assert found, f"{policy} did not flag {resource}"
    assert {v.level for v in found} == {level}
    assert all("Fix:" in v.message for v in found)


def test_a_mute_rule_names_only_alarms_of_the_stack_once_their_names_are_known():
    """In preview this program's alarms are named at create time (unknown): any could be the target.
    Once names are known, a target that is no alarm of the stack is refused (PutAlarmMuteRule: "the
    alarm names must match existing alarms")."""
    assert _found(violations("noncompliant", True), "alarm-mute-rules", "mute-removed-alarm") == []
    [found] = _found(violations("noncompliant", False), "alarm-mute-rules", "mute-removed-alarm")
    assert "target 'shop-old-pager' is no alarm of this stack" in found.message
    [too_many] = _found(violations("noncompliant", False), "alarm-mute-rules", "mute-too-many")
    assert "mutes 101 alarms (at most 100 a rule)" in too_many.message
    [cron] = _found(violations("noncompliant", True), "alarm-mute-rules", "mute-eventbridge-cron")
    assert "has 6 fields; a mute rule's cron has 5" in cron.message


def test_dashboards_beyond_the_accepted_count_are_advised_once_for_the_stack():
    [advice] = [v for v in violations("noncompliant", True) if "dashboards:" in v.message]
    assert advice.policy == "monitoring-cost" and advice.level == "advisory"
    assert "6 dashboards: 3 beyond the 3 free ones cost $9 a month" in advice.message


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_compliant_program_with_unknown_ids_has_no_violation(preview):
    assert violations("compliant", preview) == ()


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_decoy_function_is_covered_by_its_alarm_through_dependencies(preview):
    assert _found(violations("noncompliant", preview), "alarm-coverage", "coverage-decoy-fn") == []


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_production_stack_has_no_violation_but_the_sms_sandbox_advice(preview):
    # Its critical tier pages by SMS (tests/components/test_sms_paging.py) as well as by email and PagerDuty.
    assert [(v.policy, v.level, v.urn) for v in violations("production", preview)] == [
        ("sms-sandbox", "advisory", "")]


def test_staging_config_makes_mandatory_rules_advisory():
    production = violations("noncompliant", True)
    staging = violations("noncompliant", True, STAGING)
    assert {v.level for v in staging} == {"advisory"}
    assert not [v for v in staging if v.policy == "runbook-links"]
    # Staging also allows disabled alarm actions (allowDisabledActions: true).
    expected = {(v.policy, v.urn) for v in production
                if v.policy != "runbook-links" and not v.urn.endswith("routing-disabled-alarm")}
    assert expected == {(v.policy, v.urn) for v in staging}


def test_staging_stack_passes_its_own_config():
    assert [v for v in violations("staging", True, STAGING) if v.level == "mandatory"] == []


def test_pack_describes_its_policies_and_levels_over_grpc():
    pack = PolicyPackProcess(PACK)
    try:
        info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty())
    finally:
        pack.close()
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert info.name == "hasivu-monitoring-policies"
    mandatory = {"alarm-coverage", "alert-encryption", "alarm-routing", "account-singletons",
                 "deploy-time-validity", "no-plaintext-secrets", "sms-not-alone", "alarm-mute-rules"}
    assert {n for n, level in levels.items() if level == 1} == mandatory
    assert {n for n, level in levels.items() if level == 0} == {"required-tags", "runbook-links", "monitoring-cost",
                                                                  "sms-sandbox"}


@pytest.mark.parametrize(("config", "message"), [
    ({"alarm-coverge": "mandatory"}, "unknown policy 'alarm-coverge'"),
    ({"alarm-routing": "blocking"}, "alarm-routing.enforcementLevel: got 'blocking'"),
    ({"monitoring-cost": {"maxHealthCheckSamplingRate": 2}}, "monitoring-cost.maxHealthCheckSamplingRate"),
])
def test_bad_policy_config_is_refused(tmp_path, config, message):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(config))
    with pytest.raises(PolicyError, match=message.replace(".", r"\.").replace("(", r"\(")):
        analyze(run_program(load_stack_files(PROGRAMS / "compliant", "dev")), PACK, path)


@pytest.mark.slow
def test_preflight_of_a_noncompliant_program_exits_1_and_names_rule_resource_and_fix():
    result = preflight_cli("--stack", "dev", "--program", str(PROGRAMS / "noncompliant"))
    assert result.returncode == 1
    assert "[MANDATORY] alarm-coverage: coverage-orphan-fn" in result.stdout
    assert "Fix: add it to the inventory" in result.stdout
    doc = json.loads(preflight_cli("--stack", "dev", "--program", str(PROGRAMS / "noncompliant"), "--json").stdout)
    assert {"policy", "level", "urn", "message"} == set(doc["violations"][0])
    assert any(v["policy"] == "alert-encryption" and v["level"] == "mandatory" for v in doc["violations"])


def test_preflight_of_a_compliant_program_with_unknowns_exits_0():
    result = preflight_cli("--stack", "dev", "--program", str(PROGRAMS / "compliant"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Policy pack: no violations" in result.stdout
