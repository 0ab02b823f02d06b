"""An index over a stack's resources for the cross-resource rules: what reaches what."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from pulumi_policy import PolicyResource

from hasivu_policy.shared_props import once_per_call
from hasivu_policy.values import UNKNOWN, is_unknown, plain

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
MUTE_RULE = "aws:cloudwatch/alarmMuteRule:AlarmMuteRule"
TOPIC = "aws:sns/topic:Topic"
KEY = "aws:kms/key:Key"
FUNCTION = "aws:lambda/function:Function"
BUDGET = "aws:budgets/budget:Budget"
ANOMALY_SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


@dataclasses.dataclass(eq=False)
class Resource:
    """A stack resource with its props as plain data (UNKNOWN where preview cannot know)."""

    source: PolicyResource

    @functools.cached_property
    def props(self) -> dict[str, Any]:
        # Read on first use: most rules look at a few types, and a large stack is mostly alarms. Made
        # once per AnalyzeStack call for all the stack rules, which only read it.
        return once_per_call(self.source.props, plain)

    @property
    def urn(self) -> str:
        return self.source.urn

    @property
    def type(self) -> str:
        return self.source.resource_type

    @property
    def name(self) -> str:
        return self.source.name

    def deps(self, prop: str) -> list[PolicyResource]:
        return list(self.source.property_dependencies.get(prop, []))

    def label(self) -> str:
        shown = self.props.get("name") or self.props.get("alarmName")
        return f"{self.type.split(':')[-1]} {self.name}" + (f" ({shown})" if isinstance(shown, str) else "")


class StackIndex:
    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.resources = [Resource(r) for r in resources]
        self.by_urn = {r.urn: r for r in self.resources}
        self._publishers: dict[str, set[str]] | None = None
        self._by_type: dict[str, list[Resource]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.type, []).append(r)

    def of_type(self, *types: str) -> list[Resource]:
        return [r for t in types for r in self._by_type.get(t, [])]

    def topics_reached(self, resource: Resource, prop: str, values: Sequence[Any]) -> list[Resource]:
        """Topics that `prop` (a list of ARNs) reaches: by ARN when known, by dependency when not."""
        topics = self.of_type(TOPIC)
        reached = {t.urn: t for t in topics for d in resource.deps(prop) if d.urn == t.urn}
        for value in values:
            if isinstance(value, str):
                for t in topics:
                    if t.props.get("arn") == value or (
                        isinstance(t.props.get("name"), str) and value.endswith(f":{t.props['name']}")
                    ):
                        reached[t.urn] = t
        return list(reached.values())

    def alarm_topics(self, alarm: Resource, prop: str = "alarmActions") -> list[Resource]:
        values = alarm.props.get(prop)
        return self.topics_reached(alarm, prop, values if isinstance(values, list) else [])

    def publishers_of(self, topic: Resource) -> set[str]:
        """The AWS services that publish to `topic` from this stack: cloudwatch, budgets, costalerts."""
        if self._publishers is None:
            self._publishers = self._find_publishers()
        return self._publishers.get(topic.urn, set())

    def _find_publishers(self) -> dict[str, set[str]]:
        publishers: dict[str, set[str]] = {}

        def add(topics: list[Resource], service: str) -> None:
            for t in topics:
                publishers.setdefault(t.urn, set()).add(service)

        for alarm in self.of_type(ALARM, COMPOSITE):
            for prop in ("alarmActions", "okActions", "insufficientDataActions"):
                add(self.alarm_topics(alarm, prop), "cloudwatch.amazonaws.com")
        for budget in self.of_type(BUDGET):
            arns = [a for n in budget.props.get("notifications") or [] if isinstance(n, dict)
                    for a in n.get("subscriberSnsTopicArns") or []]
            add(self.topics_reached(budget, "notifications", arns), "budgets.amazonaws.com")
        for subscription in self.of_type(ANOMALY_SUBSCRIPTION):
            arns = [s.get("address") for s in subscription.props.get("subscribers") or [] if isinstance(s, dict)]
            add(self.topics_reached(subscription, "subscribers", arns), "costalerts.amazonaws.com")
        return publishers

    def key_of(self, topic: Resource) -> Resource | None:
        keys = [self.by_urn[d.urn] for d in topic.deps("kmsMasterKeyId") if d.urn in self.by_urn]
        return next((k for k in keys if k.type == KEY), None)


def key_policy_grants(policy: Any) -> dict[str, set[str]]:
    """service principal -> KMS actions the key policy allows it (empty when the policy is unknown)."""
    if is_unknown(policy) or not isinstance(policy, str):
        return {}
    try:
        statements = json.loads(policy).get("Statement", [])
    except ValueError:
        return {}
    grants: dict[str, set[str]] = {}
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        services = (statement.get("Principal") or {}).get("Service", []) if isinstance(
            statement.get("Principal"), dict) else []
        actions = statement.get("Action", [])
        for service in [services] if isinstance(services, str) else services:
            grants.setdefault(service, set()).update([actions] if isinstance(actions, str) else actions)
    return grants


def allows(actions: set[str], wanted: str) -> bool:
    return any(a == wanted or a == "kms:*" or (a.endswith("*") and wanted.startswith(a[:-1])) for a in actions)


__all__ = ["UNKNOWN", "Resource", "StackIndex", "allows", "key_policy_grants"]
