"""Settings of the deployed health monitor (optional `healthMonitor` section)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Optional

from stackconfig.errors import ConfigError

SECRET_ARN = re.compile(r"^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
KEY_ARN = re.compile(r"^arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
SCHEDULE = re.compile(r"^(rate\(1 minute\)|rate\([1-9]\d* (minutes|hours|days)\)|rate\(1 (hour|day)\)|cron\(.+\))$")
READER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FIELDS = {"schedule", "databaseSecretArn", "redisSecretArn", "secretsKmsKeyArn", "paymentGatewayUrl", "rfidReaderIds",
          "subnetIds", "securityGroupIds", "endpoint", "endpointAuth", "dailyRevenueInr", "activeUsers",
          "timeoutSeconds"}


@dataclasses.dataclass(frozen=True)
class HealthMonitorSettings:
    schedule: str = "rate(1 minute)"
    database_secret_arn: Optional[str] = None
    redis_secret_arn: Optional[str] = None
    # The customer-managed key the secrets are encrypted with (none: the AWS-managed secretsmanager key).
    secrets_kms_key_arn: Optional[str] = None
    payment_gateway_url: Optional[str] = "https://api.razorpay.com/v1/"
    rfid_reader_ids: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    endpoint: str = "functionUrl"
    endpoint_auth: str = "AWS_IAM"
    daily_revenue_inr: float = 0
    active_users: int = 0
    timeout_seconds: int = 30


def _list(raw: dict[str, Any], field: str, pattern: re.Pattern[str], expected: str) -> tuple[str, ...]:
    value = raw.get(field) or []
    key = f"healthMonitor.{field}"
    if not isinstance(value, list):
        raise ConfigError(key, value, f"a list of {expected}")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not pattern.match(item):
            raise ConfigError(f"{key}[{i}]", item, expected)
    return tuple(value)


def load_health_monitor(raw: Any) -> Optional[HealthMonitorSettings]:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("healthMonitor", raw, "a mapping (see README: health monitor)")
    for field in raw:
        if field not in FIELDS:
            hint = " (credentials come only through databaseSecretArn / redisSecretArn)" if re.search(
                "pass|secret|token|key", field, re.I) else ""
            raise ConfigError(f"healthMonitor.{field}", "<not shown>", f"one of {', '.join(sorted(FIELDS))}{hint}")
    defaults = HealthMonitorSettings()
    for field in ("databaseSecretArn", "redisSecretArn"):
        value = raw.get(field)
        if value is not None and (not isinstance(value, str) or not SECRET_ARN.match(value)):
            raise ConfigError(f"healthMonitor.{field}", value, "a Secrets Manager secret ARN "
                              "(arn:aws:secretsmanager:<region>:<account>:secret:<name>)")
    key = raw.get("secretsKmsKeyArn")
    if key is not None and (not isinstance(key, str) or not KEY_ARN.match(key)):
        raise ConfigError("healthMonitor.secretsKmsKeyArn", key,
                          "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
    schedule = raw.get("schedule", defaults.schedule)
    if not isinstance(schedule, str) or not SCHEDULE.match(schedule):
        raise ConfigError("healthMonitor.schedule", schedule, "an EventBridge schedule like rate(1 minute)")
    url = raw.get("paymentGatewayUrl", defaults.payment_gateway_url)
    if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
        raise ConfigError("healthMonitor.paymentGatewayUrl", url, "an https:// URL to probe")
    endpoint = raw.get("endpoint", defaults.endpoint)
    if endpoint not in ("functionUrl", "none"):
        raise ConfigError("healthMonitor.endpoint", endpoint, "functionUrl or none")
    auth = raw.get("endpointAuth", defaults.endpoint_auth)
    if auth not in ("AWS_IAM", "NONE"):
        raise ConfigError("healthMonitor.endpointAuth", auth, "AWS_IAM or NONE")
    subnets = _list(raw, "subnetIds", SUBNET, "a subnet id like subnet-0abc12345def67890")
    groups = _list(raw, "securityGroupIds", SECURITY_GROUP, "a security group id like sg-0abc12345def67890")
    if subnets and not groups:
        raise ConfigError("healthMonitor.securityGroupIds", [], "at least one security group when subnetIds is set")
    revenue = raw.get("dailyRevenueInr", 0)
    if isinstance(revenue, bool) or not isinstance(revenue, (int, float)) or revenue < 0:
        raise ConfigError("healthMonitor.dailyRevenueInr", revenue, "an amount in INR >= 0")
    users = raw.get("activeUsers", 0)
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        raise ConfigError("healthMonitor.activeUsers", users, "a whole number >= 0")
    timeout = raw.get("timeoutSeconds", defaults.timeout_seconds)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 5 <= timeout <= 60:
        raise ConfigError("healthMonitor.timeoutSeconds", timeout, "a whole number from 5 to 60")
    return HealthMonitorSettings(
        schedule=schedule, database_secret_arn=raw.get("databaseSecretArn"),
        redis_secret_arn=raw.get("redisSecretArn"), secrets_kms_key_arn=key, payment_gateway_url=url,
        rfid_reader_ids=_list(raw, "rfidReaderIds", READER, "a reader id like reader-001"),
        subnet_ids=subnets, security_group_ids=groups, endpoint=endpoint, endpoint_auth=auth,
        daily_revenue_inr=float(revenue), active_users=users, timeout_seconds=timeout,
    )
