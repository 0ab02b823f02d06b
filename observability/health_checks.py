"""One health check per dependency. A check never raises: every failure becomes a result.

Status thresholds: PostgreSQL connect < 100 ms and a test query < 50 ms, pool
below 80%; Redis PING < 50 ms; memory below 85% of maxmemory.
"""

from __future__ import annotations

import dataclasses
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Optional

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"


@dataclasses.dataclass
class CheckResult:
    name: str
    status: str
    latency_ms: float
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    error: Optional[str] = None

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class HealthCheck:
    """A named probe with its own timeout; `probe` returns (status, details) or raises. `prepare`
    (reading the dependency's secret) runs first, outside the probe's timeout: a cold container's
    first secret read must not count as the dependency being slow."""

    name: str
    timeout: float
    probe: Callable[[], tuple[str, dict[str, Any]]]
    prepare: Optional[Callable[[], object]] = None
    # When the dependency is expected to answer at all (None: always); outside it the check is not run.
    active: Optional[Callable[[datetime], bool]] = None
    idle_reason: str = ""

    def run(self) -> CheckResult:
        start = time.perf_counter()
        try:
            status, details = self.probe()
            error = None
        except Exception as failure:  # noqa: BLE001 - a failed dependency is a result, not a crash
            status, details, error = UNHEALTHY, {}, describe(failure)
        return CheckResult(self.name, status, round((time.perf_counter() - start) * 1000, 2), details, error)


def describe(error: BaseException) -> str:
    """A one-line reason without secrets: the exception type and the server's message, if any."""
    detail = error.args[0] if error.args else ""
    if isinstance(detail, dict):  # pg8000 carries the server's fields: M is the message
        detail = detail.get("M", "")
    first = str(detail).strip().splitlines()[0] if str(detail).strip() else ""
    return f"{type(error).__name__}: {first}"[:300]


def worst(*statuses: str) -> str:
    order = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
    return max(statuses, key=order.__getitem__)


@dataclasses.dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    dbname: str
    user: str
    password: str = dataclasses.field(repr=False)
    sslmode: str = "prefer"


# SQLSTATEs of a full pool: too_many_connections, and slots reserved for superusers.
POOL_EXHAUSTED = {"53300", "53400"}


def postgres_check(target: PostgresTarget, timeout: float = 2.0, name: str = "database") -> HealthCheck:
    """pg8000 is pure Python, so the packaged Lambda needs no libpq or platform wheels."""
    def probe() -> tuple[str, dict[str, Any]]:
        import ssl

        import pg8000.native

        context = ssl.create_default_context() if target.sslmode in ("require", "verify-full") else None
        start = time.perf_counter()
        try:
            connection = pg8000.native.Connection(
                user=target.user, password=target.password, host=target.host, port=target.port,
                database=target.dbname, timeout=timeout, ssl_context=context, application_name="hasivu-health")
        except pg8000.DatabaseError as error:
            code = error.args[0].get("C") if error.args and isinstance(error.args[0], dict) else None
            if code in POOL_EXHAUSTED:
                return UNHEALTHY, {"pool": "exhausted", "error": error.args[0].get("M", "")}
            raise
        try:
            connect_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            connection.run("SELECT 1")
            query_ms = (time.perf_counter() - start) * 1000
            active = connection.run("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")[0][0]
            maximum = int(connection.run("SHOW max_connections")[0][0])
        finally:
            connection.close()
        utilisation = 100 * active / maximum
        details = {"connect_ms": round(connect_ms, 2), "query_ms": round(query_ms, 2), "connections": active,
                   "max_connections": maximum, "pool_utilisation_percent": round(utilisation, 1)}
        slow = connect_ms > 100 or query_ms > 50 or utilisation > 80
        return (DEGRADED if slow else HEALTHY), details

    return HealthCheck(name, timeout, probe)


@dataclasses.dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int
    password: Optional[str] = dataclasses.field(default=None, repr=False)
    ssl: bool = False


def redis_check(target: RedisTarget, timeout: float = 1.0, name: str = "redis") -> HealthCheck:
    def probe() -> tuple[str, dict[str, Any]]:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # One probe, no retries: redis-py's default backoff would turn a refused connection into seconds.
        client = redis.Redis(host=target.host, port=target.port, password=target.password, ssl=target.ssl,
                             socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
        try:
            # The first PING also pays for connect, TLS and AUTH: timed apart, so the 50 ms
            # applies to the PING itself on an open connection.
            start = time.perf_counter()
            client.ping()
            connect_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            client.ping()
            ping_ms = (time.perf_counter() - start) * 1000
            memory = client.info("memory")
            stats = client.info("stats")
        finally:
            client.close()
        used, limit = memory.get("used_memory", 0), memory.get("maxmemory", 0)
        hits, misses = stats.get("keyspace_hits", 0), stats.get("keyspace_misses", 0)
        details: dict[str, Any] = {"connect_ms": round(connect_ms, 2), "ping_ms": round(ping_ms, 2),
                                   "used_memory": used, "maxmemory": limit}
        status = DEGRADED if ping_ms > 50 else HEALTHY
        if limit:
            details["memory_percent"] = round(100 * used / limit, 1)
            if details["memory_percent"] > 85:
                status = DEGRADED
        if hits + misses:
            details["hit_rate_percent"] = round(100 * hits / (hits + misses), 1)
        return status, details

    return HealthCheck(name, timeout, probe)


# Above this an answering payment gateway is degraded: a checkout waits on it several times.
GATEWAY_SLOW_MS = 1000.0


def http_check(url: str, timeout: float = 3.0, name: str = "payment_gateway",
               slow_ms: float = GATEWAY_SLOW_MS) -> HealthCheck:
    """Reachability: any answer below 500 (Razorpay answers 401 without credentials) is up."""
    def probe() -> tuple[str, dict[str, Any]]:
        start = time.perf_counter()
        request = urllib.request.Request(  # noqa: S310 - the configured gateway URL
            url, method="GET", headers={"User-Agent": "hasivu-health"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured https URL
                code = response.status
        except urllib.error.HTTPError as error:
            code = error.code
        except (urllib.error.URLError, TimeoutError) as error:
            raise ConnectionError(f"{url.split('?')[0]} unreachable: {getattr(error, 'reason', error)}") from None
        latency = (time.perf_counter() - start) * 1000
        details = {"http_status": code, "latency_ms": round(latency, 2)}
        if code >= 500:
            return UNHEALTHY, details
        return (DEGRADED if latency > slow_ms else HEALTHY), details

    return HealthCheck(name, timeout, probe)


def rfid_check(cloudwatch: Any, namespace: str, environment: str, reader_ids: Sequence[str],
               timeout: float = 3.0, name: str = "rfid", window_minutes: int = 15,
               min_attempts: int = 20) -> HealthCheck:
    """Readers without a heartbeat in the window are offline; verification rate over the same window,
    judged from `min_attempts` verifications (the rfid-verification SLO's minimum): as the readers come on
    at school start, one failed card among the first few is no unhealthy minute."""
    def probe() -> tuple[str, dict[str, Any]]:
        from datetime import timedelta

        from observability.aws import metric_window_end

        end = metric_window_end()
        period = window_minutes * 60
        queries = [
            {"Id": f"r{i}", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "RFIDReaderHeartbeat",
             "Dimensions": [{"Name": "Environment", "Value": environment}, {"Name": "ReaderId", "Value": reader}]},
             "Period": period, "Stat": "Sum"}}
            for i, reader in enumerate(reader_ids)
        ]
        for metric_id, metric in (("ok", "RFIDVerificationSuccess"), ("all", "RFIDVerificationAttempts")):
            queries.append({"Id": metric_id, "MetricStat": {"Metric": {
                "Namespace": namespace, "MetricName": metric,
                "Dimensions": [{"Name": "Environment", "Value": environment}]}, "Period": period, "Stat": "Sum"}})
        response = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=end - timedelta(seconds=period),
                                              EndTime=end)
        values = {r["Id"]: sum(r["Values"]) for r in response["MetricDataResults"]}
        offline = [reader for i, reader in enumerate(reader_ids) if values.get(f"r{i}", 0) <= 0]
        attempts = values.get("all", 0)
        rate = 100 * values.get("ok", 0) / attempts if attempts else None
        details: dict[str, Any] = {"readers": len(reader_ids), "offline_readers": offline,
                                   "verification_rate_percent": None if rate is None else round(rate, 2)}
        judged = rate if attempts >= min_attempts else None
        status = HEALTHY
        if offline or (judged is not None and judged < 99):
            status = DEGRADED
        if (reader_ids and len(offline) * 2 > len(reader_ids)) or (judged is not None and judged < 95):
            status = UNHEALTHY
        return status, details

    return HealthCheck(name, timeout, probe)
