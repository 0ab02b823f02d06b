"""Reading policy props without tripping over values unknown during preview.

pulumi-policy hands props as read-only proxies that raise `UnknownValueError` on an unknown
value; a mandatory rule must still decide, so it reads them here as plain data with `UNKNOWN`
in place of what preview cannot know, and decides from dependencies where it matters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from cloudwatch_rules.values import UNKNOWN, is_unknown

__all__ = ["UNKNOWN", "is_unknown", "plain", "strings_in"]


# Leaves, checked first: most values are, and the abstract-class checks below cost far more.
SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """A deep plain copy (dicts, lists, scalars) of proxied props, with UNKNOWN for unknowns."""
    if isinstance(value, SCALARS):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def strings_in(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every known string in a plain value, with its dotted path."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in strings_in(v, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, str) else []
