"""Business and security alarms on the custom namespaces the runtime library publishes to."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Optional

from components.alarms.apigateway import NAMESPACE as API_NAMESPACE
from components.alarms.spec import (
    ABOVE_BAND,
    BELOW_BAND,
    GREATER,
    GREATER_OR_EQUAL,
    HEALTH_CHECKS,
    LESS,
    NO_DATA_IS_BAD,
    NO_DATA_IS_FINE,
    NO_DATA_IS_MISSING,
    AlarmSpec,
    Cause,
    Metric,
    Query,
    Window,
    filled,
    floored_rate,
    literal,
    rate,
    silent_in_window,
)
from stackconfig.model import ApiConfig, Inventory, Tier
from stackconfig.muting import SECURITY
from stackconfig.thresholds import BusinessThresholds

SECURITY_NAMESPACE = "HASIVU/Security"


@dataclasses.dataclass(frozen=True)
class SecurityFilter:
    """A log metric filter on the security log group that counts one kind of event."""

    key: str
    metric_name: str
    pattern: str


SECURITY_FILTERS = (
    SecurityFilter("failed-logins", "FailedLogins", '{ $.event = "LOGIN_FAILED" }'),
    SecurityFilter("fraud-attempts", "FraudAttempts", '{ $.event = "FRAUD_ATTEMPT" }'),
)


def monitor_period_seconds(schedule: str) -> int:
    """How often the health monitor publishes, from its EventBridge schedule (cron: hourly at most)."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule)
    if not match:
        return 3600
    unit = {"minute": 60, "hour": 3600, "day": 86_400}[match.group(2).rstrip("s")]
    return min(int(match.group(1)) * unit, 86_400)


def health_alarms(inventory: Inventory, t: BusinessThresholds, environment: str,
                  monitor_schedule: Optional[str]) -> list[AlarmSpec]:
    ns = inventory.health_namespace
    dims = {"Environment": environment}
    specs = [
        AlarmSpec(
            resource=ns, runbook="health#score",
            service="platform", metric_key="health-score", tier=Tier.CRITICAL,
            summary=f"System health score is below {t.health_score:g}% for 3 minutes.",
            impact="several dependencies are degraded at once; the platform is at risk.",
            comparison=LESS, threshold=t.health_score, evaluation_periods=3, datapoints_to_alarm=3,
            # A silent monitor is the health-monitor alarm's page, not this one's.
            treat_missing_data=NO_DATA_IS_MISSING, cause=Cause("Health checks failing", HEALTH_CHECKS),
            metric=Metric(ns, "SystemHealthScore", dims, "Minimum", 60),
        ),
    ]
    if monitor_schedule is not None:
        period = max(60, monitor_period_seconds(monitor_schedule))
        periods = 5 if period == 60 else 2
        specs.append(AlarmSpec(
            resource=ns, runbook="health#monitor",
            service="platform", metric_key="health-monitor-silent", tier=Tier.WARNING,
            summary=f"The health monitor published no health score for {periods} x {period // 60} minutes "
                    f"(schedule {monitor_schedule}).",
            impact="dependency checks and the health score are blind; connectivity alarms cannot fire.",
            comparison=LESS, threshold=1, evaluation_periods=periods, datapoints_to_alarm=periods,
            treat_missing_data=NO_DATA_IS_BAD, cause=Cause("Health monitor silent", HEALTH_CHECKS),
            metric=Metric(ns, "SystemHealthScore", dims, "SampleCount", period),
        ))
    return specs


# Reader liveness over 30 minutes of 5-minute windows: a constant window of 6 makes any on/off rhythm
# of 5, 10, 15 or 30 minutes a steady count, so a flapping reader stays one incident; 2 offline windows
# (10 minutes) fire it, so its warning page comes within 15 minutes with the pager's wait.
READER_WINDOWS, READER_OFFLINE_WINDOWS = 6, 2


def reader_alarms(inventory: Inventory, t: BusinessThresholds, environment: str,
                  readers: Sequence[str]) -> list[AlarmSpec]:
    """One per installed reader: offline in school hours is judged on the share of its expected
    heartbeats; switched off at night is not offline."""
    window = school_day_window(t)
    expected = t.reader_heartbeats_per_minute * 5
    minutes = READER_WINDOWS * 5
    return [
        AlarmSpec(
            resource=reader, runbook="rfid#reader-offline", scope="rfid", school_day=True,
            service="rfid", metric_key=f"reader-{reader}-silent", tier=Tier.WARNING,
            summary=f"RFID reader {reader} sent under {t.reader_heartbeat_share_percent:g}% of its expected "
                    f"heartbeats ({expected:g} per 5 minutes) in {READER_OFFLINE_WINDOWS} of the last "
                    f"{READER_WINDOWS} five-minute windows ({READER_OFFLINE_WINDOWS * 5} of {minutes} minutes) "
                    f"during school hours ({window.describe()}).",
            impact="students at that counter cannot verify pickups; staff fall back to manual roll-call.",
            comparison=GREATER_OR_EQUAL, threshold=1, evaluation_periods=READER_WINDOWS,
            datapoints_to_alarm=READER_OFFLINE_WINDOWS, treat_missing_data=NO_DATA_IS_FINE,
            queries=silent_in_window(
                Metric(inventory.business_namespace, "RFIDReaderHeartbeat",
                       {"Environment": environment, "ReaderId": reader}, "Sum", 300),
                window, expected * t.reader_heartbeat_share_percent / 100, "Reader offline in school hours (1 = yes)"),
        )
        for reader in readers
    ]


def school_day_window(t: BusinessThresholds) -> Window:
    return Window(t.school_day_start_ist, t.school_day_end_ist, int(t.school_days_per_week))


def lunch_window(t: BusinessThresholds) -> Window:
    return Window(t.lunch_start_ist, t.lunch_end_ist, int(t.school_days_per_week))


def _outage_queries(errors: Metric, attempts: Metric, min_errors: float,
                    gateway_checks_seconds: Optional[int], gateway_health: Metric) -> tuple[Query, ...]:
    """The share of the window's attempts that ended in an error, from `min_errors` errors (`floored_rate`).

    With the health monitor checking Razorpay, none while two of the window's checks failed: Razorpay's
    own connectivity alarm has that page. Without it, after a Razorpay outage of about half the window
    the share sits at the line for the rest of the hour (the successes from before the outage leave the
    window as fast as new ones enter it), and the alarm flapped: the payments pager paged again and again
    after Razorpay had recovered. `gateway_health` is DependencyHealthy's Average over the window, the
    share of good checks; missing (a silent monitor) counts as good."""
    label = "Payment attempts ended in an error (%)"
    if gateway_checks_seconds is None:
        return floored_rate(errors, attempts, min_errors, label)
    checks = max(1, gateway_health.period // gateway_checks_seconds)
    healthy = f"FILL(m3, 1) > {literal(round(1 - 1.5 / checks, 6))}"
    return floored_rate(errors, attempts, min_errors, label, judged_while=(Query("m3", metric=gateway_health), healthy))


def business_alarms(inventory: Inventory, t: BusinessThresholds, environment: str,
                    gateway_checks_seconds: Optional[int] = None) -> list[AlarmSpec]:
    """`gateway_checks_seconds`: how often the health monitor checks Razorpay (None: it does not)."""
    ns = inventory.business_namespace
    dims = {"Environment": environment}

    def metric(name: str, period: int, stat: str = "Sum", namespace: str = ns) -> Metric:
        return Metric(namespace, name, dims, stat, period)

    lunch = lunch_window(t)
    common = {"resource": ns, "runbook": "business"}
    payments = {**common, "scope": "payments"}
    specs = [
        AlarmSpec(
            **payments, service="payments", metric_key="payment-errors", tier=Tier.CRITICAL,
            summary=f"More than {t.payment_errors_per_5min:g} payment errors in 5 minutes.",
            impact="parents cannot pay for meals; orders stall and revenue is lost.",
            comparison=GREATER, threshold=t.payment_errors_per_5min, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE, metric=metric("PaymentErrors", 300),
        ),
        AlarmSpec(
            **payments, service="payments", metric_key="error-rate", tier=Tier.CRITICAL,
            summary=f"More than {t.payment_error_rate_percent:g}% of the payment attempts of 5 minutes ended in an "
                    f"error (at least {t.payment_error_rate_min_errors:g} errors; 1 of 4, so that it stays in ALARM "
                    "while the share dips under the line for up to three windows).",
            impact="one parent in twenty or more cannot pay; at evening traffic too few errors for the "
                   "5-minute count.",
            comparison=GREATER, threshold=t.payment_error_rate_percent, evaluation_periods=4, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=floored_rate(metric("PaymentErrors", 300), metric("PaymentAttempts", 300),
                                 t.payment_error_rate_min_errors, "Payment attempts ended in an error (%)"),
        ),
        AlarmSpec(
            # One window of an hour sliding minute by minute: it stays in ALARM through the whole outage,
            # so the payments pager pages once while the 5-minute count above dips and rises with the few
            # payments of the early morning.
            **payments, service="payments", metric_key="outage", tier=Tier.CRITICAL, sliding=True,
            summary=f"More than {t.payment_outage_percent:g}% of the last hour's payment attempts ended in an "
                    f"error (at least {t.payment_outage_min_errors:g} errors; any traffic counts)."
                    + (" Not judged in an hour in which two health checks of Razorpay failed: its connectivity "
                       "alarm pages that outage." if gateway_checks_seconds is not None else ""),
            impact="nobody who tries to pay can; at night or on a holiday too few parents pay for the "
                   "5-minute count to show it.",
            comparison=GREATER, threshold=t.payment_outage_percent, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=_outage_queries(
                metric("PaymentErrors", 3600), metric("PaymentAttempts", 3600), t.payment_outage_min_errors,
                gateway_checks_seconds,
                Metric(inventory.health_namespace, "DependencyHealthy",
                       {**dims, "Dependency": "payment_gateway"}, "Average", 3600)),
        ),
        AlarmSpec(
            **payments, service="payments", metric_key="failure-rate", tier=Tier.BUSINESS,
            summary=f"Payment failure rate is above {t.payment_failure_rate_percent:g}% "
                    f"(15-minute windows with {t.payment_failure_min_attempts:g}+ attempts, 2 of 3).",
            impact="a payment method or Razorpay itself is failing for a share of parents.",
            comparison=GREATER, threshold=t.payment_failure_rate_percent, evaluation_periods=3,
            datapoints_to_alarm=2, treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(metric("PaymentFailures", 900), metric("PaymentAttempts", 900), "Payment failure rate (%)",
                         min_denominator=t.payment_failure_min_attempts),
        ),
        AlarmSpec(
            **payments, service="payments", metric_key="verification-failures", tier=Tier.WARNING,
            summary="Payment signature verifications are failing (more than 5 in 5 minutes).",
            impact="paid orders are not confirmed; parents are charged without a meal booked.",
            comparison=GREATER, threshold=5, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE, metric=metric("PaymentVerificationFailures", 300),
        ),
        AlarmSpec(
            **payments, service="payments", metric_key="webhook-failures", tier=Tier.WARNING,
            summary="Razorpay webhooks are failing to process (more than 5 in 5 minutes).",
            impact="payment status updates are lost until Razorpay retries.",
            comparison=GREATER, threshold=5, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE, metric=metric("PaymentWebhookFailures", 300),
        ),
        AlarmSpec(
            # Orders are placed hours ahead and completed at pickup, so creations and completions of
            # the same window do not belong together; completions and cancellations both happen at
            # the counter, so "completed out of finished" compares like with like.
            **common, service="orders", metric_key="completion-rate", tier=Tier.BUSINESS,
            summary=f"Fewer than {t.order_completion_percent:g}% of the orders finished at the counter were "
                    f"completed (15-minute windows with {t.order_completion_min_orders:g}+ finished orders, 3 of 4).",
            impact="students do not get the meals their parents ordered.",
            comparison=LESS, threshold=t.order_completion_percent, evaluation_periods=4, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=(
                Query("m1", metric=metric("OrdersCompleted", 900)),
                Query("m2", metric=metric("OrdersCancelled", 900)),
                Query("e1", expression=(
                    f"IF({filled('m1')} + {filled('m2')} >= {literal(t.order_completion_min_orders)}, "
                    f"100 * {filled('m1')} / ({filled('m1')} + {filled('m2')}), 100)"),
                    label="Orders completed of finished (%)", returns=True),
            ),
        ),
        AlarmSpec(
            **common, service="rfid", metric_key="verification-rate", tier=Tier.BUSINESS, scope="rfid",
            summary=f"RFID card verification success is below {t.rfid_verification_percent:g}% "
                    f"(5-minute windows with {t.rfid_min_attempts:g}+ attempts, 3 of 3).",
            impact="students queue at the counter; meal delivery cannot be confirmed.",
            comparison=LESS, threshold=t.rfid_verification_percent, evaluation_periods=3, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(metric("RFIDVerificationSuccess", 300), metric("RFIDVerificationAttempts", 300),
                         "RFID verification (%)", when_idle=100, min_denominator=t.rfid_min_attempts),
        ),
        AlarmSpec(
            **common, service="orders", metric_key="volume-anomaly", tier=Tier.BUSINESS, school_day=True,
            summary=f"Orders created dropped below the expected band ({t.order_volume_anomaly_band:g} std devs, "
                    "15 minutes).",
            impact="ordering may be broken for a school or an app release; daily revenue falls.",
            comparison=BELOW_BAND, threshold=0, evaluation_periods=3, datapoints_to_alarm=3,
            # The band is drawn on the filled series: no orders is a 0 below the band, not a gap.
            treat_missing_data=NO_DATA_IS_MISSING,
            queries=(
                Query("m1", metric=metric("OrdersCreated", 300)),
                Query("e1", expression=filled("m1"), label="Orders created", returns=True),
                Query("ad1", expression=f"ANOMALY_DETECTION_BAND(e1, {literal(t.order_volume_anomaly_band)})",
                      label="Expected orders", returns=True),
            ),
            band_query_id="ad1",
        ),
        AlarmSpec(
            **common, service="orders", metric_key="ordering-stopped", tier=Tier.BUSINESS, school_day=True,
            summary=f"Fewer than {t.orders_min_per_5min:g} orders per 5 minutes for 15 minutes at lunch "
                    f"({lunch.describe()}).",
            impact="ordering is broken (app, API or payments); meals for the next service are not booked.",
            comparison=GREATER_OR_EQUAL, threshold=1, evaluation_periods=3, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=silent_in_window(metric("OrdersCreated", 300), lunch, t.orders_min_per_5min,
                                     "Ordering stopped at lunch (1 = yes)"),
        ),
        cancellation_alarm(metric("OrdersCompleted", 900), metric("OrdersCancelled", 900), t),
        engagement_alarm(metric("ActiveUsers", 300, "Average"), t),
    ]
    if inventory.api:
        specs.append(satisfaction_alarm(inventory.api, t))
    if inventory.security_log_group:
        specs += security_alarms(inventory, t, metric("UserLogins", 300))
    return specs


def cancellation_alarm(completed: Metric, cancelled: Metric, t: BusinessThresholds) -> AlarmSpec:
    """Cancelled of the orders finished at the counter, above the anomaly band of that share: the band is
    trained on the share itself, so it learns the usual level for each hour and day of the week (user
    guide, "Using CloudWatch anomaly detection"; an anomaly detector on a metric-math expression: API
    reference, MetricMathAnomalyDetector). Metric math has no function that shifts a series in time, so
    a week-over-week comparison cannot be an alarm. Windows with fewer finished orders than the guard
    return no datapoint, which the alarm treats as not breaching."""
    c, x = filled("m1"), filled("m2")
    band = f"ANOMALY_DETECTION_BAND(e1, {t.order_cancellation_anomaly_band:g})"
    return AlarmSpec(
        resource=cancelled.namespace, runbook="business#cancellations",
        service="orders", metric_key="cancellation-rate", tier=Tier.BUSINESS,
        summary=f"The share of cancelled orders at the counter is above its usual band for the hour "
                f"({t.order_cancellation_anomaly_band:g} std devs; 15-minute windows with "
                f"{t.order_cancellation_min_orders:g}+ finished orders, 2 of 2).",
        impact="students are turned away at the counter (meals out of stock, orders expiring); refunds follow.",
        comparison=ABOVE_BAND, threshold=0, evaluation_periods=2, datapoints_to_alarm=2,
        treat_missing_data=NO_DATA_IS_FINE,
        queries=(
            Query("m1", metric=completed),
            Query("m2", metric=cancelled),
            Query("e1", expression=f"IF({c} + {x} >= {literal(t.order_cancellation_min_orders)}, "
                                   f"100 * {x} / ({c} + {x}))",
                  label="Orders cancelled of finished (%)", returns=True),
            Query("ad1", expression=band, label="Usual cancelled share (%)", returns=True),
        ),
        band_query_id="ad1",
    )


def apdex_statistics(target_ms: float) -> tuple[str, str]:
    """The percentile-rank statistics of Apdex's satisfied (at most T) and tolerating (over T, at most 4T)
    requests. "Percentile rank (PR) is the percentage of values that meet a fixed threshold. For example,
    PR(:300) returns the percentage of data points that have a value of 300 or less", exclusive on the
    lower bound and inclusive on the upper (user guide, "CloudWatch statistics definitions"); a metric
    query's `Stat` takes "any CloudWatch statistic or extended statistic" (API reference, MetricStat)."""
    return f"PR(:{target_ms:g})", f"PR({target_ms:g}:{4 * target_ms:g})"


def apdex_expression(satisfied: str, tolerating: str) -> str:
    """Apdex = (satisfied + tolerating / 2) / total, in percent: both ranks are already shares of the total."""
    return f"{satisfied} + {tolerating} / 2"


def satisfaction_alarm(api: ApiConfig, t: BusinessThresholds) -> AlarmSpec:
    """The User Satisfaction Index as Apdex of the API stage's latency, in windows with enough requests
    (otherwise 100: a handful of requests at night, one of them a cold start, says nothing about users)."""
    dims = {"ApiName": api.name, "Stage": api.stage}
    satisfied, tolerating = apdex_statistics(t.apdex_target_ms)
    return AlarmSpec(
        resource=f"{api.name}/{api.stage}", runbook="business#satisfaction",
        service="users", metric_key="satisfaction", tier=Tier.BUSINESS,
        summary=f"User Satisfaction Index (Apdex, T = {t.apdex_target_ms:g} ms) of API {api.name} stage "
                f"{api.stage} is below {t.user_satisfaction_percent:g}% (5-minute windows with "
                f"{t.apdex_min_requests:g}+ requests, 3 of 3).",
        impact="the app feels slow to parents and staff; they give up on orders and payments.",
        comparison=LESS, threshold=t.user_satisfaction_percent, evaluation_periods=3, datapoints_to_alarm=3,
        treat_missing_data=NO_DATA_IS_FINE,
        queries=(
            Query("m1", metric=Metric(API_NAMESPACE, "Latency", dims, satisfied, 300)),
            Query("m2", metric=Metric(API_NAMESPACE, "Latency", dims, tolerating, 300)),
            Query("m3", metric=Metric(API_NAMESPACE, "Count", dims, "Sum", 300)),
            Query("e1", expression=f"IF({filled('m3')} >= {literal(t.apdex_min_requests)}, "
                                   f"{apdex_expression('m1', 'm2')}, 100)",
                  label="User Satisfaction Index (Apdex %)", returns=True),
        ),
    )


def engagement_alarm(active_users: Metric, t: BusinessThresholds) -> AlarmSpec:
    """Active users below their anomaly band during school hours; outside them the expression returns no
    datapoint (IF without a false value), which is not breaching. It assumes a school day, so the school
    calendar mutes its pager on holidays, weekends and between terms."""
    window = school_day_window(t)
    band = f"ANOMALY_DETECTION_BAND(e1, {t.active_users_anomaly_band:g})"
    return AlarmSpec(
        resource=active_users.namespace, runbook="business#engagement", school_day=True,
        service="users", metric_key="engagement-drop", tier=Tier.BUSINESS,
        summary=f"Active users are below their usual band ({t.active_users_anomaly_band:g} std devs) for 15 "
                f"minutes during school hours ({window.describe()}).",
        impact="parents are not reaching the app (login, app release or network problem); orders will follow.",
        comparison=BELOW_BAND, threshold=0, evaluation_periods=3, datapoints_to_alarm=3,
        treat_missing_data=NO_DATA_IS_FINE,
        queries=(
            Query("m1", metric=active_users),
            # No sessions published is 0 users, below the band, not a gap.
            Query("e1", expression=f"IF({window.condition('m1')}, {filled('m1')})", label="Active users",
                  returns=True),
            Query("ad1", expression=band, label="Usual active users", returns=True),
        ),
        band_query_id="ad1",
    )


def failed_login_rate(failed: Metric, succeeded: Metric, floor: float) -> tuple[Query, ...]:
    """100 * failed / (failed + succeeded) in windows with at least `floor` failures, else 0: the
    parents' own wrong passwords grow with the logins and stay a few percent, an attack is a burst of
    failures that outnumbers them. Both filled, so a window of failures and no success is 100 %."""
    f, s = filled("m1"), filled("m2")
    return (
        Query("m1", metric=failed),
        Query("m2", metric=succeeded),
        Query("e1", expression=f"IF({f} >= {literal(floor)}, 100 * {f} / ({f} + {s}), 0)",
              label="Failed logins of attempts (%)", returns=True),
    )


def security_alarms(inventory: Inventory, t: BusinessThresholds, logins: Metric) -> list[AlarmSpec]:
    """From the stack's log metric filters on the security log group: failed logins as a share of the
    attempts (the successful ones are the runtime library's UserLogins), fraud attempts as a count."""
    failed, fraud = SECURITY_FILTERS
    common = {"resource": inventory.security_log_group, "service": "security", "tier": Tier.CRITICAL,
              "scope": SECURITY, "treat_missing_data": NO_DATA_IS_FINE, "evaluation_periods": 1,
              "datapoints_to_alarm": 1}
    return [
        AlarmSpec(
            **common, runbook=f"security#{failed.key}", metric_key=failed.key,
            summary=f"{failed.metric_name} are more than {t.failed_login_rate_percent:g}% of login attempts in 5 "
                    f"minutes, with at least {t.failed_logins_min_per_5min:g} of them (log filter {failed.pattern}).",
            impact="a credential-stuffing attack on parent accounts may be under way.",
            comparison=GREATER, threshold=t.failed_login_rate_percent,
            queries=failed_login_rate(Metric(SECURITY_NAMESPACE, failed.metric_name, {}, "Sum", 300), logins,
                                      t.failed_logins_min_per_5min),
        ),
        AlarmSpec(
            **common, runbook=f"security#{fraud.key}", metric_key=fraud.key,
            summary=f"{fraud.metric_name} above {t.fraud_attempts_per_5min:g} in 5 minutes "
                    f"(log filter {fraud.pattern}).",
            impact="someone is attempting payment fraud.",
            comparison=GREATER, threshold=t.fraud_attempts_per_5min,
            metric=Metric(SECURITY_NAMESPACE, fraud.metric_name, {}, "Sum", 300),
        ),
    ]
