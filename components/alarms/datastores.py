"""RDS PostgreSQL and ElastiCache Redis: resource alarms per instance/node, connectivity from health checks."""

from __future__ import annotations

import dataclasses

from components.alarms.spec import (
    DEPENDENCY,
    GREATER,
    LESS,
    NO_DATA_IS_FINE,
    NO_DATA_IS_MISSING,
    NO_DATA_KEEPS_STATE,
    SLOW_DEPENDENCY,
    AlarmSpec,
    Cause,
    Metric,
)
from stackconfig.model import RdsInstance, RedisConfig, Tier
from stackconfig.thresholds import RdsThresholds, RedisThresholds

MIB = 1024 * 1024
GIB = 1024 * MIB

# Pressure that lasts (CPU, memory, disk queue): judged on the minutes RDS and ElastiCache publish, in
# ALARM once 8 of the last 10 are over the line. A spike of a few minutes stays quiet, and the warning
# pager's wait still lands inside the tier's 15 minutes (three 5-minute periods took 15 before it).
SUSTAINED_MINUTES, SUSTAINED_OF = 8, 10
SUSTAINED = {"evaluation_periods": SUSTAINED_OF, "datapoints_to_alarm": SUSTAINED_MINUTES}
SUSTAINED_TEXT = f"in {SUSTAINED_MINUTES} of {SUSTAINED_OF} minutes"


def short_id(identifier: str, environment: str) -> str:
    for prefix in (f"hasivu-{environment}-", f"{environment}-"):
        if identifier.startswith(prefix):
            return identifier[len(prefix):]
    return identifier


def connectivity_alarm(
    service: str, dependency: str, health_namespace: str, environment: str, tier: Tier, impact: str, scope: str,
    cause: str,
) -> AlarmSpec:
    """From the health monitor's per-dependency result: 1 reachable, 0 unreachable. `cause`: how a
    page names the outage (`Redis unreachable`), before the errors it causes.

    Silence is not a failure of the dependency: a stopped health monitor is the health-monitor
    alarm's one page, not one page per dependency it can no longer see (missing data stays missing).
    """
    return AlarmSpec(
        service=service, metric_key="connectivity", resource=dependency, tier=tier, scope=scope,
        runbook=f"{dependency}#connectivity",
        summary=f"The health monitor cannot reach the {dependency} (2 of 3 minutes failed).",
        impact=impact,
        comparison=LESS, threshold=1, evaluation_periods=3, datapoints_to_alarm=2,
        treat_missing_data=NO_DATA_IS_MISSING, cause=Cause(cause, DEPENDENCY),
        metric=Metric(health_namespace, "DependencyHealthy",
                      {"Environment": environment, "Dependency": dependency}, "Minimum", 60),
    )


def slow_alarm(
    service: str, metric_key: str, dependency: str, health_namespace: str, environment: str, impact: str,
    scope: str, cause: str, slow_ms: float,
) -> AlarmSpec:
    """From the health monitor's per-dependency latency, one probe a minute: the dependency answers, but
    its probe takes longer than `slow_ms` in 3 of 5 minutes. A warning, and a cause: its slowness is why
    its callers' durations and the API's latency rise. Missing data stays missing, as for connectivity:
    a stopped monitor is the health-monitor alarm's page."""
    return AlarmSpec(
        service=service, metric_key=metric_key,
        resource=dependency, tier=Tier.WARNING, scope=scope, runbook=f"{dependency}#slow",
        summary=f"The health monitor's probe of the {dependency} takes longer than {slow_ms:g} ms (3 of 5 minutes).",
        impact=impact,
        comparison=GREATER, threshold=slow_ms, evaluation_periods=5, datapoints_to_alarm=3,
        treat_missing_data=NO_DATA_IS_MISSING, cause=Cause(cause, SLOW_DEPENDENCY),
        metric=Metric(health_namespace, "DependencyLatency",
                      {"Environment": environment, "Dependency": dependency}, "Maximum", 60),
    )


def down_recently(connectivity: AlarmSpec, minutes: int) -> AlarmSpec:
    """In ALARM while the dependency failed 2 health checks in the last `minutes`: as soon as its
    connectivity alarm (2 of 3), and for `minutes` after it recovered. It holds the pages of the
    symptoms whose alarms, judged over longer periods, enter ALARM only after a short outage ended: a
    composite that enters ALARM after its suppressor left ALARM waits its `ActionsSuppressorWaitPeriod`
    for the suppressor to come back and then runs its actions (CloudWatch API reference, PutCompositeAlarm);
    the extension period covers only a composite already in ALARM when the suppressor recovers."""
    return dataclasses.replace(
        connectivity, metric_key="down-recently", hold_only=True, cause=None, evaluation_periods=minutes,
        summary=f"The {connectivity.resource} failed 2 health checks in the last {minutes} minutes.",
        impact="none by itself: holds the pages of its symptoms that are judged over long periods.",
        runbook=f"{connectivity.resource}#down-recently")


def rds_alarms(instance: RdsInstance, t: RdsThresholds, environment: str) -> list[AlarmSpec]:
    dims = {"DBInstanceIdentifier": instance.instance_id}
    what = f"RDS {instance.instance_id}"
    common = {"service": short_id(instance.instance_id, environment), "resource": instance.instance_id,
              "runbook": "rds", "tier": Tier.WARNING, "treat_missing_data": NO_DATA_KEEPS_STATE, "scope": "database"}
    connections = instance.max_connections * t.connections_percent / 100
    specs = [
        AlarmSpec(
            **common, metric_key="cpu",
            summary=f"{what} CPU is above {t.cpu_percent:g}% {SUSTAINED_TEXT}.",
            impact="queries slow down; API latency and Lambda duration rise.",
            comparison=GREATER, threshold=t.cpu_percent, **SUSTAINED,
            metric=Metric("AWS/RDS", "CPUUtilization", dims, "Average", 60),
        ),
        AlarmSpec(
            **common, metric_key="connections",
            summary=f"{what} connection pool is above {t.connections_percent:g}% "
                    f"({connections:g} of {instance.max_connections}).",
            impact="new Lambda containers cannot connect; requests fail once the pool is full.",
            comparison=GREATER, threshold=connections, evaluation_periods=3, datapoints_to_alarm=2,
            metric=Metric("AWS/RDS", "DatabaseConnections", dims, "Maximum", 300),
        ),
        AlarmSpec(
            **common, metric_key="freeable-memory",
            summary=f"{what} freeable memory is below {t.freeable_memory_mb:g} MiB {SUSTAINED_TEXT}.",
            impact="the database starts swapping; every query slows down.",
            comparison=LESS, threshold=t.freeable_memory_mb * MIB, **SUSTAINED,
            metric=Metric("AWS/RDS", "FreeableMemory", dims, "Average", 60),
        ),
        AlarmSpec(
            **{**common, "tier": Tier.CRITICAL}, metric_key="free-storage",
            summary=f"{what} free storage is below {t.free_storage_gb:g} GiB.",
            impact="when storage runs out the database stops accepting writes: no orders, no payments.",
            comparison=LESS, threshold=t.free_storage_gb * GIB, evaluation_periods=1, datapoints_to_alarm=1,
            metric=Metric("AWS/RDS", "FreeStorageSpace", dims, "Minimum", 300),
        ),
        AlarmSpec(
            **common, metric_key="read-latency",
            summary=f"{what} read latency is above {t.read_latency_ms:g} ms.",
            impact="slow reads: menus, orders and health checks slow down.",
            comparison=GREATER, threshold=t.read_latency_ms / 1000, evaluation_periods=3, datapoints_to_alarm=2,
            # The database's own latency: why the endpoints and functions that query it slow down.
            cause=Cause("Database slow", SLOW_DEPENDENCY),
            metric=Metric("AWS/RDS", "ReadLatency", dims, "Average", 300),
        ),
        AlarmSpec(
            **common, metric_key="write-latency",
            summary=f"{what} write latency is above {t.write_latency_ms:g} ms.",
            impact="slow writes: order and payment updates slow down.",
            comparison=GREATER, threshold=t.write_latency_ms / 1000, evaluation_periods=3, datapoints_to_alarm=2,
            cause=Cause("Database slow", SLOW_DEPENDENCY),
            metric=Metric("AWS/RDS", "WriteLatency", dims, "Average", 300),
        ),
        AlarmSpec(
            **common, metric_key="disk-queue-depth",
            summary=f"{what} disk queue depth is above {t.disk_queue_depth:g} outstanding I/Os {SUSTAINED_TEXT}.",
            impact="storage cannot keep up (IOPS or throughput limit); every query waits on disk.",
            comparison=GREATER, threshold=t.disk_queue_depth, **SUSTAINED,
            metric=Metric("AWS/RDS", "DiskQueueDepth", dims, "Average", 60),
        ),
    ]
    if instance.replica:
        specs.append(AlarmSpec(
            **common, metric_key="replica-lag",
            summary=f"{what} (read replica) lags the primary by more than {t.replica_lag_seconds:g} s.",
            impact="reads from the replica (menus, order history) show stale data.",
            comparison=GREATER, threshold=t.replica_lag_seconds, evaluation_periods=3, datapoints_to_alarm=3,
            metric=Metric("AWS/RDS", "ReplicaLag", dims, "Maximum", 60),
        ))
    return specs


def redis_alarms(redis: RedisConfig, t: RedisThresholds, environment: str) -> list[AlarmSpec]:
    specs: list[AlarmSpec] = []
    for node in redis.node_ids:
        dims = {"CacheClusterId": node}
        what = f"Redis node {node}"
        common = {"service": short_id(node, environment), "resource": node, "runbook": "redis",
                  "tier": Tier.WARNING, "treat_missing_data": NO_DATA_KEEPS_STATE, "scope": "redis"}
        specs += [
            AlarmSpec(
                **common, metric_key="engine-cpu",
                summary=f"{what} engine CPU is above {t.engine_cpu_percent:g}% {SUSTAINED_TEXT}.",
                impact="cache calls slow down; sessions and menus are served late.",
                comparison=GREATER, threshold=t.engine_cpu_percent, **SUSTAINED,
                metric=Metric("AWS/ElastiCache", "EngineCPUUtilization", dims, "Average", 60),
            ),
            AlarmSpec(
                **common, metric_key="memory",
                summary=f"{what} memory use is above {t.memory_percent:g}% of maxmemory {SUSTAINED_TEXT}.",
                impact="keys get evicted; the database takes the load the cache was absorbing.",
                comparison=GREATER, threshold=t.memory_percent, **SUSTAINED,
                metric=Metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", dims, "Average", 60),
            ),
            AlarmSpec(
                **common, metric_key="evictions",
                summary=f"{what} evicted more than {t.evictions_per_5min:g} keys in 5 minutes.",
                impact="cache hit rate drops; sessions may be lost and users logged out.",
                comparison=GREATER, threshold=t.evictions_per_5min, evaluation_periods=2, datapoints_to_alarm=2,
                metric=Metric("AWS/ElastiCache", "Evictions", dims, "Sum", 300),
            ),
            AlarmSpec(
                **common, metric_key="connections",
                summary=f"{what} has more than {t.connections:g} client connections.",
                impact="connection leaks in Lambdas; new connections will be refused.",
                comparison=GREATER, threshold=t.connections, evaluation_periods=3, datapoints_to_alarm=2,
                metric=Metric("AWS/ElastiCache", "CurrConnections", dims, "Maximum", 300),
            ),
            # Only a replica publishes ReplicationLag, and roles swap on failover: every node is
            # watched, and a node that publishes nothing (the primary) is not breaching.
            AlarmSpec(
                **{**common, "treat_missing_data": NO_DATA_IS_FINE}, metric_key="replication-lag",
                summary=f"{what}, while a replica, lags the primary by more than {t.replication_lag_seconds:g} s.",
                impact="reads from the replica serve stale sessions and menus; a failover would lose writes.",
                comparison=GREATER, threshold=t.replication_lag_seconds, evaluation_periods=3, datapoints_to_alarm=3,
                metric=Metric("AWS/ElastiCache", "ReplicationLag", dims, "Maximum", 60),
            ),
        ]
    return specs
