"""Budgets, cost anomaly detection, X-Ray, and the monthly cost estimate of the monitoring."""

from __future__ import annotations

import json

import pytest

from preflight.cli import main as preflight_main
from preflight.model.stack import build_model
from preflight.preview.cost import estimate, load_prices, traces_per_month
from preflight.program.engine import ProgramFailed, run_program
from preflight.program.stack_files import load_stack_files
from tests.support.stack import PROGRAMS, of_type, preflight_cli, props, run, stack_files

TOPIC = "arn:aws:sns:ap-south-1:123456789012:production-hasivu-{}-alerts"
REQUIRED_DAILY = {"total": 200, "lambda": 50, "rds": 80, "apiGateway": 30, "s3": 20}
REQUIRED_MONTHLY = {"total": 5000, "lambda": 1200, "rds": 2000, "apiGateway": 800, "s3": 500}
SERVICE_FILTERS = {"total": None, "lambda": "AWS Lambda", "rds": "Amazon Relational Database Service",
                   "apiGateway": "Amazon API Gateway", "s3": "Amazon Simple Storage Service"}


def _budgets(result) -> dict[str, dict]:
    return {props(r)["name"]: props(r) for r in of_type(result, "aws:budgets/budget:Budget")}


def test_ten_budgets_with_service_filters_and_tiered_notifications():
    budgets = _budgets(run())
    assert len(budgets) == 10
    for period, amounts in (("daily", REQUIRED_DAILY), ("monthly", REQUIRED_MONTHLY)):
        for service, amount in amounts.items():
            budget = budgets[f"production-hasivu-{period}-{service}"]
            assert float(budget["limitAmount"]) == amount
            assert budget["timeUnit"] == period.upper()
            expected_filter = SERVICE_FILTERS[service]
            if expected_filter is None:
                assert "costFilters" not in budget
            else:
                assert budget["costFilters"] == [{"name": "Service", "values": [expected_filter]}]
            alerts = {(n["notificationType"], n["threshold"]): n["subscriberSnsTopicArns"]
                      for n in budget["notifications"]}
            assert alerts[("ACTUAL", 80)] == [TOPIC.format("warning")]
            if period == "monthly":
                assert alerts[("FORECASTED", 100)] == [TOPIC.format("business")]
            else:
                assert ("FORECASTED", 100) not in alerts
            assert (("ACTUAL", 100) in alerts) == (service == "total")
            if service == "total":
                # Never critical: Cost Explorer data lags up to a day.
                assert alerts[("ACTUAL", 100)] == [TOPIC.format("business")]


def test_budget_amounts_come_from_stack_config():
    budgets = _budgets(run(set_={"budgets": {"daily": {"lambda": 75}}}))
    assert float(budgets["production-hasivu-daily-lambda"]["limitAmount"]) == 75
    assert float(budgets["production-hasivu-daily-rds"]["limitAmount"]) == 80


@pytest.mark.parametrize(("config", "fragment"), [
    ({"budgets": {"daily": {"lambda": -5}}}, "budgets.daily.lambda: got -5; expected a positive amount"),
    ({"budgets": {"weekly": {}}}, "budgets.weekly"),
    ({"tracing": {"sampling": {"critical": {"rate": 1.5}}}}, "tracing.sampling.critical.rate: got 1.5"),
])
def test_bad_cost_config_is_refused(config, fragment):
    with pytest.raises(ProgramFailed) as failed:
        run(set_=config)
    assert fragment in str(failed.value.cause)
    assert failed.value.registrations == []


def test_cost_anomaly_monitor_and_subscription_to_the_business_tier():
    result = run()
    [monitor] = [props(r) for r in of_type(result, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")]
    assert (monitor["monitorType"], monitor["monitorDimension"]) == ("DIMENSIONAL", "SERVICE")
    [subscription] = of_type(result, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    sub = props(subscription)
    assert sub["frequency"] == "IMMEDIATE"
    assert sub["subscribers"] == [{"type": "SNS", "address": TOPIC.format("business")}]
    assert sub["thresholdExpression"]["dimension"] == {
        "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["GREATER_THAN_OR_EQUAL"], "values": ["50"]}
    assert subscription.property_dependencies["monitorArnLists"]


def test_sampling_rules_follow_the_required_rates_and_specific_rules_win():
    rules = [props(r) for r in of_type(run(), "aws:xray/samplingRule:SamplingRule")]
    rate_by_path = {r["urlPath"]: r["fixedRate"] for r in rules}
    assert rate_by_path == {"/payments/*": 0.5, "/auth/*": 0.5, "/orders*": 0.3, "/rfid/*": 0.3,
                            "*": 0.2, "/health*": 0.01}
    by_class = {r["tags"]["Tier"]: r for r in rules}
    assert set(by_class) == {"critical", "business", "general", "health"}
    priority = {r["urlPath"]: r["priority"] for r in rules}
    # X-Ray applies the lowest priority number first: the catch-all must come last.
    assert max(priority.values()) == priority["*"]
    assert priority["/health*"] == min(priority.values())
    assert all(len(r["ruleName"]) <= 32 for r in rules)


def _expected_requests(**changes) -> dict[str, int]:
    return build_model(run(**changes)).output("costAssumptions")["xrayMonthlyRequests"]


def test_each_sampling_rule_expects_the_traffic_of_the_platform_the_stack_describes():
    production = _expected_requests()
    # One health check a minute for 30 days.
    assert production["production-health-0"] == 30 * 24 * 60
    # The classes together receive every request the API stage is expected to serve: the same traffic
    # the API SLOs budget.
    slos = {slo["name"]: slo for slo in build_model(run()).output("slos")}
    assert sum(production.values()) == pytest.approx(slos["api-availability"]["budget"]["monthlyRequests"], abs=6)
    # A platform twice the size (orders and users) expects twice the requests; the health checks stay.
    monitor = json.loads(stack_files().config["hasivu-monitoring:healthMonitor"])
    doubled = _expected_requests(set_={"healthMonitor": {**monitor, "dailyRevenueInr": 900_000, "activeUsers": 24_000}})
    assert doubled["production-critical-0"] == pytest.approx(2 * production["production-critical-0"], rel=1e-6)
    assert doubled["production-health-0"] == production["production-health-0"]


def test_expected_requests_set_in_config_win_over_the_traffic_model():
    requests = _expected_requests(set_={"tracing": {"sampling": {"critical": {"monthlyRequests": 1_000_000}}}})
    # The class's two URL patterns share its requests.
    assert requests["production-critical-0"] == requests["production-critical-1"] == 500_000


def test_xray_groups_with_insights_and_encryption_with_a_rotating_cmk():
    result = run()
    groups = {props(r)["groupName"]: props(r) for r in of_type(result, "aws:xray/group:Group")}
    assert set(groups) == {"production-payments", "production-rfid", "production-errors"}
    for group in groups.values():
        assert group["insightsConfiguration"] == {"insightsEnabled": True, "notificationsEnabled": True}
    assert "fault = true" in groups["production-errors"]["filterExpression"]
    [encryption] = of_type(result, "aws:xray/encryptionConfig:EncryptionConfig")
    assert props(encryption)["type"] == "KMS"
    [key_urn] = encryption.property_dependencies["keyId"]
    key = next(r for r in result.registrations if r.urn == key_urn)
    assert props(key)["enableKeyRotation"] is True


def test_reservoir_then_rate():
    # 1 trace/s for a month = 2,592,000 reserved; the rest sampled at the rate.
    assert traces_per_month(0.1, 1, 3_592_000) == 2_592_000 + 100_000
    assert traces_per_month(0.5, 0, 1_000_000) == 500_000
    assert traces_per_month(0.5, 10, 1_000) == 1_000


def test_cost_of_a_small_stack_equals_the_hand_count():
    files = load_stack_files(PROGRAMS / "cost_small", "dev")
    result = estimate(build_model(run_program(files)))
    lines = {line["item"]: line["monthly_usd"] for line in result["lines"]}
    # Counted by hand from tests/support/programs/cost_small/__main__.py and the prices in preflight/prices.json:
    assert lines["alarm metrics, standard resolution"] == pytest.approx(0.30)  # 1 + 2 metrics x $0.10
    assert lines["alarm metrics, high resolution"] == pytest.approx(0.30)  # 1 metric at 10 s x $0.30
    assert lines["anomaly detection alarms"] == pytest.approx(0.30)  # 1 alarm = 3 metrics x $0.10
    assert lines["composite alarms"] == pytest.approx(0.50)
    assert lines["dashboards"] == pytest.approx(3.00)  # 4 dashboards, 3 free
    assert lines["custom metrics"] == pytest.approx(0.60)  # Shop/Orders, Shop/Payments
    assert lines["X-Ray traces recorded (millions)"] == pytest.approx(0.50)  # 1M requests x 10% x $5/M
    assert lines["Cost Explorer API requests"] == pytest.approx(14.60)  # 1460 x $0.01
    assert lines["budgets"] == 0
    assert lines["KMS customer-managed keys"] == pytest.approx(1.00)
    assert lines["SNS email deliveries"] == pytest.approx(0.004)  # 2 x 100 x $0.00002
    assert result["monthly_usd"] == pytest.approx(21.10)
    assert result["budget_usd"] == 20 and result["over_budget"] is True


def test_prices_file_names_its_source_and_date():
    prices = load_prices()
    assert prices["source"].startswith("AWS price pages")
    assert prices["retrieved"] == "2026-11-29"
    assert prices["prices"]["composite_alarm"]["usd"] == 0.50


def test_production_estimate_is_printed_with_its_lines_and_in_json(capsys):
    # In process: the CLI as a separate process is tested in tests/preflight/test_preflight_cli.py.
    assert preflight_main(["--stack", "production", "--no-policy"]) == 0
    summary = capsys.readouterr().out
    assert "Monthly cost of this monitoring: $" in summary
    # Two status roll-ups (system health is every critical pager and holds the other tiers' pages), 27
    # pagers (a tier's alarms by what a maintenance window can mute: 10 critical, 14 warning of which 5 are
    # a scope's SLO burn-rate tickets, 3 business) and the 7 holds between them.
    assert "composite alarms: 38 x $0.5" in summary
    # One key for the three alert topics, one for the traces, one for the security events log group.
    assert "KMS customer-managed keys: 3 x $1  (3 rotate yearly" in summary
    # Cost Explorer asked at most 4 times a day (its data changes three times a day) keeps production
    # under the $100 a month the monitoring may cost.
    assert "Cost Explorer API requests: 122 x $0.01" in summary
    assert "Within the monitoring budget of $100.00 a month" in summary
    assert preflight_main(["--stack", "production", "--no-policy", "--json"]) == 0
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert cost["monthly_usd"] == pytest.approx(sum(line["monthly_usd"] for line in cost["lines"]), abs=0.01)
    assert cost["budget_usd"] == 100 and cost["over_budget"] is False
    # The monitoring's own target, everything included: at most $80 a month.
    assert cost["monthly_usd"] <= 80
    xray = next(line for line in cost["lines"] if line["item"].startswith("X-Ray"))
    # The sampling rules' share of the expected API requests, and every invocation of the monitoring's own
    # traced functions (each well under Lambda's first request a second): the health monitor once a minute,
    # the Slack forwarder once per warning alert.
    requests = build_model(run()).output("costAssumptions")["xrayMonthlyRequests"]
    rates = {"health": 0.01, "critical": 0.5, "business": 0.3, "general": 0.2}
    sampled = sum(n * rates[rule.split("-")[1]] for rule, n in requests.items())
    assert xray["quantity"] * 1e6 == pytest.approx(sampled + 30 * 24 * 60 + 300)


def test_exceeding_the_monitoring_budget_is_a_preflight_warning():
    result = preflight_cli("--stack", "dev", "--program", str(PROGRAMS / "cost_small"),
                        "--no-policy")
    assert result.returncode == 0
    assert "WARNING: over the monitoring budget of $20.00 a month" in result.stdout
