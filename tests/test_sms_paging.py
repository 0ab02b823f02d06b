"""SMS paging: the sandbox advisory (preflight summary, `--json`, policy pack) and the rule that SMS
never pages alone, through the analyzer interface the CLI uses.

AWS facts: a new account is in the SNS SMS sandbox, verified numbers only (up to 10), $1/month
(https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html); India's local routes need a
DLT-registered sender ID, from ap-south-1 or ap-south-2
(https://docs.aws.amazon.com/sms-voice/latest/userguide/registrations-sms-senderid-india.html).
"""

from __future__ import annotations

import json

from preflight.analyzer import analyze
from preflight.engine import run_program
from preflight.sms import sms_advisory
from tests.stack import REPO, preflight_cli, run, stack_files

PACK = REPO / "policy"
SMS_ONLY_CRITICAL = {"alerting": {
    "critical": {"sms": ["+919800000001"]},
    "warning": {"emails": ["ops@hasivu.com"]},
    "business": {"emails": ["business-ops@hasivu.com"]},
}}


def test_preflight_summary_and_json_name_the_sms_subscriptions_and_the_way_out_of_the_sandbox():
    summary = preflight_cli("--stack", "production", "--no-policy")
    assert summary.returncode == 0, summary.stderr
    assert ("SMS paging: 2 SMS subscriptions on production-hasivu-critical-alerts (2); a new AWS account is in "
            "the SNS SMS sandbox") in summary.stdout
    assert "aws sns get-sms-sandbox-account-status --region ap-south-1" in summary.stdout
    assert "TRAI DLT portal" in summary.stdout and "sender ID" in summary.stdout
    doc = json.loads(preflight_cli("--stack", "production", "--json").stdout)
    assert doc["smsSandbox"]["subscriptions"] == 2
    assert doc["smsSandbox"]["topics"] == {"production-hasivu-critical-alerts": 2}
    [advice] = [v for v in doc["violations"] if v["policy"] == "sms-sandbox"]
    assert advice["level"] == "advisory" and "Exit SMS sandbox" in advice["message"]
    assert "DLT" in advice["message"]


def test_no_sms_no_advisory():
    assert sms_advisory(run("staging").registrations, "ap-south-1") is None


def test_sms_alone_on_the_critical_tier_blocks_production_and_is_advised_in_staging():
    program = run_program(stack_files("production", set_=SMS_ONLY_CRITICAL))
    production = analyze(program, PACK, PACK / "config" / "production.json")
    [alone] = [v for v in production if v.policy == "sms-not-alone"]
    assert alone.level == "mandatory" and alone.urn.endswith("::critical-alerts-topic")
    assert "pages only by SMS" in alone.message and "production-hasivu-critical-alerts" in alone.message
    staging = analyze(program, PACK, PACK / "config" / "staging.json")
    assert {v.level for v in staging if v.policy == "sms-not-alone"} == {"advisory"}
