"""Business-operation tracing over Powertools Tracer / the X-Ray SDK, with no PII in a trace.

Annotations (indexed, searchable in X-Ray groups) carry only bounded values: the operation type
the X-Ray groups filter on (`operation_type = "payment"`), the operation, criticality, payment
method (normalised as in the metrics), an amount *bucket*, and a keyed-hash pseudonym of the user
or student. Card numbers and raw personal ids never enter a trace, and neither does an exception
message: importing this module turns off Powertools' error and response capture
(POWERTOOLS_TRACER_CAPTURE_ERROR / _RESPONSE, read when a handler is decorated) and makes the X-Ray
SDK record only an exception's type and stack, never its text, in every subsegment. With tracing
off (local runs, tests without X-Ray) every wrapper validates its arguments, checks one flag and
calls the function directly.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any, Optional, TypeVar

from aws_lambda_powertools import Tracer

from observability import boundary
from observability.pseudonym import pseudonym, require_configured

T = TypeVar("T")
ANNOTATION_KEY = re.compile(r"^[A-Za-z0-9_]+$")
OPERATION_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
AMOUNT_BUCKETS_INR = (100, 500, 1_000, 5_000)
SAFE_ORDER_FIELDS = ("mealType", "itemCount", "menuId", "deliverySlot", "currency")
# The values the stack's X-Ray groups filter on (components/tracing.py), and the criticalities.
OPERATION_TYPES = ("payment", "rfid", "order", "general")
CRITICALITIES = ("critical", "business", "general")


THROWABLE_MODULE = "aws_xray_sdk.core.models.throwable"


def _drop_messages(throwable_class: type) -> None:
    original = throwable_class.__init__
    if getattr(original, "_hasivu_redacted", False):
        return

    def without_message(self: Any, exception: BaseException, stack: Any, remote: bool = False) -> None:
        original(self, exception, stack, remote)
        self.__dict__.pop("message", None)

    without_message._hasivu_redacted = True  # type: ignore[attr-defined]
    throwable_class.__init__ = without_message  # type: ignore[method-assign]


class _RedactWhenImported(importlib.abc.MetaPathFinder):
    """Patches the X-Ray SDK's Throwable as it is imported. Importing the SDK here instead would cost
    a cold start ~30 ms (its recorder, wrapt, botocore's session) before any trace is made."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname != THROWABLE_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            execute(module)
            _drop_messages(module.Throwable)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _keep_messages_out_of_traces() -> None:
    """Powertools reads these when a handler or method is decorated: the error object (message
    included) and the handler's response (which can hold personal data) are not stored as metadata.
    The X-Ray SDK itself records `str(exception)` in a subsegment's `cause` whenever an exception
    leaves it (aws_xray_sdk/core/models/throwable.py); the message is dropped there, type and stack stay."""
    os.environ["POWERTOOLS_TRACER_CAPTURE_ERROR"] = "false"
    os.environ["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] = "false"
    if THROWABLE_MODULE in sys.modules:
        _drop_messages(sys.modules[THROWABLE_MODULE].Throwable)
    elif not any(isinstance(finder, _RedactWhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RedactWhenImported())


_keep_messages_out_of_traces()
# In Lambda, a missing pseudonym key is a cold-start error, not per-container pseudonyms.
require_configured()


def amount_bucket(amount: float) -> str:
    rupees = boundary.amount(amount)
    lower = 0
    for upper in AMOUNT_BUCKETS_INR:
        if rupees < upper:
            return f"{lower}-{upper}"
        lower = upper
    return f"{lower}+"


@functools.lru_cache(maxsize=256)
def _operation(name: str, argument: str = "operation") -> str:
    if not OPERATION_NAME.match(str(name)):
        raise ValueError(f"{argument}: got {name!r}; expected a short lowercase name (letters, digits, . _ -)")
    return name


def _choice(value: str, allowed: tuple[str, ...], argument: str) -> str:
    if value not in allowed:
        raise ValueError(f"{argument}: got {value!r}; expected one of {', '.join(allowed)}")
    return value


def business_annotations(name: str, criticality: str, operation_type: Optional[str]) -> dict[str, str]:
    """`operation_type` defaults to the name's first word when that is a group's type
    ("payment-creation" -> payment), so decorated operations land in the X-Ray groups."""
    _operation(name, "name")
    _choice(criticality, CRITICALITIES, "criticality")
    prefix = re.split(r"[._-]", name, maxsplit=1)[0]
    kind = operation_type or (prefix if prefix in OPERATION_TYPES else "general")
    return {"operation_type": _choice(kind, OPERATION_TYPES, "operation_type"), "operation": name,
            "criticality": criticality}


class BusinessTracer:
    def __init__(self, tracer: Optional[Tracer] = None, pseudonym_key: Optional[bytes] = None) -> None:
        self.tracer = tracer or Tracer()
        self.enabled = not self.tracer.disabled
        self._key = pseudonym_key

    def pseudonym(self, identifier: Any) -> str:
        return pseudonym(identifier, self._key)

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
                subsegment.annotations["error_type"] = type(failure).__name__
                subsegment.add_fault_flag()
        if failure is not None:
            raise failure
        return result

    def trace_payment_operation(self, payment_id: str, operation: str, user_id: Any, amount: float, method: str,
                                fn: Callable[[], T]) -> T:
        # Validated before the tracing flag: the same call fails the same way with tracing on or off.
        bucket, operation = amount_bucket(amount), _operation(operation)
        if not self.enabled:
            return fn()
        return self.run(f"payment.{operation}", {
            "operation_type": "payment", "operation": operation, "criticality": "critical",
            "payment_method": boundary.payment_method(method), "amount_bucket": bucket,
            "user": self.pseudonym(user_id),
        }, {"paymentId": str(payment_id)}, fn)

    def trace_rfid_operation(self, student_id: Any, card_id: Any, operation: str, school_id: str,
                             fn: Callable[[], T]) -> T:
        """The card id is card data: it is not recorded at all, not even hashed."""
        operation = _operation(operation)
        if not self.enabled:
            return fn()
        return self.run(f"rfid.{operation}", {
            "operation_type": "rfid", "operation": operation, "criticality": "business",
            "student": self.pseudonym(student_id),
        }, {"schoolId": str(school_id)}, fn)

    def trace_order_operation(self, order_id: str, operation: str, user_id: Any, order_details: Mapping[str, Any],
                              fn: Callable[[], T]) -> T:
        operation = _operation(operation)
        if not self.enabled:
            return fn()
        safe = {k: order_details[k] for k in SAFE_ORDER_FIELDS if k in order_details}
        return self.run(f"order.{operation}", {
            "operation_type": "order", "operation": operation, "criticality": "business",
            "user": self.pseudonym(user_id),
        }, {"orderId": str(order_id), **boundary.context_properties(safe)}, fn)

    def trace_business_operation(self, name: str, criticality: str = "general",
                                 operation_type: Optional[str] = None) -> Callable[[Callable[..., T]],
                                                                                   Callable[..., T]]:
        annotations = business_annotations(name, criticality, operation_type)

        def decorate(fn: Callable[..., T]) -> Callable[..., T]:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> T:
                if not self.enabled:
                    return fn(*args, **kwargs)
                return self.run(name, annotations, {}, lambda: fn(*args, **kwargs))

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


def trace_business_operation(name: str, criticality: str = "general",
                             operation_type: Optional[str] = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form; resolves the tracer at call time so tests and Lambdas can configure it first."""
    annotations = business_annotations(name, criticality, operation_type)

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            tracer = business_tracer()
            if not tracer.enabled:
                return fn(*args, **kwargs)
            return tracer.run(name, annotations, {}, lambda: fn(*args, **kwargs))

        return wrapper

    return decorate


def lambda_handler(fn: Callable[..., T]) -> Callable[..., T]:
    """Powertools' handler subsegment (cold start and service annotations) with neither the response
    nor the error stored as metadata: `@tracing.lambda_handler` on a platform function's handler."""
    return business_tracer().tracer.capture_lambda_handler(fn, capture_response=False, capture_error=False)
