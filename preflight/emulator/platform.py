"""What the drill needs from the program run: the alarms, composites and topics as registered
(camelCase props, in preview fidelity), the health monitor's Function and the log metric filters,
plus the inventory and business profile from the stack config."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.model.resource_types import (
    ALARM_TIER,
    COMPOSITE_ALARM,
    FUNCTION,
    HEALTH_MONITOR,
    LOG_METRIC_FILTER,
    METRIC_ALARM,
    SLACK_FORWARDER,
    TOPIC,
)
from preflight.program.engine import ProgramRun, Registration
from preflight.program.props import COMPUTED, struct_to_props
from stackconfig.loader import OWN_DISCOVERY_GROUP


@dataclasses.dataclass(frozen=True)
class LogFilter:
    log_group: str
    pattern: str
    namespace: str
    metric_name: str
    value: str
    default_value: Optional[float]
    dimensions: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Endpoint:
    path: str
    method: str


@dataclasses.dataclass
class Platform:
    environment: str
    alarms: list[MetricAlarmDefinition]
    composites: list[CompositeDefinition]
    functions: dict[str, str]  # function name -> inventory group
    health_function: Optional[str]
    health_environment: dict[str, str]
    health_schedule_minutes: int
    log_filters: list[LogFilter]
    security_log_group: Optional[str]
    business_namespace: str
    health_namespace: str
    api_name: Optional[str]
    api_stage: Optional[str]
    endpoints: list[Endpoint]
    rds_instances: list[str]
    redis_nodes: list[str]
    active_users: int
    daily_revenue_inr: float
    topic_names: dict[str, str] = dataclasses.field(default_factory=dict)  # tier -> SNS topic name
    forwarders: dict[str, str] = dataclasses.field(default_factory=dict)  # function name -> tier it delivers
    region: str = "ap-south-1"

    @property
    def reader_ids(self) -> list[str]:
        return [r for r in self.health_environment.get("HASIVU_RFID_READER_IDS", "").split(",") if r]

    def groups(self) -> set[str]:
        return set(self.functions.values())


def _tiers_of(registration: Registration, key: str, topic_tiers: dict[str, str]) -> list[str]:
    """The tier of each topic an action list points at; in preview the ARNs are unknown, so the
    topics are found through the property's dependencies, as the engine records them."""
    urns = registration.property_dependencies.get(key, [])
    return [topic_tiers[u] for u in urns if u in topic_tiers]


def _rate_minutes(schedule: str) -> int:
    """`rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`; anything else: every minute."""
    text = schedule.strip()
    if text.startswith("rate(") and text.endswith(")"):
        amount, unit = text[5:-1].split()
        return int(amount) * {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[unit]
    return 1


def _config(run: ProgramRun, key: str) -> Any:
    raw = run.files.config.get(f"{run.files.project}:{key}")
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return raw


def platform_from_run(run: ProgramRun, account_functions: tuple[str, ...] = ()) -> Platform:
    """`account_functions`: the functions the account holds (what discovery was answered with); those
    the inventory's discovery takes in join its group, as `stackconfig.loader.merge_discovered` does."""
    by_urn = {r.urn: r for r in run.registrations}
    topic_tiers: dict[str, str] = {}
    topic_names: dict[str, str] = {}
    forwarders: dict[str, str] = {}
    for r in run.registrations:
        if r.type == TOPIC:
            parent = by_urn.get(r.parent)
            if parent is not None and parent.type == ALARM_TIER:
                tier = topic_tiers[r.urn] = parent.name.removesuffix("-alerts")
                name = struct_to_props(r.object).get("name")
                if isinstance(name, str) and name != COMPUTED:
                    topic_names[tier] = name
    alarms, composites, log_filters = [], [], []
    health_function, health_env, schedule = None, {}, 1
    for r in run.registrations:
        props = struct_to_props(r.object)
        if r.type == METRIC_ALARM:
            alarms.append(MetricAlarmDefinition(str(props.get("name") or r.name), props,
                                                _tiers_of(r, "alarmActions", topic_tiers),
                                                _tiers_of(r, "okActions", topic_tiers)))
        elif r.type == COMPOSITE_ALARM:
            suppressor = props.get("actionsSuppressor") or {}
            composites.append(CompositeDefinition(
                str(props.get("alarmName") or r.name), str(props["alarmRule"]),
                _tiers_of(r, "alarmActions", topic_tiers), _tiers_of(r, "okActions", topic_tiers),
                suppressor.get("alarm"), int(suppressor.get("waitPeriod") or 0),
                int(suppressor.get("extensionPeriod") or 0), str(props.get("alarmDescription") or "")))
        elif r.type == LOG_METRIC_FILTER:
            t = props.get("metricTransformation") or {}
            default = t.get("defaultValue")
            log_filters.append(LogFilter(str(props.get("logGroupName")), str(props.get("pattern", "")),
                                         t["namespace"], t["name"], str(t.get("value", "1")),
                                         None if default in (None, COMPUTED) else float(default),
                                         dict(t.get("dimensions") or {})))
        elif r.type == FUNCTION and HEALTH_MONITOR in r.urn:
            # A child's URN carries its parents' type chain: this is the health monitor's Lambda.
            health_function = str(props.get("name") or r.name)
            health_env = dict((props.get("environment") or {}).get("variables") or {})
        elif r.type == FUNCTION and SLACK_FORWARDER in r.urn:
            # `<tier>-alerts-slack-lambda-function`: the forwarder of that tier's topic.
            forwarders[str(props.get("name") or r.name)] = r.name.split("-alerts-")[0]
        elif r.type == "aws:cloudwatch/eventRule:EventRule" and HEALTH_MONITOR in r.urn:
            schedule = _rate_minutes(str(props.get("scheduleExpression") or "rate(1 minute)"))
    inventory = _config(run, "inventory") or {}
    monitor = _config(run, "healthMonitor") or {}
    functions: dict[str, str] = {}
    for group, spec in (inventory.get("lambdaGroups") or {}).items():
        for fn in spec.get("functions", []):
            functions[fn if isinstance(fn, str) else fn["name"]] = group
    discovery = inventory.get("discovery")
    if discovery:
        for name in account_functions:
            if name.startswith(discovery["functionPrefix"]):
                functions.setdefault(name, discovery.get("group") or OWN_DISCOVERY_GROUP)
    if health_function:
        functions[health_function] = "health-monitor"
    for forwarder in forwarders:
        functions[forwarder] = "slack-forwarder"
    # The security log group the program's metric filters read (as registered); the config's
    # `securityLogGroup` (a name, or {name, ...} when the stack creates it) otherwise.
    configured = inventory.get("securityLogGroup")
    security_log_group = next((f.log_group for f in log_filters if f.log_group not in ("None", COMPUTED)),
                              configured.get("name") if isinstance(configured, dict) else configured)
    api = inventory.get("api") or {}
    redis = inventory.get("redis") or {}
    return Platform(
        environment=str(_config(run, "environment") or run.files.stack),
        alarms=alarms, composites=composites, functions=functions,
        health_function=health_function, health_environment=health_env, health_schedule_minutes=schedule,
        log_filters=log_filters, security_log_group=security_log_group,
        business_namespace=inventory.get("businessNamespace", "HASIVU/Business"),
        health_namespace=inventory.get("healthNamespace", "HASIVU/Health"),
        api_name=api.get("name"), api_stage=api.get("stage"),
        endpoints=[Endpoint(e["path"], e.get("method", "GET")) for e in api.get("criticalEndpoints", [])],
        rds_instances=[i["instanceId"] for i in inventory.get("rds") or []],
        redis_nodes=list(redis.get("nodeIds") or []),
        active_users=int(monitor.get("activeUsers") or 1000),
        daily_revenue_inr=float(monitor.get("dailyRevenueInr") or 60_000),
        topic_names=topic_names, forwarders=forwarders, region=str(run.files.config.get("aws:region", "ap-south-1")),
    )
