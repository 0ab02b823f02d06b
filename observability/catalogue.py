"""Names of the custom metrics the runtime library publishes and the program alarms on and graphs.

One list both sides import, so a renamed metric cannot silently leave an alarm watching nothing.
Dimensions are always from BOUNDED_DIMENSIONS; ids go into EMF properties, never dimensions.
"""

BUSINESS_NAMESPACE = "HASIVU/Business"
HEALTH_NAMESPACE = "HASIVU/Health"
SECURITY_NAMESPACE = "HASIVU/Security"
OPERATIONS_NAMESPACE = "HASIVU/Operations"

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
OPERATIONS_METRICS = ("MaintenanceMode",)

# ReaderId is bounded: the RFID readers are a fixed fleet of installed hardware.
BOUNDED_DIMENSIONS = ("Environment", "Service", "PaymentMethod", "Status", "MealType", "Operation", "Dependency",
                      "ReaderId")
