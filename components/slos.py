"""What each SLO measures, as CloudWatch metrics: the SLIs of the alarms, the dashboards and the `slos` output
(components/facade.py) that the preflight's preview and SLA report read.

An SLI is a total and one of:
- `good`: a metric whose statistic is the good share of each minute (the health monitor's
  `DependencyHealthy`, 1 or 0 a minute: its Average over a window is the share of healthy minutes), or a
  count of good events beside a count of all (`total`);
- `bad`: a count of bad events beside `total`;
- `goodPercent`: a percentile rank, the percentage of requests at most the threshold (`PR(:T)`, user
  guide "CloudWatch statistics definitions"), weighted by `total`.
"""

from __future__ import annotations

from typing import Any

from stackconfig.model import StackSettings
from stackconfig.slos import PERIOD, Slo

API_NAMESPACE = "AWS/ApiGateway"


def _metric(namespace: str, name: str, dimensions: dict[str, str], stat: str) -> dict[str, Any]:
    return {"namespace": namespace, "metricName": name, "dimensions": dimensions, "stat": stat}


def sli(slo: Slo, settings: StackSettings) -> dict[str, Any]:
    inventory, env = settings.inventory, settings.environment
    if slo.kind == PERIOD:
        healthy = _metric(inventory.health_namespace, "DependencyHealthy",
                          {"Environment": env, "Dependency": str(slo.dependency)}, "Average")
        return {"good": healthy, "total": {**healthy, "stat": "SampleCount"}}
    business = {"Environment": env}
    if slo.name == "payment-success":
        return {"bad": _metric(inventory.business_namespace, "PaymentErrors", business, "Sum"),
                "total": _metric(inventory.business_namespace, "PaymentAttempts", business, "Sum")}
    if slo.name == "rfid-verification":
        return {"good": _metric(inventory.business_namespace, "RFIDVerificationSuccess", business, "Sum"),
                "total": _metric(inventory.business_namespace, "RFIDVerificationAttempts", business, "Sum")}
    assert inventory.api is not None, "measurable_slos keeps the API's SLOs only with an API"
    stage = {"ApiName": inventory.api.name, "Stage": inventory.api.stage}
    total = _metric(API_NAMESPACE, "Count", stage, "Sum")
    if slo.threshold_ms is not None:
        return {"goodPercent": _metric(API_NAMESPACE, "Latency", stage, f"PR(:{slo.threshold_ms})"), "total": total}
    return {"bad": _metric(API_NAMESPACE, "5XXError", stage, "Sum"), "total": total}
