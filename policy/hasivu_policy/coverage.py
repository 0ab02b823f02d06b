"""alarm-coverage: every Lambda has an Errors alarm, every API stage a 5XX alarm, every RDS
instance a CPU and a storage alarm. Matched by dimension value, or, where preview cannot know
the value, by the alarm's dimensions depending on that very resource."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from cloudwatch_rules.metrics_insights import InsightsQuery, QueryError, is_insights_query, parse
from hasivu_policy.stack import ALARM, FUNCTION, Resource, StackIndex
from hasivu_policy.values import UNKNOWN, is_unknown

API_STAGE = "aws:apigateway/stage:Stage"
API_V2_STAGE = "aws:apigatewayv2/stage:Stage"
REST_API = "aws:apigateway/restApi:RestApi"
RDS_INSTANCE = "aws:rds/instance:Instance"


@dataclasses.dataclass(frozen=True)
class MetricRef:
    namespace: Any
    name: Any
    dimensions: dict[str, Any]
    dependency_urns: frozenset[str]


def metric_refs(alarm: Resource) -> list[MetricRef]:
    """The metrics an alarm reads (one, or each metric of its metric-math queries)."""
    p = alarm.props
    if p.get("metricName") is not None:
        dims = p.get("dimensions") if isinstance(p.get("dimensions"), dict) else {}
        deps = frozenset(d.urn for d in alarm.deps("dimensions"))
        return [MetricRef(p.get("namespace"), p["metricName"], dims, deps)]
    queries = p.get("metricQueries")
    deps = frozenset(d.urn for d in alarm.deps("metricQueries"))
    refs = []
    for q in queries if isinstance(queries, list) else []:
        metric = q.get("metric") if isinstance(q, dict) else None
        if isinstance(metric, dict):
            dims = metric.get("dimensions") if isinstance(metric.get("dimensions"), dict) else {}
            refs.append(MetricRef(metric.get("namespace"), metric.get("metricName"), dims, deps))
    return refs


def insights_queries(alarm: Resource) -> list[InsightsQuery]:
    """The Metrics Insights queries whose data the alarm evaluates (those it can read)."""
    queries = alarm.props.get("metricQueries")
    found = []
    for q in queries if isinstance(queries, list) else []:
        if isinstance(q, dict) and q.get("returnData") and is_insights_query(q.get("expression")):
            try:
                found.append(parse(q["expression"]))
            except QueryError:
                continue
    return found


def fleet_covers(query: InsightsQuery, namespace: str, metric: str, dimensions: dict[str, Any]) -> bool:
    """A multi-time-series alarm provably watches this metric as its own contributor: same namespace
    and metric, a schema that admits exactly these dimensions, grouped by them (one series each), the
    WHERE clause admits the values (or has nothing to exclude when a value is unknown), and the series
    returned are the worst ones (ORDER BY ... DESC), so a limit never hides a breaching one."""
    keys = set(dimensions)
    if query.namespace != namespace or query.metric != metric or not query.returns_worst():
        return False
    if query.schema is not None and query.schema != keys:
        return False
    if not keys <= set(query.group_by):
        return False
    if not all(isinstance(v, str) for v in dimensions.values()):
        return not query.where
    return query.matches(dimensions)


def dimension_matches(ref: MetricRef, key: str, expected: Any, resource: Resource) -> bool:
    """Known on both sides: equal. Otherwise: the alarm's dimensions come from the resource itself."""
    actual = ref.dimensions.get(key)
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected
    if actual is None:
        return False
    return resource.urn in ref.dependency_urns


class AlarmMetrics:
    """Every metric the stack's alarms read, looked up by dimension value or by dependency,
    so coverage stays linear in the number of resources and alarms."""

    def __init__(self, index: StackIndex) -> None:
        self.by_value: dict[tuple[Any, ...], list[MetricRef]] = defaultdict(list)
        self.by_dependency: dict[tuple[Any, ...], list[MetricRef]] = defaultdict(list)
        self.fleet: dict[tuple[str, str], list[InsightsQuery]] = defaultdict(list)
        for alarm in index.of_type(ALARM):
            for query in insights_queries(alarm):
                self.fleet[(query.namespace, query.metric)].append(query)
            for ref in metric_refs(alarm):
                for key, value in ref.dimensions.items():
                    if isinstance(value, str):
                        self.by_value[(ref.namespace, ref.name, key, value)].append(ref)
                for urn in ref.dependency_urns:
                    self.by_dependency[(ref.namespace, ref.name, urn)].append(ref)

    def covered(self, resource: Resource, namespace: str, metrics: set[str], dimensions: dict[str, Any]) -> bool:
        key, value = next(iter(dimensions.items()))
        for metric in metrics:
            candidates = self.by_dependency[(namespace, metric, resource.urn)]
            if isinstance(value, str):
                candidates = candidates + self.by_value[(namespace, metric, key, value)]
            for ref in candidates:
                if all(dimension_matches(ref, k, v, resource) for k, v in dimensions.items()):
                    return True
            if any(fleet_covers(q, namespace, metric, dimensions) for q in self.fleet[(namespace, metric)]):
                return True
        return False


def _exempt(resource: Resource, config: dict[str, Any]) -> bool:
    exempt = set(config.get("exemptResources") or [])
    return resource.name in exempt or resource.urn in exempt or resource.props.get("name") in exempt


def _rest_api_name(index: StackIndex, stage: Resource) -> Any:
    for dep in stage.deps("restApi"):
        api = index.by_urn.get(dep.urn)
        if api is not None and api.type == REST_API:
            return api.props.get("name")
    return None


def validate_alarm_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    config = dict(args.get_config())
    index = StackIndex(args.resources)
    alarms = AlarmMetrics(index)
    for fn in index.of_type(FUNCTION):
        name = fn.props.get("name")
        if _exempt(fn, config):
            continue
        dims = {"FunctionName": name if isinstance(name, str) else UNKNOWN}
        if not alarms.covered(fn, "AWS/Lambda", {"Errors"}, dims):
            report(
                f"{fn.label()} has no CloudWatch alarm on AWS/Lambda Errors for its FunctionName. "
                "Fix: add it to the inventory (or, in another program, create a MetricAlarm whose "
                "FunctionName dimension is this function's name output).",
                fn.urn,
            )
    for stage in index.of_type(API_STAGE, API_V2_STAGE):
        if _exempt(stage, config):
            continue
        v2 = stage.type == API_V2_STAGE
        stage_name = stage.props.get("name" if v2 else "stageName")
        dims: dict[str, Any] = {"Stage": stage_name if isinstance(stage_name, str) else UNKNOWN}
        if not v2:
            api_name = _rest_api_name(index, stage)
            if isinstance(api_name, str) or is_unknown(api_name):
                dims["ApiName"] = api_name
        metrics = {"5xx"} if v2 else {"5XXError"}
        if not alarms.covered(stage, "AWS/ApiGateway", metrics, dims):
            report(
                f"{stage.label()} has no 5XX alarm (AWS/ApiGateway {'/'.join(sorted(metrics))} on its Stage). "
                "Fix: add the API to the inventory's `api` section or create the alarm.",
                stage.urn,
            )
    for instance in index.of_type(RDS_INSTANCE):
        if _exempt(instance, config):
            continue
        identifier = instance.props.get("identifier")
        dims = {"DBInstanceIdentifier": identifier if isinstance(identifier, str) else UNKNOWN}
        for metric, what in (("CPUUtilization", "CPU"), ("FreeStorageSpace", "free storage")):
            if not alarms.covered(instance, "AWS/RDS", {metric}, dims):
                report(
                    f"{instance.label()} has no {what} alarm (AWS/RDS {metric}). "
                    "Fix: add the instance to the inventory's `rds` list or create the alarm.",
                    instance.urn,
                )
