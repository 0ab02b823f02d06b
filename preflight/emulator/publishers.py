"""Who publishes a metric in production: an AWS service for a resource of the inventory, the runtime
library (the health monitor's too), or one of the stack's log metric filters. A dashboard line that no
one publishes stays empty in production too; the drill pictures say which case a missing line is.

AWS metrics, their units and when they exist, from the service guides:
- Lambda, "Types of metrics for Lambda functions" and "Monitoring concurrency" (ConcurrentExecutions:
  "Lambda emits this metric for all functions, versions, and aliases"; asynchronous-invocation
  metrics for asynchronous invocations; DeadLetterErrors when a dead-letter queue is configured);
- API Gateway, "Amazon API Gateway dimensions and metrics" (CacheMissCount: "requests served from
  the backend ... when API caching is enabled"; per Resource and Method only with detailed metrics);
- RDS, "Amazon CloudWatch metrics for Amazon RDS" (ReplicaLag: "for read replicas");
- ElastiCache, "Metrics for Valkey and Redis OSS" (each metric per cache node; ReplicationLag
  "only applicable for a node running as a read replica");
- SNS, "Monitoring Amazon SNS topics using CloudWatch" (per topic, when messages are published).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional

from observability.catalogue import (
    BUSINESS_NAMESPACE,
    HEALTH_NAMESPACE,
    published_metrics,
)
from preflight.emulator.platform import Platform

EVERY_MINUTE = "every minute"
# namespace -> metric -> (unit, when it is published).
AWS_METRICS: dict[str, dict[str, tuple[str, str]]] = {
    "AWS/Lambda": {
        "Invocations": ("Count", "every minute the function is invoked"),
        "Errors": ("Count", "every minute the function is invoked"),
        "Throttles": ("Count", "every minute the function is invoked or throttled"),
        "Duration": ("Milliseconds", "every minute the function is invoked"),
        "ConcurrentExecutions": ("Count", "every minute the function runs"),
        "AsyncEventsReceived": ("Count", "for asynchronous invocations"),
        "AsyncEventsDropped": ("Count", "for asynchronous invocations"),
        "DeadLetterErrors": ("Count", "when a dead-letter queue is configured"),
    },
    "AWS/ApiGateway": {
        "Count": ("Count", "every minute the stage serves requests"),
        "4XXError": ("Count", "every minute the stage serves requests"),
        "5XXError": ("Count", "every minute the stage serves requests"),
        "Latency": ("Milliseconds", "every minute the stage serves requests"),
        "IntegrationLatency": ("Milliseconds", "every minute the stage serves requests"),
        "CacheHitCount": ("Count", "every minute, for a stage with API caching enabled"),
        "CacheMissCount": ("Count", "every minute, for a stage with API caching enabled"),
    },
    "AWS/RDS": {
        "CPUUtilization": ("Percent", EVERY_MINUTE),
        "DatabaseConnections": ("Count", EVERY_MINUTE),
        "FreeableMemory": ("Bytes", EVERY_MINUTE),
        "FreeStorageSpace": ("Bytes", EVERY_MINUTE),
        "ReadLatency": ("Seconds", EVERY_MINUTE),
        "WriteLatency": ("Seconds", EVERY_MINUTE),
        "DiskQueueDepth": ("Count", EVERY_MINUTE),
        "ReadIOPS": ("Count/Second", EVERY_MINUTE),
        "WriteIOPS": ("Count/Second", EVERY_MINUTE),
        "ReplicaLag": ("Seconds", "every minute, for a read replica"),
    },
    "AWS/ElastiCache": {
        "EngineCPUUtilization": ("Percent", EVERY_MINUTE),
        "DatabaseMemoryUsagePercentage": ("Percent", EVERY_MINUTE),
        "CurrConnections": ("Count", EVERY_MINUTE),
        "CacheHits": ("Count", EVERY_MINUTE),
        "CacheMisses": ("Count", EVERY_MINUTE),
        "CacheHitRate": ("Percent", EVERY_MINUTE),
        "Evictions": ("Count", EVERY_MINUTE),
        "ReplicationLag": ("Seconds", "every minute, for a node running as a read replica"),
    },
    "AWS/SNS": {
        "NumberOfMessagesPublished": ("Count", "when messages are published to the topic"),
        "NumberOfNotificationsDelivered": ("Count", "when messages are published to the topic"),
        "NumberOfNotificationsFailed": ("Count", "when messages are published to the topic"),
    },
}
# Metrics that exist only with a setting the inventory has no key for: none of the stack's resources has them.
UNPUBLISHED = {
    ("AWS/ApiGateway", "CacheHitCount"): "API Gateway publishes it only for a stage with API caching enabled, "
                                         "and the inventory declares no cache for the API",
    ("AWS/ApiGateway", "CacheMissCount"): "API Gateway publishes it only for a stage with API caching enabled, "
                                          "and the inventory declares no cache for the API",
}


@dataclasses.dataclass(frozen=True)
class Publisher:
    """Whether production publishes a metric, and who does when (or why no one does)."""

    publishes: bool
    explanation: str


def aws_unit(namespace: str, name: str) -> Optional[str]:
    known = AWS_METRICS.get(namespace, {}).get(name)
    return known[0] if known else None


def _aws(platform: Platform, namespace: str, name: str, dims: Mapping[str, str]) -> Publisher:
    service = namespace.split("/", 1)[1]
    metrics = AWS_METRICS.get(namespace, {})
    if name not in metrics:
        return Publisher(False, f"{service} publishes no metric {name} in the stack's model of {namespace}")
    unpublished = UNPUBLISHED.get((namespace, name))
    if unpublished:
        return Publisher(False, unpublished)
    when = metrics[name][1]
    keys = set(dims)
    resource: Optional[str] = None
    if namespace == "AWS/Lambda":
        if not keys:
            return Publisher(True, f"Lambda publishes it for the account, {when}")
        if keys == {"FunctionName"} and dims["FunctionName"] in platform.functions:
            resource = f"function {dims['FunctionName']}"
    elif namespace == "AWS/ApiGateway" and dims.get("ApiName") == platform.api_name \
            and dims.get("Stage") == platform.api_stage:
        if keys == {"ApiName", "Stage"}:
            resource = f"API {platform.api_name} stage {platform.api_stage}"
        elif keys == {"ApiName", "Stage", "Resource", "Method"} and any(
                (e.path, e.method) == (dims["Resource"], dims["Method"]) for e in platform.endpoints):
            resource = f"{dims['Method']} {dims['Resource']} (detailed metrics on the stage)"
    elif namespace == "AWS/RDS" and keys == {"DBInstanceIdentifier"} \
            and dims["DBInstanceIdentifier"] in platform.rds_instances:
        resource = f"instance {dims['DBInstanceIdentifier']}"
    elif namespace == "AWS/ElastiCache" and keys == {"CacheClusterId"} \
            and dims["CacheClusterId"] in platform.redis_nodes:
        resource = f"cache node {dims['CacheClusterId']}"
    elif namespace == "AWS/SNS" and keys == {"TopicName"} and dims["TopicName"] in platform.topic_names.values():
        resource = f"topic {dims['TopicName']}"
    if resource is None:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(dims.items())) or "no dimensions"
        return Publisher(False, f"{service} publishes {name}, but no resource of the inventory has {shown}")
    return Publisher(True, f"{service} publishes it for {resource}, {when}")


def publisher(platform: Platform, namespace: str, name: str, dims: Mapping[str, str]) -> Publisher:
    """Who would publish namespace/name with exactly these dimensions in production."""
    if namespace.startswith("AWS/"):
        return _aws(platform, namespace, name, dims)
    for f in platform.log_filters:
        if (f.namespace, f.metric_name, f.dimensions) == (namespace, name, dict(dims)):
            otherwise = f", and {f.default_value:g} for every other event" if f.default_value is not None else ""
            return Publisher(True, f"the log metric filter on {f.log_group} publishes it for each event matching "
                                   f"{f.pattern}{otherwise}")
    stack_namespace = {BUSINESS_NAMESPACE: platform.business_namespace, HEALTH_NAMESPACE: platform.health_namespace}
    library = {(stack_namespace.get(ns, ns), n, frozenset(d.items()))
               for ns, n, d in published_metrics(platform.environment, tuple(platform.reader_ids))}
    if (namespace, name, frozenset(dims.items())) in library:
        if namespace == platform.health_namespace:
            return Publisher(True, f"the health monitor publishes it on each run (every "
                                   f"{platform.health_schedule_minutes} min)")
        return Publisher(True, "the runtime library (observability.metrics) publishes it as EMF with each event "
                               "it counts")
    shown = ", ".join(f"{k}={v}" for k, v in sorted(dims.items())) or "no dimensions"
    return Publisher(False, f"nothing in the stack publishes {namespace} {name} with {shown} (not an AWS metric, "
                            "not in the runtime library's catalogue, no log metric filter)")
