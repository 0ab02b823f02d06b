"""The enhanced health monitor: concurrent checks, a health score, SLA compliance from the
recorded history, business impact and recovery recommendations.

Each check runs in its own thread with its own timeout, and the whole run (secret reads and the SLA
history included) under one deadline, so one hung dependency costs its timeout, not the sum of all
of them, and a hung AWS endpoint cannot outlive the Lambda's timeout. A check still running at its
deadline is reported unhealthy and left to finish in the background; a failed secret read or SLA
query is an entry of the report, never an exception. Nothing configured is `unconfigured`, not healthy.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime, timedelta
from typing import Any, Optional
from urllib.parse import urlsplit

from observability.aws import deadline_client, metric_window_end
from observability.health_checks import (
    DEGRADED,
    HEALTHY,
    UNHEALTHY,
    CheckResult,
    HealthCheck,
    PostgresTarget,
    RedisTarget,
    describe,
    http_check,
    postgres_check,
    redis_check,
    rfid_check,
)
from observability.school_hours import VARIABLE as SCHOOL_HOURS_VARIABLE
from observability.school_hours import SchoolHours
from observability.settings import ConfigurationError, RuntimeSettings, env_number, env_seconds, parse_bool

STATUS_SCORE = {HEALTHY: 100.0, DEGRADED: 50.0, UNHEALTHY: 0.0}
UNCONFIGURED = "unconfigured"
# Whole-run deadline when no Lambda context says how much time is left (local runs, tests).
DEFAULT_DEADLINE_SECONDS = 10.0
# Reading a dependency's secret (a cold container's first Secrets Manager call) gets this long.
PREPARE_TIMEOUT_SECONDS = 3.0
# The SLA history is context, not a live result: a slow CloudWatch gets this long at most.
SLA_HISTORY_TIMEOUT_SECONDS = 3.0
SLO_TARGETS_VARIABLE = "HASIVU_SLO_TARGETS"
# Kept back from the Lambda's remaining time for publishing the results and answering.
DEADLINE_MARGIN_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Dependency:
    """What a dependency is worth: weight in the score, what its failure blocks. Its SLA target is the
    stack's SLO (stackconfig/slos.py), handed over in HASIVU_SLO_TARGETS."""

    weight: float
    revenue_share: float
    users_share: float
    blocks: tuple[str, ...]
    recovery: tuple[str, ...]


# The flows each dependency carries.
DEPENDENCIES = {
    "database": Dependency(0.35, 1.0, 1.0, ("orders", "payments", "logins", "menus"), (
        "Check RDS status and recent events; fail over to the standby if the primary is impaired.",
        "If the pool is exhausted, find long-running or idle-in-transaction sessions in pg_stat_activity; "
        "consider RDS Proxy for Lambda connection reuse.",
    )),
    "redis": Dependency(0.15, 0.1, 0.3, ("sessions", "menu cache"), (
        "Check the ElastiCache replication group; promote a replica if the primary is down.",
        "If memory is high, review TTLs and evictions; scale the node type.",
    )),
    "payment_gateway": Dependency(0.30, 1.0, 0.6, ("payments",), (
        "Check Razorpay's status page; switch the app to 'pay later' mode to keep orders flowing.",
        "Verify outbound network (NAT gateway) from the payment Lambdas.",
    )),
    "rfid": Dependency(0.20, 0.0, 0.5, ("meal pickup verification",), (
        "Power-cycle offline readers and check their network; fall back to manual roll-call at counters.",
    )),
}


@dataclasses.dataclass(frozen=True)
class BusinessProfile:
    daily_revenue_inr: float
    active_users: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> BusinessProfile:
        users = env_number("HASIVU_ACTIVE_USERS", 0, env)
        if users != int(users):
            raise ConfigurationError(f"HASIVU_ACTIVE_USERS: got {env['HASIVU_ACTIVE_USERS']!r}; "
                                     "expected a whole number")
        return cls(env_number("HASIVU_DAILY_REVENUE_INR", 0, env), int(users))


class SlaHistory:
    """Availability per dependency from the DependencyHealthy metric the monitor publishes (1 or 0 a
    minute): the average over the window is the share of healthy minutes."""

    def __init__(self, cloudwatch: Any, namespace: str, environment: str, days: int = 30) -> None:
        self.cloudwatch, self.namespace, self.environment, self.days = cloudwatch, namespace, environment, days

    def availability(self, dependencies: Sequence[str]) -> dict[str, Optional[float]]:
        end = metric_window_end()
        start = end - timedelta(days=self.days)
        queries = [{
            "Id": f"d{i}",
            "MetricStat": {"Metric": {"Namespace": self.namespace, "MetricName": "DependencyHealthy", "Dimensions": [
                {"Name": "Environment", "Value": self.environment}, {"Name": "Dependency", "Value": name}]},
                "Period": self.days * 86_400, "Stat": "Average"},
        } for i, name in enumerate(dependencies)]
        response = self.cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
        found = {r["Id"]: r["Values"] for r in response["MetricDataResults"]}
        return {name: (round(100 * found[f"d{i}"][0], 3) if found.get(f"d{i}") else None)
                for i, name in enumerate(dependencies)}


class EnhancedHealthMonitor:
    def __init__(self, checks: Sequence[HealthCheck], profile: BusinessProfile,
                 history: Optional[SlaHistory] = None, targets: Optional[Mapping[str, float]] = None) -> None:
        self.checks = list(checks)
        self.profile = profile
        self.history = history
        # Dependency -> SLA target percent: the stack's SLOs; a dependency without one has no compliance.
        self.targets = dict(targets or {})

    def run_checks(self, checks: Sequence[HealthCheck], deadline: float, history: Optional[Callable[[], Any]] = None
                   ) -> tuple[list[CheckResult], Optional[Future]]:
        """The checks (and the SLA history query) at once. A check's preparation (its secret) gets
        PREPARE_TIMEOUT_SECONDS, then its probe its own timeout; the run's deadline (a
        `time.monotonic()` instant) cuts both."""
        pool = ThreadPoolExecutor(max_workers=len(checks) + 1, thread_name_prefix="health")
        started = time.monotonic()
        prepared_at: dict[str, float] = {}
        ready = {check.name: threading.Event() for check in checks}

        def prepare_then_probe(check: HealthCheck) -> CheckResult:
            try:
                if check.prepare is not None:
                    check.prepare()
            except Exception as error:  # noqa: BLE001 - an unreadable secret is a result
                return CheckResult(check.name, UNHEALTHY, 0.0, error=describe(error))
            finally:
                prepared_at[check.name] = time.monotonic()
                ready[check.name].set()
            return check.run()

        futures = [(check, pool.submit(prepare_then_probe, check)) for check in checks]
        pending_history = pool.submit(history) if history is not None else None
        results = []
        for check, future in futures:
            prepare_limit = min(started + PREPARE_TIMEOUT_SECONDS, deadline)
            if not ready[check.name].wait(max(0.0, prepare_limit - time.monotonic())):
                results.append(CheckResult(check.name, UNHEALTHY, round((prepare_limit - started) * 1000, 2),
                                           error=f"timed out after {prepare_limit - started:.3g} s reading its secret"))
                continue
            limit = min(prepared_at[check.name] + check.timeout, deadline)
            try:
                results.append(future.result(timeout=max(0.0, limit - time.monotonic())))
            except FutureTimeout:
                waited = limit - prepared_at[check.name]
                results.append(CheckResult(check.name, UNHEALTHY, round(waited * 1000, 2),
                                           error=f"timed out after {waited:.3g} s"))
        pool.shutdown(wait=False, cancel_futures=True)
        return results, pending_history

    def score(self, results: Sequence[CheckResult], idle: Sequence[str] = ()) -> float:
        """The checks' weighted score. A dependency switched off by design at this hour (`idle`) weighs as
        healthy: the readers off at night are the platform as it should be, and leaving their weight out
        would let one slow database drop the night's score under what the same database gives by day."""
        statuses = {**{name: HEALTHY for name in idle}, **{r.name: r.status for r in results}}
        weights = {name: DEPENDENCIES.get(name, Dependency(0.1, 0, 0, (), ())).weight for name in statuses}
        total = sum(weights.values())
        if not total:
            return 100.0
        return round(sum(STATUS_SCORE[status] * weights[name] for name, status in statuses.items()) / total, 1)

    def impact(self, result: CheckResult) -> dict[str, Any]:
        dependency = DEPENDENCIES.get(result.name)
        share = {HEALTHY: 0.0, DEGRADED: 0.5, UNHEALTHY: 1.0}[result.status]
        if dependency is None or share == 0:
            return {"revenue_at_risk_inr_per_day": 0.0, "users_affected": 0, "blocked_flows": []}
        return {
            "revenue_at_risk_inr_per_day": round(self.profile.daily_revenue_inr * dependency.revenue_share * share, 2),
            "users_affected": int(self.profile.active_users * dependency.users_share * share),
            "blocked_flows": list(dependency.blocks) if result.status == UNHEALTHY else [],
        }

    def get_enhanced_system_health(self, deadline: Optional[float] = None) -> dict[str, Any]:
        deadline = deadline if deadline is not None else time.monotonic() + DEFAULT_DEADLINE_SECONDS
        if not self.checks:
            return {
                "status": UNCONFIGURED, "score": None, "timestamp": datetime.now(UTC).isoformat(), "checks": {},
                "error": "no dependency configured: set HASIVU_DB_SECRET_ARN, HASIVU_REDIS_SECRET_ARN, "
                         "HASIVU_PAYMENT_GATEWAY_URL or HASIVU_RFID_READER_IDS",
                "business_impact": {"revenue_at_risk_inr_per_day": None, "users_affected": None},
            }
        names = [check.name for check in self.checks]
        now = datetime.now(UTC)
        # A dependency that is switched off by design at this hour (the RFID readers outside school
        # hours) is not judged: it neither fails the run nor counts as a good minute of its SLO.
        idle = {check.name: check.idle_reason for check in self.checks if check.active and not check.active(now)}
        history = self.history
        history_limit = min(deadline, time.monotonic() + SLA_HISTORY_TIMEOUT_SECONDS)
        results, pending = self.run_checks([check for check in self.checks if check.name not in idle], deadline,
                                           (lambda: history.availability(names)) if history else None)
        availability: dict[str, Optional[float]] = {}
        history_error: Optional[str] = None
        if pending is not None:
            try:
                availability = pending.result(timeout=max(0.0, history_limit - time.monotonic()))
            except FutureTimeout:
                history_error = "CloudWatch did not answer in time"
            except Exception as error:  # noqa: BLE001 - missing history must not hide the live result
                history_error = describe(error)
        checks = {}
        for r in results:
            dependency = DEPENDENCIES.get(r.name)
            measured = availability.get(r.name)
            target = self.targets.get(r.name)
            checks[r.name] = {
                **r.as_json(),
                "impact": self.impact(r),
                "sla": {
                    "target_percent": target,
                    "availability_percent": measured,
                    "compliant": None if measured is None or target is None else measured >= target,
                },
                "recommendations": list(dependency.recovery) if dependency and r.status != HEALTHY else [],
            }
        statuses = [r.status for r in results]
        overall = UNHEALTHY if UNHEALTHY in statuses else DEGRADED if DEGRADED in statuses else HEALTHY
        impacts = [c["impact"] for c in checks.values()]
        report: dict[str, Any] = {
            "status": overall,
            "score": self.score(results, list(idle)),
            "timestamp": now.isoformat(),
            "checks": checks,
            "business_impact": {
                "revenue_at_risk_inr_per_day": round(min(self.profile.daily_revenue_inr,
                                                         sum(i["revenue_at_risk_inr_per_day"] for i in impacts)), 2),
                "users_affected": min(self.profile.active_users, max((i["users_affected"] for i in impacts),
                                                                     default=0)),
            },
        }
        if idle:
            report["not_checked"] = idle
        if history_error:
            report["sla_history_error"] = history_error
        return report


class SecretError(Exception):
    """A secret that cannot be read or lacks a field: the check it feeds is unhealthy."""


def _secret_name(arn: str) -> str:
    return arn.split(":secret:", 1)[-1]


@functools.cache
def read_secret(arn: str) -> Mapping[str, Any]:
    """Once per container (a failure is not cached, so the next run tries again)."""
    try:
        value = json.loads(deadline_client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    except ValueError:
        raise SecretError(f"secret {_secret_name(arn)} is not a JSON object") from None
    if not isinstance(value, dict):
        raise SecretError(f"secret {_secret_name(arn)} is not a JSON object")
    return value


def _field(secret: Mapping[str, Any], arn: str, key: str, default: Any = None) -> Any:
    value = secret.get(key, default)
    if value is None or value == "":
        raise SecretError(f"secret {_secret_name(arn)} has no {key!r}")
    return value


def _port(secret: Mapping[str, Any], arn: str, default: int) -> int:
    value = secret.get("port", default)
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536 or isinstance(value, bool):
        raise SecretError(f"secret {_secret_name(arn)}: port {value!r} is not a port number")
    return port


def _flag(secret: Mapping[str, Any], arn: str, key: str, default: bool) -> bool:
    try:
        return parse_bool(key, secret.get(key, default))
    except ConfigurationError as error:
        raise SecretError(f"secret {_secret_name(arn)}: {error}") from None


def database_check(arn: str, timeout: float) -> HealthCheck:
    """The secret is read as the check's preparation: a hung Secrets Manager makes this check
    unhealthy after PREPARE_TIMEOUT_SECONDS, and a bad secret is this check's error."""
    def probe() -> tuple[str, dict[str, Any]]:
        db = read_secret(arn)
        sslmode = str(db.get("sslmode", "require"))
        if sslmode not in ("disable", "prefer", "require", "verify-full"):
            raise SecretError(f"secret {_secret_name(arn)}: sslmode {sslmode!r} is not one of disable, prefer, "
                              "require, verify-full")
        target = PostgresTarget(host=str(_field(db, arn, "host")), port=_port(db, arn, 5432),
                                dbname=str(db.get("dbname") or "postgres"), user=str(_field(db, arn, "username")),
                                password=str(_field(db, arn, "password")), sslmode=sslmode)
        return postgres_check(target, timeout).probe()

    return HealthCheck("database", timeout, probe, prepare=lambda: read_secret(arn))


def cache_check(arn: str, timeout: float) -> HealthCheck:
    def probe() -> tuple[str, dict[str, Any]]:
        cache = read_secret(arn)
        target = RedisTarget(host=str(_field(cache, arn, "host")), port=_port(cache, arn, 6379),
                             password=cache.get("password"), ssl=_flag(cache, arn, "ssl", True))
        return redis_check(target, timeout).probe()

    return HealthCheck("redis", timeout, probe, prepare=lambda: read_secret(arn))


def _gateway_url(env: Mapping[str, str]) -> str:
    url = env["HASIVU_PAYMENT_GATEWAY_URL"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"HASIVU_PAYMENT_GATEWAY_URL: got {url!r}; expected an https:// URL")
    return url


def enhanced_health_monitor(settings: Optional[RuntimeSettings] = None,
                            env: Optional[Mapping[str, str]] = None) -> EnhancedHealthMonitor:
    """The monitor as configured by the Lambda environment: credentials come from Secrets Manager
    ARNs (HASIVU_DB_SECRET_ARN, HASIVU_REDIS_SECRET_ARN), never from plaintext variables. Every
    variable is checked here, at the first invocation: a bad one raises ConfigurationError (one line)."""
    env = os.environ if env is None else env
    settings = settings or RuntimeSettings.from_env(env)
    checks: list[HealthCheck] = []
    if env.get("HASIVU_DB_SECRET_ARN"):
        checks.append(database_check(env["HASIVU_DB_SECRET_ARN"], env_seconds("HASIVU_DB_TIMEOUT", 2, env)))
    if env.get("HASIVU_REDIS_SECRET_ARN"):
        checks.append(cache_check(env["HASIVU_REDIS_SECRET_ARN"], env_seconds("HASIVU_REDIS_TIMEOUT", 1, env)))
    if env.get("HASIVU_PAYMENT_GATEWAY_URL"):
        checks.append(http_check(_gateway_url(env), timeout=env_seconds("HASIVU_PAYMENT_GATEWAY_TIMEOUT", 3, env)))
    if settings.reader_ids:
        readers = rfid_check(deadline_client("cloudwatch"), settings.business_namespace, settings.environment,
                             settings.reader_ids, timeout=env_seconds("HASIVU_RFID_TIMEOUT", 3, env))
        if env.get(SCHOOL_HOURS_VARIABLE):
            school = SchoolHours.from_variable(env[SCHOOL_HOURS_VARIABLE])
            readers = dataclasses.replace(readers, active=school.includes,
                                          idle_reason="outside school hours: the readers are switched off")
        checks.append(readers)
    return EnhancedHealthMonitor(checks, BusinessProfile.from_env(env),
                                 SlaHistory(deadline_client("cloudwatch"), settings.health_namespace,
                                            settings.environment), slo_targets(env))


def slo_targets(env: Mapping[str, str]) -> dict[str, float]:
    """`HASIVU_SLO_TARGETS`, `dependency=percent` pairs separated by commas (`database=99.9,redis=99.5`)."""
    targets: dict[str, float] = {}
    for pair in filter(None, (p.strip() for p in env.get(SLO_TARGETS_VARIABLE, "").split(","))):
        name, _, value = pair.partition("=")
        try:
            percent = float(value)
        except ValueError:
            percent = -1.0
        if name.strip() not in DEPENDENCIES or not 0 < percent < 100:
            raise ConfigurationError(f"{SLO_TARGETS_VARIABLE}: got {pair!r}; expected dependency=percent with a "
                                     f"dependency among {', '.join(DEPENDENCIES)} and a percent between 0 and 100")
        targets[name.strip()] = percent
    return targets


@functools.cache
def container_monitor() -> EnhancedHealthMonitor:
    """One per Lambda container: configuration checked and clients made once."""
    return enhanced_health_monitor()
