"""SMS paging: the sandbox advisory (preflight summary, `--json`, policy pack) and the rule that SMS
never pages alone, through the analyzer interface the CLI uses.

AWS facts: a new account is in the SNS SMS sandbox, verified numbers only (up to 10), $1/month
(https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox.html); India's local routes need a
DLT-registered sender ID, from ap-south-1 or ap-south-2
(https://docs.aws.amazon.com/sms-voice/latest/userguide/registrations-sms-senderid-india.html).
"""

from __future__ import annotations

from preflight.model.stack import build_model
from preflight.preview.analyzer import analyze
from preflight.preview.sms import sms_advisory
from preflight.program.engine import run_program
from tests.policy.test_policy_pack import violations
from tests.support.stack import REPO, run, stack_files

PACK = REPO / "policy"
SMS_ONLY_CRITICAL = {"alerting": {
    "critical": {"sms": ["+919800000001"]},
    "warning": {"emails": ["ops@hasivu.com"]},
    "business": {"emails": ["business-ops@hasivu.com"]},
}}


def test_the_pack_advises_on_the_sandbox_once_for_the_stack():
    # The preflight's summary and --json say the same: tests/preflight/test_preflight_cli.py.
    [advice] = [v for v in violations("production", True) if v.policy == "sms-sandbox"]
    assert advice.level == "advisory" and advice.urn == ""
    assert "2 SMS subscription(s) on production-hasivu-critical-alerts" in advice.message
    assert "Exit SMS sandbox" in advice.message and "TRAI DLT portal" in advice.message


def test_no_sms_no_advisory():
    assert sms_advisory(build_model(run("staging"))) is None


def test_sms_alone_on_the_critical_tier_blocks_production_and_is_advised_in_staging():
    program = run_program(stack_files("production", set_=SMS_ONLY_CRITICAL))
    production = analyze(program, PACK, PACK / "config" / "production.json")
    [alone] = [v for v in production if v.policy == "sms-not-alone"]
    assert alone.level == "mandatory" and alone.urn.endswith("::critical-alerts-topic")
    assert "pages only by SMS" in alone.message and "production-hasivu-critical-alerts" in alone.message
    staging = analyze(program, PACK, PACK / "config" / "staging.json")
    assert {v.level for v in staging if v.policy == "sms-not-alone"} == {"advisory"}
