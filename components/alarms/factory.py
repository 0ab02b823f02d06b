"""The one alarm factory every service goes through: naming, description, routing, tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch, sns

from components.alarms.spec import AlarmSpec, Metric, Query
from stackconfig.model import StackSettings, Tier

DESCRIPTION_LIMIT = 1024


def _metric_args(metric: Metric) -> cloudwatch.MetricAlarmMetricQueryMetricArgs:
    return cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace=metric.namespace,
        metric_name=metric.name,
        dimensions=dict(metric.dimensions) or None,
        stat=metric.stat,
        period=metric.period,
    )


def _query_args(query: Query) -> cloudwatch.MetricAlarmMetricQueryArgs:
    return cloudwatch.MetricAlarmMetricQueryArgs(
        id=query.id,
        expression=query.expression,
        label=query.label,
        return_data=query.returns,
        period=query.period,
        metric=_metric_args(query.metric) if query.metric else None,
    )


def _statistic(stat: str) -> dict[str, str]:
    """CloudWatch takes Sum/Average/... as `statistic`, percentiles and percentile ranks (`PR(n:m)`) as
    `extended_statistic` (API reference, PutMetricAlarm: ExtendedStatistic)."""
    return {"extended_statistic": stat} if stat.startswith(("p", "PR(")) else {"statistic": stat}


class AlarmFactory:
    def __init__(self, settings: StackSettings, topics: Mapping[Tier, sns.Topic]) -> None:
        self.settings = settings
        self.topics = topics

    def description(self, spec: AlarmSpec) -> str:
        text = f"{spec.summary} Impact: {spec.impact} Runbook: {self.settings.runbook(spec.runbook)}"
        return text[:DESCRIPTION_LIMIT]

    def tags(self, spec: AlarmSpec) -> dict[str, str]:
        return self.settings.tags(Service=spec.service, Tier=spec.tier.value, Resource=spec.resource)

    def actions(self, tier: Tier) -> list[pulumi.Output[str]]:
        return [self.topics[tier].arn]

    def ok_actions(self, tier: Tier) -> Optional[list[pulumi.Output[str]]]:
        # Whoever was paged hears about the recovery too.
        return self.actions(tier) if tier is Tier.CRITICAL else None

    def create(self, spec: AlarmSpec, parent: pulumi.Resource) -> cloudwatch.MetricAlarm:
        single = {}
        if spec.metric is not None:
            single = {
                "namespace": spec.metric.namespace,
                "metric_name": spec.metric.name,
                "dimensions": dict(spec.metric.dimensions) or None,
                "period": spec.metric.period,
                **_statistic(spec.metric.stat),
            }
        return cloudwatch.MetricAlarm(
            spec.name(self.settings.environment),
            name=spec.name(self.settings.environment),
            alarm_description=self.description(spec),
            comparison_operator=spec.comparison,
            threshold=None if spec.band_query_id else spec.threshold,
            threshold_metric_id=spec.band_query_id,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            metric_queries=[_query_args(q) for q in spec.queries] or None,
            # No actions of its own: the alarm pages through a pager (composites.py), which is what keeps
            # one incident to one page per tier and lets a mute rule silence exactly one group of alarms.
            actions_enabled=True,
            tags=self.tags(spec),
            opts=pulumi.ResourceOptions(parent=parent),
            **single,
        )
