"""Lambda: errors, error rate, throttles and p99 duration per function; concurrency per account."""

from __future__ import annotations

import pulumi

from components.alarms.spec import (
    GREATER,
    LAST_DATAPOINT_STANDS,
    NO_DATA_IS_FINE,
    NO_DATA_KEEPS_STATE,
    AlarmSpec,
    Metric,
    Query,
    filled,
    floored_rate,
    rate,
)
from stackconfig.maintenance import SCOPES
from stackconfig.model import LambdaFunction, Tier
from stackconfig.muting import MONITORING, PLATFORM
from stackconfig.thresholds import AccountThresholds

NAMESPACE = "AWS/Lambda"


def group_scope(group: str) -> str:
    """An inventory group named like a maintenance scope (payments, rfid) is muted with it; the
    monitoring's own functions page through its own pagers."""
    return group if group in (*SCOPES, MONITORING) else PLATFORM


def service_name(function: LambdaFunction, environment: str) -> str:
    """`hasivu-production-payments-verify` -> `payments-verify`: the env is already in the alarm name."""
    for prefix in (f"hasivu-{environment}-", f"{environment}-hasivu-", f"{environment}-"):
        if function.name.startswith(prefix):
            return function.name[len(prefix):]
    return function.name


def error_tier(function: LambdaFunction) -> Tier:
    """Payment and auth failures page someone; everything else is a warning."""
    return Tier.CRITICAL if function.tier is Tier.CRITICAL else Tier.WARNING


def function_label(function: LambdaFunction) -> str:
    """How an alarm's summary names the function."""
    return f"Lambda {function.name} ({function.group})"


def errors_per_minute_alarm(function: LambdaFunction, dims: dict, common: dict, tier: Tier) -> AlarmSpec:
    t = function.thresholds
    return AlarmSpec(
        **common, metric_key="errors", tier=tier,
        summary=f"{function_label(function)} is throwing errors (> {t.errors_per_minute:g}/min in 3 of 5 minutes).",
        impact=f"requests of the {function.group} flow fail for users.",
        comparison=GREATER, threshold=t.errors_per_minute, evaluation_periods=5, datapoints_to_alarm=3,
        treat_missing_data=NO_DATA_IS_FINE,
        metric=Metric(NAMESPACE, "Errors", dims, "Sum", 60),
    )


def error_rate_alarm(function: LambdaFunction, dims: dict, common: dict, tier: Tier) -> AlarmSpec:
    t = function.thresholds
    what = function_label(function)
    if t.low_volume_window_minutes:
        period = int(t.low_volume_window_minutes) * 60
        # One window, sliding minute by minute: in ALARM while the last window holds the floor's errors.
        # Two windows of half the length (1 of the last 2) would clear no sooner, and the older one would
        # bring a burst shorter than a window back into ALARM a window later: a second page for one incident.
        # So the window is long enough for a quiet stretch of an outage to reach the floor on its own.
        return AlarmSpec(
            **common, metric_key="error-rate", tier=tier, job=True,
            summary=f"{what} failed more than {t.error_rate_percent:g}% of its invocations in the last "
                    f"{t.low_volume_window_minutes:g} minutes "
                    f"(low-volume: any volume counts, from {t.low_volume_min_errors:g} error(s)).",
            impact=f"calls to a rarely called {function.group} function fail; too few for a count a minute to show.",
            comparison=GREATER, threshold=t.error_rate_percent, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE,
            # No invocation minimum: one failed call of a rarely called function is a 100 % window; the
            # floor of errors keeps one sporadic failure from counting where it is noise (refunds at night).
            queries=floored_rate(Metric(NAMESPACE, "Errors", dims, "Sum", period),
                                 Metric(NAMESPACE, "Invocations", dims, "Sum", period),
                                 t.low_volume_min_errors, "Error rate (%)"),
        )
    return AlarmSpec(
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
    )


def run_failed_alarm(function: LambdaFunction, dims: dict, common: dict, tier: Tier) -> AlarmSpec:
    """A scheduled job judged on its last run, whatever its schedule: the share of failed invocations in
    the minute it ran, kept while it does not run (treat missing data as ignore), so a failed run is
    noticed within minutes and the alarm clears with the next run that succeeds. Lambda retries a
    failed asynchronous run; a retry that succeeds is the next run."""
    t = function.thresholds
    return AlarmSpec(
        **common, metric_key="run-failed", tier=tier,
        summary=f"Scheduled job {function.name} ({function.group}): its last run failed (more than "
                f"{t.error_rate_percent:g}% of the invocations of the minute it ran); the alarm stays until a run "
                "succeeds.",
        impact=f"the {function.group} job's work is not done until a run succeeds.",
        comparison=GREATER, threshold=t.error_rate_percent, evaluation_periods=1, datapoints_to_alarm=1,
        treat_missing_data=LAST_DATAPOINT_STANDS,
        queries=(
            Query("m1", metric=Metric(NAMESPACE, "Errors", dims, "Sum", 60)),
            Query("m2", metric=Metric(NAMESPACE, "Invocations", dims, "Sum", 60)),
            # No datapoint in a minute without a run (IF without a false value drops it).
            Query("e1", expression=f"IF(m2 > 0, 100 * {filled('m1')} / m2)", label="Failed share of the run (%)",
                  returns=True),
        ),
    )


def async_alarms(function: LambdaFunction, dims: dict, common: dict, tier: Tier) -> list[AlarmSpec]:
    """Asynchronous invocations fail out of sight of any caller: events Lambda drops after its
    retries and events it could not hand to the dead-letter queue are lost for good."""
    what = f"Lambda {function.name} ({function.group}, asynchronous)"
    return [
        AlarmSpec(
            **common, metric_key=key, tier=tier,
            summary=f"{what}: {summary} (any in 5 minutes).",
            impact=impact,
            comparison=GREATER, threshold=0, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE,
            metric=Metric(NAMESPACE, metric, dims, "Sum", 300),
        )
        for key, metric, summary, impact in (
            ("async-events-dropped", "AsyncEventsDropped", "events were dropped without running",
             "notifications or jobs never happen and nobody is told; the events are gone."),
            ("dead-letter-errors", "DeadLetterErrors", "failed events could not be sent to the dead-letter queue",
             "failed events are lost instead of kept for replay."),
        )
    ]


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
    what = function_label(function)
    common = {"service": service, "resource": function.name, "runbook": f"lambda#{function.group}",
              "scope": group_scope(function.group)}
    limit_ms = duration_threshold_ms(function)
    if function.invocation == "scheduled":
        failures = [run_failed_alarm(function, dims, common, tier)]
    elif t.low_volume_window_minutes:
        # One error alarm, the low-volume error rate: at the function's usual volume a count of more than
        # `errorsPerMinute` errors a minute could never fire, and at its busiest the rate's window, sliding
        # minute by minute, fires within minutes of a burst (drill payments-release-breaks-checkout).
        failures = [error_rate_alarm(function, dims, common, tier)]
    else:
        failures = [errors_per_minute_alarm(function, dims, common, tier),
                    error_rate_alarm(function, dims, common, tier)]
    specs = [
        *failures,
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
    # EventBridge invokes a scheduled job asynchronously: a dropped run is lost like any async event.
    if function.invocation in ("async", "scheduled"):
        specs += async_alarms(function, dims, common, tier)
    return specs


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
