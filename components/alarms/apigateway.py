"""API Gateway (REST): 5XX rate, 4XX rate, p99 latency and integration latency per stage, traffic
stopping in school hours, and p99 latency per critical endpoint."""

from __future__ import annotations

from components.alarms.spec import (
    GREATER,
    GREATER_OR_EQUAL,
    NO_DATA_IS_FINE,
    AlarmSpec,
    Metric,
    Query,
    Window,
    literal,
    rate,
    silent_in_window,
)
from stackconfig.model import ApiConfig, Tier
from stackconfig.thresholds import ApiThresholds

NAMESPACE = "AWS/ApiGateway"


def endpoint_service(path: str) -> str:
    return "api-" + (path.strip("/").replace("/", "-").replace("{", "").replace("}", "").replace("+", "")
                     or "root")


def guarded_percentile(latency: Metric, count: Metric, minimum: float) -> tuple[Query, ...]:
    """The percentile where the window has at least `minimum` requests, else 0: at a handful of
    requests p99 is the slowest one, usually a cold start, and says nothing about users."""
    return (
        Query("m1", metric=latency),
        Query("m2", metric=count),
        Query("e1", expression=f"IF(FILL(m2, 0) >= {literal(minimum)}, m1, 0)", label="p99 latency (ms)", returns=True),
    )


def api_alarms(api: ApiConfig, t: ApiThresholds, school_day: Window) -> list[AlarmSpec]:
    dims = {"ApiName": api.name, "Stage": api.stage}
    resource = f"{api.name}/{api.stage}"
    what = f"API {api.name} stage {api.stage}"
    common = {"service": "api", "resource": resource, "runbook": "api-gateway", "scope": "api"}
    specs = [
        AlarmSpec(
            **common, metric_key="5xx-rate", tier=Tier.CRITICAL,
            summary=f"{what} answers more than {t.error_5xx_rate_percent:g}% of requests with 5XX "
                    f"(minutes with {t.error_5xx_min_requests:g}+ requests, 3 of 5).",
            impact="users cannot log in, order or pay; revenue is lost while it lasts.",
            comparison=GREATER, threshold=t.error_5xx_rate_percent, evaluation_periods=5,
            datapoints_to_alarm=3, treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(Metric(NAMESPACE, "5XXError", dims, "Sum", 60), Metric(NAMESPACE, "Count", dims, "Sum", 60),
                         "5XX rate (%)", min_denominator=t.error_5xx_min_requests),
        ),
        AlarmSpec(
            **common, metric_key="4xx-rate", tier=Tier.WARNING,
            summary=f"{what} answers more than {t.error_4xx_rate_percent:g}% of requests with 4XX "
                    f"(five-minute windows with {t.error_4xx_min_requests:g}+ requests, 2 of 3).",
            impact="a client release or an auth problem is rejecting users' requests.",
            # Two windows, so the warning page comes within the tier's 15 minutes (5 of them the pager's wait).
            comparison=GREATER, threshold=t.error_4xx_rate_percent, evaluation_periods=3,
            datapoints_to_alarm=2, treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(Metric(NAMESPACE, "4XXError", dims, "Sum", 300), Metric(NAMESPACE, "Count", dims, "Sum", 300),
                         "4XX rate (%)", min_denominator=t.error_4xx_min_requests),
        ),
        AlarmSpec(
            **common, metric_key="latency-p99", tier=Tier.WARNING,
            summary=f"{what} p99 latency is above {t.latency_p99_ms:g} ms.",
            impact="the app feels slow everywhere; timeouts follow.",
            comparison=GREATER, threshold=t.latency_p99_ms, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "Latency", dims, "p99", 300),
        ),
        AlarmSpec(
            **common, metric_key="integration-latency-p99", tier=Tier.WARNING,
            summary=f"{what} p99 integration latency (time in the Lambdas) is above "
                    f"{t.integration_latency_p99_ms:g} ms.",
            impact="the backends are slow; API Gateway's 29 s limit turns slow calls into 504s.",
            comparison=GREATER, threshold=t.integration_latency_p99_ms, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "IntegrationLatency", dims, "p99", 300),
        ),
        AlarmSpec(
            **common, metric_key="traffic-stopped", tier=Tier.CRITICAL, school_day=True,
            summary=f"{what} received fewer than {t.min_requests_per_5min:g} requests per 5 minutes for 15 minutes "
                    f"during school hours ({school_day.describe()}).",
            impact="parents and canteens cannot reach the platform at all (DNS, certificate, client release).",
            comparison=GREATER_OR_EQUAL, threshold=1, evaluation_periods=3, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=silent_in_window(Metric(NAMESPACE, "Count", dims, "Sum", 300), school_day,
                                     t.min_requests_per_5min, "No traffic in school hours (1 = yes)"),
        ),
    ]
    for endpoint in api.critical_endpoints:
        endpoint_dims = {**dims, "Resource": endpoint.path, "Method": endpoint.method}
        specs.append(AlarmSpec(
            service=endpoint_service(endpoint.path), metric_key="latency-p99",
            resource=f"{resource} {endpoint.method} {endpoint.path}", tier=Tier.WARNING,
            runbook="api-gateway#endpoints", scope="api",
            summary=f"{endpoint.method} {endpoint.path} p99 latency is above {endpoint.latency_p99_ms:g} ms "
                    f"(5-minute windows with {endpoint.min_requests:g}+ requests, 2 of 3).",
            impact=f"the {endpoint.path} flow is slow for users (reads the stage's detailed metrics).",
            # Two windows, so the warning page comes within the tier's 15 minutes (5 of them the pager's wait).
            comparison=GREATER, threshold=endpoint.latency_p99_ms, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=guarded_percentile(Metric(NAMESPACE, "Latency", endpoint_dims, "p99", 300),
                                       Metric(NAMESPACE, "Count", endpoint_dims, "Sum", 300),
                                       endpoint.min_requests),
        ))
    return specs
