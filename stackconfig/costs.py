"""Budgets, cost anomaly and tracing settings, with the seed's values as defaults."""

from __future__ import annotations

import dataclasses
from typing import Any

from stackconfig.errors import ConfigError

# Budget key -> the Cost Explorer "Service" dimension value it filters on (None: the whole bill).
BUDGET_SERVICES: dict[str, str | None] = {
    "total": None,
    "lambda": "AWS Lambda",
    "rds": "Amazon Relational Database Service",
    "apiGateway": "Amazon API Gateway",
    "s3": "Amazon Simple Storage Service",
}
SEED_BUDGETS = {
    "daily": {"total": 200, "lambda": 50, "rds": 80, "apiGateway": 30, "s3": 20},
    "monthly": {"total": 5000, "lambda": 1200, "rds": 2000, "apiGateway": 800, "s3": 500},
}


@dataclasses.dataclass(frozen=True)
class SamplingClass:
    """One of the seed's sampling classes: a rate, a reservoir, the API paths it covers, its traffic."""

    name: str
    rate: float
    reservoir_per_second: int
    url_paths: tuple[str, ...]
    priority: int
    monthly_requests: int


# Reservoirs default to 0 so the seed's rates decide: at HASIVU's traffic a reservoir of even one
# trace a second would record nearly every request of a class (see preflight/cost.py).
SEED_SAMPLING = (
    SamplingClass("health", 0.01, 0, ("/health*",), 10, 2_600_000),
    SamplingClass("critical", 0.5, 0, ("/payments/*", "/auth/*"), 20, 3_000_000),
    SamplingClass("business", 0.3, 0, ("/orders*", "/rfid/*"), 30, 6_000_000),
    SamplingClass("general", 0.2, 0, ("*",), 9000, 10_000_000),
)


@dataclasses.dataclass(frozen=True)
class CostSettings:
    daily_budgets: dict[str, float]
    monthly_budgets: dict[str, float]
    anomaly_threshold_usd: float
    sampling: tuple[SamplingClass, ...]
    cost_explorer_queries_per_hour: int
    monitoring_budget_usd: float | None


def _amount(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(key, value, "a positive amount in USD")
    return float(value)


def _budgets(raw: Any, period: str) -> dict[str, float]:
    key = f"budgets.{period}"
    merged = dict(SEED_BUDGETS[period])
    if raw is not None:
        if not isinstance(raw, dict):
            raise ConfigError(key, raw, f"a mapping of {', '.join(BUDGET_SERVICES)} to USD amounts")
        for name, value in raw.items():
            if name not in BUDGET_SERVICES:
                raise ConfigError(f"{key}.{name}", value, f"one of {', '.join(BUDGET_SERVICES)}")
            merged[name] = value
    return {name: _amount(value, f"{key}.{name}") for name, value in merged.items()}


def _sampling(raw: Any) -> tuple[SamplingClass, ...]:
    if raw is None:
        return SEED_SAMPLING
    if not isinstance(raw, dict):
        raise ConfigError("tracing.sampling", raw, "a mapping of class name to {rate, reservoir, monthlyRequests}")
    known = {c.name: c for c in SEED_SAMPLING}
    result = []
    for name, seed in known.items():
        entry = raw.get(name) or {}
        key = f"tracing.sampling.{name}"
        if not isinstance(entry, dict):
            raise ConfigError(key, entry, "a mapping with rate, reservoir, monthlyRequests")
        rate = entry.get("rate", seed.rate)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ConfigError(f"{key}.rate", rate, "a sampling rate between 0 and 1")
        reservoir = entry.get("reservoir", seed.reservoir_per_second)
        if isinstance(reservoir, bool) or not isinstance(reservoir, int) or reservoir < 0:
            raise ConfigError(f"{key}.reservoir", reservoir, "a whole number of traces per second >= 0")
        requests = entry.get("monthlyRequests", seed.monthly_requests)
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 0:
            raise ConfigError(f"{key}.monthlyRequests", requests, "a whole number of requests per month >= 0")
        result.append(dataclasses.replace(seed, rate=float(rate), reservoir_per_second=reservoir,
                                          monthly_requests=requests))
    for name in raw:
        if name not in known:
            raise ConfigError(f"tracing.sampling.{name}", raw[name], f"one of {', '.join(known)}")
    return tuple(result)


def load_cost_settings(budgets: Any, cost_anomaly: Any, tracing: Any, monitoring_budget: Any) -> CostSettings:
    if budgets is not None and not isinstance(budgets, dict):
        raise ConfigError("budgets", budgets, "a mapping with daily and monthly")
    budgets = budgets or {}
    for period in budgets:
        if period not in SEED_BUDGETS:
            raise ConfigError(f"budgets.{period}", budgets[period], "daily or monthly")
    anomaly = cost_anomaly or {}
    if not isinstance(anomaly, dict):
        raise ConfigError("costAnomaly", anomaly, "a mapping with thresholdUsd")
    tracing = tracing or {}
    if not isinstance(tracing, dict):
        raise ConfigError("tracing", tracing, "a mapping with sampling and costExplorerQueriesPerHour")
    queries = tracing.get("costExplorerQueriesPerHour", 2)
    if isinstance(queries, bool) or not isinstance(queries, int) or queries < 0:
        raise ConfigError("tracing.costExplorerQueriesPerHour", queries, "a whole number >= 0")
    return CostSettings(
        daily_budgets=_budgets(budgets.get("daily"), "daily"),
        monthly_budgets=_budgets(budgets.get("monthly"), "monthly"),
        anomaly_threshold_usd=_amount(anomaly.get("thresholdUsd", 50), "costAnomaly.thresholdUsd"),
        sampling=_sampling(tracing.get("sampling")),
        cost_explorer_queries_per_hour=queries,
        monitoring_budget_usd=None if monitoring_budget is None else _amount(monitoring_budget, "monitoringBudgetUsd"),
    )
