"""CloudWatch Logs metric filters over JSON log events, for the patterns the program uses.

Source: "Filter pattern syntax for metric filters" (JSON log events): `{ $.field = "value" }`,
`!=`, numeric comparisons, and `&&` / `||` between conditions. A pattern outside that subset is
reported, never guessed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

CONDITION = re.compile(
    r'\s*\$\.([A-Za-z0-9_.]+)\s*(=|!=|>=|<=|>|<)\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|[A-Za-z0-9_*-]+)\s*')


class UnsupportedPattern(ValueError):
    pass


def _field(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _condition(event: dict[str, Any], field: str, op: str, literal: str) -> bool:
    value = _field(event, field)
    if value is None:
        return False
    if literal.startswith('"') or not re.fullmatch(r"-?\d+(?:\.\d+)?", literal):
        text = literal.strip('"')
        pattern = "^" + ".*".join(re.escape(p) for p in text.split("*")) + "$"
        matched = isinstance(value, str) and re.match(pattern, value) is not None
        return matched if op == "=" else not matched if op == "!=" else False
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    number = float(literal)
    return {"=": value == number, "!=": value != number, ">": value > number, "<": value < number,
            ">=": value >= number, "<=": value <= number}[op]


def matches(pattern: str, message: str) -> bool:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise UnsupportedPattern(f"filter pattern {pattern!r} is not a JSON pattern the drill model reads")
    try:
        event = json.loads(message)
    except json.JSONDecodeError:
        return False
    if not isinstance(event, dict):
        return False
    body = text[1:-1]
    any_group = False
    for group in body.split("||"):
        all_true = True
        for part in group.split("&&"):
            match = CONDITION.fullmatch(part)
            if not match:
                raise UnsupportedPattern(f"filter pattern {pattern!r} is not a JSON pattern the drill model reads")
            all_true = all_true and _condition(event, *match.groups())
        any_group = any_group or all_true
    return any_group


def metric_value(value: str, message: str) -> Optional[float]:
    """The transformation's value: a number, or `$.field` taken from the event."""
    if value.startswith("$."):
        found = _field(json.loads(message), value[2:])
        return float(found) if isinstance(found, (int, float)) and not isinstance(found, bool) else None
    return float(value)
