"""Business and security alarms on the custom namespaces the runtime library publishes to."""

from __future__ import annotations

import dataclasses

from components.alarms.spec import (
    BELOW_BAND,
    GREATER,
    LESS,
    NO_DATA_IS_BAD,
    NO_DATA_IS_FINE,
    AlarmSpec,
    Metric,
    Query,
    rate,
)
from stackconfig.model import Inventory, Tier
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


def business_alarms(inventory: Inventory, t: BusinessThresholds, environment: str) -> list[AlarmSpec]:
    ns = inventory.business_namespace
    dims = {"Environment": environment}

    def metric(name: str, period: int, stat: str = "Sum", namespace: str = ns) -> Metric:
        return Metric(namespace, name, dims, stat, period)

    common = {"resource": ns, "runbook": "business"}
    specs = [
        AlarmSpec(
            **common, service="payments", metric_key="payment-errors", tier=Tier.CRITICAL,
            summary=f"More than {t.payment_errors_per_5min:g} payment errors in 5 minutes.",
            impact="parents cannot pay for meals; orders stall and revenue is lost.",
            comparison=GREATER, threshold=t.payment_errors_per_5min, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE, metric=metric("PaymentErrors", 300),
        ),
        AlarmSpec(
            **common, service="payments", metric_key="failure-rate", tier=Tier.BUSINESS,
            summary=f"Payment failure rate is above {t.payment_failure_rate_percent:g}%.",
            impact="a payment method or Razorpay itself is failing for a share of parents.",
            comparison=GREATER, threshold=t.payment_failure_rate_percent, evaluation_periods=3,
            datapoints_to_alarm=2, treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(metric("PaymentFailures", 300), metric("PaymentAttempts", 300), "Payment failure rate (%)"),
        ),
        AlarmSpec(
            **common, service="payments", metric_key="verification-failures", tier=Tier.WARNING,
            summary="Payment signature verifications are failing (more than 5 in 5 minutes).",
            impact="paid orders are not confirmed; parents are charged without a meal booked.",
            comparison=GREATER, threshold=5, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE, metric=metric("PaymentVerificationFailures", 300),
        ),
        AlarmSpec(
            **common, service="payments", metric_key="webhook-failures", tier=Tier.WARNING,
            summary="Razorpay webhooks are failing to process (more than 5 in 5 minutes).",
            impact="payment status updates are lost until Razorpay retries.",
            comparison=GREATER, threshold=5, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data=NO_DATA_IS_FINE, metric=metric("PaymentWebhookFailures", 300),
        ),
        AlarmSpec(
            **common, service="orders", metric_key="completion-rate", tier=Tier.BUSINESS,
            summary=f"Order completion rate is below {t.order_completion_percent:g}%.",
            impact="students do not get the meals their parents ordered.",
            comparison=LESS, threshold=t.order_completion_percent, evaluation_periods=4, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(metric("OrdersCompleted", 900), metric("OrdersCreated", 900), "Order completion (%)",
                         when_idle=100),
        ),
        AlarmSpec(
            **common, service="rfid", metric_key="verification-rate", tier=Tier.BUSINESS,
            summary=f"RFID card verification success is below {t.rfid_verification_percent:g}%.",
            impact="students queue at the counter; meal delivery cannot be confirmed.",
            comparison=LESS, threshold=t.rfid_verification_percent, evaluation_periods=3, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=rate(metric("RFIDVerificationSuccess", 300), metric("RFIDVerificationAttempts", 300),
                         "RFID verification (%)", when_idle=100),
        ),
        AlarmSpec(
            **common, service="orders", metric_key="volume-anomaly", tier=Tier.BUSINESS,
            summary=f"Orders created dropped below the expected band ({t.order_volume_anomaly_band:g} std devs).",
            impact="ordering may be broken for a school or an app release; daily revenue falls.",
            comparison=BELOW_BAND, threshold=0, evaluation_periods=3, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_FINE,
            queries=(
                Query("m1", metric=metric("OrdersCreated", 900), returns=True),
                Query("ad1", expression=f"ANOMALY_DETECTION_BAND(m1, {t.order_volume_anomaly_band:g})",
                      label="Expected orders", returns=True),
            ),
            band_query_id="ad1",
        ),
        AlarmSpec(
            resource=inventory.health_namespace, runbook="health#score",
            service="platform", metric_key="health-score", tier=Tier.CRITICAL,
            summary=f"System health score is below {t.health_score:g}% (or the health monitor stopped reporting).",
            impact="several dependencies are degraded at once; the platform is at risk.",
            comparison=LESS, threshold=t.health_score, evaluation_periods=3, datapoints_to_alarm=3,
            treat_missing_data=NO_DATA_IS_BAD,
            metric=metric("SystemHealthScore", 60, "Minimum", inventory.health_namespace),
        ),
    ]
    if inventory.security_log_group:
        limits = {"failed-logins": t.failed_logins_per_5min, "fraud-attempts": t.fraud_attempts_per_5min}
        impacts = {
            "failed-logins": "a credential-stuffing attack on parent accounts may be under way.",
            "fraud-attempts": "someone is attempting payment fraud.",
        }
        for f in SECURITY_FILTERS:
            specs.append(AlarmSpec(
                resource=inventory.security_log_group, runbook=f"security#{f.key}",
                service="security", metric_key=f.key, tier=Tier.CRITICAL,
                summary=f"{f.metric_name} above {limits[f.key]:g} in 5 minutes (log filter {f.pattern}).",
                impact=impacts[f.key],
                comparison=GREATER, threshold=limits[f.key], evaluation_periods=1, datapoints_to_alarm=1,
                treat_missing_data=NO_DATA_IS_FINE,
                metric=Metric(SECURITY_NAMESPACE, f.metric_name, {}, "Sum", 300),
            ))
    return specs
