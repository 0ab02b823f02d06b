"""The one typed model of a program run: what the program registered, read once, for every tool.

Built from the recorded registrations (camelCase props, as the engine hands them to an analyzer),
so it follows any Pulumi program; where the program is this project's, `settings` is the typed stack
config the program itself loaded (`stackconfig`), the only reading of the inventory.

In preview fidelity a value AWS computes at create time is `COMPUTED`; an action's topic is then
found through the property's dependency on it, as the engine records it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Optional

from cloudwatch_rules.composite import RuleError, members, parse_rule
from cloudwatch_rules.metrics_insights import is_insights_query
from cloudwatch_rules.mute_rules import MuteRuleError, Schedule, schedule_of, targets_of
from preflight.model.resource_types import (
    ALARM_MUTE_RULE,
    ALARM_TIER,
    ANOMALY_MONITOR,
    ANOMALY_SUBSCRIPTION,
    COMPOSITE_ALARM,
    DASHBOARD,
    EVENT_RULE,
    FUNCTION,
    HEALTH_MONITOR,
    KMS_KEY,
    LOG_GROUP,
    LOG_METRIC_FILTER,
    METRIC_ALARM,
    SLACK_FORWARDER,
    SUBSCRIPTION,
    TOPIC,
    XRAY_ENCRYPTION,
)
from preflight.program.engine import UNKNOWN_OUTPUT, ProgramRun
from preflight.program.props import COMPUTED, struct_to_props
from stackconfig.model import StackSettings
from stackconfig.muting import Pager, pager_from_tags

# The tag every tier topic carries (components/alarm_tier.py): the one rule for a topic's tier.
TIER_TAG = "Tier"


@dataclasses.dataclass(frozen=True)
class Resource:
    """One registration with its props decoded (camelCase, `COMPUTED` for values unknown in preview)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    props: dict[str, Any]
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, list[str]]

    def deps(self, key: str) -> list[str]:
        return self.property_dependencies.get(key, [])

    def known(self, key: str) -> Optional[str]:
        """A string prop, when it is known; None when absent or computed."""
        value = self.props.get(key)
        return value if isinstance(value, str) and value != COMPUTED else None

    def label(self, key: str = "name") -> str:
        """The AWS name where it is known, else the Pulumi resource name."""
        return self.known(key) or self.name


@dataclasses.dataclass(frozen=True)
class MetricRef:
    """A metric as an alarm names it; `dimensions` is None when a value is unknown until deploy."""

    namespace: str
    name: str
    dimensions: Optional[tuple[tuple[str, str], ...]]
    of_stack_resource: bool  # a dimension names a resource this stack creates (no data before deploy)

    def label(self) -> str:
        dims = "unknown until deploy" if self.dimensions is None else ", ".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace} {self.name} {{{dims}}}"


@dataclasses.dataclass(frozen=True)
class Topic:
    urn: str
    name: str
    tier: Optional[str]
    sms_numbers: tuple[str, ...]
    resource: Resource


@dataclasses.dataclass(frozen=True)
class MetricAlarm:
    urn: str
    name: str
    props: dict[str, Any]
    alarm_tiers: tuple[str, ...]  # the tier of each topic in alarmActions
    ok_tiers: tuple[str, ...]
    metrics: tuple[MetricRef, ...]  # every metric it reads (each query's, for metric math)
    kind: str  # static | anomaly | metric-math | metrics-insights
    tags: dict[str, str]


@dataclasses.dataclass(frozen=True)
class CompositeAlarm:
    urn: str
    name: str
    rule: str
    members: frozenset[str]
    alarm_tiers: tuple[str, ...]
    ok_tiers: tuple[str, ...]
    suppressor: Optional[str]
    suppressor_wait_seconds: int
    suppressor_extension_seconds: int
    description: str
    tags: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class MuteRule:
    """An alarm mute rule: `schedule` is None when CloudWatch would refuse it (the policy pack says why)
    or a value is unknown in preview."""

    name: str
    description: str
    expression: str
    duration: str
    timezone: Optional[str]
    targets: tuple[str, ...]
    schedule: Optional[Schedule]


@dataclasses.dataclass(frozen=True)
class Function:
    urn: str
    name: str
    role: str  # health-monitor | slack-forwarder | other
    forwards_tier: Optional[str]  # a Slack forwarder: the tier whose topic it delivers
    environment: dict[str, str]


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
class Dashboard:
    name: str
    body: Optional[dict[str, Any]]  # None while the body is unknown in preview


@dataclasses.dataclass(frozen=True)
class OwnedResource:
    """A resource this stack creates, with the tags it gives it (how the account tells it is ours)."""

    name: str
    tags: dict[str, str]
    resource_name: str = ""  # the Pulumi resource name, and its parent's URN (for `pulumi import`)
    parent_urn: str = ""


@dataclasses.dataclass
class StackModel:
    project: str
    stack: str
    region: str
    preview: bool
    resources: list[Resource]
    outputs: dict[str, Any]
    alarms: list[MetricAlarm]
    composites: list[CompositeAlarm]
    pagers: list[Pager]  # the composites that page, with the group a maintenance window mutes
    mute_rules: list[MuteRule]
    topics: list[Topic]
    functions: list[Function]
    log_filters: list[LogFilter]
    dashboards: list[Dashboard]
    log_groups_created: dict[str, OwnedResource]
    anomaly_monitors_created: list[dict[str, Any]]
    anomaly_monitor_arns_used: set[str]
    xray_encryption_key: Optional[OwnedResource]  # None: the stack leaves X-Ray encryption alone
    manages_xray_encryption: bool
    health_schedule_minutes: int
    settings: Optional[StackSettings]  # the typed stack config, for this project's programs
    unset_secrets: tuple[str, ...]  # secrets the stack requires and its file does not set
    stack_file: Path  # the Pulumi.<stack>.yaml the run read (fix lines quote it)
    _by_type: dict[str, list[Resource]] = dataclasses.field(default_factory=dict, repr=False)

    def of_type(self, type_: str) -> list[Resource]:
        return self._by_type.get(type_, [])

    def output(self, name: str) -> Any:
        value = self.outputs.get(name)
        return None if value is UNKNOWN_OUTPUT else value

    @property
    def function_names(self) -> set[str]:
        return {f.name for f in self.functions}

    @property
    def log_groups_used(self) -> set[str]:
        return {f.log_group for f in self.log_filters if f.log_group != COMPUTED}

    def function(self, role: str) -> Optional[Function]:
        return next((f for f in self.functions if f.role == role), None)

    def forwarders(self) -> dict[str, str]:
        """Slack forwarder function name -> the tier it delivers."""
        return {f.name: f.forwards_tier for f in self.functions if f.forwards_tier}

    def topic_names(self) -> dict[str, str]:
        """tier -> the tier topic's SNS name, where known."""
        return {t.tier: t.name for t in self.topics if t.tier and t.name != t.resource.name}

    def composites_by_name(self) -> dict[str, CompositeAlarm]:
        return {c.name: c for c in self.composites}


def _resources(run: ProgramRun) -> Iterator[Resource]:
    for r in run.registrations:
        yield Resource(r.urn, r.type, r.name, r.parent, r.custom, struct_to_props(r.object),
                       tuple(r.dependencies), r.property_dependencies)


def _topic_tier(topic: Resource, by_urn: dict[str, Resource]) -> Optional[str]:
    tier = (topic.props.get("tags") or {}).get(TIER_TAG)
    if isinstance(tier, str) and tier != COMPUTED:
        return tier
    # A tier topic's parent is its AlarmTier component, named `<tier>-alerts`.
    parent = by_urn.get(topic.parent)
    return parent.name.removesuffix("-alerts") if parent is not None and parent.type == ALARM_TIER else None


def _metric(metric: dict[str, Any], dependencies: list[str], function_names: dict[str, str]) -> MetricRef:
    dims: list[tuple[str, str]] = []
    known, own = True, False
    for key, value in sorted((metric.get("dimensions") or {}).items()):
        if value == COMPUTED:
            # A computed value is another resource's output: its name when that resource is a function.
            value = next((function_names[d] for d in dependencies if d in function_names), COMPUTED)
        known &= value != COMPUTED
        own |= value in function_names.values()
        dims.append((key, str(value)))
    return MetricRef(str(metric.get("namespace", "")), str(metric.get("metricName", "")),
                     tuple(dims) if known else None, own)


def alarm_kind(props: dict[str, Any]) -> str:
    if props.get("thresholdMetricId"):
        return "anomaly"
    queries = props.get("metricQueries") or []
    if any(is_insights_query(q.get("expression")) for q in queries):
        return "metrics-insights"
    return "metric-math" if queries else "static"


def _metric_alarm(r: Resource, tiers: dict[str, str], function_names: dict[str, str]) -> MetricAlarm:
    props = r.props
    deps = r.deps("dimensions") + r.deps("metricQueries")
    metrics = [props] if props.get("metricName") else []
    metrics += [q["metric"] for q in props.get("metricQueries") or [] if q.get("metric")]
    return MetricAlarm(
        urn=r.urn, name=r.label(), props=props,
        alarm_tiers=tuple(tiers[u] for u in r.deps("alarmActions") if u in tiers),
        ok_tiers=tuple(tiers[u] for u in r.deps("okActions") if u in tiers),
        metrics=tuple(_metric(m, deps, function_names) for m in metrics),
        kind=alarm_kind(props), tags=dict(props.get("tags") or {}),
    )


def _composite(r: Resource, tiers: dict[str, str]) -> CompositeAlarm:
    props = r.props
    suppressor = props.get("actionsSuppressor") or {}
    rule = str(props.get("alarmRule") or "")
    try:
        referenced = frozenset(members(parse_rule(rule)))
    except RuleError:
        referenced = frozenset()  # unknown in preview, or a rule the policy pack reports as invalid
    return CompositeAlarm(
        urn=r.urn, name=r.label("alarmName"), rule=rule, members=referenced,
        alarm_tiers=tuple(tiers[u] for u in r.deps("alarmActions") if u in tiers),
        ok_tiers=tuple(tiers[u] for u in r.deps("okActions") if u in tiers),
        suppressor=suppressor.get("alarm"),
        suppressor_wait_seconds=int(suppressor.get("waitPeriod") or 0),
        suppressor_extension_seconds=int(suppressor.get("extensionPeriod") or 0),
        description=str(props.get("alarmDescription") or ""),
        tags=dict(props.get("tags") or {}),
    )


def _pager(r: Resource, composite: CompositeAlarm) -> Optional[Pager]:
    if not composite.alarm_tiers:
        return None
    return pager_from_tags(composite.name, composite.alarm_tiers[0], r.props.get("tags") or {})


def _mute_rule(r: Resource) -> MuteRule:
    schedule = (r.props.get("rule") or {}).get("schedule") or {}
    try:
        parsed: Optional[Schedule] = schedule_of(r.props)
    except MuteRuleError:
        parsed = None
    return MuteRule(r.label(), str(r.props.get("description") or ""), str(schedule.get("expression")),
                    str(schedule.get("duration")), schedule.get("timezone"), tuple(targets_of(r.props)), parsed)


def _function(r: Resource) -> Function:
    environment = dict((r.props.get("environment") or {}).get("variables") or {})
    # A child's URN carries its parents' type chain: that is how the health monitor's and the
    # forwarders' Lambdas are told apart (`<tier>-alerts-slack-lambda-function`).
    if HEALTH_MONITOR in r.urn:
        return Function(r.urn, r.label(), "health-monitor", None, environment)
    if SLACK_FORWARDER in r.urn:
        return Function(r.urn, r.label(), "slack-forwarder", r.name.split("-alerts-")[0], environment)
    return Function(r.urn, r.label(), "other", None, environment)


def _log_filter(r: Resource) -> LogFilter:
    t = r.props.get("metricTransformation") or {}
    default = t.get("defaultValue")
    return LogFilter(str(r.props.get("logGroupName")), str(r.props.get("pattern", "")), str(t.get("namespace")),
                     str(t.get("name")), str(t.get("value", "1")),
                     None if default in (None, COMPUTED) else float(default), dict(t.get("dimensions") or {}))


def _dashboard(r: Resource) -> Dashboard:
    body = r.props.get("dashboardBody")
    return Dashboard(r.label("dashboardName"), json.loads(body) if isinstance(body, str) and body != COMPUTED else None)


def rate_minutes(schedule: str) -> int:
    """`rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`; anything else: every minute."""
    text = schedule.strip()
    if text.startswith("rate(") and text.endswith(")"):
        amount, unit = text[5:-1].split()
        return int(amount) * {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[unit]
    return 1


def _group(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    by_type: dict[str, list[Resource]] = {}
    for r in resources:
        by_type.setdefault(r.type, []).append(r)
    return by_type


def build_model(run: ProgramRun) -> StackModel:
    resources = list(_resources(run))
    by_urn = {r.urn: r for r in resources}
    by_type = _group(resources)
    topics_by_urn = {r.urn: r for r in by_type.get(TOPIC, [])}
    tiers = {urn: tier for urn, r in topics_by_urn.items() if (tier := _topic_tier(r, by_urn))}
    sms: dict[str, list[str]] = {}
    for r in by_type.get(SUBSCRIPTION, []):
        topic = next((u for u in r.deps("topic") if u in topics_by_urn), None)
        if topic and r.props.get("protocol") == "sms":
            sms.setdefault(topic, []).append(str(r.props.get("endpoint")))
    function_names = {r.urn: r.label() for r in by_type.get(FUNCTION, [])}
    keys = {r.urn: OwnedResource(r.name, r.props.get("tags") or {}) for r in by_type.get(KMS_KEY, [])}
    encryption = by_type.get(XRAY_ENCRYPTION, [])
    schedule = next((str(r.props.get("scheduleExpression") or "rate(1 minute)") for r in by_type.get(EVENT_RULE, [])
                     if HEALTH_MONITOR in r.urn), "rate(1 minute)")
    composites = [(r, _composite(r, tiers)) for r in by_type.get(COMPOSITE_ALARM, [])]
    return StackModel(
        project=run.files.project,
        stack=run.files.stack,
        region=str(run.files.config.get("aws:region", "ap-south-1")),
        preview=run.preview,
        resources=resources,
        outputs=run.outputs,
        alarms=[_metric_alarm(r, tiers, function_names) for r in by_type.get(METRIC_ALARM, [])],
        composites=[c for _, c in composites],
        pagers=[p for r, c in composites if (p := _pager(r, c)) is not None],
        mute_rules=[_mute_rule(r) for r in by_type.get(ALARM_MUTE_RULE, [])],
        topics=[Topic(urn, r.label(), tiers.get(urn), tuple(sms.get(urn, ())), r) for urn, r in topics_by_urn.items()],
        functions=[_function(r) for r in by_type.get(FUNCTION, [])],
        log_filters=[_log_filter(r) for r in by_type.get(LOG_METRIC_FILTER, [])],
        dashboards=[_dashboard(r) for r in by_type.get(DASHBOARD, [])],
        log_groups_created={r.label(): OwnedResource(r.label(), r.props.get("tags") or {}, r.name, r.parent)
                            for r in by_type.get(LOG_GROUP, [])},
        anomaly_monitors_created=[r.props for r in by_type.get(ANOMALY_MONITOR, [])],
        anomaly_monitor_arns_used={arn for r in by_type.get(ANOMALY_SUBSCRIPTION, [])
                                   for arn in r.props.get("monitorArnLists") or [] if arn != COMPUTED},
        xray_encryption_key=next((keys[u] for r in encryption for u in r.deps("keyId") if u in keys), None),
        manages_xray_encryption=bool(encryption),
        health_schedule_minutes=rate_minutes(schedule),
        settings=run.settings,
        unset_secrets=tuple(run.files.unset_secrets),
        stack_file=run.files.stack_file,
        _by_type=by_type,
    )

