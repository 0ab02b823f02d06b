"""The runtime library's tracing, business metrics, security events and cost monitor."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import boto3
import pytest
import urllib3
from aws_lambda_powertools import Tracer
from aws_xray_sdk.core import xray_recorder

from observability import metrics, tracing
from observability.catalogue import BOUNDED_DIMENSIONS, published_metrics
from observability.cost import CostMonitor, TtlCache
from observability.metrics import BusinessMetrics
from observability.security_events import SecurityEventLog
from observability.settings import RuntimeSettings
from observability.tracing import ANNOTATION_KEY, BusinessTracer, amount_bucket

SETTINGS = RuntimeSettings("production", "payments", "HASIVU/Business", "HASIVU/Health", ("reader-3", "r-1"))


class CapturingEmitter:
    """Receives what the X-Ray SDK would send to the daemon."""

    def __init__(self) -> None:
        self.entities: list[dict] = []

    def send_entity(self, entity) -> None:
        self.entities.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address) -> None:
        pass

    @property
    def ip(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return 2000


@pytest.fixture
def xray():
    emitter = CapturingEmitter()
    tracer = BusinessTracer(Tracer(service="test", disabled=False), pseudonym_key=b"test-key")
    xray_recorder.configure(emitter=emitter, sampling=False, context_missing="LOG_ERROR")
    xray_recorder.begin_segment("request")
    yield tracer, emitter
    if xray_recorder.current_segment():
        xray_recorder.end_segment()


def _subsegments(emitter: CapturingEmitter) -> dict[str, dict]:
    xray_recorder.end_segment()
    found = {}
    for entity in emitter.entities:
        for sub in [entity, *entity.get("subsegments", [])]:
            if sub.get("type") == "subsegment" or sub["name"].startswith("##"):
                found[sub["name"]] = sub
    return found


def test_payment_trace_has_business_annotations_and_no_pii(xray):
    tracer, emitter = xray
    assert tracer.trace_payment_operation("pay_123", "create-order", "user-42", 250.0, "UPI", lambda: "ok") == "ok"
    sub = _subsegments(emitter)["## payment.create-order"]
    annotations = sub["annotations"]
    assert annotations == {"operation_type": "payment", "operation": "create-order", "criticality": "critical",
                           "payment_method": "upi", "amount_bucket": "100-500", "user": tracer.pseudonym("user-42"),
                           "success": True}
    assert sub["metadata"]["hasivu"]["business"] == {"paymentId": "pay_123"}
    assert all(ANNOTATION_KEY.match(key) for key in annotations)
    assert "user-42" not in json.dumps(emitter.entities) and "250" not in json.dumps(annotations)


def test_rfid_trace_never_records_the_card_and_failures_keep_only_the_type(xray):
    tracer, emitter = xray

    def fail():
        raise ValueError("student Asha Rao (card CARD-QZ-XKWV) not enrolled")

    with pytest.raises(ValueError):
        tracer.trace_rfid_operation("student-7", "CARD-QZ-XKWV", "verification", "school-3", fail)
    sub = _subsegments(emitter)["## rfid.verification"]
    assert sub["annotations"]["operation_type"] == "rfid" and sub["annotations"]["success"] is False
    assert sub["annotations"]["error_type"] == "ValueError" and sub["fault"] is True
    dumped = json.dumps(emitter.entities)
    # Distinctive strings, so that no timestamp or id in the segment can match them by chance.
    for personal in ("student-7", "CARD-QZ", "XKWV", "Asha"):
        assert personal not in dumped


def test_order_trace_keeps_only_safe_order_fields(xray):
    tracer, emitter = xray
    details = {"mealType": "lunch", "itemCount": 2, "parentPhone": "+919800000001", "address": "12 MG Road"}
    tracer.trace_order_operation("ord-9", "create", "user-1", details, lambda: None)
    sub = _subsegments(emitter)["## order.create"]
    assert sub["metadata"]["hasivu"]["business"] == {"orderId": "ord-9", "mealType": "lunch", "itemCount": 2}
    assert "+9198" not in json.dumps(emitter.entities)


def test_business_operation_decorator(xray):
    tracer, emitter = xray

    @tracer.trace_business_operation("payment-creation", "critical")
    def create(amount):
        return amount * 2

    assert create(21) == 42
    sub = _subsegments(emitter)["## payment-creation"]
    # The example in docs/runtime-library.md lands in the payments X-Ray group (annotation.operation_type = "payment").
    assert sub["annotations"] == {"operation_type": "payment", "operation": "payment-creation",
                                  "criticality": "critical", "success": True}


def test_pseudonyms_are_keyed_and_stable():
    a = BusinessTracer(Tracer(disabled=True), b"key-a")
    b = BusinessTracer(Tracer(disabled=True), b"key-b")
    assert a.pseudonym("user-1") == a.pseudonym("user-1") != b.pseudonym("user-1")
    assert len(a.pseudonym("user-1")) == 16


def test_with_tracing_off_the_wrappers_just_call_the_function():
    tracer = BusinessTracer(Tracer(disabled=True), b"k")
    assert not tracer.enabled
    assert tracer.trace_payment_operation("p", "op", "u", 1, "upi", lambda: 7) == 7
    assert tracing.trace_order_operation("o", "create", "u", {}, lambda: 8) == 8

    @tracing.trace_business_operation("x")
    def f():
        return 9

    assert f() == 9


@pytest.mark.parametrize(("amount", "bucket"), [(0, "0-100"), (99.99, "0-100"), (100, "100-500"), (4999, "1000-5000"),
                                                (5000, "5000+")])
def test_amount_buckets(amount, bucket):
    assert amount_bucket(amount) == bucket


def _records(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_payment_metrics_are_emf_with_bounded_dimensions_and_ids_as_properties(capsys):
    BusinessMetrics(SETTINGS).track_payment_metrics(
        "ord-1", 250, "success", "UPI", {"schoolId": "sch-9", "mealType": "lunch", "studentGrade": "5th"})
    record, by_method = _records(capsys)
    cw = record["_aws"]["CloudWatchMetrics"][0]
    assert cw["Namespace"] == "HASIVU/Business"
    assert cw["Dimensions"] == [["Environment"]]
    assert {m["Name"] for m in cw["Metrics"]} == {"PaymentAttempts", "PaymentSuccesses", "Revenue"}
    assert record["Revenue"] == [250.0] and record["PaymentMethod"] == "upi"
    # Per method only the attempt (and a decline): the method's failure rate, 7 metrics each.
    method_cw = by_method["_aws"]["CloudWatchMetrics"][0]
    assert method_cw["Dimensions"] == [["Environment", "PaymentMethod"]]
    assert {m["Name"] for m in method_cw["Metrics"]} == {"PaymentAttempts"}
    assert by_method["PaymentMethod"] == "upi" and "orderId" not in by_method
    assert record["orderId"] == "ord-1" and record["schoolId"] == "sch-9" and record["studentGrade"] == "5th"
    assert record["mealType"] == "lunch" and record["status"] == "success"
    dimension_names = {d for ds in cw["Dimensions"] for d in ds}
    assert dimension_names <= set(BOUNDED_DIMENSIONS)


def test_unknown_dimension_values_cannot_mint_metrics(capsys):
    m = BusinessMetrics(SETTINGS)
    m.track_payment_metrics("o", 10, "failed", "crypto-coin-of-the-day", {"mealType": "midnight-feast"})
    m.track_payment_metrics("o", 10, "error", "card")
    failed, failed_by_method, error, _ = _records(capsys)
    assert (failed["PaymentMethod"], failed["PaymentFailures"]) == ("other", [1.0])
    assert (failed_by_method["PaymentMethod"], failed_by_method["PaymentFailures"]) == ("other", [1.0])
    assert error["PaymentErrors"] == [1.0] and "Revenue" not in error


def test_order_and_rfid_metrics_feed_the_alarmed_names(capsys):
    m = BusinessMetrics(SETTINGS)
    m.track_order_metrics("o-1", "created", {"mealType": "lunch"})
    m.track_order_metrics("o-1", "completed")
    m.track_rfid_verification("reader-3", True)
    m.track_rfid_verification("reader-3", False)
    m.track_reader_heartbeat("reader-3")
    names = [set(r) & {"OrdersCreated", "OrdersCompleted", "RFIDVerificationAttempts", "RFIDVerificationSuccess",
                       "RFIDReaderHeartbeat"} for r in _records(capsys)]
    assert names == [{"OrdersCreated"}, {"OrdersCompleted"}, {"RFIDVerificationAttempts", "RFIDVerificationSuccess"},
                     {"RFIDVerificationAttempts"}, {"RFIDReaderHeartbeat"}]


def test_module_level_api_as_documented(capsys, monkeypatch):
    monkeypatch.setattr(metrics, "default_metrics", lambda: BusinessMetrics(SETTINGS))
    metrics.track_payment_metrics("ord-2", 99, "success", "card", {"schoolId": "s", "mealType": "snack"})
    assert _records(capsys)[0]["Revenue"] == [99.0]


def test_security_events_land_in_the_security_log_group_for_its_metric_filters(aws):
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/hasivu/test/security-events")
    log = SecurityEventLog("/hasivu/test/security-events", logs)
    log.record("LOGIN_FAILED", {"userHash": "abc"})
    log.record("FRAUD_ATTEMPT", {"orderId": "o-1"})
    assert log.flush() == 2 and log.flush() == 0
    events = logs.filter_log_events(logGroupName="/hasivu/test/security-events")["events"]
    assert [json.loads(e["message"])["event"] for e in events] == ["LOGIN_FAILED", "FRAUD_ATTEMPT"]
    with pytest.raises(ValueError, match="event: got 'SOMETHING'; expected one of LOGIN_FAILED, FRAUD_ATTEMPT"):
        log.record("SOMETHING", {})


def _canned_costs(endpoint: str, results: list[dict]) -> None:
    response = urllib3.request("POST", f"{endpoint}/moto-api/static/ce/cost-and-usage-results",
                               body=json.dumps({"results": results}).encode())
    assert response.status == 201


def _groups(amounts: dict[str, str]) -> dict:
    return {"ResultsByTime": [{"TimePeriod": {"Start": "2026-10-30", "End": "2026-11-29"}, "Estimated": False,
                               "Total": {}, "Groups": [{"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": v,
                                                                                                 "Unit": "USD"}}}
                                                      for k, v in amounts.items()]}]}


def test_cost_breakdown_is_asked_at_most_three_times_a_day(aws):
    # Cost Explorer's data changes at most three times a day (its API best practices): a warm
    # container asked every minute of a day pays for three requests, not 1,440.
    _canned_costs(aws, [_groups({"AWS Lambda": "812.40", "Amazon Relational Database Service": "1730.10"})])
    ce = boto3.client("ce", region_name="us-east-1")
    calls = []
    ce.meta.events.register("before-call.ce.GetCostAndUsage", lambda **_: calls.append(1))
    now = [0.0]
    monitor = CostMonitor(ce=ce, budgets=object(), cloudwatch=object(), lambda_client=object(), settings=SETTINGS,
                          clock=lambda: now[0])
    first = monitor.get_service_cost_breakdown(today=date(2026, 11, 30))
    assert first == {"Amazon Relational Database Service": 1730.1, "AWS Lambda": 812.4}
    for minute in range(24 * 60):
        now[0] = minute * 60.0
        assert monitor.get_service_cost_breakdown(today=date(2026, 11, 30)) == first
    assert len(calls) == 3


def test_ttl_cache_keys_queries_apart():
    cache = TtlCache(60, clock=lambda: 0.0)
    assert cache.get("a", lambda: 1) == 1 and cache.get("a", lambda: 2) == 1 and cache.get("b", lambda: 3) == 3


def test_budget_status_from_the_budgets_api(aws):
    budgets = boto3.client("budgets", region_name="us-east-1")
    budgets.create_budget(AccountId="123456789012", Budget={
        "BudgetName": "production-hasivu-monthly-total", "BudgetLimit": {"Amount": "5000", "Unit": "USD"},
        "TimeUnit": "MONTHLY", "BudgetType": "COST"})
    monitor = CostMonitor(ce=object(), budgets=budgets, cloudwatch=object(), lambda_client=object(),
                          account_id="123456789012", settings=SETTINGS)
    [status] = [s for s in monitor.get_budget_status() if s["name"] == "production-hasivu-monthly-total"]
    assert status["limit_usd"] == 5000 and status["period"] == "MONTHLY" and status["used_percent"] == 0


def test_recommendations_from_real_metrics(aws, monkeypatch):
    iam, lam, cloudwatch = boto3.client("iam"), boto3.client("lambda"), boto3.client("cloudwatch")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return 1\n")
    for name in ("menu-list", "old-report"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": archive.getvalue()}, MemorySize=1024)
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": "menu-list"}], "Value": 50000},
        {"MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": "menu-list"}], "Value": 5e7}])
    cloudwatch.put_metric_data(Namespace="LambdaInsights", MetricData=[
        {"MetricName": "used_memory_max", "Dimensions": [{"Name": "function_name", "Value": "menu-list"}],
         "Value": 180}])
    api_dims = [{"Name": "ApiName", "Value": "shop"}, {"Name": "Stage", "Value": "prod"}]
    cloudwatch.put_metric_data(Namespace="AWS/ApiGateway", MetricData=[
        {"MetricName": "Count", "Dimensions": api_dims, "Value": 2_000_000},
        {"MetricName": "CacheHitCount", "Dimensions": api_dims, "Value": 100_000},
        {"MetricName": "CacheMissCount", "Dimensions": api_dims, "Value": 900_000}])
    monitor = CostMonitor(ce=object(), budgets=object(), cloudwatch=cloudwatch, lambda_client=lam, settings=SETTINGS)
    monkeypatch.setenv("HASIVU_MONITORED_FUNCTIONS", "menu-list,old-report")
    monkeypatch.setenv("HASIVU_API_NAME", "shop")
    found = {(r["kind"], r["resource"]): r for r in monitor.get_optimization_recommendations()}
    memory = found[("lambda-memory", "menu-list")]
    assert "set 256 MB" in memory["detail"] and memory["estimated_monthly_savings_usd"] > 0
    assert ("idle-resource", "old-report") in found
    assert "10% cache hit rate" in found[("api-caching", "shop/prod")]["detail"]


def test_off_hours_scaling_from_the_hourly_request_profile(aws):
    from datetime import UTC, datetime, timedelta

    cloudwatch = boto3.client("cloudwatch")
    dims = [{"Name": "ApiName", "Value": "school-api"}, {"Name": "Stage", "Value": "prod"}]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    data = []
    for hours_ago in range(1, 25):
        stamp = now - timedelta(hours=hours_ago)
        ist_hour = (stamp + timedelta(hours=5, minutes=30)).hour
        busy = 7 <= ist_hour <= 15
        data.append({"MetricName": "Count", "Dimensions": dims, "Timestamp": stamp, "Value": 6000 if busy else 120})
    cloudwatch.put_metric_data(Namespace="AWS/ApiGateway", MetricData=data)
    monitor = CostMonitor(ce=object(), budgets=object(), cloudwatch=cloudwatch, lambda_client=object(),
                          settings=SETTINGS)
    found = [r for r in monitor.get_optimization_recommendations([], api=("school-api", "prod"))
             if r["kind"] == "off-hours-scaling"]
    assert len(found) == 1 and "20:00 to 06:00 IST" in found[0]["detail"]


def test_every_dimension_set_the_library_emits_is_in_the_published_catalogue(capsys):
    m = BusinessMetrics(SETTINGS)
    m.track_payment_metrics("o", 10, "success", "wallet")
    m.track_order_metrics("o", "created", {"mealType": "lunch"})
    m.track_rfid_verification("r-1", True)
    m.track_reader_heartbeat("r-1")
    published = {(ns, name, tuple(sorted(dims.items()))) for ns, name, dims in published_metrics("production",
                                                                                                   ("r-1",))}
    for record in _records(capsys):
        cw = record["_aws"]["CloudWatchMetrics"][0]
        for dimension_set in cw["Dimensions"]:
            for metric in cw["Metrics"]:
                key = (cw["Namespace"], metric["Name"], tuple(sorted((d, record[d]) for d in dimension_set)))
                assert key in published, key
