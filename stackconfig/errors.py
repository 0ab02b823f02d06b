"""The errors bad stack config raises: key, bad value, expected form, one line per problem."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Optional, TypeVar

from pydantic import BaseModel, ValidationError

from stackconfig.types import CHECK, UNKNOWN_KEY, expected_at, nearest_key

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
        if nearest is None:
            match = nearest_key(name, known)
            nearest = [match] if match else []
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

# More lines than this would scroll the first ones away; the rest are counted.
MAX_LINES = 20


class ConfigErrors(ConfigError):
    """Every problem found in one stack config: its message has one line per problem (at most
    MAX_LINES, then how many more), so one run shows what to fix. Key, value and expected form are
    the first problem's."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        lines = [str(error) for error in errors[:MAX_LINES]]
        if len(errors) > MAX_LINES:
            lines.append(f"... and {len(errors) - MAX_LINES} more")
        first = errors[0]
        super().__init__(first.key, first.value, first.expected, "\n".join(lines))


T = TypeVar("T")


class Problems:
    """Collects the config errors of checks that do not depend on each other, each once."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self._lines: set[str] = set()

    def add(self, error: ConfigError) -> None:
        for one in error.errors if isinstance(error, ConfigErrors) else [error]:
            if str(one) not in self._lines:
                self._lines.add(str(one))
                self.errors.append(one)

    def extend(self, errors: Iterable[ConfigError]) -> None:
        for error in errors:
            self.add(error)

    def attempt(self, check: Callable[..., T], *args: Any) -> Optional[T]:
        """`check(*args)`, or None when it raised a ConfigError (kept)."""
        try:
            return check(*args)
        except ConfigError as error:
            self.add(error)
            return None

    def error(self) -> ConfigError:
        return self.errors[0] if len(self.errors) == 1 else ConfigErrors(self.errors)

    def raise_any(self) -> None:
        if self.errors:
            raise self.error()


def raise_all(errors: Iterable[ConfigError]) -> None:
    """Raises the errors, if there are any, as one."""
    problems = Problems()
    problems.extend(errors)
    problems.raise_any()


def item_key(path: str, index: int, item: Any) -> str:
    """The key of item `index` of the list at `path`. A function is named by its name, which is
    what the operator finds in the stack file; anything else by its position."""
    if path.endswith(".functions"):
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name:
            return f"{path}[{name}]"
    return f"{path}[{index}]"


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
    "finite_number": "a finite number (no .inf or .nan)",
}


def _key_path(root: str, raw: Any, loc: tuple[Any, ...]) -> tuple[str, Any, Optional[str]]:
    """The dotted config path of `loc`, the value there, and the path of the value that may take
    several forms (a union) when `loc` is inside one of them: pydantic tags the form in `loc`."""
    path, value, union = root, raw, None
    for part in loc:
        if isinstance(value, dict) and part in value:
            path = f"{path}.{part}" if path else str(part)
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            path = item_key(path, part, value[part])
            value = value[part]
        elif isinstance(value, dict) and isinstance(part, str) and part[:1].islower() and "[" not in part:
            # A required key that is absent: name it, with no value.
            return (f"{path}.{part}" if path else part), MISSING, union
        elif union is None and isinstance(part, str):
            union = path
    return path, value, union


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


Located = tuple[str, Any, dict[str, Any]]


def _one(path: str, value: Any, error: dict[str, Any], model: type[BaseModel]) -> ConfigError:
    ctx = error.get("ctx") or {}
    if error["type"] == UNKNOWN_KEY:
        return ConfigError.unknown_key(f"{path}.{ctx['key']}" if path else ctx["key"], list(ctx["known"]))
    if ctx.get("at"):
        path, value = f"{path}.{ctx['at']}", value.get(ctx["at"], MISSING) if isinstance(value, dict) else MISSING
    if error["type"] == "missing":
        form = expected_at(model, error["loc"])
        return ConfigError(path, value, f"{_expected(error)}: {form}" if form else _expected(error))
    return ConfigError(path, value, _expected(error))


def _union(located: list[Located], model: type[BaseModel]) -> list[ConfigError]:
    """The problems of a value that may take several forms; pydantic reports each form's. Specific
    problems found inside a form explain the mistake best; when the value fits no form at all,
    the forms are listed together ("'webhook' or a mapping"), or the deepest mismatch is named."""
    specific = [entry for entry in located if entry[2]["type"] not in FORM_MISMATCH]
    if specific:
        return [_one(*entry, model) for entry in specific]
    deepest = max(_depth(path) for path, _, _ in located)
    candidates = [entry for entry in located if _depth(entry[0]) == deepest]
    path, value, _ = candidates[0]
    alternatives: list[str] = []
    for _, _, item in candidates:
        if _expected(item) not in alternatives:
            alternatives.append(_expected(item))
    return [ConfigError(path, value, " or ".join(alternatives))]


def validation_errors(error: ValidationError, raw: Any, model: type[BaseModel]) -> list[ConfigError]:
    """Every problem of a failed validation, one ConfigError each, in the schema's order (a value of
    several forms where its first problem is)."""
    order: list[ConfigError | str] = []
    unions: dict[str, list[Located]] = {}
    for item in error.errors(include_url=False):
        path, value, union = _key_path("", raw, item["loc"])
        if union is None:
            order.append(_one(path, value, item, model))
            continue
        if union not in unions:
            order.append(union)
        unions.setdefault(union, []).append((path, value, item))
    problems = Problems()
    for entry in order:
        problems.extend(_union(unions[entry], model) if isinstance(entry, str) else [entry])
    return problems.errors
