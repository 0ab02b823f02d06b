"""Advisory cost checks: what makes the monitoring itself expensive."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from cloudwatch_rules.limits import alarm_periods
from hasivu_policy.coverage import metric_refs
from hasivu_policy.stack import ALARM, DASHBOARD, StackIndex

SAMPLING_RULE = "aws:xray/samplingRule:SamplingRule"
LOG_METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
UNBOUNDED = re.compile(r"(user|order|school|student|card|payment|session|request|transaction|parent)_?id$", re.I)
FREE_DASHBOARDS = 3


def _unbounded_dimensions(dimensions: Any) -> list[str]:
    return sorted(k for k in (dimensions or {}) if UNBOUNDED.search(k)) if isinstance(dimensions, dict) else []


def validate_monitoring_cost(args: StackValidationArgs, report: ReportViolation) -> None:
    config = dict(args.get_config())
    index = StackIndex(args.resources)
    max_health_rate = float(config.get("maxHealthCheckSamplingRate", 0.05))
    for alarm in index.of_type(ALARM):
        if any(isinstance(p, (int, float)) and p < 60 for p in alarm_periods(alarm.props)):
            report(f"{alarm.label()} is high-resolution (period under 60 s): $0.30 a month per metric instead "
                   "of $0.10. Fix: use a 60 s period unless seconds matter.", alarm.urn)
        for ref in metric_refs(alarm):
            keys = _unbounded_dimensions(ref.dimensions)
            if keys and isinstance(ref.namespace, str) and not ref.namespace.startswith("AWS/"):
                report(f"{alarm.label()} uses dimension {', '.join(keys)} that looks unbounded: every value "
                       "is a separate custom metric at $0.30 a month. Fix: put ids in EMF properties.", alarm.urn)
    for metric_filter in index.of_type(LOG_METRIC_FILTER):
        transformation = metric_filter.props.get("metricTransformation") or {}
        keys = _unbounded_dimensions(transformation.get("dimensions") if isinstance(transformation, dict) else {})
        if keys:
            report(f"{metric_filter.label()} publishes dimension {', '.join(keys)} that looks unbounded. "
                   "Fix: drop the dimension; count in aggregate.", metric_filter.urn)
    for rule in index.of_type(SAMPLING_RULE):
        text = " ".join(str(rule.props.get(k) or "") for k in ("ruleName", "urlPath", "serviceName")).lower()
        rate = rule.props.get("fixedRate")
        if "health" in text and isinstance(rate, (int, float)) and rate > max_health_rate:
            report(f"{rule.label()} samples health checks at {rate:.0%} (advised at most {max_health_rate:.0%}): "
                   "X-Ray costs $5 per million traces. Fix: lower fixedRate.", rule.urn)
    dashboards = index.of_type(DASHBOARD)
    accepted = int(config.get("acceptedDashboards", FREE_DASHBOARDS))
    if len(dashboards) > accepted:
        extra = len(dashboards) - FREE_DASHBOARDS
        report(f"{len(dashboards)} dashboards: {extra} beyond the {FREE_DASHBOARDS} free ones cost ${3 * extra} "
               f"a month. Fix: merge dashboards, or accept the cost with acceptedDashboards: {len(dashboards)}.")
