"""Alarm thresholds as small typed objects, with the seed's values as defaults.

Stack config overrides any field by its camelCase name (`errorsPerMinute`), per service and,
for Lambda, per function. The config schema (`stackconfig/schema.py`) is generated from these
classes, so a new field here is a new config key with no other change.
"""

from __future__ import annotations

import dataclasses


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


# Config section name -> field of Thresholds (the stack config schema is generated from these classes).
SECTIONS = {
    "lambda": "lambda_",
    "account": "account",
    "api": "api",
    "rds": "rds",
    "redis": "redis",
    "business": "business",
}
