"""Fleet mode: one Metrics Insights alarm per group and metric, each function a contributor.

A multi-time-series alarm (`GROUP BY FunctionName`) evaluates every function its query returns
as its own contributor and names the ones in ALARM, so one alarm replaces one alarm per function
and picks up functions created after the deploy. AWS limits, from the CloudWatch user guide
("Limits that apply to alarms based on Metrics Insights queries", alarm-limits.html, and
"Metrics Insights quotas", cloudwatch-metrics-insights-limits.html): a query matches at most
10,000 metrics and returns at most 500 series (with ORDER BY, the 500 highest), at most 100
contributors are reported in ALARM, only the latest 3 hours are evaluated, 200 such alarms per
account and Region, no high-resolution data. Metrics Insights has no percentiles (AVG, COUNT,
MAX, MIN, SUM), so the fleet's duration alarm reads MAX(Duration) against the same limit the
per-function p99 alarm uses. The WHERE clause uses only `=`, `!=`, AND and OR, the operators the
query syntax documents (cloudwatch-metrics-insights-querylanguage.html).
"""

from __future__ import annotations

from collections.abc import Sequence

from components.alarms.lambda_ import group_scope
from components.alarms.spec import GREATER, NO_DATA_IS_FINE, AlarmSpec, Query
from stackconfig.fleet_queries import fleet_query, group_condition
from stackconfig.model import FleetGroup, Inventory, LambdaFunction, Tier
from stackconfig.thresholds import LambdaThresholds


def where_clause(group: FleetGroup, inventory: Inventory) -> str:
    return group_condition(group.name, inventory, group.catch_all)


def _query(group: FleetGroup, aggregate: str, metric: str, where: str, period: int) -> tuple[Query, ...]:
    expression = fleet_query(aggregate, metric, where)
    return (Query("q1", expression=expression, label=f"{metric} per function", returns=True, period=period),)


def _fleet_tier(group: FleetGroup) -> Tier:
    return Tier.CRITICAL if group.tier is Tier.CRITICAL else Tier.WARNING


def fleet_alarms(group: FleetGroup, inventory: Inventory, thresholds: LambdaThresholds) -> list[AlarmSpec]:
    where = where_clause(group, inventory)
    members: Sequence[LambdaFunction] = [fn for fn in inventory.functions if fn.group == group.name]
    scope = "every function no other group lists" if group.catch_all else f"its {len(members)} functions"
    what = f"Lambda fleet {group.name} ({scope})"
    common = {"service": f"fleet-{group.name}", "resource": group.name, "runbook": f"lambda#{group.name}",
              "scope": group_scope(group.name)}
    limit_ms = min(thresholds.duration_max_ms, thresholds.duration_timeout_share * group.timeout_seconds * 1000)
    tier = _fleet_tier(group)
    return [
        AlarmSpec(
            **common, metric_key="errors", tier=tier,
            summary=f"{what}: a function throws errors (> {thresholds.errors_per_minute:g}/min in 3 of 5 minutes); "
                    "the alarm names it as a contributor.",
            impact=f"requests of the {group.name} flow fail for users.",
            comparison=GREATER, threshold=thresholds.errors_per_minute, evaluation_periods=5, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE, queries=_query(group, "SUM", "Errors", where, 60),
        ),
        AlarmSpec(
            **common, metric_key="throttles", tier=tier,
            summary=f"{what}: a function is throttled (> {thresholds.throttles_per_5min:g} per 5 minutes).",
            impact="invocations are rejected before they run; callers see 429s or retries pile up.",
            comparison=GREATER, threshold=thresholds.throttles_per_5min, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE, queries=_query(group, "SUM", "Throttles", where, 300),
        ),
        AlarmSpec(
            **common, metric_key="duration-max", tier=Tier.WARNING,
            summary=f"{what}: a function's longest invocation is above {limit_ms:g} ms "
                    f"(group timeout {group.timeout_seconds} s).",
            impact="slow responses, and invocations near their timeout start failing.",
            comparison=GREATER, threshold=limit_ms, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE, queries=_query(group, "MAX", "Duration", where, 300),
        ),
    ]
