"""Cost ratios in one currency, recommendations that survive one bad function name, and security
events that caller context cannot rename and that hold no raw email or phone."""

from __future__ import annotations

import json

import boto3
import pytest

from observability.cost import CostMonitor
from observability.security_events import SecurityEventLog
from observability.settings import ConfigurationError
from tests.observability.test_runtime_library import SETTINGS, _canned_costs, _groups


def test_revenue_to_cost_ratio_compares_usd_with_usd_at_the_configured_rate(aws):
    _canned_costs(aws, [_groups({"AWS Lambda": "1000.00", "Amazon Relational Database Service": "1542.50"})])
    cloudwatch = boto3.client("cloudwatch")
    dims = [{"Name": "Environment", "Value": "production"}]
    cloudwatch.put_metric_data(Namespace="HASIVU/Business", MetricData=[
        {"MetricName": "Revenue", "Dimensions": dims, "Value": 2_500_000},
        {"MetricName": "PaymentAttempts", "Dimensions": dims, "Value": 10_000}])
    monitor = CostMonitor(ce=boto3.client("ce", region_name="us-east-1"), budgets=object(), cloudwatch=cloudwatch,
                          lambda_client=object(), settings=SETTINGS, inr_per_usd=83.5)
    # moto answers an identical Cost Explorer query with the result it gave first: a window of its own.
    economics = monitor.get_unit_economics(days=27)
    assert economics["currency"] == "USD" and economics["inr_per_usd"] == 83.5
    assert economics["revenue_usd"] == round(2_500_000 / 83.5, 2)
    # 2,500,000 INR is 29,940 USD against 2,542.5 USD of cost, not 983 (INR divided by USD).
    assert economics["revenue_to_cost_ratio"] == round(2_500_000 / 83.5 / 2542.5, 2) == 11.78


def test_unit_economics_without_a_rate_name_the_variable(monkeypatch):
    monkeypatch.delenv("HASIVU_INR_PER_USD", raising=False)
    monitor = CostMonitor(ce=object(), budgets=object(), cloudwatch=object(), lambda_client=object(),
                          settings=SETTINGS)
    with pytest.raises(ConfigurationError, match=r"^HASIVU_INR_PER_USD: not set; expected the INR per USD rate"):
        monitor.get_unit_economics()
    monkeypatch.setenv("HASIVU_INR_PER_USD", "eighty")
    with pytest.raises(ConfigurationError, match=r"^HASIVU_INR_PER_USD: got 'eighty'"):
        CostMonitor(ce=object(), budgets=object(), cloudwatch=object(), lambda_client=object(), settings=SETTINGS)


def test_one_unknown_function_is_reported_and_the_others_still_get_recommendations(aws):
    iam, lam = boto3.client("iam"), boto3.client("lambda")
    role = iam.create_role(RoleName="cost-fn-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return 1\n")
    lam.create_function(FunctionName="weekly-report", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": archive.getvalue()})
    monitor = CostMonitor(ce=object(), budgets=object(), cloudwatch=boto3.client("cloudwatch"), lambda_client=lam,
                          settings=SETTINGS)
    found = {(r["kind"], r["resource"]): r for r in
             monitor.get_optimization_recommendations(["menu-lsit", "weekly-report"])}
    assert "ResourceNotFoundException" in found[("unreadable-function", "menu-lsit")]["detail"]
    assert ("idle-resource", "weekly-report") in found


def test_security_log_group_missing_is_one_line(monkeypatch):
    monkeypatch.delenv("HASIVU_SECURITY_LOG_GROUP", raising=False)
    with pytest.raises(ConfigurationError, match=r"^HASIVU_SECURITY_LOG_GROUP: not set; expected the security log"):
        SecurityEventLog(client=object())


def test_context_cannot_rename_the_event_and_personal_values_are_pseudonymised(aws):
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/hasivu/test/security-pii")
    log = SecurityEventLog("/hasivu/test/security-pii", logs, pseudonym_key=b"k" * 16)
    log.record("LOGIN_FAILED", {"event": "NOTHING_TO_SEE", "email": "Asha@Example.in", "phone": "+919876543210",
                                "loginId": "asha@example.in", "ip": "10.0.0.7", "attempt": 3})
    log.record("LOGIN_FAILED", {"email": "asha@example.in"})
    log.flush()
    first, second = (json.loads(e["message"]) for e in
                     logs.filter_log_events(logGroupName="/hasivu/test/security-pii")["events"])
    assert first["event"] == "LOGIN_FAILED" and (first["ip"], first["attempt"]) == ("10.0.0.7", 3)
    assert "asha" not in json.dumps(first).lower() and "98765" not in json.dumps(first)
    # The same account correlates across events (case-insensitively), without its address.
    assert first["emailPseudonym"] == second["emailPseudonym"] == first["loginIdPseudonym"]
    assert len(first["phonePseudonym"]) == 16
