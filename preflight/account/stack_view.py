"""What the account check needs from a preflight run: alarms and their metrics, tier topics, the
resources whose names must (or must not) already exist, and the stack file's Lambda inventory.

Read from the registrations, so it follows the program rather than re-reading its config, except
for the inventory, which is the stack file's own words (the fix lines quote them).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional

from preflight.model.resource_types import (
    ANOMALY_MONITOR,
    ANOMALY_SUBSCRIPTION,
    COMPOSITE_ALARM,
    FUNCTION,
    LOG_GROUP,
    LOG_METRIC_FILTER,
    METRIC_ALARM,
    SUBSCRIPTION,
    TOPIC,
    XRAY_ENCRYPTION,
)
from preflight.program.engine import ProgramRun, Registration
from preflight.program.props import COMPUTED, struct_to_props


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
class AlarmView:
    name: str
    composite: bool
    metrics: tuple[MetricRef, ...]


@dataclasses.dataclass(frozen=True)
class TopicView:
    name: str
    tier: str
    sms_numbers: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class OwnedResource:
    """A resource this stack creates, with the tags it gives it (how the account tells it is ours)."""

    name: str
    tags: dict[str, str]
    resource_name: str = ""  # the Pulumi resource name, and its parent's URN (for `pulumi import`)
    parent_urn: str = ""


@dataclasses.dataclass(frozen=True)
class Inventory:
    groups: dict[str, tuple[str, ...]]
    discovery_prefix: Optional[str]
    security_log_group: Optional[str]
    # A fleet group without functions: its alarms cover every function no other group lists.
    catch_all_fleet: bool = False


@dataclasses.dataclass
class StackView:
    project: str
    stack: str
    alarms: list[AlarmView]
    topics: list[TopicView]
    function_names: set[str]
    log_groups_created: dict[str, OwnedResource]
    log_groups_used: set[str]
    anomaly_monitors_created: list[dict[str, Any]]
    anomaly_monitor_arns_used: set[str]
    xray_encryption_key: Optional[OwnedResource]  # None: the stack leaves X-Ray encryption alone
    manages_xray_encryption: bool
    inventory: Inventory


def _name(props: dict[str, Any], registration: Registration, key: str = "name") -> str:
    value = props.get(key)
    return value if isinstance(value, str) and value != COMPUTED else registration.name


def _metric(metric: dict[str, Any], dependencies: list[str], names: dict[str, str]) -> MetricRef:
    dims: list[tuple[str, str]] = []
    known, own = True, False
    for key, value in sorted((metric.get("dimensions") or {}).items()):
        if value == COMPUTED:
            # A computed value is another resource's output: its name when that resource is a function.
            value = next((names[d] for d in dependencies if d in names), COMPUTED)
        known &= value != COMPUTED
        own |= value in names.values()
        dims.append((key, str(value)))
    return MetricRef(metric.get("namespace", ""), metric.get("metricName", ""), tuple(dims) if known else None, own)


def _alarm(registration: Registration, names: dict[str, str]) -> AlarmView:
    props = struct_to_props(registration.object)
    if registration.type == COMPOSITE_ALARM:
        return AlarmView(_name(props, registration, "alarmName"), True, ())
    deps = registration.property_dependencies.get("dimensions", []) + registration.property_dependencies.get(
        "metricQueries", [])
    metrics = [props] if props.get("metricName") else []
    # Every metric inside a metric-math alarm must exist, not only the one that names the alarm.
    metrics += [q["metric"] for q in props.get("metricQueries") or [] if q.get("metric")]
    return AlarmView(_name(props, registration), False, tuple(_metric(m, deps, names) for m in metrics))


def _inventory(run: ProgramRun) -> Inventory:
    raw = json.loads(run.files.config.get(f"{run.files.project}:inventory", "{}") or "{}")
    groups = {
        group: tuple(f if isinstance(f, str) else f.get("name", "") for f in spec.get("functions") or [])
        for group, spec in (raw.get("lambdaGroups") or {}).items()
    }
    security = raw.get("securityLogGroup")  # a name, or {name, create, retentionDays}
    catch_all = any(spec.get("fleet") is True and not spec.get("functions")
                    for spec in (raw.get("lambdaGroups") or {}).values())
    return Inventory(groups, (raw.get("discovery") or {}).get("functionPrefix"),
                     security.get("name") if isinstance(security, dict) else security, catch_all)


def stack_view(run: ProgramRun) -> StackView:
    by_type: dict[str, list[tuple[Registration, dict[str, Any]]]] = {}
    for r in run.registrations:
        by_type.setdefault(r.type, []).append((r, struct_to_props(r.object)))
    function_names = {r.urn: _name(p, r) for r, p in by_type.get(FUNCTION, [])}
    topics_by_urn = {r.urn: (_name(p, r), (p.get("tags") or {}).get("Tier", r.name)) for r, p in by_type.get(TOPIC, [])}
    sms: dict[str, list[str]] = {}
    for r, p in by_type.get(SUBSCRIPTION, []):
        topic = next((u for u in r.property_dependencies.get("topic", []) if u in topics_by_urn), None)
        if topic and p.get("protocol") == "sms":
            sms.setdefault(topic, []).append(str(p.get("endpoint")))
    keys = {r.urn: OwnedResource(r.name, p.get("tags") or {}) for r, p in by_type.get("aws:kms/key:Key", [])}
    encryption = by_type.get(XRAY_ENCRYPTION, [])
    encryption_key = next((keys[u] for r, _ in encryption for u in r.property_dependencies.get("keyId", [])
                           if u in keys), None)
    return StackView(
        project=run.files.project,
        stack=run.files.stack,
        alarms=[_alarm(r, function_names) for r in run.registrations if r.type in (METRIC_ALARM, COMPOSITE_ALARM)],
        topics=[TopicView(name, tier, tuple(sms.get(urn, ()))) for urn, (name, tier) in topics_by_urn.items()],
        function_names=set(function_names.values()),
        log_groups_created={_name(p, r): OwnedResource(_name(p, r), p.get("tags") or {}, r.name, r.parent)
                            for r, p in by_type.get(LOG_GROUP, [])},
        log_groups_used={p["logGroupName"] for _, p in by_type.get(LOG_METRIC_FILTER, [])
                         if isinstance(p.get("logGroupName"), str) and p["logGroupName"] != COMPUTED},
        anomaly_monitors_created=[p for _, p in by_type.get(ANOMALY_MONITOR, [])],
        anomaly_monitor_arns_used={arn for _, p in by_type.get(ANOMALY_SUBSCRIPTION, [])
                                   for arn in p.get("monitorArnLists") or [] if arn != COMPUTED},
        xray_encryption_key=encryption_key,
        manages_xray_encryption=bool(encryption),
        inventory=_inventory(run),
    )
