"""Reads the stack config once, validates every key against the schema, returns `StackSettings`.

Nothing here creates a resource, so a bad value stops the program before anything exists.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_aws
from botocore.loaders import create_loader
from pulumi.runtime.config import CONFIG, get_config_env
from pydantic import ValidationError

from stackconfig.costs import cost_settings
from stackconfig.errors import MISSING, PROJECT, ConfigError, from_validation
from stackconfig.fleet_queries import check_fleet_queries
from stackconfig.health_monitor import health_monitor_settings
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
from stackconfig.secrets import read_secret, reject_plaintext_webhooks, set_secret_command
from stackconfig.thresholds import SECTIONS, LambdaThresholds, Thresholds
from stackconfig.types import camel

# Discovery answers with the names of the account's functions (the real one asks AWS).
Discover = Callable[[], list[str]]


def _string_keys() -> frozenset[str]:
    """Top-level keys whose values are strings: the CLI's text is the value, never parsed as JSON."""
    properties = StackConfig.model_json_schema()["properties"]

    def is_string(schema: dict[str, Any]) -> bool:
        return schema.get("type") == "string" or any(s.get("type") == "string" for s in schema.get("anyOf", []))

    return frozenset(key for key, schema in properties.items() if is_string(schema))


STRING_KEYS = _string_keys()


def read_namespace(config: pulumi.Config, project: str) -> dict[str, Any]:
    """Every key of the project's namespace as the program receives it: JSON parsed, strings kept.

    A scalar that is not JSON (`monitoringBudgetUsd: lots`) stays a string, so the schema can
    say which type it expected.
    """
    prefix = f"{project}:"
    keys = {*CONFIG.get(), *(get_config_env() or {})}
    for key in sorted(keys):
        namespace = key.split(":", 1)[0]
        # Other namespaces belong to providers; one a letter or two off the project's is a typo.
        if namespace != project and difflib.get_close_matches(namespace, [project], cutoff=0.85):
            meant = f"{project}:{key.split(':', 1)[-1]}"
            raise ConfigError.unknown_key(key, [meant], nearest=[meant])
    names = sorted({k[len(prefix):] for k in keys if k.startswith(prefix)})
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


@functools.cache
def known_regions() -> frozenset[str]:
    """The regions in botocore's endpoint data (shipped with botocore: no network)."""
    endpoints = create_loader().load_data("endpoints")
    return frozenset(region for partition in endpoints["partitions"] for region in partition["regions"])


@functools.cache
def aws_provider_keys() -> frozenset[str]:
    """The `aws:` keys the AWS provider reads, from the installed pulumi_aws (its config/vars.py)."""
    source = Path(pulumi_aws.__file__).parent.joinpath("config", "vars.py").read_text()
    return frozenset(re.findall(r"__config__\.get\w*\('(\w+)'\)", source))


def _check_aws_keys() -> None:
    known = aws_provider_keys()
    for key in sorted({*CONFIG.get(), *(get_config_env() or {})}):
        if key.startswith("aws:") and key[4:] not in known:
            raise ConfigError.unknown_key(key, sorted(known))


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
    key = f"alerting.{tier.value}"
    pagerduty = webhook = channel = None
    if section.pagerduty:
        pagerduty = secrets["pagerdutyEndpoint"]
        if pagerduty is None:
            raise ConfigError("pagerdutyEndpoint", MISSING, f"a secret PagerDuty endpoint, since {key}.pagerduty is "
                              f"true; set it with `{set_secret_command('pagerdutyEndpoint')}`")
    if section.slack == "webhook":
        webhook = secrets["slackWebhookUrl"]
        if webhook is None:
            raise ConfigError("slackWebhookUrl", MISSING, f"a secret Slack webhook URL, since {key}.slack is "
                              f"'webhook'; set it with `{set_secret_command('slackWebhookUrl')}`")
    elif section.slack is not None:
        channel = SlackChannel(section.slack.workspace_id, section.slack.channel_id)
    if not (section.emails or section.sms or pagerduty or channel or webhook):
        raise ConfigError(key, section.model_dump(by_alias=True),
                          "at least one contact (emails, sms, pagerduty or slack)")
    return TierContacts(tier, section.emails, section.sms, pagerduty, channel, webhook)


def _alerting(section: AlertingSection, config: pulumi.Config) -> dict[Tier, TierContacts]:
    secrets = {key: read_secret(config, key) for key in SECRET_KEYS}
    return {tier: _contacts(tier, getattr(section, tier.value), secrets) for tier in Tier}


def _overrides(base: Any, section: Any) -> Any:
    """`base` (a thresholds dataclass) with the values the config section sets."""
    return dataclasses.replace(base, **{k: float(v) for k, v in dict(section or {}).items() if v is not None})


def _thresholds(section: Any) -> Thresholds:
    defaults = Thresholds()
    thresholds = Thresholds(**{attr: _overrides(getattr(defaults, attr), getattr(section, attr))
                               for attr in SECTIONS.values()})
    business = thresholds.business
    for start, end in (("school_day_start_ist", "school_day_end_ist"), ("lunch_start_ist", "lunch_end_ist")):
        if getattr(business, end) <= getattr(business, start):
            raise ConfigError(f"thresholds.business.{camel(end)}", getattr(business, end),
                              f"a time after {camel(start)} ({getattr(business, start):g})")
    return thresholds


FLEET_DEFAULT_TIER = Tier.WARNING


def _group_tier(group: str, body: LambdaGroupSection) -> Tier:
    if body.tier is not None:
        return Tier(body.tier)
    if body.fleet:
        return FLEET_DEFAULT_TIER
    raise ConfigError(f"inventory.lambdaGroups.{group}.tier", MISSING,
                      f"one of the tiers {', '.join(t.value for t in Tier)} (required for a group alarmed per "
                      "function; only a fleet: true group defaults to warning)")


def _check_fleet_group(group: str, body: LambdaGroupSection) -> None:
    """Fleet alarms are per group and metric: what a function could set on its own would be ignored."""
    if body.invocation != "sync":
        raise ConfigError(f"inventory.lambdaGroups.{group}.invocation", body.invocation,
                          "sync in a fleet group (fleet alarms have no lost-event alarms): list the async "
                          "functions in a group without fleet: true")
    for i, entry in enumerate(body.functions):
        for key, value in (("tier", entry.tier), ("timeoutSeconds", entry.timeout_seconds),
                           ("thresholds", entry.thresholds)):
            if value is not None:
                shown = value.model_dump(by_alias=True, exclude_none=True) if key == "thresholds" else value
                raise ConfigError(
                    f"inventory.lambdaGroups.{group}.functions[{i}].{key}", shown,
                    f"no {key} of its own for {entry.name} in fleet group {group} (its alarms are one per group "
                    f"and metric, with the group's tier, timeout and thresholds): list {entry.name} in a group "
                    "without fleet: true")


def _functions(section: InventorySection) -> tuple[LambdaFunction, ...]:
    seen: dict[str, str] = {}
    functions: list[LambdaFunction] = []
    for group, body in section.lambda_groups.items():
        if not body.functions and not body.fleet:
            raise ConfigError(f"inventory.lambdaGroups.{group}.functions", [],
                              "a non-empty list of functions (or fleet: true to alarm the group as a fleet)")
        tier = _group_tier(group, body)
        if body.fleet:
            _check_fleet_group(group, body)
        for i, entry in enumerate(body.functions):
            key = f"inventory.lambdaGroups.{group}.functions[{i}]"
            if entry.name in seen:
                raise ConfigError(f"{key}.name", entry.name,
                                  f"each function listed once (already at {seen[entry.name]})")
            seen[entry.name] = key
            functions.append(LambdaFunction(
                name=entry.name,
                group=group,
                tier=Tier(entry.tier) if entry.tier else tier,
                timeout_seconds=entry.timeout_seconds or body.timeout_seconds,
                thresholds=_overrides(LambdaThresholds(), entry.thresholds),
                fleet=body.fleet,
                invocation=body.invocation,
            ))
    return tuple(functions)


def _fleet_groups(section: InventorySection) -> tuple[FleetGroup, ...]:
    fleets = tuple(FleetGroup(name, _group_tier(name, body), body.timeout_seconds, catch_all=not body.functions)
                   for name, body in section.lambda_groups.items() if body.fleet)
    catch_alls = [f.name for f in fleets if f.catch_all]
    if len(catch_alls) > 1:
        raise ConfigError(f"inventory.lambdaGroups.{catch_alls[1]}", "a second fleet group without functions",
                          f"its functions listed: only one fleet group without functions may cover the rest of "
                          f"the account ({catch_alls[0]} already does)")
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
            nearest = difflib.get_close_matches(name, [*groups, OWN_DISCOVERY_GROUP], n=1)
            hint = f"; did you mean `{nearest[0]}`?" if nearest else ""
            raise ConfigError("inventory.discovery.group", name,
                              f"a group of inventory.lambdaGroups ({', '.join(groups)}), or `{OWN_DISCOVERY_GROUP}` "
                              f"(the default): a per-function group of their own{hint}")
        return Discovery(found.function_prefix, name, Tier(found.tier or FLEET_DEFAULT_TIER),
                         found.timeout_seconds or 30)
    body = groups[name]
    tier = _group_tier(name, body)
    if body.fleet:
        for key, own, group_value in (("tier", found.tier, tier.value),
                                      ("timeoutSeconds", found.timeout_seconds, body.timeout_seconds)):
            if own is not None and own != group_value:
                raise ConfigError(
                    f"inventory.discovery.{key}", own,
                    f"{group_value!r} or no {key}: discovered functions join fleet group {name}, whose alarms are "
                    f"per group (inventory.lambdaGroups.{name}.{key}: {group_value!r}); to alarm them at another "
                    f"{key}, point discovery.group at a group without fleet: true")
    return Discovery(found.function_prefix, name, Tier(found.tier) if found.tier else tier,
                     found.timeout_seconds or body.timeout_seconds, fleet=body.fleet)


def _inventory(section: InventorySection, endpoint_latency: float,
               own_functions: tuple[str, ...]) -> tuple[Inventory, Optional[Discovery]]:
    api = section.api
    log_group = section.security_log_group
    if api is not None and api.critical_endpoints and not api.detailed_metrics:
        raise ConfigError("inventory.api.detailedMetrics", api.detailed_metrics,
                          "true: per-endpoint alarms read metrics API Gateway publishes only with detailed "
                          "metrics enabled on the stage (aws apigateway update-stage --patch-operations "
                          "op=replace,path=/*/*/metrics/enabled,value=true); enable them, then set this")
    inventory = Inventory(
        functions=_functions(section),
        api=None if api is None else ApiConfig(
            name=api.name,
            stage=api.stage,
            critical_endpoints=tuple(
                CriticalEndpoint(e.path, e.method, float(e.latency_p99_ms or endpoint_latency))
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
        fleet_groups=_fleet_groups(section),
        own_functions=own_functions,
    )
    return inventory, _discovery(section)


def merge_discovered(inventory: Inventory, discovery: Discovery, names: list[str]) -> Inventory:
    """Adds the discovered functions that no group lists and that are not this stack's own; keeps
    every name the account returned (a catch-all fleet's query matches those outside the prefix too)."""
    known = {fn.name for fn in inventory.functions} | set(inventory.own_functions)
    account = tuple(sorted(set(names)))
    # Discovered into a fleet group: covered by its Metrics Insights alarms, no alarms of their own.
    extra = tuple(
        LambdaFunction(name, discovery.group, discovery.tier, discovery.timeout_seconds, discovered=True,
                       fleet=discovery.fleet)
        for name in account
        if name.startswith(discovery.function_prefix) and name not in known
    )
    return inventory.with_functions(extra, account)


def validate(raw: dict[str, Any]) -> StackConfig:
    """The namespace checked against the schema; the first problem as a one-line ConfigError."""
    for key, value in raw.items():
        if key not in SECRET_KEYS:
            reject_plaintext_webhooks(value, key)
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        raise from_validation(error, raw, StackConfig) from None


def load_settings(discover: Optional[Discover] = None) -> StackSettings:
    """The validated settings of the current stack; `discover` answers discovery lookups."""
    config = pulumi.Config()
    raw = read_namespace(config, PROJECT)
    # Secret values never reach the schema (or an error message): only whether they are set.
    parsed = validate({k: ("<secret>" if k in SECRET_KEYS else v) for k, v in raw.items()})
    _check_aws_keys()
    region = _region()
    thresholds = _thresholds(parsed.thresholds)
    alerting = _alerting(parsed.alerting, config)
    health_monitor = health_monitor_settings(parsed.health_monitor)
    own = own_function_names(parsed.environment, alerting, health_monitor)
    inventory, discovery = _inventory(parsed.inventory, thresholds.api.endpoint_latency_p99_ms, own)
    if discovery is not None and discover is not None:
        inventory = merge_discovered(inventory, discovery, discover())
    check_fleet_queries(inventory)
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
                            None if parsed.monitoring_budget_usd is None else float(parsed.monitoring_budget_usd)),
        discovery=discovery,
        health_monitor=health_monitor,
    )
