"""Lambda handler for the scheduled health monitor and the `/health` endpoint.

Runs every check, publishes the score and each dependency's result as EMF (no API call), and
answers with the report: as an HTTP response for API Gateway / function URL events, as the report
itself for the EventBridge schedule.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from observability.health import EnhancedHealthMonitor, enhanced_health_monitor
from observability.health_checks import HEALTHY, UNHEALTHY
from observability.settings import RuntimeSettings


def publish(report: dict[str, Any], settings: RuntimeSettings) -> None:
    summary = EphemeralMetrics(namespace=settings.health_namespace)
    summary.add_dimension("Environment", settings.environment)
    summary.add_metric(name="SystemHealthScore", unit=MetricUnit.Percent, value=report["score"])
    summary.add_metric(name="RevenueAtRisk", unit=MetricUnit.NoUnit,
                       value=report["business_impact"]["revenue_at_risk_inr_per_day"])
    summary.add_metric(name="UsersAffected", unit=MetricUnit.Count, value=report["business_impact"]["users_affected"])
    summary.flush_metrics()
    for name, check in report["checks"].items():
        record = EphemeralMetrics(namespace=settings.health_namespace)
        record.add_dimension("Environment", settings.environment)
        record.add_dimension("Dependency", name)
        record.add_metric(name="DependencyHealthy", unit=MetricUnit.Count,
                          value=1 if check["status"] == HEALTHY else 0)
        record.add_metric(name="DependencyLatency", unit=MetricUnit.Milliseconds, value=check["latency_ms"])
        record.add_metadata(key="status", value=check["status"])
        record.flush_metrics()


def handler(event: dict[str, Any], _context: Any, monitor: Optional[EnhancedHealthMonitor] = None) -> dict[str, Any]:
    settings = RuntimeSettings.from_env()
    report = (monitor or enhanced_health_monitor(settings)).get_enhanced_system_health()
    publish(report, settings)
    if isinstance(event, dict) and ("requestContext" in event or "rawPath" in event or "httpMethod" in event):
        return {
            "statusCode": 503 if report["status"] == UNHEALTHY else 200,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": json.dumps(report),
        }
    return report
