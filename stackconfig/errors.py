"""The one error type bad stack config raises: key, bad value, expected form."""

from __future__ import annotations

from typing import Any

PROJECT = "hasivu-monitoring"


class ConfigError(Exception):
    """A stack config value that the program cannot use.

    The message is one line naming the full config key, the value found and the form expected,
    so the operator can fix `Pulumi.<stack>.yaml` without reading code.
    """

    def __init__(self, key: str, value: Any, expected: str) -> None:
        self.key = key if ":" in key.split(".")[0] else f"{PROJECT}:{key}"
        self.value = value
        self.expected = expected
        super().__init__(f"config {self.key}: got {_show(value)}; expected {expected}")


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing (the key is missing)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
MISSING = _MISSING
