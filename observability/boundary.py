"""Validation and normalisation of caller data at the library's boundary, shared by metrics,
traces and security events, so a value is judged the same way wherever it goes.

- Amounts: a finite number >= 0 (INR), else ValueError naming the argument; with tracing on or off.
- Payment methods: Razorpay's method names mapped onto the bounded list in `catalogue`.
- Reader ids: the installed fleet only; a card id or a name is refused.
- Caller context: only the documented keys below, scalar values, no personal data.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any, Optional

from observability import catalogue
from observability.settings import READER_ID

# Razorpay's `method` values (payments API) and common spellings -> the catalogue's PaymentMethod values.
METHOD_ALIASES = {
    "cardless_emi": "emi", "credit_card": "card", "debit_card": "card", "net_banking": "netbanking",
    "nb": "netbanking",
}

# Caller context lands in EMF properties of these names only: bounded, documented (docs/runtime-library.md), and
# disjoint from every dimension and from the library's own fields, which therefore cannot be overwritten.
CONTEXT_PROPERTIES = frozenset({
    "schoolId", "mealType", "studentGrade", "menuId", "itemCount", "deliverySlot", "paymentId", "gateway",
    "attempt", "channel", "appVersion", "currency",
})
CONTEXT_VALUE_MAX_CHARS = 64
# Key fragments that name personal data: dropped wherever they appear in a key.
PERSONAL_KEY = re.compile(r"(e-?mail|phone|mobile|name|card|address|vpa|aadha?ar|pan_?no|dob|birth|contact)", re.I)
# Values that look like an email, a UPI handle or a phone number are personal whatever their key.
PERSONAL_VALUE = re.compile(r"(@|^\+?[\d\s()-]{10,}$)")


def amount(value: Any, argument: str = "amount", unit: str = "rupees") -> float:
    """A finite number >= 0 (an amount in INR, or a count with `unit`), else ValueError naming `argument`."""
    if type(value) in (int, float) and 0 <= value < math.inf:  # the common case, without the ABC check
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{argument}: got {value!r} ({type(value).__name__}); expected a number of {unit} >= 0")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{argument}: got {value!r}; expected a finite number of {unit} >= 0")
    return number


def payment_method(value: Any) -> str:
    text = str(value or "").strip().lower()
    text = METHOD_ALIASES.get(text, text)
    return text if text in catalogue.PAYMENT_METHODS else "other"


def reader_id(value: Any, fleet: tuple[str, ...] = (), argument: str = "reader_id") -> str:
    text = str(value or "").strip()
    if not READER_ID.match(text):
        raise ValueError(f"{argument}: got a value that is not a reader id (letters, digits, _ . : -, at most 64); "
                         "a card or student id is never a reader id")
    if fleet and text not in fleet:
        raise ValueError(f"{argument}: got {text!r}; expected one of the {len(fleet)} readers in "
                         "HASIVU_RFID_READER_IDS (the stack's healthMonitor.rfidReaderIds)")
    return text


def _scalar(value: Any) -> Optional[Any]:
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real):
        return value if math.isfinite(float(value)) else None
    if isinstance(value, str):
        if PERSONAL_VALUE.search(value):
            return None
        return value[:CONTEXT_VALUE_MAX_CHARS]
    return None


def context_properties(context: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """The documented, non-personal part of the caller's context; `droppedContextKeys` counts the rest."""
    kept: dict[str, Any] = {}
    dropped = 0
    for key, value in (context or {}).items():
        safe = _scalar(value) if key in CONTEXT_PROPERTIES and not PERSONAL_KEY.search(key) else None
        if safe is None:
            dropped += value is not None
        else:
            kept[key] = safe
    if dropped:
        kept["droppedContextKeys"] = dropped
    return kept
