"""Reads the stack config once, validates every key against the schema, returns `StackSettings`.

Nothing here creates a resource, so a bad value stops the program before anything exists.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import gzip
import importlib.util
import json
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, Union, get_args, get_origin

import pulumi
import pulumi_aws
from pulumi.runtime.config import CONFIG, get_config_env
from pydantic import ValidationError

from stackconfig.costs import cost_settings, expected_requests
from stackconfig.errors import MISSING, PROJECT, ConfigError, Problems, item_key, raise_all, validation_errors
from stackconfig.fleet_queries import check_fleet_queries
from stackconfig.health_monitor import HealthMonitorSettings, health_monitor_settings
from stackconfig.maintenance import maintenance_settings
from stackconfig.model import (
    ApiConfig,
    CriticalEndpoint,
    Discovery,
    FleetGroup,
    Inventory,
    LambdaFunction,
    RdsInstance,
    RedisConfig,
    SecurityLogGroupCreation,
    SlackChannel,
    StackSettings,
    Tier,
    TierContacts,
)
from stackconfig.own_functions import own_function_names
from stackconfig.schema import (
    SECRET_KEYS,
    AlertingSection,
    InventorySection,
    LambdaGroupSection,
    StackConfig,
    TierSection,
)
from stackconfig.secrets import hide_plaintext_webhooks, read_secret, set_secret_command
from stackconfig.slos import (
    Slo,
    judged_in_school_hours,
    measurable_slos,
    replaced_alarms,
    slo_settings,
    with_expected_traffic,
)
from stackconfig.thresholds import SECTIONS, ApiThresholds, BusinessThresholds, LambdaThresholds, Thresholds
from stackconfig.traffic import MonthlyTraffic, monthly_traffic
from stackconfig.types import camel, did_you_mean

# Discovery answers with the names of the account's functions (the real one asks AWS).
Discover = Callable[[], list[str]]


def _is_string(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return _is_string(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_string(arg) for arg in get_args(annotation))
    return annotation is str


def _string_keys() -> frozenset[str]:
    """Top-level keys whose values are strings: the CLI's text is the value, never parsed as JSON.
    Read from the fields' types: building the JSON schema would cost every program start tens of
    milliseconds."""
    return frozenset(field.alias or name for name, field in StackConfig.model_fields.items()
                     if _is_string(field.annotation))


STRING_KEYS = _string_keys()


def read_namespace(config: pulumi.Config, project: str) -> dict[str, Any]:
    """Every key of the project's namespace as the program receives it: JSON parsed, strings kept.

    A scalar that is not JSON (`monitoringBudgetUsd: lots`) stays a string, so the schema can
    say which type it expected.
    """
    prefix = f"{project}:"
    names = sorted({k[len(prefix):] for k in _config_keys() if k.startswith(prefix)})
    raw: dict[str, Any] = {}
    for name in names:
        value = config.get(name)
        if value is None or name in STRING_KEYS:
            raw[name] = value
            continue
        try:
            raw[name] = json.loads(value)
        except json.JSONDecodeError:
            raw[name] = value
    return raw


def _config_keys() -> list[str]:
    """Every config key of the stack, of any namespace, as the language host passes them."""
    return sorted({*CONFIG.get(), *(get_config_env() or {})})


def _check_namespaces(project: str) -> None:
    """Other namespaces belong to providers; one a letter or two off the project's is a typo."""
    errors = []
    for key in _config_keys():
        namespace, _, name = key.partition(":")
        if namespace != project and difflib.get_close_matches(namespace, [project], cutoff=0.85):
            meant = f"{project}:{name}"
            errors.append(ConfigError.unknown_key(key, [meant], nearest=[meant]))
    raise_all(errors)


@functools.cache
def known_regions() -> frozenset[str]:
    """The regions in botocore's endpoint data (shipped with botocore: no network). The file is read as
    botocore's loader reads it (`endpoints.json`, or `.json.gz`), without importing botocore: that
    import would be a tenth of a second of every program run."""
    origin = importlib.util.find_spec("botocore").origin
    data = Path(origin).parent / "data" / "endpoints"
    plain, packed = data.with_suffix(".json"), data.with_suffix(".json.gz")
    endpoints = json.loads(plain.read_bytes() if plain.is_file() else gzip.decompress(packed.read_bytes()))
    return frozenset(region for partition in endpoints["partitions"] for region in partition["regions"])


@functools.cache
def aws_provider_keys() -> frozenset[str]:
    """The `aws:` keys the AWS provider reads, from the installed pulumi_aws (its config/vars.py)."""
    source = Path(pulumi_aws.__file__).parent.joinpath("config", "vars.py").read_text()
    return frozenset(re.findall(r"__config__\.get\w*\('(\w+)'\)", source))


def _check_aws_keys() -> None:
    known = aws_provider_keys()
    raise_all(ConfigError.unknown_key(key, sorted(known)) for key in _config_keys()
              if key.startswith("aws:") and key[4:] not in known)


def _region() -> str:
    region = pulumi.Config("aws").get("region")
    if region is None:
        return "ap-south-1"
    if region not in known_regions():
        raise ConfigError("aws:region", region, "an AWS region botocore knows, like ap-south-1"
                          + _nearest(region, known_regions()))
    return region


def _nearest(value: str, choices: frozenset[str]) -> str:
    match = difflib.get_close_matches(value, sorted(choices), n=1)
    return f" (did you mean `{match[0]}`?)" if match else ""


def _contacts(tier: Tier, section: TierSection, secrets: dict[str, Optional[pulumi.Output[str]]]) -> TierContacts:
    """The tier's contacts. `secrets` holds the secrets that could be read (None: unset); one that
    could not is reported where it was read, not again as missing here."""
    key = f"alerting.{tier.value}"
    problems = Problems()
    pagerduty = secrets.get("pagerdutyEndpoint") if section.pagerduty else None
    if section.pagerduty and "pagerdutyEndpoint" in secrets and pagerduty is None:
        problems.add(ConfigError("pagerdutyEndpoint", MISSING, f"a secret PagerDuty endpoint, since {key}.pagerduty "
                                 f"is true; set it with `{set_secret_command('pagerdutyEndpoint')}`"))
    webhook = channel = None
    if section.slack == "webhook":
        webhook = secrets.get("slackWebhookUrl")
        if "slackWebhookUrl" in secrets and webhook is None:
            problems.add(ConfigError("slackWebhookUrl", MISSING, f"a secret Slack webhook URL, since {key}.slack is "
                                     f"'webhook'; set it with `{set_secret_command('slackWebhookUrl')}`"))
    elif section.slack is not None:
        channel = SlackChannel(section.slack.workspace_id, section.slack.channel_id)
    if not (section.emails or section.sms or section.pagerduty or section.slack):
        problems.add(ConfigError(key, section.model_dump(by_alias=True),
                                 "at least one contact (emails, sms, pagerduty or slack)"))
    problems.raise_any()
    return TierContacts(tier, section.emails, section.sms, pagerduty, channel, webhook)


def _alerting(section: AlertingSection, config: pulumi.Config) -> dict[Tier, TierContacts]:
    problems = Problems()
    secrets: dict[str, Optional[pulumi.Output[str]]] = {}
    for key in SECRET_KEYS:
        try:
            secrets[key] = read_secret(config, key)
        except ConfigError as error:
            problems.add(error)
    contacts = {tier: problems.attempt(_contacts, tier, getattr(section, tier.value), secrets) for tier in Tier}
    problems.raise_any()
    return {tier: found for tier, found in contacts.items() if found is not None}


def _overrides(base: Any, section: Any) -> Any:
    """`base` (a thresholds dataclass) with the values the config section sets."""
    return dataclasses.replace(base, **{k: float(v) for k, v in dict(section or {}).items() if v is not None})


def _thresholds(section: Any) -> Thresholds:
    defaults = Thresholds()
    return Thresholds(**{attr: _overrides(getattr(defaults, attr), getattr(section, attr))
                         for attr in SECTIONS.values()})


def _check_business_hours(business: Any) -> None:
    raise_all(ConfigError(f"thresholds.business.{camel(end)}", getattr(business, end),
                          f"a time after {camel(start)} ({getattr(business, start):g})")
              for start, end in (("school_day_start_ist", "school_day_end_ist"), ("lunch_start_ist", "lunch_end_ist"))
              if getattr(business, end) <= getattr(business, start))


def _check_replaced_thresholds(section: Any, slos: tuple[Slo, ...]) -> None:
    """A threshold whose alarm an SLO's burn-rate pages replace would do nothing: say so, never ignore it."""
    business = dict(getattr(section, "business", None) or {})
    raise_all(ConfigError(f"thresholds.business.{camel(key)}", business[key],
                          f"no value: the {name} SLO's burn-rate alarms replace its {service}-{metric} alarm "
                          f"(docs/slos.md); remove the key, or set slos.{camel(name.replace('-', '_'))}.enabled: false "
                          "to keep that alarm")
              for name, (service, metric, key) in replaced_alarms(slos).items() if business.get(key) is not None)


FLEET_DEFAULT_TIER = Tier.WARNING


def _group_tier(group: str, body: LambdaGroupSection) -> Tier:
    if body.tier is not None:
        return Tier(body.tier)
    if body.fleet:
        return FLEET_DEFAULT_TIER
    raise ConfigError(f"inventory.lambdaGroups.{group}.tier", MISSING,
                      f"one of the tiers {', '.join(t.value for t in Tier)} (required for a group alarmed per "
                      "function; only a fleet: true group defaults to warning)")


def _function_key(group: str, index: int, name: str) -> str:
    return item_key(f"inventory.lambdaGroups.{group}.functions", index, name)


def _check_fleet_group(group: str, body: LambdaGroupSection) -> None:
    """Fleet alarms are per group and metric: what a function could set on its own would be ignored."""
    problems = Problems()
    if body.invocation != "sync":
        problems.add(ConfigError(f"inventory.lambdaGroups.{group}.invocation", body.invocation,
                                 "sync in a fleet group (fleet alarms have no lost-event alarms): list the async "
                                 "functions in a group without fleet: true"))
    for i, entry in enumerate(body.functions):
        for key, value in (("tier", entry.tier), ("timeoutSeconds", entry.timeout_seconds),
                           ("thresholds", entry.thresholds), ("invocation", entry.invocation)):
            if value is not None:
                shown = value.model_dump(by_alias=True, exclude_none=True) if key == "thresholds" else value
                problems.add(ConfigError(
                    f"{_function_key(group, i, entry.name)}.{key}", shown,
                    f"no {key} of its own for {entry.name} in fleet group {group} (its alarms are one per group "
                    f"and metric, with the group's tier, timeout and thresholds): list {entry.name} in a group "
                    "without fleet: true"))
    problems.raise_any()


def _functions(section: InventorySection, base: LambdaThresholds) -> tuple[LambdaFunction, ...]:
    """`base`: the stack's `thresholds.lambda`, which a function's own `thresholds` override key by key."""
    problems = Problems()
    seen: dict[str, str] = {}
    functions: list[LambdaFunction] = []
    for group, body in section.lambda_groups.items():
        if not body.functions and not body.fleet:
            problems.add(ConfigError(f"inventory.lambdaGroups.{group}.functions", [],
                                     "a non-empty list of functions (or fleet: true to alarm the group as a fleet)"))
            continue
        tier = problems.attempt(_group_tier, group, body)
        if body.fleet:
            problems.attempt(_check_fleet_group, group, body)
        for i, entry in enumerate(body.functions):
            if entry.name in seen:
                problems.add(ConfigError(_function_key(group, i, entry.name), entry.name,
                                         f"each function listed once (already listed in group {seen[entry.name]})"))
                continue
            seen[entry.name] = group
            if tier is None:
                continue
            functions.append(LambdaFunction(
                name=entry.name,
                group=group,
                tier=Tier(entry.tier) if entry.tier else tier,
                timeout_seconds=entry.timeout_seconds or body.timeout_seconds,
                thresholds=_overrides(base, entry.thresholds),
                fleet=body.fleet,
                invocation=entry.invocation or body.invocation,
            ))
    problems.raise_any()
    return tuple(functions)


def _fleet_groups(section: InventorySection) -> tuple[FleetGroup, ...]:
    fleets = tuple(FleetGroup(name, _group_tier(name, body), body.timeout_seconds, catch_all=not body.functions)
                   for name, body in section.lambda_groups.items() if body.fleet)
    catch_alls = [f.name for f in fleets if f.catch_all]
    raise_all(ConfigError(f"inventory.lambdaGroups.{extra}", "a second fleet group without functions",
                          f"its functions listed: only one fleet group without functions may cover the rest of "
                          f"the account ({catch_alls[0]} already does)") for extra in catch_alls[1:])
    return fleets


OWN_DISCOVERY_GROUP = "discovered"


def _discovery(section: InventorySection) -> Optional[Discovery]:
    """Discovered functions join the group `discovery.group` names, as if listed there; without a
    group (or with `discovered`, when no such group is configured) they form a per-function group of
    their own at discovery's tier (default warning) and timeout (default 30 s)."""
    found = section.discovery
    if found is None:
        return None
    groups = section.lambda_groups
    name = found.group or OWN_DISCOVERY_GROUP
    if name not in groups:
        if name != OWN_DISCOVERY_GROUP:
            raise ConfigError("inventory.discovery.group", name,
                              f"a group of inventory.lambdaGroups ({', '.join(groups)}), or `{OWN_DISCOVERY_GROUP}` "
                              f"(the default): a per-function group of their own"
                              f"{did_you_mean(name, [*groups, OWN_DISCOVERY_GROUP])}")
        return Discovery(found.function_prefix, name, Tier(found.tier or FLEET_DEFAULT_TIER),
                         found.timeout_seconds or 30)
    body = groups[name]
    tier = _group_tier(name, body)
    if body.fleet:
        raise_all(ConfigError(
            f"inventory.discovery.{key}", own,
            f"{group_value!r} or no {key}: discovered functions join fleet group {name}, whose alarms are "
            f"per group (inventory.lambdaGroups.{name}.{key}: {group_value!r}); to alarm them at another "
            f"{key}, point discovery.group at a group without fleet: true")
            for key, own, group_value in (("tier", found.tier, tier.value),
                                          ("timeoutSeconds", found.timeout_seconds, body.timeout_seconds))
            if own is not None and own != group_value)
    return Discovery(found.function_prefix, name, Tier(found.tier) if found.tier else tier,
                     found.timeout_seconds or body.timeout_seconds, fleet=body.fleet)


def _inventory(section: InventorySection, api_thresholds: ApiThresholds, lambda_thresholds: LambdaThresholds,
               own_functions: tuple[str, ...]) -> tuple[Inventory, Optional[Discovery]]:
    api = section.api
    log_group = section.security_log_group
    problems = Problems()
    if api is not None and api.critical_endpoints and not api.detailed_metrics:
        problems.add(ConfigError("inventory.api.detailedMetrics", api.detailed_metrics,
                                 "true: per-endpoint alarms read metrics API Gateway publishes only with detailed "
                                 "metrics enabled on the stage (aws apigateway update-stage --patch-operations "
                                 "op=replace,path=/*/*/metrics/enabled,value=true); enable them, then set this"))
    functions = problems.attempt(_functions, section, lambda_thresholds)
    fleet_groups = problems.attempt(_fleet_groups, section)
    discovery = problems.attempt(_discovery, section)
    problems.raise_any()
    assert functions is not None and fleet_groups is not None
    inventory = Inventory(
        functions=functions,
        api=None if api is None else ApiConfig(
            name=api.name,
            stage=api.stage,
            critical_endpoints=tuple(
                CriticalEndpoint(e.path, e.method, float(e.latency_p99_ms or api_thresholds.endpoint_latency_p99_ms),
                                 float(e.min_requests or api_thresholds.endpoint_min_requests))
                for e in api.critical_endpoints
            ),
            detailed_metrics=api.detailed_metrics,
        ),
        rds=tuple(RdsInstance(r.instance_id, r.max_connections, r.replica) for r in section.rds),
        redis=None if section.redis is None else RedisConfig(section.redis.replication_group_id,
                                                             section.redis.node_ids),
        business_namespace=section.business_namespace,
        health_namespace=section.health_namespace,
        security_log_group=None if log_group is None else log_group.name,
        security_log_group_creation=(
            SecurityLogGroupCreation(int(log_group.retention_days)) if log_group and log_group.create else None),
        fleet_groups=fleet_groups,
        own_functions=own_functions,
    )
    return inventory, discovery


def merge_discovered(inventory: Inventory, discovery: Discovery, names: list[str],
                     thresholds: LambdaThresholds) -> Inventory:
    """Adds the discovered functions that no group lists and that are not this stack's own; keeps
    every name the account returned (a catch-all fleet's query matches those outside the prefix too)."""
    known = {fn.name for fn in inventory.functions} | set(inventory.own_functions)
    account = tuple(sorted(set(names)))
    # Discovered into a fleet group: covered by its Metrics Insights alarms, no alarms of their own.
    extra = tuple(
        LambdaFunction(name, discovery.group, discovery.tier, discovery.timeout_seconds, thresholds,
                       discovered=True, fleet=discovery.fleet)
        for name in account
        if name.startswith(discovery.function_prefix) and name not in known
    )
    return inventory.with_functions(extra, account)


def _completed(inventory: Inventory, discovery: Optional[Discovery], discover: Optional[Discover],
               thresholds: LambdaThresholds) -> Inventory:
    """The inventory with the discovered functions merged in, its fleet queries checked."""
    if discovery is not None and discover is not None:
        inventory = merge_discovered(inventory, discovery, discover(), thresholds)
    check_fleet_queries(inventory)
    return inventory


def validate(raw: dict[str, Any]) -> StackConfig:
    """The namespace checked against the schema; every problem in one ConfigError, a line each."""
    problems = Problems()
    shown: dict[str, Any] = {}
    for key, value in raw.items():
        if key in SECRET_KEYS:
            shown[key] = value
            continue
        shown[key], leaks = hide_plaintext_webhooks(value, key)
        problems.extend(leaks)
    leaked = {error.key for error in problems.errors}
    try:
        parsed = StackConfig.model_validate(shown)
    except ValidationError as error:
        # A webhook URL in plaintext is reported once, as such, not again as a value of the wrong form.
        problems.extend(e for e in validation_errors(error, shown, StackConfig) if e.key not in leaked)
        raise problems.error() from None
    problems.raise_any()
    return parsed


def _slos(section: Any, inventory: Inventory, monitor: Optional[HealthMonitorSettings], traffic: MonthlyTraffic,
          business: BusinessThresholds) -> tuple[Slo, ...]:
    """The SLOs the stack measures, their budgets sized by the expected traffic and the judged minutes."""
    slos = measurable_slos(slo_settings(section), inventory, monitor)
    slos = with_expected_traffic(slos, traffic, [(f.name, f.invocation) for f in inventory.functions])
    return judged_in_school_hours(slos, business.school_day_end_ist - business.school_day_start_ist,
                                  business.school_days_per_week)


def load_settings(discover: Optional[Discover] = None) -> StackSettings:
    """The validated settings of the current stack; `discover` answers discovery lookups.

    Checks that do not depend on each other all run, so one run reports every problem found."""
    config = pulumi.Config()
    problems = Problems()
    problems.attempt(_check_namespaces, PROJECT)
    problems.attempt(_check_aws_keys)
    region = problems.attempt(_region)
    raw = read_namespace(config, PROJECT)
    # Secret values never reach the schema (or an error message): only whether they are set.
    parsed = problems.attempt(validate, {k: ("<secret>" if k in SECRET_KEYS else v) for k, v in raw.items()})
    if parsed is None:
        raise problems.error()
    thresholds = _thresholds(parsed.thresholds)
    problems.attempt(_check_business_hours, thresholds.business)
    alerting = problems.attempt(_alerting, parsed.alerting, config)
    health_monitor = health_monitor_settings(parsed.health_monitor)
    own = own_function_names(parsed.environment, alerting or {}, health_monitor)
    found = problems.attempt(_inventory, parsed.inventory, thresholds.api, thresholds.lambda_, own)
    inventory = None
    # The catch-all fleet query leaves out this stack's own functions by name, which follow from
    # alerting: with alerting in error, its length is not known.
    if found is not None and alerting is not None:
        inventory = problems.attempt(_completed, *found, discover, thresholds.lambda_)
    traffic = monthly_traffic(health_monitor, thresholds.business.school_days_per_week)
    slos = _slos(parsed.slos, inventory, health_monitor, traffic, thresholds.business) if inventory else ()
    problems.attempt(_check_replaced_thresholds, parsed.thresholds, slos)
    problems.raise_any()
    # No problem: every check above returned its value.
    assert region is not None and alerting is not None and found is not None and inventory is not None
    discovery = found[1]
    return StackSettings(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        environment=parsed.environment,
        region=region,
        runbook_base_url=parsed.runbook_base_url,
        alerting=alerting,
        thresholds=thresholds,
        inventory=inventory,
        costs=cost_settings(parsed.budgets, parsed.cost_anomaly, parsed.tracing,
                            None if parsed.monitoring_budget_usd is None else float(parsed.monitoring_budget_usd),
                            expected_requests(traffic, inventory.functions)),
        discovery=discovery,
        health_monitor=health_monitor,
        maintenance=maintenance_settings(parsed.maintenance, parsed.school_calendar,
                                         int(thresholds.business.school_days_per_week)),
        slos=slos,
    )
