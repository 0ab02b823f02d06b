"""The one marker for a value not known until deploy, as the rules see it.

The policy pack reads pulumi-policy's proxies into plain data with `UNKNOWN` where preview cannot
know a value; a rule that depends on such a value is skipped, the others still run.
"""

from __future__ import annotations

from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown during preview>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN
