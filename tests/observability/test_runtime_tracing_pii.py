"""Traces carry no personal data: amounts validated with tracing on or off, methods normalised as in
the metrics, exception messages kept out (Powertools' handler decorator included), and a required
per-deployment pseudonym key."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import aws_xray_sdk
import boto3
import pytest
from aws_lambda_powertools import Tracer
from aws_xray_sdk.core import xray_recorder

from observability.tracing import BusinessTracer
from tests.observability.test_runtime_library import CapturingEmitter, _subsegments
from tests.support.stack import REPO

PERSONAL_MESSAGE = "no card for student Asha Kumar phone +919876543210"


@pytest.fixture
def xray():
    # Tracer(disabled=True) anywhere disables Powertools' shared config and the SDK for the process.
    Tracer._reset_config()
    aws_xray_sdk.global_sdk_config.set_sdk_enabled(True)
    emitter = CapturingEmitter()
    xray_recorder.configure(emitter=emitter, sampling=False, context_missing="LOG_ERROR")
    xray_recorder.begin_segment("request")
    yield emitter
    if xray_recorder.current_segment():
        xray_recorder.end_segment()


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("amount", ["125.00", -5, float("nan"), None])
def test_amounts_are_validated_identically_with_tracing_on_or_off(xray, enabled, amount):
    tracer = BusinessTracer(Tracer(service="test", disabled=not enabled), pseudonym_key=b"k" * 16)
    called = []
    with pytest.raises(ValueError, match=r"^amount: got "):
        tracer.trace_payment_operation("pay_1", "verify", "user-1", amount, "upi", lambda: called.append(1))
    assert called == []


def test_payment_method_is_normalised_in_the_trace_as_in_the_metrics(xray):
    tracer = BusinessTracer(Tracer(service="test", disabled=False), pseudonym_key=b"k" * 16)
    tracer.trace_payment_operation("pay_1", "verify", "user-1", 125, "9876543210@ybl", lambda: None)
    sub = _subsegments(xray)["## payment.verify"]
    assert sub["annotations"]["payment_method"] == "other"
    assert "9876543210" not in json.dumps(xray.entities)


def test_powertools_handler_decorator_records_the_error_type_but_not_its_message(xray):
    tracer = Tracer(service="payments", disabled=False)

    @tracer.capture_lambda_handler
    def handler(event, context):
        raise LookupError(PERSONAL_MESSAGE)

    with pytest.raises(LookupError):
        handler({}, None)
    xray_recorder.end_segment()
    dumped = json.dumps(xray.entities)
    for personal in ("Asha", "Kumar", "9876543210"):
        assert personal not in dumped
    # The SDK streams a finished subsegment on its own or inside its parent: look at both.
    handler_sub = next(s for e in xray.entities for s in [e, *e.get("subsegments", [])] if s["name"] == "## handler")
    assert [e["type"] for e in handler_sub["cause"]["exceptions"]] == ["LookupError"]


def test_business_wrappers_keep_the_message_out_too(xray):
    tracer = BusinessTracer(Tracer(service="test", disabled=False), pseudonym_key=b"k" * 16)

    def fail():
        raise RuntimeError(PERSONAL_MESSAGE)

    with pytest.raises(RuntimeError):
        tracer.trace_order_operation("ord-1", "create", "user-1", {"mealType": "lunch"}, fail)
    assert "Asha" not in json.dumps(_subsegments(xray))


def _pseudonym_in_a_new_container(env: dict[str, str]) -> subprocess.CompletedProcess:
    script = "from observability import tracing; print(tracing.business_tracer().pseudonym('student-7'))"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HASIVU_", "AWS_LAMBDA"))}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**base, "PYTHONPATH": str(REPO), **env})


def test_in_lambda_a_missing_pseudonym_key_fails_the_cold_start_with_one_line():
    result = _pseudonym_in_a_new_container({"AWS_LAMBDA_FUNCTION_NAME": "payments-verify"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(
        "observability.settings.ConfigurationError: HASIVU_PSEUDONYM_KEY_PARAMETER: not set; expected the name")


def test_in_lambda_the_key_itself_in_the_environment_is_refused():
    result = _pseudonym_in_a_new_container({"AWS_LAMBDA_FUNCTION_NAME": "payments-verify",
                                            "HASIVU_PSEUDONYM_KEY": "k" * 43})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(
        "observability.settings.ConfigurationError: HASIVU_PSEUDONYM_KEY: set in a Lambda's environment")
    assert "kkkk" not in result.stderr


def test_pseudonyms_are_stable_across_containers_with_the_stacks_parameter(aws):
    boto3.client("ssm").put_parameter(Name="/test/hasivu-monitoring/pseudonym-key", Type="SecureString",
                                      Value="k" * 43, Overwrite=True)
    lambda_env = {"AWS_LAMBDA_FUNCTION_NAME": "payments-verify",
                  "HASIVU_PSEUDONYM_KEY_PARAMETER": "/test/hasivu-monitoring/pseudonym-key"}
    first, second = (_pseudonym_in_a_new_container(lambda_env) for _ in range(2))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) == 16
