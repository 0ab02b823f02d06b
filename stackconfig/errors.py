"""The one error type bad stack config raises: key, bad value, expected form, in one line."""

from __future__ import annotations

import difflib
import re
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from stackconfig.types import CHECK, UNKNOWN_KEY, expected_at

PROJECT = "hasivu-monitoring"
SECRET_LOOKING = re.compile("pass|secret|token|key", re.I)


class ConfigError(Exception):
    """A stack config value that the program cannot use.

    The message is one line naming the full config key, the value found and the form expected,
    so the operator can fix `Pulumi.<stack>.yaml` without reading code.
    """

    def __init__(self, key: str, value: Any, expected: str, message: Optional[str] = None) -> None:
        self.key = key if ":" in key.split(".")[0] else f"{PROJECT}:{key}"
        self.value = value
        self.expected = expected
        super().__init__(message or f"config {self.key}: got {_show(value)}; expected {expected}")

    @classmethod
    def unknown_key(cls, key: str, known: list[str], nearest: Optional[list[str]] = None) -> ConfigError:
        """A key the mapping does not have: name the nearest known one, and all of them."""
        full = key if ":" in key.split(".")[0] else f"{PROJECT}:{key}"
        name = key.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
        nearest = nearest if nearest is not None else difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean `{nearest[0]}`? " if nearest else ""
        secret = " (credentials come only through Pulumi secrets or Secrets Manager ARNs)" if SECRET_LOOKING.search(
            name) else ""
        return cls(key, MISSING, "a known key",
                   f"config {full}: unknown key; {hint}known keys here: {', '.join(known)}{secret}")


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

# What pydantic's own error types mean, in the words of a config error.
EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "missing": "a value (the key is required)",
}


def _key_path(root: str, raw: Any, loc: tuple[Any, ...]) -> tuple[str, Any]:
    """The dotted config path of `loc` and the value there, skipping pydantic's union-member tags."""
    path, value = root, raw
    for part in loc:
        if isinstance(value, dict) and part in value:
            path = f"{path}.{part}" if path else str(part)
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            path = f"{path}[{part}]"
            value = value[part]
        elif isinstance(value, dict) and isinstance(part, str) and part[:1].islower() and "[" not in part:
            # A required key that is absent: name it, with no value.
            return (f"{path}.{part}" if path else part), MISSING
    return path, value


def _expected(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == CHECK:
        return str(ctx["expected"])
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    return EXPECTED.get(kind, error["msg"][:1].lower() + error["msg"][1:])


FORM_MISMATCH = set(EXPECTED) - {"missing"} | {"literal_error"}


def _depth(path: str) -> int:
    return len(path.replace("[", ".").split("."))


def from_validation(error: ValidationError, raw: Any, model: type[BaseModel]) -> ConfigError:
    """The first problem of a failed validation as one ConfigError.

    For a value that may take several forms (a union) pydantic reports one error per form: a
    specific problem found inside one form explains the mistake best; when the value fits no form
    at all, the forms are listed together ("'webhook' or a mapping").
    """
    located = [(*_key_path("", raw, item["loc"]), item) for item in error.errors(include_url=False)]
    deepest = max(_depth(path) for path, _, _ in located)
    candidates = [entry for entry in located if _depth(entry[0]) == deepest]
    specific = [entry for entry in candidates if entry[2]["type"] not in FORM_MISMATCH]
    path, value, first = (specific or candidates)[0]
    ctx = first.get("ctx") or {}
    if first["type"] == UNKNOWN_KEY:
        return ConfigError.unknown_key(f"{path}.{ctx['key']}" if path else ctx["key"], list(ctx["known"]))
    if ctx.get("at"):
        path, value = f"{path}.{ctx['at']}", value.get(ctx["at"], MISSING) if isinstance(value, dict) else MISSING
    if first["type"] == "missing":
        form = expected_at(model, first["loc"])
        return ConfigError(path, value, f"{_expected(first)}: {form}" if form else _expected(first))
    if specific:
        return ConfigError(path, value, _expected(first))
    alternatives: list[str] = []
    for _, _, item in candidates:
        if _expected(item) not in alternatives:
            alternatives.append(_expected(item))
    return ConfigError(path, value, " or ".join(alternatives))
