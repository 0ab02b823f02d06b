"""Runtime settings of the library, read from the Lambda environment once.

A bad or missing value raises `ConfigurationError` with one line naming the variable, the value it
got and what it expects: a misconfigured function fails at its first invocation with that line
(in its log and as the Lambda error message), never with a traceback from deep inside the library.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Optional

from observability.catalogue import BUSINESS_NAMESPACE, HEALTH_NAMESPACE

ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
# Readers are installed hardware with short serial-like ids; anything else (a card id, a name) is refused.
READER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no")


class ConfigurationError(ValueError):
    """One line: the variable, the value it got and what is expected."""


def in_lambda() -> bool:
    return bool(os.getenv("AWS_LAMBDA_FUNCTION_NAME"))


def _bad(name: str, value: object, expected: str) -> ConfigurationError:
    return ConfigurationError(f"{name}: got {value!r}; expected {expected}")


def _env_float(name: str, default: float, env: Mapping[str, str], expected: str,
               acceptable: Callable[[float], bool]) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _bad(name, raw, expected) from None
    if not math.isfinite(value) or not acceptable(value):
        raise _bad(name, raw, expected)
    return value


def env_seconds(name: str, default: float, env: Mapping[str, str] = os.environ) -> float:
    return _env_float(name, default, env, "a number of seconds > 0", lambda value: value > 0)


def env_number(name: str, default: float, env: Mapping[str, str] = os.environ) -> float:
    return _env_float(name, default, env, "a number >= 0", lambda value: value >= 0)


def parse_bool(name: str, value: object) -> bool:
    """JSON booleans, or the words true/false (1/0, yes/no): "false" is false, anything else is an error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise _bad(name, value, "true or false")


def reader_ids(name: str = "HASIVU_RFID_READER_IDS", env: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    found = tuple(r.strip() for r in env.get(name, "").split(",") if r.strip())
    for reader in found:
        if not READER_ID.match(reader):
            raise _bad(name, reader, "comma-separated reader ids (letters, digits, _ . : -, at most 64)")
    return found


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    environment: str
    service: str
    business_namespace: str
    health_namespace: str
    # The installed RFID fleet: the only ReaderId dimension values (catalogue.published_metrics).
    reader_ids: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> RuntimeSettings:
        env = os.environ if env is None else env
        environment = env.get("HASIVU_ENVIRONMENT", "")
        if not ENVIRONMENT_NAME.match(environment):
            # No silent default: metrics of an unnamed stage would land in production's alarms.
            raise _bad("HASIVU_ENVIRONMENT", environment or None,
                       "the stack's environment name (e.g. production, staging: lowercase letters, digits, -)")
        return cls(
            environment=environment,
            service=env.get("POWERTOOLS_SERVICE_NAME", "hasivu"),
            business_namespace=env.get("HASIVU_BUSINESS_NAMESPACE") or BUSINESS_NAMESPACE,
            health_namespace=env.get("HASIVU_HEALTH_NAMESPACE") or HEALTH_NAMESPACE,
            reader_ids=reader_ids(env=env),
        )
