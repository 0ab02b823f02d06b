"""Builds the whole alarm catalogue from the inventory: the only place that knows every service."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence

import pulumi
from pulumi_aws import cloudwatch, sns

from components.alarms import apigateway, business, datastores, fleet, topics
from components.alarms import lambda_ as lambda_specs
from components.alarms.burn_rates import BURN_RATE_SERVICE_PREFIX, burn_rate_alarms
from components.alarms.composites import CAUSES, UNCAUSED, CompositeAlarms, CompositeAlarmsArgs, Group
from components.alarms.factory import AlarmFactory
from components.alarms.groups import (
    AlarmGroupArgs,
    ApiGatewayAlarms,
    BusinessAlarms,
    CacheAlarms,
    DatabaseAlarms,
    LambdaAlarms,
    SloAlarms,
    TopicAlarms,
)
from components.alarms.spec import HEALTH_CHECKS, AlarmSpec, probable_causes
from observability.health_checks import GATEWAY_SLOW_MS
from observability.page_causes import PageCauses
from stackconfig.maintenance import SCOPES
from stackconfig.model import LambdaFunction, StackSettings, Tier
from stackconfig.muting import Pager
from stackconfig.slos import replaced_alarms
from stackconfig.traffic import uses_cause


@dataclasses.dataclass(frozen=True)
class OwnFunction:
    """A Lambda this program deploys itself: monitored like the platform's, named by its output."""

    function: LambdaFunction
    name_output: pulumi.Input[str]


@dataclasses.dataclass
class AlarmCatalogue:
    specs: list[AlarmSpec]
    alarms: dict[str, cloudwatch.MetricAlarm]
    composites: dict[str, cloudwatch.CompositeAlarm]
    composite_tiers: dict[str, Tier] = dataclasses.field(default_factory=dict)
    pagers: list[Pager] = dataclasses.field(default_factory=list)

    def count_by_tier(self) -> dict[str, int]:
        counts = Counter(spec.tier.value for spec in self.specs)
        counts.update(tier.value for tier in self.composite_tiers.values())
        return {tier.value: counts.get(tier.value, 0) for tier in Tier}


def _function_specs(settings: StackSettings, own: Sequence[OwnFunction]) -> dict[str, list[AlarmSpec]]:
    env = settings.environment
    by_group: dict[str, list[AlarmSpec]] = {}
    for fn in settings.inventory.functions:
        if not fn.fleet:
            by_group.setdefault(fn.group, []).extend(lambda_specs.function_alarms(fn, env))
    for group in settings.inventory.fleet_groups:
        by_group.setdefault(group.name, []).extend(
            fleet.fleet_alarms(group, settings.inventory, settings.thresholds.lambda_))
    for o in own:
        by_group.setdefault(o.function.group, []).extend(lambda_specs.function_alarms(o.function, env, o.name_output))
    return by_group


# After a dependency recovered, how long its symptoms' alarms may still take to enter ALARM: the
# close of the longest period that saw the outage, and the few minutes CloudWatch takes to evaluate it.
AFTERMATH_MARGIN_MINUTES = 5


def _add_down_recently(spec_lists: Sequence[list[AlarmSpec]]) -> None:
    """Beside each cause's connectivity alarm, the alarm that holds its symptoms' pages for as long as
    the slowest of them may take to notice the outage (components/alarms/composites.py)."""
    # A burn-rate pair clears with its short window, whatever its long window's period. A low-volume error
    # rate pages through its tier's job pager, held by the tier's claim for as long as the rate's own
    # window (the pager's extension), not by these alarms. A sliding rate enters ALARM while the
    # failures happen, not when a period closes after them.
    paging = [spec for specs in spec_lists for spec in specs
              if not spec.hold_only and spec.partner is None and not spec.job and not spec.sliding]
    minutes = max(spec.period_minutes for spec in paging) + AFTERMATH_MARGIN_MINUTES
    for specs in spec_lists:
        specs.extend([datastores.down_recently(spec, minutes) for spec in list(specs)
                      if spec.metric_key == "connectivity" and spec.scope in CAUSES])


SpecGroup = tuple[type, str, list[AlarmSpec], dict]


def _spec_groups(settings: StackSettings, own: Sequence[OwnFunction]) -> list[SpecGroup]:
    """Every alarm group but the topics' (which need the tier topics): its component, name, specs and args."""
    inventory, t, env = settings.inventory, settings.thresholds, settings.environment
    monitor = settings.health_monitor
    groups: list[SpecGroup] = [
        (LambdaAlarms, f"lambda-{group}", specs, {})
        for group, specs in _function_specs(settings, own).items()
    ]
    groups.append((LambdaAlarms, "lambda-account", lambda_specs.account_alarms(t.account), {}))
    if inventory.api:
        groups.append((ApiGatewayAlarms, "api-gateway", apigateway.api_alarms(
            inventory.api, t.api, business.school_day_window(t.business)), {}))
    if inventory.rds:
        specs = [s for i in inventory.rds for s in datastores.rds_alarms(i, t.rds, env)]
        specs.append(datastores.connectivity_alarm(
            "database", "database", inventory.health_namespace, env, Tier.CRITICAL,
            "no orders, payments or logins can be processed while the database is unreachable.", "database",
            "Database unreachable"))
        groups.append((DatabaseAlarms, "rds", specs, {}))
    if inventory.redis:
        specs = datastores.redis_alarms(inventory.redis, t.redis, env)
        # Critical: sessions live in the cache, so logins fail while it is unreachable; and a cause's
        # page must not be held by the incident it causes (components/alarms/composites.py).
        specs.append(datastores.connectivity_alarm(
            "cache", "redis", inventory.health_namespace, env, Tier.CRITICAL,
            "sessions and cached menus are unavailable, so logins fail; the database takes the whole load.",
            "redis", "Redis unreachable"))
        specs.append(datastores.slow_alarm(
            "cache", "slow", "redis", inventory.health_namespace, env,
            "sessions and menus load slowly: every login and page waits on the cache.", "redis", "Redis slow",
            t.redis.probe_latency_ms))
        groups.append((CacheAlarms, "redis", specs, {}))
    gateway_checked = monitor is not None and bool(monitor.payment_gateway_url)
    business_specs = business.business_alarms(
        inventory, t.business, env, business.monitor_period_seconds(monitor.schedule) if gateway_checked else None)
    business_specs += business.health_alarms(inventory, t.business, env, monitor.schedule if monitor else None)
    business_specs += business.reader_alarms(inventory, t.business, env, monitor.rfid_reader_ids if monitor else ())
    if gateway_checked:
        # Razorpay's own signal, two minutes after it stops answering whatever the traffic: at night a
        # payment outage produces too few payment errors to judge, and the symptoms it causes elsewhere
        # (the health score, API 5XX) are held while this is in ALARM.
        business_specs.append(datastores.connectivity_alarm(
            "payments", "payment_gateway", inventory.health_namespace, env, Tier.CRITICAL,
            "parents cannot pay: the payment gateway does not answer.", "payments", "Razorpay unreachable"))
        business_specs.append(datastores.slow_alarm(
            "payments", "gateway-slow", "payment_gateway", inventory.health_namespace, env,
            "checkouts hang: every payment call waits on the gateway.", "payments", "Razorpay slow",
            GATEWAY_SLOW_MS))
    groups.append((BusinessAlarms, "business", business_specs, {"security_log_group": inventory.security_log_group}))
    burn_rates = burn_rate_alarms(settings)
    if burn_rates:
        groups.append((SloAlarms, "slos", burn_rates, {}))
    # The threshold alarms the SLOs' burn-rate pages replace (stackconfig/slos.py, REPLACED_ALARMS).
    gone = {(service, metric) for service, metric, _ in replaced_alarms(settings.slos).values()}
    return [(cls, name, [s for s in specs if (s.service, s.metric_key) not in gone], extra)
            for cls, name, specs, extra in groups]


def page_causes(settings: StackSettings) -> PageCauses:
    """What the Slack forwarders are handed: the alarms a page names first when in ALARM, with their labels
    (`AlarmSpec.cause`), in order, known before any resource exists. The project's own functions and topics,
    which need resources first, have no cause among their alarms. The dependencies' down-recently holds come
    last with an empty label: a page never lists a hold. A dependency's causes do not explain the pages of
    the scopes whose flows do not use it (the platform's dependency map); an SLO's burn-rate windows are
    never listed as symptoms."""
    env = settings.environment
    specs = [spec for _, _, group, _ in _spec_groups(settings, ()) for spec in group]
    holds = [datastores.down_recently(spec, 1).name(env) for spec in specs
             if spec.metric_key == "connectivity" and spec.scope in CAUSES]
    causes = {**probable_causes(specs, env), **dict.fromkeys(holds, "")}
    uncaused = tuple(group.scoped_name for group in UNCAUSED)
    unrelated = {spec.name(env): (*(s for s in SCOPES if not uses_cause(s, spec.scope)), *uncaused) for spec in specs
                 if spec.cause is not None and spec.scope in CAUSES}
    following = tuple(spec.name(env) for spec in specs if spec.cause is not None and spec.cause.rank == HEALTH_CHECKS)
    return PageCauses(f"{env}-", causes, (f"{env}-{BURN_RATE_SERVICE_PREFIX}",), unrelated, following,
                      _scope_stems(specs, {scope for scopes in unrelated.values() for scope in scopes}))


def _scope_stems(specs: Sequence[AlarmSpec], scopes: set[str]) -> dict[str, tuple[str, ...]]:
    """For each of `scopes`, the fewest name stems (alarm services) that the names of its alarms start with
    (`PageCauses.scopes`): `payments` stands for `payments-verify` too. A service of another scope that
    such a stem would take is listed under its own scope, where it is the longer, deciding stem. The
    burn-rate windows, which a page never lists, are left out. The alarms of a pager that no dependency
    explains (`UNCAUSED`, the readers' heartbeats) are of that pager's scope, not of the scope they share
    with alarms a dependency does explain (the RFID functions')."""
    services: dict[str, set[str]] = {}
    for spec in specs:
        if not spec.service.startswith(BURN_RATE_SERVICE_PREFIX):
            group = Group.of(spec)
            services.setdefault(group.scoped_name if group in UNCAUSED else spec.scope, set()).add(spec.service)

    def covers(stem: str, service: str) -> bool:
        return service == stem or service.startswith(f"{stem}-")

    stems: dict[str, list[str]] = {}
    for scope in sorted(scopes):
        for service in sorted(services.get(scope, ()), key=lambda s: (len(s), s)):
            if not any(covers(stem, service) for stem in stems.get(scope, ())):
                stems.setdefault(scope, []).append(service)
    for scope, own in sorted(services.items()):
        for service in sorted(own):
            taken = [(len(stem), other) for other, listed in stems.items() for stem in listed if covers(stem, service)]
            if taken and max(taken)[1] != scope:
                stems.setdefault(scope, []).append(service)
    return {scope: tuple(listed) for scope, listed in stems.items()}


def build_alarm_catalogue(
    settings: StackSettings, tier_topics: Mapping[Tier, sns.Topic], own: Sequence[OwnFunction] = ()
) -> AlarmCatalogue:
    factory = AlarmFactory(settings, tier_topics)
    env = settings.environment
    groups = _spec_groups(settings, own)
    groups.append((TopicAlarms, "sns", topics.topic_alarms({tier: topic.name for tier, topic in tier_topics.items()}),
                   {}))

    _add_down_recently([specs for _, _, specs, _ in groups])

    all_specs: list[AlarmSpec] = []
    alarms: dict[str, cloudwatch.MetricAlarm] = {}
    for cls, name, specs, extra in groups:
        component = cls(name, AlarmGroupArgs(specs=specs, factory=factory, **extra))
        all_specs.extend(specs)
        alarms.update(component.alarms)

    # The payment roll-up: every critical payment signal (warning-tier ones page warning, not here).
    payment_members = [name for name, spec in ((s.name(env), s) for s in all_specs)
                       if spec.tier is Tier.CRITICAL and spec.service.startswith("payments")]
    composites = CompositeAlarms("composites", CompositeAlarmsArgs(factory, alarms, all_specs, payment_members))
    return AlarmCatalogue(all_specs, alarms, composites.composites, composites.composite_tiers, composites.pagers)
