"""Checked value types for the stack config schema: each says, in one phrase, what it expects.

A failed check raises a `hasivu` error whose message is that phrase, so the one-line config error
reads "expected an email address like ops@hasivu.com" rather than pydantic's generic wording.
The JSON Schema keeps the same limits (pattern, minimum, maximum) for editors.
"""

from __future__ import annotations

import difflib
import keyword
import re
import typing
from collections.abc import Callable
from typing import Annotated, Any, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

# The error type every checked value raises; its message is what the value should have been.
CHECK = "hasivu"
UNKNOWN_KEY = "unknown_key"


def nearest_key(name: str, known: list[str]) -> Optional[str]:
    """The known key an unknown one most likely meant (a typo of it), if any."""
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(name: str, known: list[str]) -> str:
    """`; did you mean `key`?` for the nearest known key, to end an error's line; empty when none is near."""
    match = nearest_key(name, known)
    return f"; did you mean `{match}`?" if match else ""


def fail(expected: str, at: Optional[str] = None) -> PydanticCustomError:
    """An error saying what was expected; `at` names a field below the failing mapping."""
    return PydanticCustomError(CHECK, "{expected}", {"expected": expected, "at": at or ""})


def _checked(test: Callable[[Any], bool], expected: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if not test(value):
            raise fail(expected)
        return value

    check.expected = expected  # type: ignore[attr-defined] - read back when the key is missing
    return AfterValidator(check)


def text(pattern: str, expected: str, description: str = "") -> Any:
    regex = re.compile(pattern)
    return Annotated[StrictStr, _checked(lambda v: bool(regex.match(v)), expected),
                     Field(description=description or expected, json_schema_extra={"pattern": pattern})]


def number(expected: str, low: Optional[float] = None, high: Optional[float] = None,
           low_exclusive: bool = False, description: str = "") -> Any:
    def test(v: float) -> bool:
        above = low is None or (v > low if low_exclusive else v >= low)
        return above and (high is None or v <= high)

    limits: dict[str, float] = {}
    if low is not None:
        limits["exclusiveMinimum" if low_exclusive else "minimum"] = low
    if high is not None:
        limits["maximum"] = high
    return Annotated[StrictFloat, _checked(test, expected),
                     Field(description=description or expected, json_schema_extra=limits)]


def whole(low: int, high: Optional[int] = None, description: str = "") -> Any:
    expected = f"a whole number from {low} to {high}" if high is not None else f"a whole number >= {low}"
    limits = {"minimum": low, **({"maximum": high} if high is not None else {})}
    return Annotated[StrictInt, _checked(lambda v: v >= low and (high is None or v <= high), expected),
                     Field(description=description or expected, json_schema_extra=limits)]


def one_of(values: tuple[Any, ...], expected: str, description: str = "") -> Any:
    base = StrictInt if all(isinstance(v, int) for v in values) else StrictStr
    return Annotated[base, _checked(lambda v: v in values, expected),
                     Field(description=description or expected, json_schema_extra={"enum": list(values)})]


def non_empty(item: Any, expected: str) -> Any:
    return Annotated[tuple[item, ...], _checked(bool, expected), Field(json_schema_extra={"minItems": 1})]


def or_mapping(model: type[BaseModel], field: str) -> Any:
    """`model`, also written as a bare string meaning `{field: string}` (e.g. a function name)."""
    def expand(value: Any) -> Any:
        return {field: value} if isinstance(value, str) else value

    return Annotated[model, BeforeValidator(expand, json_schema_input_type=StrictStr | model)]


def camel(name: str) -> str:
    """The config key of a Python field: `latency_p99_ms` -> `latencyP99Ms`, `lambda_` -> `lambda`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(key: str) -> str:
    """The Python field of a config key (the inverse of `camel`); keywords get a trailing `_`."""
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()
    return name + "_" if keyword.iskeyword(name) else name


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def expected_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Optional[str]:
    """What the key at `loc` expects, for a required key that is absent: its checked form, or the
    keys of the mapping it is, or its description."""
    field = None
    for part in loc:
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        if part not in fields:
            continue  # a list index, a free-form mapping key or a union member's tag
        field = fields[part]
        inner = _models_in(field.annotation)
        if inner:
            model = inner[0]
    if field is None:
        return None
    for meta in field.metadata:
        expected = getattr(getattr(meta, "func", None), "expected", None)
        if expected:
            return str(expected)
    inner = _models_in(field.annotation)
    if inner:
        keys = [f.alias or name for name, f in inner[0].model_fields.items()]
        return f"a mapping with {', '.join(keys)}"
    return field.description


class Section(BaseModel):
    """A mapping in the stack config: camelCase keys, unknown keys refused with the nearest known one."""

    # Titles are the keys as written (an editor shows them on hover); pydantic's default title-cases the
    # alias, so `readLatencyMs` read "Readlatencyms".
    # No infinity or NaN: AWS takes neither as a threshold, budget or amount (YAML's `.inf` is a float).
    model_config = ConfigDict(extra="forbid", alias_generator=camel, populate_by_name=False, frozen=True,
                              field_title_generator=lambda name, field: field.alias or camel(name),
                              allow_inf_nan=False)

    @model_validator(mode="wrap")
    @classmethod
    def _only_known_keys(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Each unknown key is an error, and the known keys beside it are still checked, so one run
        names every mistake of the mapping."""
        if not isinstance(data, dict):
            return handler(data)
        known = [field.alias or name for name, field in cls.model_fields.items()]
        unknown = [key for key in data if key not in known]
        if not unknown:
            return handler(data)
        errors: list[InitErrorDetails] = [
            {"type": PydanticCustomError(UNKNOWN_KEY, "unknown key", {"key": str(key), "known": known}),
             "loc": (), "input": data}
            for key in unknown
        ]
        # A misspelt required key is also a missing one: the unknown-key error already names it.
        meant = {nearest_key(str(key), known) for key in unknown}
        try:
            handler({key: value for key, value in data.items() if key in known})
        except ValidationError as error:
            errors += [_again(item) for item in error.errors(include_url=False)
                       if not (item["type"] == "missing" and len(item["loc"]) == 1 and item["loc"][0] in meant)]
        raise ValidationError.from_exception_data(cls.__name__, errors)


def _again(item: Any) -> InitErrorDetails:
    """A nested error as it was (type, message, context, location), to be raised again with others."""
    return {"type": PydanticCustomError(item["type"], item["msg"], item.get("ctx")), "loc": item["loc"],
            "input": item["input"]}
