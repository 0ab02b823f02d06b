"""Budgets, cost anomaly and tracing settings, with the platform's targets as defaults."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from stackconfig.types import snake

if TYPE_CHECKING:
    from stackconfig.model import LambdaFunction
    from stackconfig.traffic import MonthlyTraffic

# Budget key -> the Cost Explorer "Service" dimension value it filters on (None: the whole bill).
BUDGET_SERVICES: dict[str, str | None] = {
    "total": None,
    "lambda": "AWS Lambda",
    "rds": "Amazon Relational Database Service",
    "apiGateway": "Amazon API Gateway",
    "s3": "Amazon Simple Storage Service",
}
DEFAULT_BUDGETS = {
    "daily": {"total": 200, "lambda": 50, "rds": 80, "apiGateway": 30, "s3": 20},
    "monthly": {"total": 5000, "lambda": 1200, "rds": 2000, "apiGateway": 800, "s3": 500},
}


@dataclasses.dataclass(frozen=True)
class SamplingClass:
    """One sampling class: a rate, a reservoir, the API paths it covers, its traffic."""

    name: str
    rate: float
    reservoir_per_second: int
    url_paths: tuple[str, ...]
    priority: int
    # The inventory's function groups whose API routes `url_paths` match (a group serves /<group>/...);
    # empty: every group no other class names.
    groups: tuple[str, ...]
    monthly_requests: int = 0


# Reservoirs default to 0 so the sampling rates decide: at HASIVU's traffic a reservoir of even one
# trace a second would record nearly every request of a class (see preflight/preview/cost.py).
DEFAULT_SAMPLING = (
    SamplingClass("health", 0.01, 0, ("/health*",), 10, ("health",)),
    SamplingClass("critical", 0.5, 0, ("/payments/*", "/auth/*"), 20, ("payments", "auth")),
    SamplingClass("business", 0.3, 0, ("/orders*", "/rfid/*"), 30, ("orders", "rfid")),
    SamplingClass("general", 0.2, 0, ("*",), 9000, ()),
)


def _class_of(group: str) -> str:
    """The sampling class whose URL paths a group's routes match: the one naming it, else the catch-all."""
    catch_all = next(cls.name for cls in DEFAULT_SAMPLING if not cls.groups)
    return next((cls.name for cls in DEFAULT_SAMPLING if group in cls.groups), catch_all)


def expected_requests(traffic: MonthlyTraffic, functions: Iterable[LambdaFunction]) -> dict[str, int]:
    """Sampling class -> the API requests the traffic model expects its URL paths to receive a month."""
    requests = dict.fromkeys((cls.name for cls in DEFAULT_SAMPLING), 0.0)
    for function in functions:
        requests[_class_of(function.group)] += traffic.api_requests([(function.name, function.invocation)])
    return {name: round(count) for name, count in requests.items()}


@dataclasses.dataclass(frozen=True)
class CostSettings:
    daily_budgets: dict[str, float]
    monthly_budgets: dict[str, float]
    anomaly_threshold_usd: float
    sampling: tuple[SamplingClass, ...]
    cost_explorer_queries_per_day: int
    monitoring_budget_usd: float | None
    # Account singletons: reuse the account's SERVICE anomaly monitor; own the X-Ray EncryptionConfig.
    existing_anomaly_monitor_arn: str | None = None
    manage_xray_encryption: bool = True


def cost_settings(budgets: Any, anomaly: Any, tracing: Any, monitoring_budget: float | None,
                  expected: dict[str, int]) -> CostSettings:
    """Settings from the validated `budgets`, `costAnomaly` and `tracing` sections (stackconfig.schema);
    `expected`: each sampling class's monthly requests where `tracing` does not set them."""
    overrides = {
        cls.name: {k: v for k, v in dict(getattr(tracing.sampling, cls.name, None) or {}).items() if v is not None}
        for cls in DEFAULT_SAMPLING
    }
    sampling = tuple(
        dataclasses.replace(
            cls,
            rate=float(overrides[cls.name].get("rate", cls.rate)),
            reservoir_per_second=overrides[cls.name].get("reservoir", cls.reservoir_per_second),
            monthly_requests=overrides[cls.name].get("monthly_requests", expected[cls.name]),
        )
        for cls in DEFAULT_SAMPLING
    )
    return CostSettings(
        daily_budgets=_budgets("daily", budgets.daily),
        monthly_budgets=_budgets("monthly", budgets.monthly),
        anomaly_threshold_usd=float(anomaly.threshold_usd),
        sampling=sampling,
        cost_explorer_queries_per_day=tracing.cost_explorer_queries_per_day,
        monitoring_budget_usd=monitoring_budget,
        existing_anomaly_monitor_arn=anomaly.existing_monitor_arn,
        manage_xray_encryption=tracing.manage_encryption,
    )


def _budgets(period: str, amounts: Any) -> dict[str, float]:
    given = {k: v for k, v in dict(amounts or {}).items() if v is not None}
    return {key: float(given.get(snake(key), default)) for key, default in DEFAULT_BUDGETS[period].items()}
