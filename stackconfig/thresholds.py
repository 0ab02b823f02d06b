"""Alarm thresholds as small typed objects, with the seed's values as defaults.

Stack config overrides any field by its camelCase name (`errorsPerMinute`), per service and,
for Lambda, per function; `apply_overrides` is the one place that maps and validates them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

from stackconfig.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class LambdaThresholds:
    errors_per_minute: float = 5
    error_rate_percent: float = 5
    error_rate_min_invocations: float = 20
    throttles_per_5min: float = 0
    duration_timeout_share: float = 0.8
    duration_max_ms: float = 10_000


@dataclasses.dataclass(frozen=True)
class AccountThresholds:
    concurrency_limit: float = 1000
    concurrency_percent: float = 80


@dataclasses.dataclass(frozen=True)
class ApiThresholds:
    error_5xx_rate_percent: float = 5
    error_4xx_rate_percent: float = 10
    latency_p99_ms: float = 5_000
    endpoint_latency_p99_ms: float = 3_000


@dataclasses.dataclass(frozen=True)
class RdsThresholds:
    cpu_percent: float = 80
    connections_percent: float = 80
    freeable_memory_mb: float = 256
    free_storage_gb: float = 10
    read_latency_ms: float = 20
    write_latency_ms: float = 20


@dataclasses.dataclass(frozen=True)
class RedisThresholds:
    engine_cpu_percent: float = 80
    memory_percent: float = 85
    evictions_per_5min: float = 100
    connections: float = 1000


@dataclasses.dataclass(frozen=True)
class BusinessThresholds:
    payment_errors_per_5min: float = 10
    payment_failure_rate_percent: float = 5
    order_completion_percent: float = 95
    rfid_verification_percent: float = 99
    health_score: float = 85
    failed_logins_per_5min: float = 50
    fraud_attempts_per_5min: float = 0
    order_volume_anomaly_band: float = 2


@dataclasses.dataclass(frozen=True)
class Thresholds:
    lambda_: LambdaThresholds = LambdaThresholds()
    account: AccountThresholds = AccountThresholds()
    api: ApiThresholds = ApiThresholds()
    rds: RdsThresholds = RdsThresholds()
    redis: RedisThresholds = RedisThresholds()
    business: BusinessThresholds = BusinessThresholds()


# Config section name -> field of Thresholds.
SECTIONS = {
    "lambda": "lambda_",
    "account": "account",
    "api": "api",
    "rds": "rds",
    "redis": "redis",
    "business": "business",
}

T = TypeVar("T")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _is_percent(field: str) -> bool:
    return field.endswith("percent") or field == "health_score"


def apply_overrides(base: T, overrides: Any, key: str) -> T:
    """A copy of `base` with the fields named in `overrides` replaced, each checked."""
    if overrides is None:
        return base
    if not isinstance(overrides, dict):
        raise ConfigError(key, overrides, "a mapping of threshold names to numbers")
    fields = {f.name for f in dataclasses.fields(base)}  # type: ignore[arg-type]
    changes: dict[str, float] = {}
    for name, value in overrides.items():
        field = _snake(str(name))
        if field not in fields:
            known = ", ".join(sorted(camel(f) for f in fields))
            raise ConfigError(f"{key}.{name}", value, f"one of the threshold names: {known}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}.{name}", value, "a number")
        if value < 0:
            raise ConfigError(f"{key}.{name}", value, "a number >= 0")
        if _is_percent(field) and value > 100:
            raise ConfigError(f"{key}.{name}", value, "a percentage between 0 and 100")
        if field == "duration_timeout_share" and not 0 < value <= 1:
            raise ConfigError(f"{key}.{name}", value, "a share of the timeout in (0, 1]")
        changes[field] = float(value)
    return dataclasses.replace(base, **changes)  # type: ignore[type-var]


def load_thresholds(raw: Any, key: str = "thresholds") -> Thresholds:
    if raw is None:
        return Thresholds()
    if not isinstance(raw, dict):
        raise ConfigError(key, raw, f"a mapping with sections {', '.join(SECTIONS)}")
    result = Thresholds()
    for section, value in raw.items():
        if section not in SECTIONS:
            raise ConfigError(f"{key}.{section}", value, f"one of the sections {', '.join(SECTIONS)}")
        attr = SECTIONS[section]
        result = dataclasses.replace(
            result, **{attr: apply_overrides(getattr(result, attr), value, f"{key}.{section}")}
        )
    return result
