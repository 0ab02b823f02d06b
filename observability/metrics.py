"""Business metrics as CloudWatch Embedded Metric Format (Powertools), never an API call.

Every event is one EMF record with the dimension set `Environment` (what the alarms and dashboards
read) and, for payments, a second set `Environment, PaymentMethod`. A method outside the known list
becomes "other", so a typo or an attacker cannot mint metrics; status, meal type and ids (order,
user, school, student) go into EMF properties, searchable in Logs Insights and free of metric charges.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Optional

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from observability import catalogue
from observability.settings import RuntimeSettings

PAYMENT_METHODS = frozenset(catalogue.PAYMENT_METHODS)
PAYMENT_STATUSES = frozenset({"success", "failed", "error", "pending", "refunded"})
ORDER_STATUSES = frozenset({"created", "completed", "cancelled", "failed"})


def bounded(value: Any, allowed: frozenset[str]) -> str:
    text = str(value or "").strip().lower()
    return text if text in allowed else "other"


class BusinessMetrics:
    def __init__(self, settings: Optional[RuntimeSettings] = None) -> None:
        self.settings = settings or RuntimeSettings.from_env()

    def _emit(
        self,
        namespace: str,
        values: Mapping[str, tuple[float, MetricUnit]],
        breakdown: Mapping[str, str],
        properties: Mapping[str, Any],
    ) -> None:
        record = EphemeralMetrics(namespace=namespace)
        record.add_dimension("Environment", self.settings.environment)
        if breakdown:
            record.add_dimensions(Environment=self.settings.environment, **breakdown)
        for name, (value, unit) in values.items():
            record.add_metric(name=name, unit=unit, value=value)
        for key, value in properties.items():
            if value is not None:
                record.add_metadata(key=key, value=value)
        record.flush_metrics()

    def track_payment_metrics(
        self, order_id: str, amount: float, status: str, method: str, context: Optional[Mapping[str, Any]] = None
    ) -> None:
        """One payment attempt: counted, classified, and (when it succeeded) its amount as revenue."""
        context = dict(context or {})
        state = bounded(status, PAYMENT_STATUSES)
        values: dict[str, tuple[float, MetricUnit]] = {"PaymentAttempts": (1, MetricUnit.Count)}
        if state == "success":
            values["PaymentSuccesses"] = (1, MetricUnit.Count)
            values["Revenue"] = (float(amount), MetricUnit.NoUnit)
        elif state == "failed":
            values["PaymentFailures"] = (1, MetricUnit.Count)
        elif state == "error":
            values["PaymentErrors"] = (1, MetricUnit.Count)
        self._emit(self.settings.business_namespace, values, {"PaymentMethod": bounded(method, PAYMENT_METHODS)},
                   {"orderId": order_id, "amount": amount, "status": state, **context})

    def track_payment_verification_failure(self, order_id: str, reason: str) -> None:
        self._emit(self.settings.business_namespace, {"PaymentVerificationFailures": (1, MetricUnit.Count)}, {},
                   {"orderId": order_id, "reason": reason})

    def track_payment_webhook_failure(self, event_type: str, reason: str) -> None:
        self._emit(self.settings.business_namespace, {"PaymentWebhookFailures": (1, MetricUnit.Count)}, {},
                   {"webhookEvent": event_type, "reason": reason})

    def track_order_metrics(self, order_id: str, status: str, context: Optional[Mapping[str, Any]] = None) -> None:
        state = bounded(status, ORDER_STATUSES)
        name = {"created": "OrdersCreated", "completed": "OrdersCompleted", "cancelled": "OrdersCancelled"}.get(state)
        if name is None:
            return
        self._emit(self.settings.business_namespace, {name: (1, MetricUnit.Count)}, {},
                   {"orderId": order_id, **(context or {})})

    def track_rfid_verification(
        self, reader_id: str, success: bool, context: Optional[Mapping[str, Any]] = None
    ) -> None:
        values = {"RFIDVerificationAttempts": (1.0, MetricUnit.Count)}
        if success:
            values["RFIDVerificationSuccess"] = (1.0, MetricUnit.Count)
        self._emit(self.settings.business_namespace, values, {}, {"readerId": reader_id, **(context or {})})

    def track_reader_heartbeat(self, reader_id: str) -> None:
        """Per reader: the fleet of readers is fixed hardware, so ReaderId is a bounded dimension."""
        self._emit(self.settings.business_namespace, {"RFIDReaderHeartbeat": (1, MetricUnit.Count)},
                   {"ReaderId": reader_id}, {})

    def track_active_users(self, count: int) -> None:
        self._emit(self.settings.business_namespace, {"ActiveUsers": (count, MetricUnit.Count)}, {}, {})

    def track_login(self, success: bool, context: Optional[Mapping[str, Any]] = None) -> None:
        """Successful logins are an engagement metric; failed ones are security events
        (`security_events.SecurityEventLog`), counted by the stack's log metric filters."""
        if success:
            self._emit(self.settings.business_namespace, {"UserLogins": (1, MetricUnit.Count)}, {}, dict(context or {}))


@functools.cache
def default_metrics() -> BusinessMetrics:
    """One per Lambda container, configured from its environment."""
    return BusinessMetrics()


def track_payment_metrics(order_id: str, amount: float, status: str, method: str,
                          context: Optional[Mapping[str, Any]] = None) -> None:
    default_metrics().track_payment_metrics(order_id, amount, status, method, context)


def track_order_metrics(order_id: str, status: str, context: Optional[Mapping[str, Any]] = None) -> None:
    default_metrics().track_order_metrics(order_id, status, context)


def track_rfid_verification(reader_id: str, success: bool, context: Optional[Mapping[str, Any]] = None) -> None:
    default_metrics().track_rfid_verification(reader_id, success, context)
