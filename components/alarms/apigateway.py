"""API Gateway (REST): 5XX and 4XX rates, p99 latency, and p99 latency per critical endpoint."""

from __future__ import annotations

from components.alarms.spec import GREATER, NO_DATA_IS_FINE, AlarmSpec, Metric
from stackconfig.model import ApiConfig, Tier
from stackconfig.thresholds import ApiThresholds

NAMESPACE = "AWS/ApiGateway"


def endpoint_service(path: str) -> str:
    return "api-" + (path.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "root")


def api_alarms(api: ApiConfig, t: ApiThresholds) -> list[AlarmSpec]:
    dims = {"ApiName": api.name, "Stage": api.stage}
    resource = f"{api.name}/{api.stage}"
    what = f"API {api.name} stage {api.stage}"
    common = {"service": "api", "resource": resource, "runbook": "api-gateway"}
    specs = [
        AlarmSpec(
            **common, metric_key="5xx-rate", tier=Tier.CRITICAL,
            summary=f"{what} answers more than {t.error_5xx_rate_percent:g}% of requests with 5XX.",
            impact="users cannot log in, order or pay; revenue is lost while it lasts.",
            comparison=GREATER, threshold=t.error_5xx_rate_percent / 100, evaluation_periods=5,
            datapoints_to_alarm=3, treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "5XXError", dims, "Average", 60),
        ),
        AlarmSpec(
            **common, metric_key="4xx-rate", tier=Tier.WARNING,
            summary=f"{what} answers more than {t.error_4xx_rate_percent:g}% of requests with 4XX.",
            impact="a client release or an auth problem is rejecting users' requests.",
            comparison=GREATER, threshold=t.error_4xx_rate_percent / 100, evaluation_periods=5,
            datapoints_to_alarm=3, treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "4XXError", dims, "Average", 300),
        ),
        AlarmSpec(
            **common, metric_key="latency-p99", tier=Tier.WARNING,
            summary=f"{what} p99 latency is above {t.latency_p99_ms:g} ms.",
            impact="the app feels slow everywhere; timeouts follow.",
            comparison=GREATER, threshold=t.latency_p99_ms, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "Latency", dims, "p99", 300),
        ),
    ]
    for endpoint in api.critical_endpoints:
        specs.append(AlarmSpec(
            service=endpoint_service(endpoint.path), metric_key="latency-p99",
            resource=f"{resource} {endpoint.method} {endpoint.path}", tier=Tier.WARNING,
            runbook="api-gateway#endpoints",
            summary=f"{endpoint.method} {endpoint.path} p99 latency is above {endpoint.latency_p99_ms:g} ms.",
            impact=f"the {endpoint.path} flow is slow for users (needs detailed metrics on the stage).",
            comparison=GREATER, threshold=endpoint.latency_p99_ms, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "Latency",
                          {**dims, "Resource": endpoint.path, "Method": endpoint.method}, "p99", 300),
        ))
    return specs
