"""Lambda handler for the scheduled health monitor and the `/health` endpoint.

Runs every check under one deadline (the Lambda's remaining time less a margin), publishes the
score and each dependency's result as EMF (no API call), and answers with the report: as an HTTP
response for API Gateway / function URL events, as the report itself for the EventBridge schedule.
With nothing configured the report is `unconfigured` and no score is published, so the stack's
health-score alarm (missing data is breaching) says so.
"""

from __future__ import annotations

import json
import time
from typing import Any, Optional

from aws_lambda_powertools.metrics import MetricUnit

from observability import emf
from observability.health import (
    DEADLINE_MARGIN_SECONDS,
    DEFAULT_DEADLINE_SECONDS,
    EnhancedHealthMonitor,
    container_monitor,
)
from observability.health_checks import DEGRADED, HEALTHY, UNHEALTHY
from observability.settings import RuntimeSettings


def publish(report: dict[str, Any], settings: RuntimeSettings) -> None:
    env = {"Environment": settings.environment}
    if report["score"] is not None:
        emf.emit(settings.health_namespace, [env], {
            "SystemHealthScore": (report["score"], MetricUnit.Percent),
            "RevenueAtRisk": (report["business_impact"]["revenue_at_risk_inr_per_day"], MetricUnit.NoUnit),
            "UsersAffected": (report["business_impact"]["users_affected"], MetricUnit.Count),
        }, {})
    for name, check in report["checks"].items():
        emf.emit(settings.health_namespace, [{**env, "Dependency": name}], {
            # Reachable, not fast: a slow (degraded) dependency still serves, so the connectivity
            # alarms and the SLA history count it as up; slowness shows in DependencyLatency.
            "DependencyHealthy": (0 if check["status"] == UNHEALTHY else 1, MetricUnit.Count),
            "DependencyLatency": (check["latency_ms"], MetricUnit.Milliseconds),
        }, {"status": check["status"]})


def deadline(context: Any, started: float) -> float:
    """A `time.monotonic()` instant before the Lambda's own timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    budget = remaining() / 1000 - DEADLINE_MARGIN_SECONDS if remaining else DEFAULT_DEADLINE_SECONDS
    return started + max(0.0, budget)


def handler(event: dict[str, Any], context: Any, monitor: Optional[EnhancedHealthMonitor] = None) -> dict[str, Any]:
    started = time.monotonic()
    settings = RuntimeSettings.from_env()
    report = (monitor or container_monitor()).get_enhanced_system_health(deadline(context, started))
    publish(report, settings)
    if isinstance(event, dict) and ("requestContext" in event or "rawPath" in event or "httpMethod" in event):
        return {
            "statusCode": 200 if report["status"] in (HEALTHY, DEGRADED) else 503,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": json.dumps(report),
        }
    return report
