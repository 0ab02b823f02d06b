"""Settings of the deployed health monitor (optional `healthMonitor` section).

`HealthMonitorSection` is the config schema of the section and `HealthMonitorSettings` what the
component reads; their fields correspond one to one (a test checks it), so a new setting is one
field in each, side by side here.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from pydantic import Field, model_validator

from stackconfig.types import Section, fail, number, one_of, text, whole

SecretArn = text(r"^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$",
                 "a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)")
KeyArn = text(r"^arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$",
              "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
Subnet = text(r"^subnet-[0-9a-f]{8,17}$", "a subnet id like subnet-0abc12345def67890")
SecurityGroup = text(r"^sg-[0-9a-f]{8,17}$", "a security group id like sg-0abc12345def67890")
# EventBridge's schedule expressions (user guide, "Rate expressions reference" and "Cron expressions"): a
# rate's unit is singular for 1 and plural above; a cron has six fields, and exactly one of day-of-month
# and day-of-week is `?`.
_CRON_FIELD = r"[0-9A-Za-z,*/#-]+"
Schedule = text(rf"^(rate\(1 (minute|hour|day)\)|rate\(([2-9]|[1-9]\d+) (minutes|hours|days)\)|"
                rf"cron\({_CRON_FIELD} {_CRON_FIELD} (\? {_CRON_FIELD} {_CRON_FIELD}|{_CRON_FIELD} {_CRON_FIELD} \?) "
                rf"{_CRON_FIELD}\))$",
                "an EventBridge schedule: rate(1 minute), rate(5 minutes) (singular for 1, plural above), or "
                "cron( ) with six fields and ? in day-of-month or day-of-week")
Reader = text(r"^[A-Za-z0-9_-]{1,64}$", "a reader id like reader-001")
Https = text(r"^https://\S+$", "an https:// URL to probe")


class HealthMonitorSection(Section):
    schedule: Schedule = Field("rate(1 minute)", description="how often the checks run")
    database_secret_arn: Optional[SecretArn] = Field(None, description="PostgreSQL credentials (Secrets Manager)")
    redis_secret_arn: Optional[SecretArn] = Field(None, description="Redis credentials (Secrets Manager)")
    secrets_kms_key_arn: Optional[KeyArn] = Field(
        None, description="customer-managed key of those secrets (none: the AWS-managed key)")
    payment_gateway_url: Optional[Https] = Field("https://api.razorpay.com/v1/", description="payment gateway probe")
    rfid_reader_ids: tuple[Reader, ...] = Field((), description="RFID readers whose heartbeats are checked")
    subnet_ids: tuple[Subnet, ...] = Field((), description="VPC subnets (to reach RDS and Redis)")
    security_group_ids: tuple[SecurityGroup, ...] = Field((), description="security groups in those subnets")
    endpoint: one_of(("functionUrl", "none"), "functionUrl or none") = Field(  # type: ignore[valid-type]
        "functionUrl", description="expose GET /health as a function URL")
    endpoint_auth: one_of(("AWS_IAM", "NONE"), "AWS_IAM or NONE") = Field(  # type: ignore[valid-type]
        "AWS_IAM", description="auth of the function URL")
    daily_revenue_inr: number("an amount in INR >= 0", low=0) = Field(0, description="revenue at risk basis")
    active_users: whole(0) = Field(0, description="users affected basis")
    timeout_seconds: whole(5, 60) = Field(30, description="the Lambda's timeout")

    @model_validator(mode="after")
    def _security_groups_with_subnets(self) -> HealthMonitorSection:
        if self.subnet_ids and not self.security_group_ids:
            raise fail("at least one security group when subnetIds is set", at="securityGroupIds")
        return self


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


def health_monitor_settings(section: Optional[HealthMonitorSection]) -> Optional[HealthMonitorSettings]:
    if section is None:
        return None
    values: dict[str, Any] = dict(section)
    return HealthMonitorSettings(**{**values, "daily_revenue_inr": float(section.daily_revenue_inr)})
