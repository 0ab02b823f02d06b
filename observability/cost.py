"""Cost monitor: Cost Explorer breakdown (cached: each request costs $0.01), budget status,
unit economics from business metrics, and recommendations computed from real metrics."""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Optional

import boto3
from botocore.exceptions import ClientError

from observability.aws import RETRIES, metric_window_end
from observability.settings import ConfigurationError, RuntimeSettings, env_number

RATE_VARIABLE = "HASIVU_INR_PER_USD"
# Cost Explorer's data is updated at most three times a day ("Best practices for optimizing your Cost
# Explorer API costs", docs.aws.amazon.com/cost-management/latest/userguide/ce-api-best-practices.html):
# a breakdown younger than 8 hours is as fresh as a new $0.01 request could make it.
COST_EXPLORER_REFRESH_SECONDS = 8 * 3600


@dataclasses.dataclass(frozen=True)
class Recommendation:
    kind: str
    resource: str
    detail: str
    estimated_monthly_savings_usd: float

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class TtlCache:
    """At most one call per key per `ttl` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self.entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = self.clock()
        hit = self.entries.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = compute()
        self.entries[key] = (now, value)
        return value


class CostMonitor:
    def __init__(self, ce: Any = None, budgets: Any = None, cloudwatch: Any = None, lambda_client: Any = None,
                 account_id: Optional[str] = None, settings: Optional[RuntimeSettings] = None,
                 cache_seconds: float = COST_EXPLORER_REFRESH_SECONDS, clock: Callable[[], float] = time.monotonic,
                 inr_per_usd: Optional[float] = None) -> None:
        # Cost Explorer and Budgets are global APIs served from us-east-1.
        self.ce = ce or boto3.client("ce", region_name="us-east-1", config=RETRIES)
        self.budgets = budgets or boto3.client("budgets", region_name="us-east-1", config=RETRIES)
        self.cloudwatch = cloudwatch or boto3.client("cloudwatch", config=RETRIES)
        self.lambda_client = lambda_client or boto3.client("lambda", config=RETRIES)
        self.account_id = account_id
        self.settings = settings or RuntimeSettings.from_env()
        self.cache = TtlCache(cache_seconds, clock)
        # Revenue is recorded in INR, Cost Explorer answers in USD: one configured rate converts.
        self.inr_per_usd = inr_per_usd if inr_per_usd is not None else env_number(RATE_VARIABLE, 0.0)

    def get_service_cost_breakdown(self, days: int = 30, today: Optional[date] = None) -> dict[str, float]:
        """Unblended cost by service over the last `days` days, largest first."""
        end = today or datetime.now(UTC).date()
        start = end - timedelta(days=days)

        def query() -> dict[str, float]:
            totals: dict[str, float] = {}
            token = None
            while True:
                kwargs: dict[str, Any] = {
                    "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()}, "Granularity": "MONTHLY",
                    "Metrics": ["UnblendedCost"], "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]}
                if token:
                    kwargs["NextPageToken"] = token
                response = self.ce.get_cost_and_usage(**kwargs)
                for period in response.get("ResultsByTime", []):
                    for group in period.get("Groups", []):
                        amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
                        totals[group["Keys"][0]] = totals.get(group["Keys"][0], 0.0) + amount
                token = response.get("NextPageToken")
                if not token:
                    break
            return dict(sorted(((k, round(v, 2)) for k, v in totals.items()), key=lambda kv: -kv[1]))

        return self.cache.get(("breakdown", start, end), query)

    def get_budget_status(self) -> list[dict[str, Any]]:
        account = self.account_id or boto3.client("sts", config=RETRIES).get_caller_identity()["Account"]
        status = []
        for budget in self.budgets.describe_budgets(AccountId=account).get("Budgets", []):
            limit = float(budget["BudgetLimit"]["Amount"])
            spend = budget.get("CalculatedSpend", {})
            actual = float(spend.get("ActualSpend", {}).get("Amount", 0))
            forecast = spend.get("ForecastedSpend")
            status.append({
                "name": budget["BudgetName"], "period": budget["TimeUnit"], "limit_usd": limit,
                "actual_usd": actual, "used_percent": round(100 * actual / limit, 1) if limit else None,
                "forecast_usd": float(forecast["Amount"]) if forecast else None,
            })
        return status

    def _metric_sum(self, namespace: str, name: str, dimensions: list[dict[str, str]], days: int) -> float:
        end = metric_window_end()
        response = self.cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=name, Dimensions=dimensions, StartTime=end - timedelta(days=days),
            EndTime=end, Period=days * 86_400, Statistics=["Sum"])
        return sum(p["Sum"] for p in response.get("Datapoints", []))

    def get_unit_economics(self, days: int = 30) -> dict[str, Any]:
        """Infrastructure cost per transaction and revenue-to-cost ratio, both in USD: the INR revenue
        is converted at the configured rate (HASIVU_INR_PER_USD), which the answer names."""
        if not self.inr_per_usd:
            raise ConfigurationError(f"{RATE_VARIABLE}: not set; expected the INR per USD rate used to compare "
                                     "INR revenue with USD cost (e.g. 83.5)")
        cost = sum(self.get_service_cost_breakdown(days).values())
        dims = [{"Name": "Environment", "Value": self.settings.environment}]
        ns = self.settings.business_namespace
        transactions = self._metric_sum(ns, "PaymentAttempts", dims, days)
        revenue_inr = self._metric_sum(ns, "Revenue", dims, days)
        revenue_usd = revenue_inr / self.inr_per_usd
        return {
            "currency": "USD",
            "inr_per_usd": self.inr_per_usd,
            "cost_usd": round(cost, 2),
            "transactions": transactions,
            "cost_per_transaction_usd": round(cost / transactions, 4) if transactions else None,
            "revenue_inr": revenue_inr,
            "revenue_usd": round(revenue_usd, 2),
            "revenue_to_cost_ratio": round(revenue_usd / cost, 2) if cost else None,
        }

    def get_optimization_recommendations(self, functions: Optional[Sequence[str]] = None,
                                         api: Optional[tuple[str, str]] = None,
                                         days: int = 14) -> list[dict[str, Any]]:
        """What to look at, by default from the environment: HASIVU_MONITORED_FUNCTIONS (comma-separated)
        and HASIVU_API_NAME / HASIVU_API_STAGE."""
        if functions is None:
            functions = [f for f in os.getenv("HASIVU_MONITORED_FUNCTIONS", "").split(",") if f]
        if api is None and os.getenv("HASIVU_API_NAME"):
            api = (os.environ["HASIVU_API_NAME"], os.getenv("HASIVU_API_STAGE", "prod"))
        recommendations = [*self._lambda_recommendations(functions, days)]
        if api:
            recommendations += self._api_cache_recommendations(api, days)
            recommendations += self._off_hours_recommendations(api, min(days, 7))
        return [r.as_json() for r in recommendations]

    def _off_hours_recommendations(self, api: tuple[str, str], days: int) -> list[Recommendation]:
        """School meals follow the school day: when nights (20:00-06:00 IST) carry under a tenth of
        the busiest hour's traffic, provisioned capacity can follow a schedule."""
        end = metric_window_end()
        points = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway", MetricName="Count",
            Dimensions=[{"Name": "ApiName", "Value": api[0]}, {"Name": "Stage", "Value": api[1]}],
            StartTime=end - timedelta(days=days), EndTime=end, Period=3600, Statistics=["Sum"]).get("Datapoints", [])
        by_hour: dict[int, list[float]] = {}
        for point in points:
            ist = point["Timestamp"] + timedelta(hours=5, minutes=30)
            by_hour.setdefault(ist.hour, []).append(point["Sum"])
        if len(by_hour) < 12:
            return []
        average = {hour: sum(v) / len(v) for hour, v in by_hour.items()}
        peak = max(average.values())
        night = [average.get(h, 0.0) for h in (*range(20, 24), *range(0, 6))]
        if not peak or max(night) >= peak / 10:
            return []
        return [Recommendation(
            "off-hours-scaling", f"{api[0]}/{api[1]}",
            f"night traffic peaks at {max(night):.0f} requests/hour against {peak:.0f} in the busiest hour: "
            "schedule provisioned concurrency and non-production databases down from 20:00 to 06:00 IST", 0.0)]

    def _lambda_recommendations(self, functions: Sequence[str], days: int) -> list[Recommendation]:
        found = []
        end = metric_window_end()
        for name in functions:
            try:
                memory = self.lambda_client.get_function_configuration(FunctionName=name)["MemorySize"]
            except ClientError as error:
                # One wrong name in HASIVU_MONITORED_FUNCTIONS is reported; the others are still looked at.
                code = error.response.get("Error", {}).get("Code", "error")
                found.append(Recommendation("unreadable-function", name, f"{code}: check the name in "
                                            "HASIVU_MONITORED_FUNCTIONS and the role's lambda:GetFunctionConfiguration",
                                            0.0))
                continue
            invocations = self._metric_sum("AWS/Lambda", "Invocations", [{"Name": "FunctionName", "Value": name}], days)
            if invocations == 0:
                found.append(Recommendation("idle-resource", name, f"no invocations in {days} days: remove it or "
                                            "its schedule", 0.0))
                continue
            # Lambda Insights publishes the memory a function really used.
            used = self.cloudwatch.get_metric_statistics(
                Namespace="LambdaInsights", MetricName="used_memory_max",
                Dimensions=[{"Name": "function_name", "Value": name}], StartTime=end - timedelta(days=days),
                EndTime=end, Period=days * 86_400, Statistics=["Maximum"]).get("Datapoints", [])
            if used:
                peak = max(p["Maximum"] for p in used)
                suggested = max(128, int(-(-peak * 1.3 // 64) * 64))
                if suggested < memory:
                    duration = self._metric_sum("AWS/Lambda", "Duration", [{"Name": "FunctionName", "Value": name}],
                                                days)
                    gb_seconds = (memory - suggested) / 1024 * duration / 1000 * (30 / days)
                    found.append(Recommendation(
                        "lambda-memory", name, f"peak memory {peak:.0f} MB of {memory} MB configured: "
                        f"set {suggested} MB", round(gb_seconds * 0.0000133334, 2)))
        return found

    def _api_cache_recommendations(self, api: tuple[str, str], days: int) -> list[Recommendation]:
        dims = [{"Name": "ApiName", "Value": api[0]}, {"Name": "Stage", "Value": api[1]}]
        requests = self._metric_sum("AWS/ApiGateway", "Count", dims, days)
        hits = self._metric_sum("AWS/ApiGateway", "CacheHitCount", dims, days)
        misses = self._metric_sum("AWS/ApiGateway", "CacheMissCount", dims, days)
        per_month = requests * 30 / days
        if per_month < 1_000_000:
            return []
        rate = 100 * hits / (hits + misses) if hits + misses else 0.0
        if rate >= 50:
            return []
        return [Recommendation(
            "api-caching", f"{api[0]}/{api[1]}",
            f"{per_month:,.0f} requests a month with a {rate:.0f}% cache hit rate: enable or tune stage caching "
            "for GET /menu and other read paths", round(per_month * (1 - rate / 100) * 0.5 * 3.5e-6, 2))]


@functools.cache
def cost_monitor() -> CostMonitor:
    """One per Lambda container, so its Cost Explorer cache lives as long as the container."""
    return CostMonitor()
