"""Lambda: errors, error rate, throttles and p99 duration per function; concurrency per account."""

from __future__ import annotations

import pulumi

from components.alarms.spec import (
    GREATER,
    NO_DATA_IS_FINE,
    NO_DATA_KEEPS_STATE,
    AlarmSpec,
    Metric,
    rate,
)
from stackconfig.model import LambdaFunction, Tier
from stackconfig.thresholds import AccountThresholds

NAMESPACE = "AWS/Lambda"


def service_name(function: LambdaFunction, environment: str) -> str:
    """`hasivu-production-payments-verify` -> `payments-verify`: the env is already in the alarm name."""
    for prefix in (f"hasivu-{environment}-", f"{environment}-hasivu-", f"{environment}-"):
        if function.name.startswith(prefix):
            return function.name[len(prefix):]
    return function.name


def error_tier(function: LambdaFunction) -> Tier:
    """Payment and auth failures page someone; everything else is a warning."""
    return Tier.CRITICAL if function.tier is Tier.CRITICAL else Tier.WARNING


def duration_threshold_ms(function: LambdaFunction) -> float:
    t = function.thresholds
    return min(t.duration_max_ms, t.duration_timeout_share * function.timeout_seconds * 1000)


def function_alarms(
    function: LambdaFunction, environment: str, function_name: pulumi.Input[str] | None = None
) -> list[AlarmSpec]:
    """`function_name` is the FunctionName dimension: the resource's output for the project's own Lambdas."""
    dims = {"FunctionName": function_name if function_name is not None else function.name}
    service = service_name(function, environment)
    t = function.thresholds
    tier = error_tier(function)
    what = f"Lambda {function.name} ({function.group})"
    common = {"service": service, "resource": function.name, "runbook": f"lambda#{function.group}"}
    limit_ms = duration_threshold_ms(function)
    return [
        AlarmSpec(
            **common, metric_key="errors", tier=tier,
            summary=f"{what} is throwing errors (> {t.errors_per_minute:g}/min in 3 of 5 minutes).",
            impact=f"requests of the {function.group} flow fail for users.",
            comparison=GREATER, threshold=t.errors_per_minute, evaluation_periods=5, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "Errors", dims, "Sum", 60),
        ),
        AlarmSpec(
            **common, metric_key="error-rate", tier=tier,
            summary=f"{what} fails more than {t.error_rate_percent:g}% of invocations "
                    f"(counted once it has {t.error_rate_min_invocations:g}+ invocations per 5 minutes).",
            impact=f"a share of {function.group} requests fail even at low traffic.",
            comparison=GREATER, threshold=t.error_rate_percent, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(
                Metric(NAMESPACE, "Errors", dims, "Sum", 300),
                Metric(NAMESPACE, "Invocations", dims, "Sum", 300),
                "Error rate (%)",
                min_denominator=t.error_rate_min_invocations,
            ),
        ),
        AlarmSpec(
            **common, metric_key="throttles", tier=tier,
            summary=f"{what} is being throttled (> {t.throttles_per_5min:g} per 5 minutes).",
            impact="invocations are rejected before they run; callers see 429s or retries pile up.",
            comparison=GREATER, threshold=t.throttles_per_5min, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "Throttles", dims, "Sum", 300),
        ),
        AlarmSpec(
            **common, metric_key="duration-p99", tier=Tier.WARNING,
            summary=f"{what} p99 duration is above {limit_ms:g} ms "
                    f"(timeout {function.timeout_seconds} s).",
            impact="slow responses, and invocations near their timeout start failing.",
            comparison=GREATER, threshold=limit_ms, evaluation_periods=3, datapoints_to_alarm=2,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, "Duration", dims, "p99", 300),
        ),
    ]


def account_alarms(thresholds: AccountThresholds) -> list[AlarmSpec]:
    limit = thresholds.concurrency_limit * thresholds.concurrency_percent / 100
    return [
        AlarmSpec(
            service="lambda-account", metric_key="concurrent-executions", resource="account",
            tier=Tier.CRITICAL, runbook="lambda#concurrency",
            summary=f"Lambda concurrency is above {thresholds.concurrency_percent:g}% of the account limit "
                    f"({limit:g} of {thresholds.concurrency_limit:g}).",
            impact="at the limit every function in the region is throttled, payments included.",
            comparison=GREATER, threshold=limit, evaluation_periods=5, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_KEEPS_STATE,
            metric=Metric(NAMESPACE, "ConcurrentExecutions", {}, "Maximum", 60),
        )
    ]
