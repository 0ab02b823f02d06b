"""Names of the custom metrics the runtime library publishes and the program alarms on and graphs.

One list both sides import, so a renamed metric cannot silently leave an alarm watching nothing.
Dimensions are always from BOUNDED_DIMENSIONS; ids go into EMF properties, never dimensions.
"""

BUSINESS_NAMESPACE = "HASIVU/Business"
HEALTH_NAMESPACE = "HASIVU/Health"
SECURITY_NAMESPACE = "HASIVU/Security"

BUSINESS_METRICS = (
    "Revenue",
    "PaymentAttempts",
    "PaymentSuccesses",
    "PaymentFailures",
    "PaymentErrors",
    "PaymentVerificationFailures",
    "PaymentWebhookFailures",
    "OrdersCreated",
    "OrdersCompleted",
    "OrdersCancelled",
    "RFIDVerificationAttempts",
    "RFIDVerificationSuccess",
    "RFIDReaderHeartbeat",
    "ActiveUsers",
    "UserLogins",
)
HEALTH_METRICS = ("SystemHealthScore", "DependencyHealthy", "DependencyLatency", "RevenueAtRisk", "UsersAffected")
SECURITY_METRICS = ("FailedLogins", "FraudAttempts")

# ReaderId is bounded: the RFID readers are a fixed fleet of installed hardware.
BOUNDED_DIMENSIONS = ("Environment", "PaymentMethod", "Dependency", "ReaderId")

# Values a dimension may take; anything else is published as "other".
PAYMENT_METHODS = ("upi", "card", "netbanking", "wallet", "emi", "cash", "other")
# Attempts and declines are also published per payment method, so a method failing for a share of parents
# shows as its own failure rate; each metric per method is 7 billed metrics ($2.10 a month), so the other
# payment metrics carry the method as a property only (Logs Insights still groups by it). Status and meal
# type stay EMF properties; as dimensions they would multiply the metric count (and the bill).
PAYMENT_METHOD_BREAKDOWN = ("PaymentAttempts", "PaymentFailures")
HEALTH_DEPENDENCIES = ("database", "redis", "payment_gateway", "rfid")


def published_metrics(environment: str, reader_ids: tuple[str, ...] = ()) -> list[tuple[str, str, dict[str, str]]]:
    """Every custom metric (namespace, name, dimensions) the runtime library can publish: what the
    preflight's cost estimate counts, since each distinct dimension set is billed."""
    env = {"Environment": environment}
    metrics = [(BUSINESS_NAMESPACE, name, env) for name in BUSINESS_METRICS]
    metrics += [(BUSINESS_NAMESPACE, name, {**env, "PaymentMethod": method})
                for name in PAYMENT_METHOD_BREAKDOWN for method in PAYMENT_METHODS]
    metrics += [(BUSINESS_NAMESPACE, "RFIDReaderHeartbeat", {**env, "ReaderId": r}) for r in reader_ids]
    metrics += [(HEALTH_NAMESPACE, name, env) for name in ("SystemHealthScore", "RevenueAtRisk", "UsersAffected")]
    metrics += [(HEALTH_NAMESPACE, name, {**env, "Dependency": d})
                for name in ("DependencyHealthy", "DependencyLatency") for d in HEALTH_DEPENDENCIES]
    return metrics
