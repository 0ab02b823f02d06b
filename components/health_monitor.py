"""The runtime library's health monitor, deployed: packaged handler, schedule, least-privilege
role, optional `/health` function URL. Its results feed the health-score alarm and dashboards."""

from __future__ import annotations

import dataclasses
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch, lambda_

from components.lambda_package import lambda_package
from components.packaged_function import PackagedFunction, PackagedFunctionArgs
from stackconfig.health_monitor import HealthMonitorSettings
from stackconfig.model import StackSettings

# Pure-Python distributions the handler imports (boto3 comes with the Lambda runtime).
DEPENDENCIES = ("aws-lambda-powertools", "jmespath", "typing-extensions", "redis", "pg8000", "scramp", "asn1crypto",
                "python-dateutil", "six")


def health_monitor_name(environment: str) -> str:
    return f"{environment}-hasivu-health-monitor"


@dataclasses.dataclass
class HealthMonitorArgs:
    settings: StackSettings
    monitor: HealthMonitorSettings


def handler_environment(settings: StackSettings, monitor: HealthMonitorSettings) -> dict[str, str]:
    env = {
        "HASIVU_ENVIRONMENT": settings.environment,
        "HASIVU_HEALTH_NAMESPACE": settings.inventory.health_namespace,
        "HASIVU_BUSINESS_NAMESPACE": settings.inventory.business_namespace,
        "HASIVU_DAILY_REVENUE_INR": f"{monitor.daily_revenue_inr:g}",
        "HASIVU_ACTIVE_USERS": str(monitor.active_users),
        # No POWERTOOLS_SERVICE_NAME: Powertools would add a `service` dimension to every EMF record,
        # and the health alarms, which read {Environment} and {Environment, Dependency}, would never
        # see a datapoint (issue 11, finding 1).
    }
    optional = {
        "HASIVU_DB_SECRET_ARN": monitor.database_secret_arn,
        "HASIVU_REDIS_SECRET_ARN": monitor.redis_secret_arn,
        "HASIVU_PAYMENT_GATEWAY_URL": monitor.payment_gateway_url,
        "HASIVU_RFID_READER_IDS": ",".join(monitor.rfid_reader_ids) or None,
    }
    return {**env, **{k: v for k, v in optional.items() if v}}


def role_statements(settings: StackSettings, monitor: HealthMonitorSettings) -> list[dict[str, object]]:
    statements: list[dict[str, object]] = [
        # PutMetricData and GetMetricData take no resource ARNs; the namespace condition scopes the write.
        {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": settings.inventory.health_namespace}}},
        {"Effect": "Allow", "Action": ["cloudwatch:GetMetricData"], "Resource": "*"},
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
        packaged = PackagedFunction(
            f"{name}-lambda",
            PackagedFunctionArgs(
                function_name=health_monitor_name(settings.environment),
                description="HASIVU enhanced health monitor: checks, score, SLA, business impact",
                code=lambda_package(["observability"], DEPENDENCIES),
                handler="observability.health_handler.handler",
                statements=role_statements(settings, monitor),
                environment=handler_environment(settings, monitor),
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
