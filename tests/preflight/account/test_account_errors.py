"""A failed AWS call in the account report: one line naming the service, the operation, the HTTP status
and the AWS error code, never the response body (an HTML page from a proxy, a load balancer or an
emulator is the whole text of botocore's ResponseParserError)."""

from __future__ import annotations

import pytest

from preflight.account import Level, connect, deployed
from preflight.account.findings import guarded
from preflight.model.stack import build_model
from tests.conftest import free_port
from tests.preflight.account.test_account_check import preflight_cli
from tests.support import moto_account
from tests.support.stack import run, stack_files

HTML_ERROR_PAGE = (b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
                   b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n")
# The AWS Query protocol's error response (SNS and STS speak it): ErrorResponse > Error > Type, Code,
# Message, and RequestId (AWS docs, "Interpreting Amazon SQS XML API responses", XML error response
# structure); InternalFailure with HTTP 500 is one of the common errors of every AWS API (SNS API
# Reference, Common Errors).
QUERY_ERROR = (b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
               b"<Message>The request processing has failed because of an unknown error.</Message></Error>"
               b"<RequestId>4f2d7d47-5b1a-4c8e-9d0e-6f1f7a2b3c4d</RequestId></ErrorResponse>")


@pytest.mark.parametrize("answer, line", [
    ((500, "text/html; charset=utf-8", HTML_ERROR_PAGE), "sns GetSMSAttributes: HTTP 500"),
    ((500, "text/xml", QUERY_ERROR), "sns GetSMSAttributes: HTTP 500 InternalFailure"),
    (None, "sns GetSMSAttributes: no HTTP response (EndpointConnectionError)"),
], ids=["html page", "aws error", "no answer"])
def test_a_failed_call_is_one_line_with_its_operation_status_and_code(aws, moto_endpoint, http_endpoint,
                                                                      monkeypatch, answer, line):
    url, recorder = http_endpoint
    if answer is None:
        url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    else:
        recorder.status, recorder.content_type, recorder.body = answer
    session = moto_account.fresh_account(moto_endpoint)
    moto_account.answer_from_recording(session, "sns", "GetSMSSandboxAccountStatus", {"IsInSandbox": False})
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", url)  # every other service stays on moto
    account = connect(stack_files("production"), session)
    view = build_model(run("production", preview=True))
    [finding] = guarded("sms", lambda: deployed.check_sms(account, view))
    assert (finding.level, finding.check, finding.subject, finding.message) == (Level.WARNING, "sms", "not checked",
                                                                                line)
    assert finding.fix == ""  # not a permission the policy could grant
    if answer is not None:
        assert recorder.requests and all("Action=GetSMSAttributes" in r["body"] for r in recorder.requests)


def test_an_unreadable_identity_answer_is_one_line_and_exit_2(http_endpoint):
    url, recorder = http_endpoint
    recorder.status, recorder.content_type, recorder.body = 500, "text/html", HTML_ERROR_PAGE
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL_STS": url}
    result = preflight_cli("account", "--stack", "production", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "preflight: AWS account: cannot reach it: sts GetCallerIdentity: HTTP 500"]
    assert any("Action=GetCallerIdentity" in r["body"] for r in recorder.requests)
