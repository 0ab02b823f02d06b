"""The typed stack settings that every component is built from."""

from __future__ import annotations

import dataclasses
import enum
from typing import Optional

import pulumi

from stackconfig.costs import CostSettings
from stackconfig.health_monitor import HealthMonitorSettings
from stackconfig.maintenance import MaintenanceSettings
from stackconfig.slos import Slo
from stackconfig.thresholds import LambdaThresholds, Thresholds


class Tier(enum.StrEnum):
    """The three alert tiers, most urgent first."""

    CRITICAL = "critical"
    WARNING = "warning"
    BUSINESS = "business"


@dataclasses.dataclass(frozen=True)
class SlackChannel:
    """An AWS Chatbot Slack channel (ids, not secrets)."""

    workspace_id: str
    channel_id: str


@dataclasses.dataclass(frozen=True)
class TierContacts:
    tier: Tier
    emails: tuple[str, ...] = ()
    sms_numbers: tuple[str, ...] = ()
    pagerduty_endpoint: Optional[pulumi.Output[str]] = None
    slack_channel: Optional[SlackChannel] = None
    slack_webhook_url: Optional[pulumi.Output[str]] = None


@dataclasses.dataclass(frozen=True)
class LambdaFunction:
    name: str
    group: str
    tier: Tier
    timeout_seconds: int
    thresholds: LambdaThresholds = dataclasses.field(default_factory=LambdaThresholds)
    discovered: bool = False
    # In a fleet group: alarmed by the group's Metrics Insights alarms, not one by one.
    fleet: bool = False
    # "async" for functions invoked asynchronously by events: their lost events are alarmed;
    # "scheduled" for jobs on an EventBridge schedule (asynchronous too): judged on their last run.
    invocation: str = "sync"


@dataclasses.dataclass(frozen=True)
class FleetGroup:
    """A group alarmed as a fleet: one Metrics Insights alarm per metric, each function a contributor.

    `catch_all`: no functions listed, so the group covers every function of the account that no
    other group lists, including functions created after the deploy.
    """

    name: str
    tier: Tier
    timeout_seconds: int
    catch_all: bool


@dataclasses.dataclass(frozen=True)
class CriticalEndpoint:
    path: str
    method: str
    latency_p99_ms: float
    # Requests in 5 minutes below which the endpoint's p99 is not judged (one slow cold start).
    min_requests: float = 200


@dataclasses.dataclass(frozen=True)
class ApiConfig:
    name: str
    stage: str
    critical_endpoints: tuple[CriticalEndpoint, ...] = ()
    # Per-method metrics (Resource, Method dimensions) exist only with detailed metrics on the stage.
    detailed_metrics: bool = False


@dataclasses.dataclass(frozen=True)
class RdsInstance:
    instance_id: str
    max_connections: int
    # A read replica: only replicas publish ReplicaLag.
    replica: bool = False


@dataclasses.dataclass(frozen=True)
class RedisConfig:
    replication_group_id: str
    node_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class SecurityLogGroupCreation:
    """The security log group is created by this stack (KMS-encrypted), kept this many days."""

    retention_days: int = 365


@dataclasses.dataclass(frozen=True)
class Inventory:
    """What the platform runs: the single source for alarms, dashboards and policy checks."""

    functions: tuple[LambdaFunction, ...]
    api: Optional[ApiConfig]
    rds: tuple[RdsInstance, ...]
    redis: Optional[RedisConfig]
    business_namespace: str
    health_namespace: str
    security_log_group: Optional[str]
    # None: the log group exists already (made by the platform); the stack only adds metric filters.
    security_log_group_creation: Optional[SecurityLogGroupCreation] = None
    fleet_groups: tuple[FleetGroup, ...] = ()
    # This stack's own Lambdas (forwarders, health monitor): alarmed one by one, never by a fleet.
    own_functions: tuple[str, ...] = ()
    # Every function name discovery's `aws:lambda/getFunctions` returned, inside the prefix or not.
    account_functions: tuple[str, ...] = ()

    def groups(self) -> dict[str, tuple[LambdaFunction, ...]]:
        grouped: dict[str, list[LambdaFunction]] = {}
        for fn in self.functions:
            grouped.setdefault(fn.group, []).append(fn)
        return {name: tuple(fns) for name, fns in grouped.items()}

    def with_functions(self, extra: tuple[LambdaFunction, ...], account: tuple[str, ...] = ()) -> Inventory:
        return dataclasses.replace(self, functions=self.functions + extra, account_functions=account)


@dataclasses.dataclass(frozen=True)
class Discovery:
    """Lambdas found by name prefix at deploy time and merged into the inventory.

    `group`: the lambdaGroups group they join (its tier and timeout unless discovery sets its own;
    a fleet group's always), or `discovered`, a per-function group of their own, when none is named.
    """

    function_prefix: str
    group: str
    tier: Tier
    timeout_seconds: int
    fleet: bool = False


@dataclasses.dataclass(frozen=True)
class StackSettings:
    project: str
    stack: str
    environment: str
    region: str
    runbook_base_url: str
    alerting: dict[Tier, TierContacts]
    thresholds: Thresholds
    inventory: Inventory
    costs: CostSettings
    discovery: Optional[Discovery] = None
    health_monitor: Optional[HealthMonitorSettings] = None
    maintenance: MaintenanceSettings = dataclasses.field(default_factory=MaintenanceSettings)
    # The SLOs this stack can measure (stackconfig/slos.py): enabled, and their SLI is published.
    slos: tuple[Slo, ...] = ()

    def tags(self, **extra: str) -> dict[str, str]:
        return {"Environment": self.environment, "ManagedBy": "pulumi", "Project": self.project, **extra}

    def runbook(self, anchor: str) -> str:
        return f"{self.runbook_base_url.rstrip('/')}/{anchor}"
