"""The enhanced health monitor: concurrent checks, a health score, SLA compliance from the
recorded history, business impact and recovery recommendations.

Each check runs in its own thread with its own timeout, so one hung dependency costs its timeout,
not the sum of all of them; a check still running at its deadline is reported unhealthy and left
to finish in the background.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime, timedelta
from typing import Any, Optional

import boto3

from observability.aws import RETRIES, metric_window_end
from observability.health_checks import (
    DEGRADED,
    HEALTHY,
    UNHEALTHY,
    CheckResult,
    HealthCheck,
    PostgresTarget,
    RedisTarget,
    http_check,
    postgres_check,
    redis_check,
    rfid_check,
)
from observability.settings import RuntimeSettings

STATUS_SCORE = {HEALTHY: 100.0, DEGRADED: 50.0, UNHEALTHY: 0.0}


@dataclasses.dataclass(frozen=True)
class Dependency:
    """What a dependency is worth: SLA target, weight in the score, what its failure blocks."""

    sla_target_percent: float
    weight: float
    revenue_share: float
    users_share: float
    blocks: tuple[str, ...]
    recovery: tuple[str, ...]


# The seed's availability targets (99.9 / 99.5 / 99.8 / 99 %) and the flows each dependency carries.
DEPENDENCIES = {
    "database": Dependency(99.9, 0.35, 1.0, 1.0, ("orders", "payments", "logins", "menus"), (
        "Check RDS status and recent events; fail over to the standby if the primary is impaired.",
        "If the pool is exhausted, find long-running or idle-in-transaction sessions in pg_stat_activity; "
        "consider RDS Proxy for Lambda connection reuse.",
    )),
    "redis": Dependency(99.5, 0.15, 0.1, 0.3, ("sessions", "menu cache"), (
        "Check the ElastiCache replication group; promote a replica if the primary is down.",
        "If memory is high, review TTLs and evictions; scale the node type.",
    )),
    "payment_gateway": Dependency(99.8, 0.30, 1.0, 0.6, ("payments",), (
        "Check Razorpay's status page; switch the app to 'pay later' mode to keep orders flowing.",
        "Verify outbound network (NAT gateway) from the payment Lambdas.",
    )),
    "rfid": Dependency(99.0, 0.20, 0.0, 0.5, ("meal pickup verification",), (
        "Power-cycle offline readers and check their network; fall back to manual roll-call at counters.",
    )),
}


@dataclasses.dataclass(frozen=True)
class BusinessProfile:
    daily_revenue_inr: float
    active_users: int

    @classmethod
    def from_env(cls) -> BusinessProfile:
        return cls(float(os.getenv("HASIVU_DAILY_REVENUE_INR", "0")), int(os.getenv("HASIVU_ACTIVE_USERS", "0")))


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
                 history: Optional[SlaHistory] = None) -> None:
        self.checks = list(checks)
        self.profile = profile
        self.history = history

    def run_checks(self) -> list[CheckResult]:
        if not self.checks:
            return []
        pool = ThreadPoolExecutor(max_workers=len(self.checks), thread_name_prefix="health")
        started = time.perf_counter()
        futures = [(check, pool.submit(check.run)) for check in self.checks]
        results = []
        for check, future in futures:
            remaining = max(0.0, started + check.timeout - time.perf_counter())
            try:
                results.append(future.result(timeout=remaining))
            except FutureTimeout:
                results.append(CheckResult(check.name, UNHEALTHY, round(check.timeout * 1000, 2),
                                           error=f"timed out after {check.timeout:g} s"))
        pool.shutdown(wait=False, cancel_futures=True)
        return results

    def score(self, results: Sequence[CheckResult]) -> float:
        weights = {r.name: DEPENDENCIES.get(r.name, Dependency(99.0, 0.1, 0, 0, (), ())).weight for r in results}
        total = sum(weights.values())
        if not total:
            return 100.0
        return round(sum(STATUS_SCORE[r.status] * weights[r.name] for r in results) / total, 1)

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

    def get_enhanced_system_health(self) -> dict[str, Any]:
        results = self.run_checks()
        availability: dict[str, Optional[float]] = {}
        if self.history is not None:
            try:
                availability = self.history.availability([r.name for r in results])
            except Exception as error:  # noqa: BLE001 - missing history must not hide the live result
                availability = {"error": str(type(error).__name__)}  # type: ignore[dict-item]
        checks = {}
        for r in results:
            dependency = DEPENDENCIES.get(r.name)
            measured = availability.get(r.name) if isinstance(availability.get(r.name), float) else None
            checks[r.name] = {
                **r.as_json(),
                "impact": self.impact(r),
                "sla": {
                    "target_percent": dependency.sla_target_percent if dependency else None,
                    "availability_percent": measured,
                    "compliant": None if measured is None or dependency is None
                    else measured >= dependency.sla_target_percent,
                },
                "recommendations": list(dependency.recovery) if dependency and r.status != HEALTHY else [],
            }
        statuses = [r.status for r in results]
        overall = UNHEALTHY if UNHEALTHY in statuses else DEGRADED if DEGRADED in statuses else HEALTHY
        impacts = [c["impact"] for c in checks.values()]
        return {
            "status": overall,
            "score": self.score(results),
            "timestamp": datetime.now(UTC).isoformat(),
            "checks": checks,
            "business_impact": {
                "revenue_at_risk_inr_per_day": round(min(self.profile.daily_revenue_inr,
                                                         sum(i["revenue_at_risk_inr_per_day"] for i in impacts)), 2),
                "users_affected": min(self.profile.active_users, max((i["users_affected"] for i in impacts),
                                                                     default=0)),
            },
        }


def _secret(client: Any, arn: str) -> Mapping[str, Any]:
    return json.loads(client.get_secret_value(SecretId=arn)["SecretString"])


def enhanced_health_monitor(settings: Optional[RuntimeSettings] = None) -> EnhancedHealthMonitor:
    """The monitor as configured by the Lambda environment: credentials come from Secrets Manager
    ARNs (HASIVU_DB_SECRET_ARN, HASIVU_REDIS_SECRET_ARN), never from plaintext variables."""
    settings = settings or RuntimeSettings.from_env()
    env = os.environ
    checks: list[HealthCheck] = []
    secrets = boto3.client("secretsmanager", config=RETRIES) if (
        env.get("HASIVU_DB_SECRET_ARN") or env.get("HASIVU_REDIS_SECRET_ARN")) else None
    if env.get("HASIVU_DB_SECRET_ARN"):
        db = _secret(secrets, env["HASIVU_DB_SECRET_ARN"])
        checks.append(postgres_check(PostgresTarget(
            host=db["host"], port=int(db.get("port", 5432)), dbname=db.get("dbname", "postgres"),
            user=db["username"], password=db["password"], sslmode=db.get("sslmode", "require")),
            timeout=float(env.get("HASIVU_DB_TIMEOUT", "2"))))
    if env.get("HASIVU_REDIS_SECRET_ARN"):
        cache = _secret(secrets, env["HASIVU_REDIS_SECRET_ARN"])
        checks.append(redis_check(RedisTarget(
            host=cache["host"], port=int(cache.get("port", 6379)), password=cache.get("password"),
            ssl=bool(cache.get("ssl", True))), timeout=float(env.get("HASIVU_REDIS_TIMEOUT", "1"))))
    if env.get("HASIVU_PAYMENT_GATEWAY_URL"):
        checks.append(http_check(env["HASIVU_PAYMENT_GATEWAY_URL"],
                                 timeout=float(env.get("HASIVU_PAYMENT_GATEWAY_TIMEOUT", "3"))))
    cloudwatch = boto3.client("cloudwatch", config=RETRIES)
    readers = [r for r in env.get("HASIVU_RFID_READER_IDS", "").split(",") if r]
    if readers:
        checks.append(rfid_check(cloudwatch, settings.business_namespace, settings.environment, readers))
    return EnhancedHealthMonitor(checks, BusinessProfile.from_env(),
                                 SlaHistory(cloudwatch, settings.health_namespace, settings.environment))
