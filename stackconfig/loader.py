"""Reads `Pulumi.<stack>.yaml` once, validates every value, returns `StackSettings`.

Nothing here creates a resource, so a bad value stops the program before anything exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Optional

import pulumi

from stackconfig.costs import load_cost_settings
from stackconfig.errors import MISSING, ConfigError
from stackconfig.health_monitor import load_health_monitor
from stackconfig.model import (
    ApiConfig,
    CriticalEndpoint,
    Discovery,
    Inventory,
    LambdaFunction,
    RdsInstance,
    RedisConfig,
    SlackChannel,
    StackSettings,
    Tier,
    TierContacts,
)
from stackconfig.secrets import read_secret, reject_plaintext_webhooks
from stackconfig.thresholds import LambdaThresholds, apply_overrides, load_thresholds

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
RESOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,139}$")
NAMESPACE = re.compile(r"^[A-Za-z0-9/_.#:-]{1,255}$")
SLACK_ID = re.compile(r"^[A-Z0-9]{6,20}$")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "ANY")
INVOCATIONS = ("sync", "async")
TIERS = ", ".join(t.value for t in Tier)

# Discovery answers with the names of functions matching a prefix (the real one asks AWS).
Discover = Callable[[str], list[str]]


def _need(raw: dict[str, Any], field: str, key: str) -> Any:
    if field not in raw or raw[field] is None:
        raise ConfigError(f"{key}.{field}" if key else field, MISSING, "a value (the key is required)")
    return raw[field]


def _mapping(value: Any, key: str, expected: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(key, value, expected)
    return value


def _string(value: Any, key: str, pattern: re.Pattern[str], expected: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(key, value, expected)
    return value


def _strings(value: Any, key: str, pattern: re.Pattern[str], expected: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(key, value, f"a list of {expected}")
    return tuple(_string(v, f"{key}[{i}]", pattern, expected) for i, v in enumerate(value))


def _tier(value: Any, key: str) -> Tier:
    try:
        return Tier(value)
    except ValueError:
        raise ConfigError(key, value, f"one of the tiers {TIERS}") from None


def _int(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(key, value, f"a whole number from {low} to {high}")
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(key, value, "true or false")
    return value


def _object(config: pulumi.Config, key: str) -> Any:
    try:
        return config.get_object(key)
    except (json.JSONDecodeError, pulumi.ConfigTypeError):
        raise ConfigError(key, config.get(key), "a YAML mapping or list") from None


def _load_contacts(
    tier: Tier, raw: Any, key: str, pagerduty: Optional[pulumi.Output[str]],
    slack_webhook: Optional[pulumi.Output[str]],
) -> TierContacts:
    raw = _mapping(raw, key, "a mapping with emails, sms, pagerduty, slack")
    known = {"emails", "sms", "pagerduty", "slack"}
    for field in raw:
        if field not in known:
            raise ConfigError(f"{key}.{field}", raw[field], f"one of the fields {', '.join(sorted(known))}")
    emails = _strings(raw.get("emails"), f"{key}.emails", EMAIL, "an email address like ops@hasivu.com")
    sms = _strings(raw.get("sms"), f"{key}.sms", E164, "an E.164 phone number like +919800000001")
    endpoint = None
    if raw.get("pagerduty") not in (None, False):
        if raw["pagerduty"] is not True:
            raise ConfigError(f"{key}.pagerduty", raw["pagerduty"], "true or false")
        if pagerduty is None:
            raise ConfigError(
                "pagerdutyEndpoint", MISSING, f"a secret PagerDuty endpoint, since {key}.pagerduty is true"
            )
        endpoint = pagerduty
    channel, webhook = None, None
    slack = raw.get("slack")
    if slack == "webhook":
        if slack_webhook is None:
            raise ConfigError("slackWebhookUrl", MISSING, f"a secret Slack webhook URL, since {key}.slack is 'webhook'")
        webhook = slack_webhook
    elif slack is not None:
        slack = _mapping(slack, f"{key}.slack", "'webhook' or a mapping with workspaceId and channelId")
        channel = SlackChannel(
            workspace_id=_string(_need(slack, "workspaceId", f"{key}.slack"), f"{key}.slack.workspaceId",
                                 SLACK_ID, "a Slack workspace id like T01ABCDEF"),
            channel_id=_string(_need(slack, "channelId", f"{key}.slack"), f"{key}.slack.channelId",
                               SLACK_ID, "a Slack channel id like C01ABCDEF"),
        )
    if not (emails or sms or endpoint or channel or webhook):
        raise ConfigError(key, raw, "at least one contact (emails, sms, pagerduty or slack)")
    return TierContacts(tier, emails, sms, endpoint, channel, webhook)


def _load_alerting(config: pulumi.Config) -> dict[Tier, TierContacts]:
    raw = _object(config, "alerting")
    if raw is None:
        raise ConfigError("alerting", MISSING, f"a mapping with the tiers {TIERS}")
    raw = _mapping(raw, "alerting", f"a mapping with the tiers {TIERS}")
    for name in raw:
        _tier(name, f"alerting.{name}")
    pagerduty = read_secret(config, "pagerdutyEndpoint")
    slack = read_secret(config, "slackWebhookUrl")
    return {
        tier: _load_contacts(tier, _need(raw, tier.value, "alerting"), f"alerting.{tier.value}", pagerduty, slack)
        for tier in Tier
    }


def _load_functions(raw: Any, key: str) -> tuple[LambdaFunction, ...]:
    groups = _mapping(raw, key, "a mapping of group name to {tier, functions}")
    seen: dict[str, str] = {}
    functions: list[LambdaFunction] = []
    for group, body in groups.items():
        gkey = f"{key}.{group}"
        body = _mapping(body, gkey, "a mapping with tier, timeoutSeconds and functions")
        tier = _tier(_need(body, "tier", gkey), f"{gkey}.tier")
        default_timeout = body.get("timeoutSeconds", 30)
        invocation = body.get("invocation", "sync")
        if invocation not in INVOCATIONS:
            raise ConfigError(f"{gkey}.invocation", invocation, f"one of {', '.join(INVOCATIONS)}")
        entries = _need(body, "functions", gkey)
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{gkey}.functions", entries, "a non-empty list of functions")
        for i, entry in enumerate(entries):
            fkey = f"{gkey}.functions[{i}]"
            if isinstance(entry, str):
                entry = {"name": entry}
            entry = _mapping(entry, fkey, "a function name or a mapping with name, timeoutSeconds, tier, thresholds")
            name = _string(_need(entry, "name", fkey), f"{fkey}.name", RESOURCE_ID,
                           "a Lambda function name (letters, digits, - and _)")
            if name in seen:
                raise ConfigError(f"{fkey}.name", name, f"each function listed once (already at {seen[name]})")
            seen[name] = fkey
            functions.append(LambdaFunction(
                name=name,
                group=group,
                tier=_tier(entry["tier"], f"{fkey}.tier") if "tier" in entry else tier,
                timeout_seconds=_int(entry.get("timeoutSeconds", default_timeout), f"{fkey}.timeoutSeconds", 1, 900),
                thresholds=apply_overrides(LambdaThresholds(), entry.get("thresholds"), f"{fkey}.thresholds"),
                invocation=invocation,
            ))
    return tuple(functions)


def _load_api(raw: Any, key: str, default_latency: float) -> Optional[ApiConfig]:
    if raw is None:
        return None
    raw = _mapping(raw, key, "a mapping with name, stage and criticalEndpoints")
    endpoints = []
    for i, entry in enumerate(raw.get("criticalEndpoints") or []):
        ekey = f"{key}.criticalEndpoints[{i}]"
        if isinstance(entry, str):
            entry = {"path": entry}
        entry = _mapping(entry, ekey, "a path like /orders or a mapping with path, method, latencyP99Ms")
        # The Resource dimension is the API Gateway resource path (`/{proxy+}` on a proxy API),
        # never the request path.
        path = _string(_need(entry, "path", ekey), f"{ekey}.path", re.compile(r"^/[A-Za-z0-9/_{}.+-]*$"),
                       "a resource path as defined in API Gateway, like /payments/orders or /{proxy+}")
        method = str(entry.get("method", "POST")).upper()
        if method not in HTTP_METHODS:
            raise ConfigError(f"{ekey}.method", entry.get("method"), f"one of {', '.join(HTTP_METHODS)}")
        latency = entry.get("latencyP99Ms", default_latency)
        if isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency <= 0:
            raise ConfigError(f"{ekey}.latencyP99Ms", latency, "a positive number of milliseconds")
        endpoints.append(CriticalEndpoint(path, method, float(latency)))
    detailed = raw.get("detailedMetrics", False)
    if not isinstance(detailed, bool):
        raise ConfigError(f"{key}.detailedMetrics", detailed, "true or false")
    if endpoints and not detailed:
        raise ConfigError(f"{key}.detailedMetrics", raw.get("detailedMetrics", MISSING),
                          "true: per-endpoint alarms read metrics API Gateway publishes only with detailed "
                          "metrics enabled on the stage (aws apigateway update-stage --patch-operations "
                          "op=replace,path=/*/*/metrics/enabled,value=true); enable them, then set this")
    return ApiConfig(
        name=_string(_need(raw, "name", key), f"{key}.name", RESOURCE_ID, "a REST API name"),
        stage=_string(_need(raw, "stage", key), f"{key}.stage", RESOURCE_ID, "a stage name like prod"),
        critical_endpoints=tuple(endpoints),
        detailed_metrics=detailed,
    )


def _load_rds(raw: Any, key: str) -> tuple[RdsInstance, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(key, raw, "a list of {instanceId, maxConnections}")
    instances = []
    for i, entry in enumerate(raw):
        ikey = f"{key}[{i}]"
        if isinstance(entry, str):
            entry = {"instanceId": entry}
        entry = _mapping(entry, ikey, "an instance id or a mapping with instanceId and maxConnections")
        instances.append(RdsInstance(
            instance_id=_string(_need(entry, "instanceId", ikey), f"{ikey}.instanceId", RESOURCE_ID,
                                "an RDS instance identifier"),
            max_connections=_int(entry.get("maxConnections", 100), f"{ikey}.maxConnections", 1, 100_000),
            replica=_flag(entry.get("replica", False), f"{ikey}.replica"),
        ))
    return tuple(instances)


def _load_redis(raw: Any, key: str) -> Optional[RedisConfig]:
    if raw is None:
        return None
    raw = _mapping(raw, key, "a mapping with replicationGroupId and nodeIds")
    nodes = _strings(_need(raw, "nodeIds", key), f"{key}.nodeIds", RESOURCE_ID, "a cache node id")
    if not nodes:
        raise ConfigError(f"{key}.nodeIds", [], "at least one cache node id")
    return RedisConfig(
        replication_group_id=_string(_need(raw, "replicationGroupId", key), f"{key}.replicationGroupId",
                                     RESOURCE_ID, "an ElastiCache replication group id"),
        node_ids=nodes,
    )


def _load_discovery(raw: Any, key: str) -> Optional[Discovery]:
    if raw is None:
        return None
    raw = _mapping(raw, key, "a mapping with functionPrefix, group, tier, timeoutSeconds")
    return Discovery(
        function_prefix=_string(_need(raw, "functionPrefix", key), f"{key}.functionPrefix", RESOURCE_ID,
                                "a function name prefix like hasivu-production-"),
        group=_string(raw.get("group", "discovered"), f"{key}.group", RESOURCE_ID, "a group name"),
        tier=_tier(raw.get("tier", "warning"), f"{key}.tier"),
        timeout_seconds=_int(raw.get("timeoutSeconds", 30), f"{key}.timeoutSeconds", 1, 900),
    )


def _load_inventory(config: pulumi.Config, default_endpoint_latency: float) -> tuple[Inventory, Optional[Discovery]]:
    raw = _object(config, "inventory")
    if raw is None:
        raise ConfigError("inventory", MISSING, "a mapping with lambdaGroups, api, rds, redis")
    raw = _mapping(raw, "inventory", "a mapping with lambdaGroups, api, rds, redis")
    reject_plaintext_webhooks(raw, "inventory")
    inventory = Inventory(
        functions=_load_functions(_need(raw, "lambdaGroups", "inventory"), "inventory.lambdaGroups"),
        api=_load_api(raw.get("api"), "inventory.api", default_endpoint_latency),
        rds=_load_rds(raw.get("rds"), "inventory.rds"),
        redis=_load_redis(raw.get("redis"), "inventory.redis"),
        business_namespace=_string(raw.get("businessNamespace", "HASIVU/Business"), "inventory.businessNamespace",
                                   NAMESPACE, "a CloudWatch namespace like HASIVU/Business"),
        health_namespace=_string(raw.get("healthNamespace", "HASIVU/Health"), "inventory.healthNamespace",
                                 NAMESPACE, "a CloudWatch namespace like HASIVU/Health"),
        security_log_group=raw.get("securityLogGroup"),
    )
    return inventory, _load_discovery(raw.get("discovery"), "inventory.discovery")


def merge_discovered(inventory: Inventory, discovery: Discovery, names: list[str]) -> Inventory:
    """Adds the discovered functions that the configured groups do not already list."""
    known = {fn.name for fn in inventory.functions}
    extra = tuple(
        LambdaFunction(name, discovery.group, discovery.tier, discovery.timeout_seconds, discovered=True)
        for name in sorted(set(names))
        if name.startswith(discovery.function_prefix) and name not in known
    )
    return inventory.with_functions(extra)


def load_settings(discover: Optional[Discover] = None) -> StackSettings:
    """The validated settings of the current stack; `discover` answers discovery lookups."""
    config = pulumi.Config()
    for key in ("alerting", "thresholds", "healthMonitor"):
        reject_plaintext_webhooks(_object(config, key), key)
    environment = _string(config.get("environment", MISSING), "environment", ENVIRONMENT,
                          "a lower-case environment name like production")
    runbook = config.get("runbookBaseUrl") or ""
    if not runbook.startswith("https://"):
        raise ConfigError("runbookBaseUrl", runbook or MISSING, "an HTTPS URL like https://runbooks.hasivu.com")
    thresholds = load_thresholds(_object(config, "thresholds"))
    alerting = _load_alerting(config)
    inventory, discovery = _load_inventory(config, thresholds.api.endpoint_latency_p99_ms)
    if discovery is not None and discover is not None:
        inventory = merge_discovered(inventory, discovery, discover(discovery.function_prefix))
    return StackSettings(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        environment=environment,
        region=pulumi.Config("aws").get("region") or "ap-south-1",
        runbook_base_url=runbook,
        alerting=alerting,
        thresholds=thresholds,
        inventory=inventory,
        costs=load_cost_settings(_object(config, "budgets"), _object(config, "costAnomaly"),
                                 _object(config, "tracing"), _object(config, "monitoringBudgetUsd")),
        discovery=discovery,
        health_monitor=load_health_monitor(_object(config, "healthMonitor")),
    )
