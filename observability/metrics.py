"""Business metrics as CloudWatch Embedded Metric Format (Powertools), never an API call.

Every event is one EMF record whose dimension sets are exactly those `catalogue.published_metrics()`
lists: `Environment` (what the alarms and dashboards read); a payment adds a second record with its
attempt and decline under `Environment, PaymentMethod` (`catalogue.PAYMENT_METHOD_BREAKDOWN`), the method a
property of the first; heartbeats also `Environment, ReaderId` for the installed fleet. Methods outside the
known list become "other", so a typo or an attacker cannot mint metrics. Status, ids and the caller's
context go into EMF properties: the library's own fields (orderId, amount, status, readerId) are set
last, and caller context is limited to `boundary.CONTEXT_PROPERTIES` without personal data.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from aws_lambda_powertools.metrics import MetricUnit

from observability import boundary, emf
from observability.catalogue import PAYMENT_METHOD_BREAKDOWN
from observability.settings import RuntimeSettings

# Razorpay's payment states (created, authorized, captured, refunded, failed; docs "About Payments")
# and order states (created, attempted, paid; docs "About Orders"), with the library's own words.
# `authorized` is money held but not settled: Razorpay refunds it unless captured within 3 days, so
# revenue is counted at `captured` (or the order's `paid`), once.
PAYMENT_STATUSES = {
    "success": "success", "captured": "success", "paid": "success",
    "failed": "failed",
    "error": "error",
    "pending": "pending", "created": "pending", "authorized": "pending", "attempted": "pending",
    "refunded": "refunded",
}
# Orders are counted where they start and where they end; intermediate states are refused (see below).
ORDER_STATUSES = {
    "created": "OrdersCreated", "placed": "OrdersCreated",
    "completed": "OrdersCompleted", "delivered": "OrdersCompleted", "served": "OrdersCompleted",
    "cancelled": "OrdersCancelled", "canceled": "OrdersCancelled", "failed": "OrdersCancelled",
    "rejected": "OrdersCancelled", "expired": "OrdersCancelled",
}


def _status(value: Any, known: Mapping[str, str], argument: str, what: str) -> tuple[str, str]:
    text = str(value or "").strip().lower()
    if text not in known:
        raise ValueError(f"{argument}: got {value!r}; expected {what}: {', '.join(sorted(known))}")
    return text, known[text]


class BusinessMetrics:
    def __init__(self, settings: Optional[RuntimeSettings] = None) -> None:
        self.settings = settings or RuntimeSettings.from_env()

    def _emit(self, values: Mapping[str, tuple[float, MetricUnit]], breakdown: Optional[Mapping[str, str]],
              caller: Optional[Mapping[str, Any]], own: Mapping[str, Any],
              broken_down: Optional[Sequence[str]] = None) -> None:
        """One record under `Environment` and, with a `breakdown`, also under it; `broken_down` limits the
        breakdown to those metrics (a second record: a directive's dimension sets apply to all its metrics)."""
        env = {"Environment": self.settings.environment}
        namespace = self.settings.business_namespace
        properties = {**boundary.context_properties(caller), **own}
        if breakdown and broken_down is None:
            emf.emit(namespace, [env, {**env, **breakdown}], values, properties)
            return
        emf.emit(namespace, [env], values, {**properties, **(breakdown or {})})
        split = {name: value for name, value in values.items() if name in (broken_down or ())}
        if breakdown and split:
            emf.emit(namespace, [{**env, **breakdown}], split, {})

    def track_payment_metrics(
        self, order_id: str, amount: float, status: str, method: str, context: Optional[Mapping[str, Any]] = None
    ) -> None:
        """One payment attempt: counted, classified, and (when captured) its amount as revenue in INR."""
        rupees = boundary.amount(amount)
        raw, state = _status(status, PAYMENT_STATUSES, "status", "a payment status (Razorpay's or the library's)")
        values: dict[str, tuple[float, MetricUnit]] = {"PaymentAttempts": (1, MetricUnit.Count)}
        if state == "success":
            values["PaymentSuccesses"] = (1, MetricUnit.Count)
            values["Revenue"] = (rupees, MetricUnit.NoUnit)
        elif state == "failed":
            values["PaymentFailures"] = (1, MetricUnit.Count)
        elif state == "error":
            values["PaymentErrors"] = (1, MetricUnit.Count)
        self._emit(values, {"PaymentMethod": boundary.payment_method(method)}, context,
                   {"orderId": str(order_id), "amount": rupees, "status": state, "providerStatus": raw},
                   broken_down=PAYMENT_METHOD_BREAKDOWN)

    def track_payment_verification_failure(self, order_id: str, reason: str) -> None:
        self._emit({"PaymentVerificationFailures": (1, MetricUnit.Count)}, None, None,
                   {"orderId": str(order_id), "reason": str(reason)[:boundary.CONTEXT_VALUE_MAX_CHARS]})

    def track_payment_webhook_failure(self, event_type: str, reason: str) -> None:
        self._emit({"PaymentWebhookFailures": (1, MetricUnit.Count)}, None, None,
                   {"webhookEvent": str(event_type)[:boundary.CONTEXT_VALUE_MAX_CHARS],
                    "reason": str(reason)[:boundary.CONTEXT_VALUE_MAX_CHARS]})

    def track_order_metrics(self, order_id: str, status: str, context: Optional[Mapping[str, Any]] = None) -> None:
        """Intermediate states (confirmed, preparing, ready...) are refused with a ValueError: counting
        them would count one order twice, and dropping them silently hides a wrong call."""
        raw, name = _status(status, ORDER_STATUSES, "status",
                            "where an order starts or ends (intermediate states are not counted)")
        self._emit({name: (1, MetricUnit.Count)}, None, context, {"orderId": str(order_id), "status": raw})

    def track_rfid_verification(
        self, reader_id: str, success: bool, context: Optional[Mapping[str, Any]] = None
    ) -> None:
        reader = boundary.reader_id(reader_id, self.settings.reader_ids)
        values = {"RFIDVerificationAttempts": (1.0, MetricUnit.Count)}
        if success:
            values["RFIDVerificationSuccess"] = (1.0, MetricUnit.Count)
        self._emit(values, None, context, {"readerId": reader})

    def track_reader_heartbeat(self, reader_id: str) -> None:
        """Per reader: ReaderId is a dimension only for the installed fleet (HASIVU_RFID_READER_IDS),
        the same list the stack counts in its cost estimate."""
        if not self.settings.reader_ids:
            raise ValueError("reader_id: HASIVU_RFID_READER_IDS is not set; a heartbeat needs the installed fleet "
                             "(the stack's healthMonitor.rfidReaderIds) to bound the ReaderId dimension")
        reader = boundary.reader_id(reader_id, self.settings.reader_ids)
        self._emit({"RFIDReaderHeartbeat": (1, MetricUnit.Count)}, {"ReaderId": reader}, None, {})

    def track_active_users(self, count: int) -> None:
        self._emit({"ActiveUsers": (boundary.amount(count, "count", "users"), MetricUnit.Count)}, None, None, {})

    def track_login(self, success: bool, context: Optional[Mapping[str, Any]] = None) -> None:
        """Successful logins are an engagement metric; failed ones are security events
        (`security_events.SecurityEventLog`), counted by the stack's log metric filters."""
        if success:
            self._emit({"UserLogins": (1, MetricUnit.Count)}, None, context, {})


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


def track_reader_heartbeat(reader_id: str) -> None:
    default_metrics().track_reader_heartbeat(reader_id)
