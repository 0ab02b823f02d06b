"""The facade: settings in, every monitoring component out, in dependency order.

Tiers come first because every alarm, budget and anomaly subscription needs a tier topic.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_aws

from components.alarm_tier import AlarmTier, AlarmTierArgs
from components.alarms.burn_rates import burn_rate_pairs
from components.alarms.catalogue import AlarmCatalogue, OwnFunction, build_alarm_catalogue, page_causes
from components.alarms.mute_rules import MuteRules, MuteRulesArgs
from components.alarms.topics import REPORTED_TO
from components.alert_key import AlertKey, AlertKeyArgs
from components.cost_controls import CostControls, CostControlsArgs
from components.dashboards.dashboard import Dashboard, build_dashboards, console_url
from components.health_monitor import HealthMonitor, HealthMonitorArgs
from components.runtime_layer import RuntimeLayer, RuntimeLayerArgs
from components.slack_forwarder import TIMEOUT_SECONDS as FORWARDER_TIMEOUT
from components.slos import sli
from components.tracing import Tracing, TracingArgs
from observability.catalogue import published_metrics
from stackconfig.fleet_queries import fleet_members
from stackconfig.model import Discovery, Inventory, LambdaFunction, StackSettings, Tier
from stackconfig.muting import MONITORING
from stackconfig.own_functions import forwarder_name, health_monitor_name
from stackconfig.slos import PERIOD, WINDOW_DAYS
from stackconfig.thresholds import LambdaThresholds

# The project's own Lambdas form one inventory group, alarmed like the platform's.
OWN_GROUP = MONITORING
# The project's own Lambdas run a few times a minute at most (the health monitor once a minute, a Slack
# forwarder once a page): judged on the errors of the last hour, as the inventory's rarely called
# functions are, since no count of errors a minute or 5-minute rate of theirs could ever fire. Three
# errors: a forwarder's page is lost only after Lambda's two retries of an asynchronous invocation.
OWN_THRESHOLDS = LambdaThresholds(low_volume_window_minutes=60, low_volume_min_errors=3)


@dataclasses.dataclass
class Monitoring:
    settings: StackSettings
    tiers: dict[Tier, AlarmTier]
    alarms: AlarmCatalogue
    dashboards: dict[str, Dashboard]
    health: HealthMonitor | None
    runtime: RuntimeLayer
    cost: CostControls


def build_monitoring(settings: StackSettings) -> Monitoring:
    account_id = pulumi_aws.get_caller_identity_output().account_id
    causes = page_causes(settings)
    key = AlertKey("alerts", AlertKeyArgs(settings.environment, account_id, settings.tags()))
    tiers = {
        tier: AlarmTier(
            f"{tier.value}-alerts",
            AlarmTierArgs(
                environment=settings.environment,
                contacts=settings.alerting[tier],
                account_id=account_id,
                key_arn=key.key.arn,
                tags=settings.tags(),
                causes=causes,
            ),
        )
        for tier in Tier
    }
    # A forwarder's failures are reported to another tier than the one it delivers.
    own = [
        OwnFunction(
            LambdaFunction(forwarder_name(settings.environment, tier.value), OWN_GROUP, REPORTED_TO[tier],
                           FORWARDER_TIMEOUT, OWN_THRESHOLDS),
            component.slack_forwarder.name,
        )
        for tier, component in tiers.items()
        if component.slack_forwarder is not None
    ]
    runtime = RuntimeLayer("runtime-library", RuntimeLayerArgs(settings))
    health = None
    if settings.health_monitor is not None:
        health = HealthMonitor("health-monitor", HealthMonitorArgs(
            settings, settings.health_monitor, runtime.pseudonym_key.name, runtime.pseudonym_key.arn))
        own.append(OwnFunction(
            LambdaFunction(health_monitor_name(settings.environment), OWN_GROUP, Tier.WARNING,
                           settings.health_monitor.timeout_seconds, OWN_THRESHOLDS),
            health.function.name,
        ))
    topics = {tier: c.topic for tier, c in tiers.items()}
    alarms = build_alarm_catalogue(settings, topics, own)
    if settings.maintenance.windows or settings.maintenance.calendar is not None:
        MuteRules("mute-rules", MuteRulesArgs(settings, alarms.pagers, {
            f"{settings.environment}-{key}": composite for key, composite in alarms.composites.items()}))
    dashboards = build_dashboards(settings, alarms, account_id)
    cost = CostControls("cost", CostControlsArgs(settings, topics))
    Tracing("tracing", TracingArgs(settings))
    return Monitoring(settings=settings, tiers=tiers, alarms=alarms, dashboards=dashboards, health=health,
                      runtime=runtime, cost=cost)


def export_outputs(monitoring: Monitoring) -> None:
    for tier, component in monitoring.tiers.items():
        pulumi.export(f"{tier.value}TopicArn", component.topic.arn)
    pulumi.export("alarmCountByTier", monitoring.alarms.count_by_tier())
    region, env = monitoring.settings.region, monitoring.settings.environment
    pulumi.export("dashboardUrls", {
        suffix: console_url(region, f"{env}-HASIVU-{suffix}") for suffix in monitoring.dashboards})
    pulumi.export("xrayServiceMapUrl",
                  f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#xray:service-map/map")
    health = monitoring.health
    pulumi.export("healthEndpointUrl", health.url.function_url if health and health.url else "not exposed")
    pulumi.export("observabilityLayerArn", monitoring.runtime.layer.arn)
    pulumi.export("pseudonymKeyParameter", monitoring.runtime.pseudonym_key.name)
    pulumi.export("costAssumptions", cost_assumptions(monitoring.settings))
    pulumi.export("slos", slos_output(monitoring.settings))
    if monitoring.settings.discovery is not None:
        pulumi.export("discovery", discovery_report(monitoring.settings.discovery, monitoring.settings.inventory))
    # Another stack in the same account reuses it: costAnomaly.existingMonitorArn.
    pulumi.export("costAnomalyMonitorArn", monitoring.cost.anomaly_monitor_arn)


def cost_assumptions(settings: StackSettings) -> dict:
    """What the preflight's cost estimate cannot count from resources: traffic and run-time calls."""
    costs = settings.costs
    return {
        "xrayMonthlyRequests": {
            f"{settings.environment}-{s.name}-{i}"[:32]: s.monthly_requests // len(s.url_paths)
            for s in costs.sampling for i in range(len(s.url_paths))
        },
        "costExplorerRequestsPerMonth": round(costs.cost_explorer_queries_per_day * 365 / 12),
        "alertsPerTopicPerMonth": 300,
        "customMetrics": [list(metric) for metric in published_metrics(
            settings.environment, settings.health_monitor.rfid_reader_ids if settings.health_monitor else ())],
        "monitoringBudgetUsd": costs.monitoring_budget_usd,
        # Metrics Insights alarms are billed per metric their query analyzes: the functions known at
        # deploy time that a fleet group's query matches (functions created later add to the bill).
        "fleetFunctions": {group.name: fleet_members(group, settings.inventory)
                           for group in settings.inventory.fleet_groups},
    }


def slos_output(settings: StackSettings) -> list[dict[str, Any]]:
    """One entry per SLO the stack measures: its target, budget, SLI and burn-rate alarm pairs."""
    return [{
        "name": slo.name, "service": slo.service, "kind": slo.kind, "target": slo.target_percent,
        "description": slo.what, "windowDays": WINDOW_DAYS,
        "budget": ({"minutes": round(slo.budget_minutes, 1), "judgedMinutes": slo.judged_minutes}
                   if slo.kind == PERIOD
                   else {"requests": round(slo.budget_requests), "monthlyRequests": slo.monthly_requests}),
        "minRequests": slo.min_requests,
        **({"minBadRequests": slo.min_bad_requests} if slo.kind != PERIOD else {}),
        **({"thresholdMs": slo.threshold_ms} if slo.threshold_ms is not None else {}),
        "sli": sli(slo, settings),
        "burnRateAlarms": burn_rate_pairs(slo, settings),
    } for slo in settings.slos]


def discovery_report(discovery: Discovery, inventory: Inventory) -> dict:
    """What discovery found: the account's functions, those it took in, and those outside its prefix."""
    own = set(inventory.own_functions)
    outside = [n for n in inventory.account_functions
               if not n.startswith(discovery.function_prefix) and n not in own]
    catch_all = next((g.name for g in inventory.fleet_groups if g.catch_all), None)
    return {
        "functionPrefix": discovery.function_prefix,
        "group": discovery.group,
        "accountFunctions": len(inventory.account_functions),
        "joinedGroup": sum(fn.discovered for fn in inventory.functions),
        # This stack's own Lambdas, alarmed by it and left out of every fleet query.
        "stackOwn": sum(n in own for n in inventory.account_functions),
        "outsidePrefix": len(outside),
        # Outside the prefix, a function is still a contributor of the catch-all fleet, if there is one.
        "outsidePrefixCoveredBy": catch_all,
    }
