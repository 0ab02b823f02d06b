"""The stack config's shape, written once: every key, its type, limits, default and description.

`StackConfig` validates the `hasivu-monitoring:` namespace of `Pulumi.<stack>.yaml`; the loader
turns the validated sections into the typed settings the components use. The same models give
the JSON Schema (`python -m preflight schema`) and the `config:` block of `Pulumi.yaml`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Optional, Union

from pydantic import Field, create_model

from stackconfig.costs import BUDGET_SERVICES, DEFAULT_SAMPLING
from stackconfig.health_monitor import HealthMonitorSection
from stackconfig.maintenance import MaintenanceSection, SchoolCalendarSection
from stackconfig.model import Tier
from stackconfig.slos import SlosSection
from stackconfig.thresholds import SECTIONS, Thresholds
from stackconfig.types import Section, camel, non_empty, number, one_of, or_mapping, snake, text, whole

TIERS = tuple(tier.value for tier in Tier)
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "ANY")

Email = text(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$",
             "an email address like ops@hasivu.com")
Phone = text(r"^\+[1-9]\d{7,14}$", "an E.164 phone number like +919800000001")
SlackId = text(r"^[A-Z0-9]{6,20}$", "a Slack id like T01ABCDEF (workspace) or C01ABCDEF (channel)")
ResourceId = text(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,139}$", "a resource name (letters, digits, '.', '-' and '_')")
FunctionName = text(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", "a Lambda function name (letters, digits, - and _)")
Namespace = text(r"^[A-Za-z0-9/_.#:-]{1,255}$", "a CloudWatch namespace like HASIVU/Business")
LogGroupName = text(r"^[A-Za-z0-9_/.#-]{1,512}$",
                    "a CloudWatch Logs group name like /hasivu/production/security-events")
# The Resource dimension is the API Gateway resource path (`/{proxy+}` on a proxy API), never a request path.
ApiPath = text(r"^/[A-Za-z0-9/_{}.+-]*$",
               "a resource path as defined in API Gateway, like /payments/orders or /{proxy+}")
HttpsUrl = text(r"^https://\S+$", "an HTTPS URL like https://runbooks.hasivu.com")
Environment = text(r"^[a-z][a-z0-9-]{1,30}$", "a lower-case environment name like production")
AnomalyMonitorArn = text(r"^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor/[0-9a-f-]{36}$",
                         "a Cost Explorer anomaly monitor ARN (arn:aws:ce::<account>:anomalymonitor/<id>)")
TierName = one_of(TIERS, f"one of the tiers {', '.join(TIERS)}")
Method = one_of(HTTP_METHODS, f"one of {', '.join(HTTP_METHODS)}")
Amount = number("a positive amount in USD", low=0, low_exclusive=True)
Timeout = whole(1, 900, "seconds, from 1 to 900 (Lambda's limit)")
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


# --- alerting ---------------------------------------------------------------------------------

class SlackChannelSection(Section):
    workspace_id: SlackId = Field(description="Slack workspace (team) id, e.g. T01ABCDEF")
    channel_id: SlackId = Field(description="Slack channel id, e.g. C01ABCDEF")


class TierSection(Section):
    emails: tuple[Email, ...] = Field((), description="addresses subscribed to the tier topic")
    sms: tuple[Phone, ...] = Field((), description="E.164 numbers subscribed by SMS")
    pagerduty: bool = Field(False, strict=True,
                            description="page through PagerDuty (needs the secret pagerdutyEndpoint)")
    slack: Optional[Union[Literal["webhook"], SlackChannelSection]] = Field(
        None, description="'webhook' (needs the secret slackWebhookUrl) or an AWS Chatbot channel")


class AlertingSection(Section):
    critical: TierSection = Field(description="pages: SMS, PagerDuty, email")
    warning: TierSection = Field(description="email and Slack")
    business: TierSection = Field(description="email to business operations")


# --- thresholds: generated from the dataclasses in stackconfig/thresholds.py ---------------------

def _threshold_type(field: str) -> Any:
    if field.endswith("_ist"):
        # Windows start at or after 05:30 IST, so they stay on one UTC day (metric math's HOUR is UTC).
        return number("an IST time in hours from 5.5 (05:30) to 24", low=5.5, high=24)
    if field == "school_days_per_week":
        return whole(1, 7, "days from Monday: 5 (Mon-Fri), 6 (Mon-Sat) or 7")
    if field == "low_volume_window_minutes":
        return whole(0, 1440, "whole minutes from 0 (not low-volume) to 1440")
    if field == "duration_timeout_share":
        return number("a share of the timeout in (0, 1]", low=0, high=1, low_exclusive=True)
    if field.endswith("percent") or field == "health_score":
        return number("a percentage between 0 and 100", low=0, high=100)
    return number("a number >= 0", low=0)


def _threshold_section(cls: type) -> type[Section]:
    fields: dict[str, Any] = {
        f.name: (Optional[_threshold_type(f.name)], Field(None, description=f"default {f.default:g}"))
        for f in dataclasses.fields(cls)
    }
    return create_model(f"{cls.__name__}Section", __base__=Section, **fields)


THRESHOLD_SECTIONS: dict[str, type[Section]] = {
    attr: _threshold_section(type(getattr(Thresholds(), attr))) for attr in SECTIONS.values()
}
LambdaThresholdsSection = THRESHOLD_SECTIONS["lambda_"]
ThresholdsSection: type[Section] = create_model(
    "ThresholdsSection", __base__=Section,
    **{attr: (Optional[model], Field(None, description=f"overrides of the {camel(attr)} alarm thresholds"))
       for attr, model in THRESHOLD_SECTIONS.items()},
)


# --- inventory ----------------------------------------------------------------------------------

Invocation = one_of(("sync", "async", "scheduled"), "one of sync, async, scheduled")


class FunctionEntry(Section):
    name: FunctionName = Field(description="Lambda function name")
    timeout_seconds: Optional[Timeout] = Field(None, description="the function's timeout (default: the group's)")
    tier: Optional[TierName] = Field(None, description="alert tier (default: the group's)")
    thresholds: Optional[LambdaThresholdsSection] = Field(  # type: ignore[valid-type]
        None, description="per-function Lambda threshold overrides")
    invocation: Optional[Invocation] = Field(  # type: ignore[valid-type]
        None, description="how it is invoked (default: the group's); scheduled: a job on an EventBridge schedule, "
                          "judged on its last run")


class LambdaGroupSection(Section):
    tier: Optional[TierName] = Field(
        None, description="alert tier of the group's alarms (required; a fleet group's defaults to warning)")
    timeout_seconds: Timeout = Field(30, description="timeout of the group's functions")
    invocation: Invocation = Field(  # type: ignore[valid-type]
        "sync", description="async: invoked by events, lost events are alarmed; scheduled: jobs on an EventBridge "
                            "schedule, judged on their last run, lost runs alarmed")
    fleet: bool = Field(
        False, strict=True,
        description="one Metrics Insights alarm per metric for the whole group instead of alarms per function; "
                    "a fleet group without functions covers every function of the account no other group lists "
                    "(nor this stack's own); its functions are plain names: tier, timeout and thresholds are the "
                    "group's, invocation sync")
    functions: tuple[or_mapping(FunctionEntry, "name"), ...] = Field(
        (), description="function names, or mappings with name, timeoutSeconds, tier, thresholds "
                        "(required unless fleet: true)")


class EndpointEntry(Section):
    path: ApiPath = Field(description="API resource path")
    method: Method = Field("POST", description="HTTP method")
    latency_p99_ms: Optional[number("a positive number of milliseconds", low=0, low_exclusive=True)] = Field(
        None, description="p99 latency threshold (default thresholds.api.endpointLatencyP99Ms)")
    min_requests: Optional[number("a number of requests >= 1", low=1)] = Field(
        None, description="requests in 5 minutes below which the p99 is not judged, sized from this endpoint's own "
                          "traffic: below its busiest windows, above its quiet ones (default "
                          "thresholds.api.endpointMinRequests)")


class ApiSection(Section):
    name: ResourceId = Field(description="REST API name")
    stage: ResourceId = Field(description="deployed stage, e.g. prod")
    critical_endpoints: tuple[or_mapping(EndpointEntry, "path"), ...] = Field(
        (), description="paths, or mappings with path, method, latencyP99Ms, alarmed one by one")
    detailed_metrics: bool = Field(
        False, strict=True,
        description="the stage has detailed CloudWatch metrics enabled (required for criticalEndpoints)")


class RdsEntry(Section):
    instance_id: ResourceId = Field(description="RDS DB instance identifier")
    max_connections: whole(1, 100_000) = Field(100, description="max_connections of the instance")
    replica: bool = Field(False, strict=True, description="a read replica (only replicas publish ReplicaLag)")


class RedisSection(Section):
    replication_group_id: ResourceId = Field(description="ElastiCache replication group id")
    node_ids: non_empty(ResourceId, "at least one cache node id") = Field(description="cache cluster (node) ids")


class DiscoverySection(Section):
    function_prefix: ResourceId = Field(description="functions whose names start with this are alarmed too")
    group: Optional[ResourceId] = Field(
        None, description="the lambdaGroups group discovered functions join; omitted or `discovered`: a "
                          "per-function group of their own")
    tier: Optional[TierName] = Field(
        None, description="alert tier of discovered functions (default: the group's, or warning); in a fleet "
                          "group only the group's")
    timeout_seconds: Optional[Timeout] = Field(
        None, description="timeout assumed for discovered functions (default: the group's, or 30); in a fleet "
                          "group only the group's")


class SecurityLogGroupSection(Section):
    name: LogGroupName = Field(description="log group the platform writes security events to")
    create: bool = Field(True, strict=True, description="create it (KMS-encrypted) in this stack; false: it exists")
    retention_days: one_of(  # type: ignore[valid-type]
        RETENTION_DAYS, f"a CloudWatch Logs retention period in days: {', '.join(map(str, RETENTION_DAYS))}",
    ) = Field(365, description="retention of a created log group, in days")


class InventorySection(Section):
    lambda_groups: dict[str, LambdaGroupSection] = Field(description="group name -> tier, timeoutSeconds, functions")
    api: Optional[ApiSection] = Field(None, description="the API Gateway REST API and its critical endpoints")
    rds: tuple[or_mapping(RdsEntry, "instanceId"), ...] = Field((), description="RDS instances")
    redis: Optional[RedisSection] = Field(None, description="the ElastiCache Redis replication group")
    business_namespace: Namespace = Field("HASIVU/Business", description="namespace of the business metrics")
    health_namespace: Namespace = Field("HASIVU/Health", description="namespace of the health monitor's metrics")
    security_log_group: Optional[or_mapping(SecurityLogGroupSection, "name")] = Field(
        None, description="security events log group: a name (created here) or {name, create, retentionDays}")
    discovery: Optional[DiscoverySection] = Field(None, description="alarm functions found by name prefix too")


# --- costs --------------------------------------------------------------------------------------

BudgetAmounts: type[Section] = create_model(
    "BudgetAmounts", __base__=Section,
    **{snake(key): (Optional[Amount], Field(None, description=f"USD: {service or 'the whole bill'}"))
       for key, service in BUDGET_SERVICES.items()},
)


class BudgetsSection(Section):
    daily: Optional[BudgetAmounts] = Field(  # type: ignore[valid-type]
        None, description="daily budgets (default: total 200, lambda 50, ...)")
    monthly: Optional[BudgetAmounts] = Field(None, description="monthly budgets (default: total 5000, ...)")  # type: ignore[valid-type]


class CostAnomalySection(Section):
    threshold_usd: Amount = Field(50, description="alert when an anomaly's total impact reaches this")
    existing_monitor_arn: Optional[AnomalyMonitorArn] = Field(
        None, description="reuse this account's SERVICE anomaly monitor (AWS allows one) instead of creating one")


class SamplingEntry(Section):
    rate: Optional[number("a sampling rate between 0 and 1", low=0, high=1)] = Field(None, description="fixed rate")
    reservoir: Optional[whole(0)] = Field(None, description="traces per second recorded before the rate applies")
    monthly_requests: Optional[whole(0)] = Field(
        None, description="expected requests a month, for the cost estimate (default: the traffic model's for "
                          "the class's function groups)")


SamplingSection: type[Section] = create_model(
    "SamplingSection", __base__=Section,
    **{c.name: (Optional[SamplingEntry],
                Field(None, description=f"default: rate {c.rate:g} for {', '.join(c.url_paths)}"))
       for c in DEFAULT_SAMPLING},
)


class TracingSection(Section):
    sampling: Optional[SamplingSection] = Field(None, description="overrides per sampling class")  # type: ignore[valid-type]
    cost_explorer_queries_per_day: whole(0) = Field(
        4, description="Cost Explorer calls of the runtime library a day: its cache keeps a breakdown 8 hours, "
                       "as long as Cost Explorer's data stays current, and a new day is a new query")
    manage_encryption: bool = Field(
        True, strict=True,
        description="this stack owns the account's X-Ray EncryptionConfig (exactly one stack per account and region)")


# --- the namespace ------------------------------------------------------------------------------

class StackConfig(Section):
    """The `hasivu-monitoring:` keys of a stack file."""

    environment: Environment = Field(description="environment name used in every resource and alarm name")
    runbook_base_url: HttpsUrl = Field(description="HTTPS base of the runbooks linked from alarm descriptions")
    alerting: AlertingSection = Field(description="contacts per alert tier")
    inventory: InventorySection = Field(description="what the platform runs: the source of alarms and dashboards")
    thresholds: ThresholdsSection = Field(default_factory=ThresholdsSection,  # type: ignore[valid-type]
                                          description="alarm threshold overrides per service")
    budgets: BudgetsSection = Field(default_factory=BudgetsSection, description="budget amounts per period")
    cost_anomaly: CostAnomalySection = Field(default_factory=CostAnomalySection,
                                             description="cost anomaly detection")
    tracing: TracingSection = Field(default_factory=TracingSection, description="X-Ray sampling and encryption")
    monitoring_budget_usd: Optional[Amount] = Field(
        None, description="monthly budget of this monitoring; the preflight warns above it")
    health_monitor: Optional[HealthMonitorSection] = Field(None, description="the deployed health monitor Lambda")
    slos: SlosSection = Field(default_factory=SlosSection,  # type: ignore[valid-type]
                              description="service level objectives: targets, traffic guards, the latency threshold")
    maintenance: MaintenanceSection = Field(default_factory=MaintenanceSection,
                                            description="planned maintenance windows, muted as alarm mute rules")
    school_calendar: Optional[SchoolCalendarSection] = Field(
        None, description="terms, holidays and weekends (IST): the school-day alarms do not page on days "
                          "without school")
    pagerduty_endpoint: Optional[str] = Field(
        None, description="secret: PagerDuty HTTPS integration URL (pulumi config set --secret)",
        json_schema_extra={"secret": True})
    slack_webhook_url: Optional[str] = Field(
        None, description="secret: Slack incoming webhook URL (pulumi config set --secret)",
        json_schema_extra={"secret": True})


SECRET_KEYS = ("pagerdutyEndpoint", "slackWebhookUrl")
