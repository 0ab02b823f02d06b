"""The platform the drill emulates, from the model of the program run: the alarms and composites as
CloudWatch definitions, the functions with their inventory groups, the health monitor, the log metric
filters, and the inventory's endpoints, databases and traffic basis (through `stackconfig`)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.cloudwatch.mutes import MuteRuleDefinition
from preflight.model.stack import LogFilter, StackModel, build_model
from preflight.program.engine import ProgramRun
from preflight.program.props import COMPUTED
from stackconfig.muting import Pager
from stackconfig.traffic import FunctionRole, platform_size, role_of


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
    # Tier -> its Slack forwarder's environment variables, as the program registered them.
    forwarder_environments: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    region: str = "ap-south-1"
    pagers: list[Pager] = dataclasses.field(default_factory=list)
    # The stack's planned windows and calendar: they apply to every drill by themselves.
    mute_rules: list[MuteRuleDefinition] = dataclasses.field(default_factory=list)
    # Function name -> how the inventory says it is invoked (sync, async, scheduled): the traffic model's
    # role for a function whose name it does not know.
    invocations: dict[str, str] = dataclasses.field(default_factory=dict)

    def role(self, function_name: str) -> FunctionRole:
        return role_of(function_name, self.invocations.get(function_name, "sync"))

    @property
    def reader_ids(self) -> list[str]:
        return [r for r in self.health_environment.get("HASIVU_RFID_READER_IDS", "").split(",") if r]

    def groups(self) -> set[str]:
        return set(self.functions.values())


def cloudwatch_definitions(model: StackModel) -> tuple[list[MetricAlarmDefinition], list[CompositeDefinition]]:
    """The model's metric alarms and composites as the CloudWatch model's definitions."""
    alarms = [MetricAlarmDefinition(a.name, a.props, list(a.alarm_tiers), list(a.ok_tiers)) for a in model.alarms]
    composites = [CompositeDefinition(c.name, c.rule, list(c.alarm_tiers), list(c.ok_tiers), c.suppressor,
                                      c.suppressor_wait_seconds, c.suppressor_extension_seconds, c.description)
                  for c in model.composites]
    return alarms, composites


def platform_from_model(model: StackModel) -> Platform:
    """The functions are the inventory's as the program loaded it: discovered ones included, in their group."""
    settings = model.settings
    if settings is None:
        raise ValueError(f"project {model.project} is not this project's program: drills need its stack config")
    inventory = settings.inventory
    functions = {fn.name: fn.group for fn in inventory.functions}
    health = model.function("health-monitor")
    forwarders = model.forwarders()
    if health is not None:
        functions[health.name] = "health-monitor"
    for forwarder in forwarders:
        functions[forwarder] = "slack-forwarder"
    # The security log group the program's metric filters read (as registered); the inventory's otherwise.
    security_log_group = next((f.log_group for f in model.log_filters if f.log_group not in ("None", COMPUTED)),
                              inventory.security_log_group)
    monitor = settings.health_monitor
    api = inventory.api
    alarms, composites = cloudwatch_definitions(model)
    users, revenue = platform_size(monitor)
    return Platform(
        environment=settings.environment,
        alarms=alarms, composites=composites,
        functions=functions,
        health_function=health.name if health else None,
        health_environment=health.environment if health else {},
        health_schedule_minutes=model.health_schedule_minutes,
        log_filters=model.log_filters, security_log_group=security_log_group,
        business_namespace=inventory.business_namespace, health_namespace=inventory.health_namespace,
        api_name=api.name if api else None, api_stage=api.stage if api else None,
        endpoints=[Endpoint(e.path, e.method) for e in api.critical_endpoints] if api else [],
        rds_instances=[i.instance_id for i in inventory.rds],
        redis_nodes=list(inventory.redis.node_ids) if inventory.redis else [],
        active_users=users, daily_revenue_inr=revenue,
        topic_names=model.topic_names(), forwarders=forwarders, region=model.region,
        forwarder_environments={f.forwards_tier: dict(f.environment) for f in model.functions if f.forwards_tier},
        pagers=model.pagers,
        mute_rules=[MuteRuleDefinition(r.name, r.schedule, frozenset(r.targets))
                    for r in model.mute_rules if r.schedule is not None],
        invocations={fn.name: fn.invocation for fn in inventory.functions},
    )


def platform_from_run(run: ProgramRun) -> Platform:
    return platform_from_model(build_model(run))
