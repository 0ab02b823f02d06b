"""The runtime library's health monitor, deployed: packaged handler, schedule, least-privilege
role, optional `/health` function URL. Its results feed the health-score alarm and dashboards."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch, lambda_

from components.lambda_package import lambda_package
from components.packaged_function import PackagedFunction, PackagedFunctionArgs
from observability.school_hours import VARIABLE as SCHOOL_HOURS_VARIABLE
from observability.school_hours import SchoolHours
from stackconfig.health_monitor import HealthMonitorSettings
from stackconfig.model import StackSettings
from stackconfig.own_functions import health_monitor_name

# Pure-Python distributions the handler imports (boto3 comes with the Lambda runtime); the X-Ray
# SDK and wrapt (pure-Python fallback) because Powertools' tracer needs them in Lambda mode.
DEPENDENCIES = ("aws-lambda-powertools", "jmespath", "typing-extensions", "aws-xray-sdk", "wrapt", "redis", "pg8000",
                "scramp", "asn1crypto", "python-dateutil", "six")
# Where Lambda unpacks a function's archive; the shipped bytecode names its sources there.
FUNCTION_ROOT = "/var/task"


@dataclasses.dataclass
class HealthMonitorArgs:
    settings: StackSettings
    monitor: HealthMonitorSettings
    # The stack's pseudonym key (RuntimeLayer): its SSM parameter's name and ARN.
    pseudonym_key_parameter: pulumi.Input[str]
    pseudonym_key_parameter_arn: pulumi.Input[str]


def handler_environment(settings: StackSettings, monitor: HealthMonitorSettings,
                        pseudonym_key_parameter: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    env: dict[str, pulumi.Input[str]] = {
        "HASIVU_ENVIRONMENT": settings.environment,
        "HASIVU_HEALTH_NAMESPACE": settings.inventory.health_namespace,
        "HASIVU_BUSINESS_NAMESPACE": settings.inventory.business_namespace,
        "HASIVU_DAILY_REVENUE_INR": f"{monitor.daily_revenue_inr:g}",
        "HASIVU_ACTIVE_USERS": str(monitor.active_users),
        "POWERTOOLS_SERVICE_NAME": "health-monitor",
        "HASIVU_PSEUDONYM_KEY_PARAMETER": pseudonym_key_parameter,
    }
    optional = {
        "HASIVU_DB_SECRET_ARN": monitor.database_secret_arn,
        "HASIVU_REDIS_SECRET_ARN": monitor.redis_secret_arn,
        "HASIVU_PAYMENT_GATEWAY_URL": monitor.payment_gateway_url,
        "HASIVU_RFID_READER_IDS": ",".join(monitor.rfid_reader_ids) or None,
        # The SLA targets of the health report: the stack's period-based SLOs.
        "HASIVU_SLO_TARGETS": ",".join(f"{slo.dependency}={slo.target_percent:g}" for slo in settings.slos
                                       if slo.dependency) or None,
        # The readers are switched off outside school hours: they are judged only within them.
        SCHOOL_HOURS_VARIABLE: school_hours(settings).as_variable() if monitor.rfid_reader_ids else None,
    }
    return {**env, **{k: v for k, v in optional.items() if v}}


def school_hours(settings: StackSettings) -> SchoolHours:
    """The school day of the business thresholds (the reader-heartbeat alarm's window) on school days,
    without the school calendar's holidays and breaks."""
    business = settings.thresholds.business
    calendar = settings.maintenance.calendar
    return SchoolHours(_time(business.school_day_start_ist), _time(business.school_day_end_ist),
                       int(business.school_days_per_week),
                       tuple((c.first, c.last) for c in calendar.closures) if calendar else ())


def _time(hours: float) -> dt.time:
    minutes = round(hours * 60)
    return dt.time.max if minutes >= 24 * 60 else dt.time(minutes // 60, minutes % 60)


def role_statements(settings: StackSettings, monitor: HealthMonitorSettings,
                    pseudonym_key_parameter_arn: pulumi.Input[str]) -> list[dict[str, object]]:
    statements: list[dict[str, object]] = [
        # PutMetricData and GetMetricData take no resource ARNs; the namespace condition scopes the write.
        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": settings.inventory.health_namespace}}},
        {"Effect": "Allow", "Action": ["cloudwatch:GetMetricData"], "Resource": "*"},
        # The pseudonym key, encrypted with the AWS-managed aws/ssm key (whose key policy allows use via SSM).
        {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": pseudonym_key_parameter_arn},
    ]
    secrets = [arn for arn in (monitor.database_secret_arn, monitor.redis_secret_arn) if arn]
    if secrets:
        statements.append({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": secrets})
    if secrets and monitor.secrets_kms_key_arn:
        # Only for reading those secrets: the key may not be used through any other service.
        statements.append({
            "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": monitor.secrets_kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{settings.region}.amazonaws.com"}},
        })
    return statements


class HealthMonitor(pulumi.ComponentResource):
    function: lambda_.Function
    url: Optional[lambda_.FunctionUrl]

    def __init__(self, name: str, args: HealthMonitorArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:HealthMonitor", name, None, opts)
        settings, monitor = args.settings, args.monitor
        child = pulumi.ResourceOptions(parent=self)
        tags = settings.tags(Service="health-monitor", Tier="critical")
        # /var/task is read-only like /opt: without shipped bytecode every cold start compiles the sources.
        package = lambda_package(["observability"], DEPENDENCIES, bytecode_root=FUNCTION_ROOT)
        packaged = PackagedFunction(
            f"{name}-lambda",
            PackagedFunctionArgs(
                function_name=health_monitor_name(settings.environment),
                description="HASIVU enhanced health monitor: checks, score, SLA, business impact",
                code=package.archive(),
                source_code_hash=package.sha256,
                handler="observability.health_handler.handler",
                statements=role_statements(settings, monitor, args.pseudonym_key_parameter_arn),
                environment=handler_environment(settings, monitor, args.pseudonym_key_parameter),
                tags=tags,
                timeout_seconds=monitor.timeout_seconds,
                memory_mb=256,
                vpc_subnet_ids=monitor.subnet_ids,
                vpc_security_group_ids=monitor.security_group_ids,
            ),
            opts=child,
        )
        self.function = packaged.function
        rule = cloudwatch.EventRule(
            f"{name}-schedule",
            name=health_monitor_name(settings.environment),
            description="Runs the HASIVU health monitor",
            schedule_expression=monitor.schedule,
            tags=tags,
            opts=child,
        )
        permission = lambda_.Permission(
            f"{name}-invoke-from-schedule",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=child,
        )
        cloudwatch.EventTarget(
            f"{name}-target", rule=rule.name, arn=self.function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        self.url = None
        if monitor.endpoint == "functionUrl":
            self.url = lambda_.FunctionUrl(
                f"{name}-url", function_name=self.function.name, authorization_type=monitor.endpoint_auth,
                opts=child,
            )
        self.register_outputs({
            "functionName": self.function.name,
            "healthUrl": self.url.function_url if self.url else None,
        })
