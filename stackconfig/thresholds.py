"""Alarm thresholds as small typed objects, with the platform's targets as defaults.

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
    # Low-volume functions (refunds at night, sign-ups, menu changes): when > 0, the error-rate alarm
    # looks at windows this long with no invocation minimum, and fires once a window holds at least
    # `low_volume_min_errors` errors above the rate threshold; it is then the function's only error alarm
    # (no count of errors a minute, which such a function never reaches). 0 = the 5-minute, guarded rate.
    low_volume_window_minutes: float = 0
    low_volume_min_errors: float = 1


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
    # A 5XX rate is only judged in minutes with at least this many requests.
    error_5xx_min_requests: float = 20
    # A 4XX rate is only judged in 5-minute windows with at least this many requests: at night a
    # handful of requests with two wrong passwords among them is over 10 %.
    error_4xx_min_requests: float = 50
    # An endpoint's p99 is only judged in 5-minute windows with at least this many requests: below
    # that, p99 is one or two requests, i.e. a cold start. Size it per endpoint from its own traffic
    # (inventory.api.criticalEndpoints[].minRequests); this is the default.
    endpoint_min_requests: float = 200
    integration_latency_p99_ms: float = 4_000
    # During school hours, fewer requests than this in 5 minutes (15 minutes running) means the
    # API is unreachable for users.
    min_requests_per_5min: float = 1


@dataclasses.dataclass(frozen=True)
class RdsThresholds:
    cpu_percent: float = 80
    connections_percent: float = 80
    freeable_memory_mb: float = 256
    free_storage_gb: float = 10
    read_latency_ms: float = 20
    write_latency_ms: float = 20
    replica_lag_seconds: float = 60
    disk_queue_depth: float = 20


@dataclasses.dataclass(frozen=True)
class RedisThresholds:
    engine_cpu_percent: float = 80
    memory_percent: float = 85
    evictions_per_5min: float = 100
    connections: float = 1000
    replication_lag_seconds: float = 5
    # The health monitor's whole Redis probe (connect, two PINGs, two INFOs: five round trips) in 3 of 5
    # minutes: five round trips at the check's own 50 ms "degraded" PING.
    probe_latency_ms: float = 250


@dataclasses.dataclass(frozen=True)
class BusinessThresholds:
    payment_errors_per_5min: float = 10
    # A payment outage at any traffic: more than this share of the last hour's payment attempts ended in an
    # error, at least `payment_outage_min_errors` of them. At night or on a holiday a parent pays every few
    # minutes, too few for the 5-minute count or the payment objective's windows, yet every one can fail.
    payment_outage_percent: float = 50
    payment_outage_min_errors: float = 3
    # Between the two: more than this share of the last 5 minutes' payment attempts ended in an error, at
    # least `payment_error_rate_min_errors` of them. In the evening a parent pays every few seconds: one in
    # twenty failing is a handful of errors in 5 minutes, under the count, and an hour before the payment
    # objective's burn-rate pair has seen enough of it.
    payment_error_rate_percent: float = 5
    payment_error_rate_min_errors: float = 3
    payment_failure_rate_percent: float = 5
    order_completion_percent: float = 95
    rfid_verification_percent: float = 99
    # The health-score target is 85, but with the health monitor's weights (database 35, Razorpay 30, RFID 20,
    # Redis 15; degraded counts half) 85 is crossed by one slow database (82.5) and by every reader
    # off in school hours (80), which its heartbeat alarms page. Below 80 means a dependency that matters is down: the
    # database (65) or Razorpay (70), or several degraded at once.
    health_score: float = 80
    # Failed logins are judged as a share of login attempts (failed + successful), so they grow with
    # traffic as they should (3 % wrong passwords); an attack is at least `failed_logins_min_per_5min`
    # failures in 5 minutes that make up more than `failed_login_rate_percent` of the attempts.
    failed_login_rate_percent: float = 20
    failed_logins_min_per_5min: float = 20
    fraud_attempts_per_5min: float = 0
    order_volume_anomaly_band: float = 2
    # Volume guards: a rate is judged only in windows (payments 15 minutes, RFID 5) with at least
    # this many events. Banks decline ~2 % of payments: at 20 attempts, two declines are already 10 %.
    payment_failure_min_attempts: float = 100
    rfid_min_attempts: float = 50
    order_completion_min_orders: float = 20
    # Windows in IST (hours, 7.5 = 07:30) on the first `school_days_per_week` days (1 = Monday).
    school_day_start_ist: float = 7.5
    school_day_end_ist: float = 15
    lunch_start_ist: float = 12
    lunch_end_ist: float = 14
    school_days_per_week: float = 6
    # Fewer orders than this per 5 minutes at lunch, 15 minutes running: ordering has stopped.
    orders_min_per_5min: float = 1
    # Readers send this many heartbeats a minute; in school hours a reader that sent under
    # `reader_heartbeat_share_percent` of them in 2 of the last 6 five-minute windows (10 of the last
    # 30 minutes) is offline.
    reader_heartbeats_per_minute: float = 1
    reader_heartbeat_share_percent: float = 50
    # Cancelled of the orders finished at the counter, against the anomaly band of that share (std devs),
    # in 15-minute windows with at least `order_cancellation_min_orders` finished orders (lunch, not the
    # few breakfast pickups, where one expired order is already several percent).
    order_cancellation_anomaly_band: float = 2
    order_cancellation_min_orders: float = 200
    # Active users (sessions) below their anomaly band (std devs) in school hours.
    active_users_anomaly_band: float = 2
    # User Satisfaction Index (Apdex) of the API stage's latency: requests at or under `apdex_target_ms`
    # are satisfied, up to 4 times it tolerating, slower frustrated; judged in 5-minute windows with at
    # least `apdex_min_requests` requests, alerting under `user_satisfaction_percent`. 1.5 s, so that a
    # Lambda cold start (about 0.9 s) on a usual call still satisfies: with 1 s, the cold starts of a
    # quiet morning alone put the index near 94 %.
    apdex_target_ms: float = 1500
    apdex_min_requests: float = 100
    user_satisfaction_percent: float = 95


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
