"""A Lambda built from this repo's own code: role, log group with retention, X-Ray on.

The project's own Lambdas (Slack forwarder, health monitor) go through here so they get the same
least-privilege role, retention and tracing, and the alarm catalogue covers them like any other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch, iam, lambda_

from components.iam_documents import assume_role_policy, document


@dataclasses.dataclass
class PackagedFunctionArgs:
    function_name: str
    description: str
    code: pulumi.Archive
    handler: str
    # IAM statements beyond logging and tracing; each must name its actions and resources.
    statements: pulumi.Input[Sequence[Mapping[str, object]]]
    environment: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    timeout_seconds: int = 10
    memory_mb: int = 256
    log_retention_days: int = 30
    vpc_subnet_ids: Sequence[str] = ()
    vpc_security_group_ids: Sequence[str] = ()
    # Base64 SHA-256 of a reproducible archive (lambda_package): the code changes only when it does.
    source_code_hash: Optional[str] = None


class PackagedFunction(pulumi.ComponentResource):
    function: lambda_.Function
    role: iam.Role

    def __init__(self, name: str, args: PackagedFunctionArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:PackagedFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        log_group = cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            tags=dict(args.tags),
            opts=child,
        )
        self.role = iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            tags=dict(args.tags),
            opts=child,
        )
        base = [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": log_group.arn.apply(lambda arn: f"{arn}:*"),
            },
            # X-Ray's segment APIs take no resource-level permissions.
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"},
        ]
        if args.vpc_subnet_ids:
            # ENI management for a VPC Lambda cannot be scoped to resources by AWS's design.
            base.append({
                "Effect": "Allow",
                "Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                           "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                           "ec2:UnassignPrivateIpAddresses"],
                "Resource": "*",
            })
        iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.all(base, args.statements).apply(lambda parts: document(*parts[0], *parts[1])),
            opts=child,
        )
        vpc = (
            lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(args.vpc_subnet_ids), security_group_ids=list(args.vpc_security_group_ids)
            )
            if args.vpc_subnet_ids
            else None
        )
        self.function = lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            description=args.description,
            role=self.role.arn,
            runtime="python3.12",
            architectures=["arm64"],
            handler=args.handler,
            code=args.code,
            source_code_hash=args.source_code_hash,
            timeout=args.timeout_seconds,
            memory_size=args.memory_mb,
            environment=lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)) if args.environment else None,
            tracing_config=lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            vpc_config=vpc,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )
        self.register_outputs({"functionName": self.function.name, "functionArn": self.function.arn})
