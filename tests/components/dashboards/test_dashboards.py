"""The five dashboards: their names, bodies that pass CloudWatch's rules, built from the inventory."""

from __future__ import annotations

import copy
import json

from cloudwatch_rules.limits import dashboard_problems
from cloudwatch_rules.metrics_insights import parse
from observability.catalogue import BUSINESS_METRICS, HEALTH_METRICS, SECURITY_METRICS
from tests.support.stack import inventory_section, of_type, props, run

REQUIRED_NAMES = {f"production-HASIVU-{s}" for s in (
    "Executive-Overview", "Lambda-Performance", "API-Gateway", "Database-Performance", "Business-Metrics")}


def _bodies(result) -> dict[str, dict]:
    return {props(r)["dashboardName"]: json.loads(props(r)["dashboardBody"])
            for r in of_type(result, "aws:cloudwatch/dashboard:Dashboard")}


def _metric_rows(body: dict) -> list[list]:
    return [row for w in body["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]


def test_five_dashboards_with_the_required_names_each_a_component():
    result = run(preview=True)
    assert set(_bodies(result)) == REQUIRED_NAMES
    components = of_type(result, "hasivu:monitoring:Dashboard")
    assert len(components) == 5
    for dashboard in of_type(result, "aws:cloudwatch/dashboard:Dashboard"):
        assert dashboard.parent in {c.urn for c in components}


def test_every_body_passes_cloudwatchs_rules():
    for stack in ("production", "staging"):
        for name, body in _bodies(run(stack)).items():
            assert dashboard_problems(json.dumps(body)) == [], name
            assert len(json.dumps(body).encode()) < 1_000_000


def test_dashboard_body_problems_are_caught():
    overlapping = {"widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 12, "height": 3, "properties": {"markdown": "a"}},
        {"type": "text", "x": 11, "y": 2, "width": 4, "height": 3, "properties": {"markdown": "b"}}]}
    assert any("overlaps" in p for p in dashboard_problems(json.dumps(overlapping)))
    outside = {"widgets": [{"type": "text", "x": 20, "y": 0, "width": 6, "height": 3, "properties": {}}]}
    assert any("does not fit" in p for p in dashboard_problems(json.dumps(outside)))
    nameless = {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 6, "height": 3,
                             "properties": {"metrics": [["AWS/Lambda"]]}}]}
    assert any("namespace and metric" in p for p in dashboard_problems(json.dumps(nameless)))
    assert dashboard_problems("{not json") and dashboard_problems(json.dumps({"widgets": [{}] * 501}))


def test_thresholds_are_drawn_from_the_alarm_specs():
    bodies = _bodies(run())
    executive = bodies["production-HASIVU-Executive-Overview"]["widgets"]
    health = next(w for w in executive if w["properties"].get("title") == "System health score")
    assert health["properties"]["annotations"]["horizontal"][0]["value"] == 80
    alarm_widget = next(w for w in executive if w["type"] == "alarm")
    shown = [a.split(":alarm:")[1] for a in alarm_widget["properties"]["alarms"]]
    # An executive reads the status roll-ups (payments, the whole platform), not the pagers by scope or
    # the holds between them.
    assert shown == ["production-payment-system-health", "production-system-health"]
    api = bodies["production-HASIVU-API-Gateway"]["widgets"]
    errors = next(w for w in api if w["properties"].get("title") == "4XX / 5XX rate")
    # The graph plots the 5XX share (Average); the alarm is 5 % of requests: the line sits at 0.05.
    assert [a["value"] for a in errors["properties"]["annotations"]["horizontal"]] == [0.05, 0.1]
    database = bodies["production-HASIVU-Database-Performance"]["widgets"]
    cpu = next(w for w in database if w["properties"].get("title") == "CPU %")
    assert cpu["properties"]["annotations"]["horizontal"][0]["value"] == 80
    changed = _bodies(run(set_={"thresholds": {"rds": {"cpuPercent": 70}}}))
    cpu = next(w for w in changed["production-HASIVU-Database-Performance"]["widgets"]
               if w["properties"].get("title") == "CPU %")
    assert cpu["properties"]["annotations"]["horizontal"][0]["value"] == 70


def test_a_function_added_to_the_inventory_appears_in_the_lambda_dashboard():
    inventory = copy.deepcopy(inventory_section())
    inventory["lambdaGroups"]["menu"]["functions"].append("hasivu-production-menu-allergens")
    body = _bodies(run(set_={"inventory": inventory}))["production-HASIVU-Lambda-Performance"]
    menu = [w for w in body["widgets"] if w["properties"].get("title", "").startswith("menu:")]
    queries = [parse(row[0]["expression"]) for w in menu if w["type"] == "metric"
               for row in w["properties"]["metrics"]]
    assert {q.metric for q in queries} == {"Duration", "Errors", "Throttles", "ConcurrentExecutions"}
    assert all(q.matches({"FunctionName": "hasivu-production-menu-allergens"}) for q in queries)
    assert not any(q.matches({"FunctionName": "hasivu-production-payments-verify"}) for q in queries)
    logs = [w for w in menu if w["type"] == "log"]
    assert logs and all("/aws/lambda/hasivu-production-menu-allergens" in w["properties"]["query"] for w in logs)


def test_every_custom_metric_graphed_or_alarmed_is_one_the_runtime_library_publishes():
    result = run()
    known = set(BUSINESS_METRICS) | set(HEALTH_METRICS) | set(SECURITY_METRICS)
    used = set()
    for body in _bodies(result).values():
        used |= {row[1] for row in _metric_rows(body) if isinstance(row[0], str) and row[0].startswith("HASIVU/")}
    for alarm in of_type(result, "aws:cloudwatch/metricAlarm:MetricAlarm"):
        p = props(alarm)
        metrics = [q["metric"] for q in p.get("metricQueries", []) if q.get("metric")] or [p]
        used |= {m["metricName"] for m in metrics if m["namespace"].startswith("HASIVU/")}
    assert used and used <= known, used - known


def test_the_executive_dashboard_shows_user_satisfaction_as_its_alert_computes_it():
    """The "User satisfaction > 95 %" tile: Apdex of the API stage's latency from the same percentile ranks
    and expression as the satisfaction alert, with the alert's threshold drawn."""
    result = run()
    executive = _bodies(result)["production-HASIVU-Executive-Overview"]["widgets"]
    tile = next(w for w in executive if w["properties"].get("title") == "User satisfaction (Apdex, last hour)")
    alarm = next(props(r) for r in of_type(result, "aws:cloudwatch/metricAlarm:MetricAlarm")
                 if props(r)["name"] == "production-users-satisfaction")
    latency = [q["metric"] for q in alarm["metricQueries"] if q.get("metric", {}).get("metricName") == "Latency"]
    rows = tile["properties"]["metrics"]
    assert [(row[1], row[-1]["stat"]) for row in rows if "stat" in row[-1]] == [
        ("Latency", m["stat"]) for m in latency]
    assert [row[0]["expression"] for row in rows if "expression" in row[0]] == ["s + t / 2"]
    assert "m1 + m2 / 2" in next(q["expression"] for q in alarm["metricQueries"] if q.get("returnData"))
    assert tile["properties"]["annotations"]["horizontal"][0]["value"] == alarm["threshold"] == 95
    stricter = _bodies(run(set_={"thresholds": {"business": {"apdexTargetMs": 800}}}))
    tile = next(w for w in stricter["production-HASIVU-Executive-Overview"]["widgets"]
                if w["properties"].get("title") == "User satisfaction (Apdex, last hour)")
    assert [row[-1]["stat"] for row in tile["properties"]["metrics"] if "stat" in row[-1]] == [
        "PR(:800)", "PR(800:3200)"]
