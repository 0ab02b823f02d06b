"""What CloudWatch makes of the runtime library's EMF output: exactly the metrics the catalogue
publishes (the alarms' and the cost estimate's contract), whatever the caller passes or the
function's environment says; and caller data validated at the boundary."""

from __future__ import annotations

import json
import math

import pytest

from observability import boundary
from observability.catalogue import BUSINESS_METRICS, published_metrics
from observability.health import BusinessProfile, EnhancedHealthMonitor
from observability.health_checks import DEGRADED, HEALTHY, UNHEALTHY, HealthCheck
from observability.health_handler import handler
from observability.metrics import BusinessMetrics
from observability.settings import ConfigurationError, RuntimeSettings
from preflight.cloudwatch.emf import InvalidEmf, documents, metrics_in

READERS = ("reader-3", "gate-7")
SETTINGS = RuntimeSettings("production", "payments", "HASIVU/Business", "HASIVU/Health", READERS)


def _every_track_call(m: BusinessMetrics) -> None:
    for status in ("captured", "failed", "error", "authorized", "refunded"):
        for method in ("upi", "card", "netbanking", "wallet", "emi", "cash", "crypto"):
            m.track_payment_metrics("ord-1", 120, status, method, {"schoolId": "s-1"})
    m.track_payment_verification_failure("ord-1", "signature mismatch")
    m.track_payment_webhook_failure("payment.captured", "timeout")
    for status in ("created", "completed", "cancelled"):
        m.track_order_metrics("ord-1", status)
    m.track_rfid_verification("reader-3", True)
    m.track_rfid_verification("gate-7", False)
    for reader in READERS:
        m.track_reader_heartbeat(reader)
    m.track_active_users(40)
    m.track_login(True)


def _published(readers: tuple[str, ...] = READERS) -> set:
    return {(ns, name, frozenset(dims.items())) for ns, name, dims in published_metrics("production", readers)}


def test_every_track_function_emits_exactly_catalogue_metrics_even_with_a_powertools_service(capsys, monkeypatch):
    # The health monitor's component sets this; Powertools would add `service` to every dimension set.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "health-monitor")
    _every_track_call(BusinessMetrics(SETTINGS))
    emitted = {metric for metric, _ in metrics_in(capsys.readouterr().out, strict=True)}
    published = _published()
    assert emitted <= published, emitted - published
    # Every business metric is exercised, so nothing above passed by emitting nothing.
    assert {name for _, name, _ in emitted} == set(BUSINESS_METRICS)
    assert {m for m in published if m[0] == "HASIVU/Business"} == emitted


def test_health_handler_emits_exactly_catalogue_metrics_with_the_service_variable_set(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "health-monitor")
    monkeypatch.setenv("HASIVU_ENVIRONMENT", "production")
    statuses = {"database": HEALTHY, "redis": DEGRADED, "payment_gateway": UNHEALTHY, "rfid": HEALTHY}
    checks = [HealthCheck(name, 1.0, (lambda s=status: (s, {}))) for name, status in statuses.items()]
    handler({}, None, monitor=EnhancedHealthMonitor(checks, BusinessProfile(1000, 10)))
    emitted = {metric for metric, _ in metrics_in(capsys.readouterr().out, strict=True)}
    assert emitted == {m for m in _published() if m[0] == "HASIVU/Health"}


def test_context_cannot_overwrite_dimensions_or_the_librarys_fields(capsys):
    BusinessMetrics(SETTINGS).track_payment_metrics("ord-1", 250, "captured", "upi", {
        "PaymentMethod": "9876543210@ybl", "Environment": "parent-7781", "status": "failed", "orderId": "x",
        "amount": 1, "Revenue": 99999, "schoolId": "sch-9", "mealType": "lunch"})
    record, by_method = documents(capsys.readouterr().out, strict=True)
    assert (record["Environment"], record["PaymentMethod"]) == ("production", "upi")
    assert (by_method["Environment"], by_method["PaymentMethod"]) == ("production", "upi")
    own = (record["status"], record["orderId"], record["amount"], record["Revenue"])
    assert own == ("success", "ord-1", 250, [250])
    assert (record["schoolId"], record["mealType"]) == ("sch-9", "lunch")
    assert "9876543210" not in json.dumps(record) and "parent-7781" not in json.dumps(record)
    assert record["droppedContextKeys"] == 6


def test_razorpay_notes_and_personal_keys_never_reach_the_record(capsys):
    notes = {"parent_email": "asha@example.in", "phone": "+91 98765 43210", "studentName": "Asha Kumar",
             "card_last4": "4242", "address": "12 MG Road", "schoolId": "asha@example.in", "gateway": "+919876543210",
             "menuId": "menu-4"}
    BusinessMetrics(SETTINGS).track_order_metrics("ord-2", "created", notes)
    [record] = documents(capsys.readouterr().out, strict=True)
    dumped = json.dumps(record)
    for personal in ("asha@", "98765", "Asha", "4242", "MG Road"):
        assert personal not in dumped
    assert record["menuId"] == "menu-4" and record["droppedContextKeys"] == 7
    # The documented properties are disjoint from every dimension and library field.
    assert not boundary.CONTEXT_PROPERTIES & {"Environment", "PaymentMethod", "ReaderId", "Dependency", "orderId",
                                               "amount", "status", "providerStatus", "readerId", "reason"}


@pytest.mark.parametrize(("status", "metrics", "revenue"), [
    ("captured", {"PaymentAttempts", "PaymentSuccesses", "Revenue"}, 499.0),
    ("paid", {"PaymentAttempts", "PaymentSuccesses", "Revenue"}, 499.0),
    ("authorized", {"PaymentAttempts"}, None),
    ("created", {"PaymentAttempts"}, None),
    ("failed", {"PaymentAttempts", "PaymentFailures"}, None),
    ("refunded", {"PaymentAttempts"}, None),
])
def test_razorpay_payment_statuses(capsys, status, metrics, revenue):
    BusinessMetrics(SETTINGS).track_payment_metrics("ord-3", 499, status, "card")
    found = metrics_in(capsys.readouterr().out, strict=True)
    assert {name for (_, name, _), _ in found} == metrics
    assert next((v for (_, name, _), v in found if name == "Revenue"), [None]) == [revenue]


@pytest.mark.parametrize(("status", "metric"), [("created", "OrdersCreated"), ("completed", "OrdersCompleted"),
                                                ("failed", "OrdersCancelled"), ("cancelled", "OrdersCancelled"),
                                                ("delivered", "OrdersCompleted")])
def test_order_statuses_are_counted(capsys, status, metric):
    BusinessMetrics(SETTINGS).track_order_metrics("ord-4", status)
    [record] = documents(capsys.readouterr().out, strict=True)
    assert record[metric] == [1.0] and record["status"] == status


@pytest.mark.parametrize("status", ["confirmed", "preparing", "", "capturedd"])
def test_other_order_statuses_are_refused_by_name(capsys, status):
    with pytest.raises(ValueError, match=r"^status: got .*; expected where an order starts or ends"):
        BusinessMetrics(SETTINGS).track_order_metrics("ord-4", status)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("amount", [-1, math.nan, math.inf, "125.00", None, True])
def test_bad_amounts_are_refused_and_never_emitted(capsys, amount):
    with pytest.raises(ValueError, match=r"^amount: got "):
        BusinessMetrics(SETTINGS).track_payment_metrics("ord-5", amount, "captured", "upi")
    assert capsys.readouterr().out == ""


def test_nan_would_have_been_invalid_emf():
    # Why NaN is refused: CloudWatch rejects the whole record (JSON has no NaN).
    with pytest.raises(InvalidEmf):
        metrics_in('{"_aws": {"CloudWatchMetrics": []}, "Revenue": NaN}', strict=True)


def test_reader_ids_are_the_fleet_only(capsys):
    m = BusinessMetrics(SETTINGS)
    with pytest.raises(ValueError, match="reader_id: got 'reader-99'; expected one of the 2 readers"):
        m.track_reader_heartbeat("reader-99")
    with pytest.raises(ValueError, match="reader_id: got a value that is not a reader id"):
        m.track_rfid_verification("CARD 0042 Asha", True)
    unbounded = BusinessMetrics(RuntimeSettings("production", "x", "HASIVU/Business", "HASIVU/Health"))
    with pytest.raises(ValueError, match="HASIVU_RFID_READER_IDS is not set"):
        unbounded.track_reader_heartbeat("reader-3")
    assert capsys.readouterr().out == ""


def test_methods_are_normalised_onto_the_bounded_list():
    assert [boundary.payment_method(m) for m in ("UPI", " card ", "cardless_emi", "9876543210@ybl", None)] == [
        "upi", "card", "emi", "other", "other"]


@pytest.mark.parametrize(("env", "message"), [
    ({}, "HASIVU_ENVIRONMENT: got None; expected the stack's environment name"),
    ({"HASIVU_ENVIRONMENT": "Prod uction"}, "HASIVU_ENVIRONMENT: got 'Prod uction'"),
    ({"HASIVU_ENVIRONMENT": "production", "HASIVU_RFID_READER_IDS": "r-1,card 42"},
     "HASIVU_RFID_READER_IDS: got 'card 42'"),
])
def test_the_environment_never_defaults_to_production(env, message):
    with pytest.raises(ConfigurationError) as error:
        RuntimeSettings.from_env(env)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
