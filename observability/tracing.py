"""Business-operation tracing over Powertools Tracer / the X-Ray SDK, with no PII in a trace.

Annotations (indexed, searchable in X-Ray groups) carry only bounded values: the operation type
the X-Ray groups filter on (`operation_type = "payment"`), the operation, criticality, payment
method, an amount *bucket*, and a keyed-hash pseudonym of the user or student. Card numbers and
raw personal ids never enter a trace. With tracing off (local runs, tests without X-Ray) every
wrapper checks one flag and calls the function directly.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, Optional, TypeVar

from aws_lambda_powertools import Tracer

T = TypeVar("T")
ANNOTATION_KEY = re.compile(r"^[A-Za-z0-9_]+$")
AMOUNT_BUCKETS_INR = (100, 500, 1_000, 5_000)
SAFE_ORDER_FIELDS = ("mealType", "itemCount", "menuId", "deliverySlot", "currency")


def amount_bucket(amount: float) -> str:
    lower = 0
    for upper in AMOUNT_BUCKETS_INR:
        if amount < upper:
            return f"{lower}-{upper}"
        lower = upper
    return f"{lower}+"


class BusinessTracer:
    def __init__(self, tracer: Optional[Tracer] = None, pseudonym_key: Optional[bytes] = None) -> None:
        self.tracer = tracer or Tracer()
        self.enabled = not self.tracer.disabled
        # A per-deployment key (HASIVU_PSEUDONYM_KEY) makes pseudonyms stable across containers;
        # without it they are stable per container only, and still not reversible.
        key = pseudonym_key or os.getenv("HASIVU_PSEUDONYM_KEY", "").encode() or os.urandom(32)
        self._key = key

    def pseudonym(self, identifier: Any) -> str:
        digest = hmac.new(self._key, str(identifier).encode(), hashlib.sha256).hexdigest()
        return digest[:16]

    def run(self, name: str, annotations: Mapping[str, Any], metadata: Mapping[str, Any], fn: Callable[[], T]) -> T:
        failure: Optional[Exception] = None
        with self.tracer.provider.in_subsegment(name=f"## {name}") as subsegment:
            # The keys are this module's literals, all valid X-Ray keys (ANNOTATION_KEY, checked by
            # the tests): setting them directly skips put_annotation's per-character validation,
            # which would otherwise double the cost of a subsegment. Its own start and end times
            # record the duration.
            subsegment.annotations.update(annotations)
            subsegment.put_metadata("business", metadata, namespace="hasivu")
            try:
                result = fn()
            except Exception as error:  # noqa: BLE001 - re-raised below, outside the subsegment
                failure = error
            subsegment.annotations["success"] = failure is None
            if failure is not None:
                # Only the type: an exception message can carry the personal data kept out of traces,
                # so the error leaves the subsegment before the SDK could record its message.
                subsegment.annotations["error_type"] = type(failure).__name__
                subsegment.add_fault_flag()
        if failure is not None:
            raise failure
        return result

    def trace_payment_operation(self, payment_id: str, operation: str, user_id: Any, amount: float, method: str,
                                fn: Callable[[], T]) -> T:
        if not self.enabled:
            return fn()
        return self.run(f"payment.{operation}", {
            "operation_type": "payment", "operation": operation, "criticality": "critical",
            "payment_method": str(method).lower(), "amount_bucket": amount_bucket(amount),
            "user": self.pseudonym(user_id),
        }, {"paymentId": payment_id}, fn)

    def trace_rfid_operation(self, student_id: Any, card_id: Any, operation: str, school_id: str,
                             fn: Callable[[], T]) -> T:
        """The card id is card data: it is not recorded at all, not even hashed."""
        if not self.enabled:
            return fn()
        return self.run(f"rfid.{operation}", {
            "operation_type": "rfid", "operation": operation, "criticality": "business",
            "student": self.pseudonym(student_id),
        }, {"schoolId": school_id}, fn)

    def trace_order_operation(self, order_id: str, operation: str, user_id: Any, order_details: Mapping[str, Any],
                              fn: Callable[[], T]) -> T:
        if not self.enabled:
            return fn()
        safe = {k: order_details[k] for k in SAFE_ORDER_FIELDS if k in order_details}
        return self.run(f"order.{operation}", {
            "operation_type": "order", "operation": operation, "criticality": "business",
            "user": self.pseudonym(user_id),
        }, {"orderId": order_id, **safe}, fn)

    def trace_business_operation(self, name: str, criticality: str = "general") -> Callable[[Callable[..., T]],
                                                                                            Callable[..., T]]:
        def decorate(fn: Callable[..., T]) -> Callable[..., T]:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> T:
                if not self.enabled:
                    return fn(*args, **kwargs)
                return self.run(name, {"operation": name, "criticality": criticality}, {},
                                lambda: fn(*args, **kwargs))

            return wrapper

        return decorate


@functools.cache
def business_tracer() -> BusinessTracer:
    """One per Lambda container, configured from its environment."""
    return BusinessTracer()


def trace_payment_operation(payment_id: str, operation: str, user_id: Any, amount: float, method: str,
                            fn: Callable[[], T]) -> T:
    return business_tracer().trace_payment_operation(payment_id, operation, user_id, amount, method, fn)


def trace_rfid_operation(student_id: Any, card_id: Any, operation: str, school_id: str, fn: Callable[[], T]) -> T:
    return business_tracer().trace_rfid_operation(student_id, card_id, operation, school_id, fn)


def trace_order_operation(order_id: str, operation: str, user_id: Any, order_details: Mapping[str, Any],
                          fn: Callable[[], T]) -> T:
    return business_tracer().trace_order_operation(order_id, operation, user_id, order_details, fn)


def trace_business_operation(name: str, criticality: str = "general") -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form; resolves the tracer at call time so tests and Lambdas can configure it first."""
    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            tracer = business_tracer()
            if not tracer.enabled:
                return fn(*args, **kwargs)
            return tracer.run(name, {"operation": name, "criticality": criticality}, {}, lambda: fn(*args, **kwargs))

        return wrapper

    return decorate
