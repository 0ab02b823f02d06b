"""The policies of the pack, their default levels and config schemas."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from hasivu_policy.cost import validate_monitoring_cost
from hasivu_policy.coverage import validate_alarm_coverage
from hasivu_policy.encryption import validate_alert_encryption
from hasivu_policy.hygiene import (
    DEFAULT_REQUIRED_TAGS,
    DEFAULT_TAGGED_TYPES,
    validate_required_tags,
    validate_runbook_links,
)
from hasivu_policy.mute_rules import validate_alarm_mute_rules
from hasivu_policy.routing import validate_alarm_routing
from hasivu_policy.secrets import validate_no_plaintext_secrets
from hasivu_policy.singletons import validate_account_singletons
from hasivu_policy.sms import validate_sms_not_alone, validate_sms_sandbox
from hasivu_policy.validity import validate_deploy_time_validity

PACK_NAME = "hasivu-monitoring-policies"
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

EXEMPT = {"exemptResources": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "resource names or URNs this rule skips"}}
CRITICAL_TAG = {
    "criticalTagKey": {"type": "string", "default": "Tier"},
    "criticalTagValue": {"type": "string", "default": "critical"},
}

POLICIES = [
    StackValidationPolicy(
        name="alarm-coverage",
        description="Every Lambda has an Errors alarm, every API stage a 5XX alarm, every RDS instance CPU and "
                    "storage alarms.",
        enforcement_level=MANDATORY,
        validate=validate_alarm_coverage,
        config_schema=PolicyConfigSchema(properties=EXEMPT),
        remediation_steps="Add the resource to the monitoring inventory, or create the named alarm.",
    ),
    StackValidationPolicy(
        name="alert-encryption",
        description="SNS topics are KMS-encrypted; alert topics use a customer-managed key the publishing "
                    "services may use; KMS keys rotate.",
        enforcement_level=MANDATORY,
        validate=validate_alert_encryption,
        remediation_steps="Use an AlarmTier (own CMK with rotation, key policy for the publishers).",
    ),
    StackValidationPolicy(
        name="alarm-routing",
        description="Every alarm notifies an SNS topic, actions are enabled, critical alarms have OK actions.",
        enforcement_level=MANDATORY,
        validate=validate_alarm_routing,
        config_schema=PolicyConfigSchema(properties={
            **CRITICAL_TAG,
            "allowDisabledActions": {"type": "boolean", "default": False},
        }),
        remediation_steps="Create alarms through AlarmFactory, which routes them to their tier topic.",
    ),
    StackValidationPolicy(
        name="account-singletons",
        description="At most one SERVICE cost anomaly monitor and one X-Ray EncryptionConfig per stack; an "
                    "anomaly subscription watches this stack's monitor or an existing monitor's ARN.",
        enforcement_level=MANDATORY,
        validate=validate_account_singletons,
        remediation_steps="Reuse the account's monitor (costAnomaly.existingMonitorArn); let one stack own X-Ray "
                          "encryption (tracing.manageEncryption).",
    ),
    ResourceValidationPolicy(
        name="deploy-time-validity",
        description="Alarms, composite alarms, dashboards, sampling rules and budgets that AWS would reject "
                    "at deploy time (which preview does not catch).",
        enforcement_level=MANDATORY,
        validate=validate_deploy_time_validity,
        remediation_steps="Correct the values the message names.",
    ),
    StackValidationPolicy(
        name="alarm-mute-rules",
        description="Alarm mute rules mute at most 100 alarms, all of this stack, on a schedule CloudWatch "
                    "accepts (cron or at expression, duration PT1M-P15D, a time zone identifier).",
        enforcement_level=MANDATORY,
        validate=validate_alarm_mute_rules,
        remediation_steps="Mute the stack's pagers through the maintenance and schoolCalendar config.",
    ),
    ResourceValidationPolicy(
        name="no-plaintext-secrets",
        description="No webhook URL or credential in plaintext resource configuration.",
        enforcement_level=MANDATORY,
        validate=validate_no_plaintext_secrets,
        remediation_steps="Keep secrets in Pulumi secrets, SSM SecureString or Secrets Manager.",
    ),
    ResourceValidationPolicy(
        name="required-tags",
        description="Monitoring resources carry the Environment, Service and Tier tags.",
        enforcement_level=ADVISORY,
        validate=validate_required_tags,
        config_schema=PolicyConfigSchema(properties={
            "requiredTags": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_REQUIRED_TAGS},
            "resourceTypes": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_TAGGED_TYPES},
        }),
    ),
    ResourceValidationPolicy(
        name="runbook-links",
        description="Critical alarms link a runbook in their description.",
        enforcement_level=ADVISORY,
        validate=validate_runbook_links,
        config_schema=PolicyConfigSchema(properties={
            **CRITICAL_TAG,
            "runbookPattern": {"type": "string", "default": r"https://\S+"},
        }),
    ),
    StackValidationPolicy(
        name="monitoring-cost",
        description="High-resolution alarms, noisy health-check sampling, paid dashboards, unbounded "
                    "custom-metric dimensions.",
        enforcement_level=ADVISORY,
        validate=validate_monitoring_cost,
        config_schema=PolicyConfigSchema(properties={
            "maxHealthCheckSamplingRate": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.05},
            "acceptedDashboards": {"type": "integer", "minimum": 0, "default": 3,
                                   "description": "dashboards a stack may have before the advice"},
        }),
    ),
    StackValidationPolicy(
        name="sms-not-alone",
        description="A topic that pages by SMS also pages by email or PagerDuty.",
        enforcement_level=MANDATORY,
        validate=validate_sms_not_alone,
        remediation_steps="Add an email or PagerDuty contact to every tier that has SMS numbers.",
    ),
    StackValidationPolicy(
        name="sms-sandbox",
        description="SMS subscriptions need the account out of the SNS SMS sandbox and, for India, a "
                    "DLT-registered sender ID.",
        enforcement_level=ADVISORY,
        validate=validate_sms_sandbox,
        remediation_steps="Exit the SNS SMS sandbox, raise the SMS spend quota, register the sender ID (DLT).",
    ),
]
