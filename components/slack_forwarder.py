"""Delivers a tier topic to a Slack incoming webhook that is held as a SecureString parameter.

The webhook URL never appears in Lambda configuration: the function reads it from SSM with
decryption at run time, and the parameter is encrypted with the tier's own key. To name the
functions behind a fleet alarm in a page, the function may read the contributors in ALARM
(cloudwatch:DescribeAlarmContributors), and to put the probable cause at the top of a page, which
metric alarms are in ALARM (cloudwatch:DescribeAlarms), of this environment's alarms only: their names
all start with `<environment>-`, so the grant is that ARN prefix in the topic's region and account.
DescribeAlarms scoped narrower than `*` returns no composite alarms (API_DescribeAlarms.html), which
the forwarder does not ask for. Which alarms are causes, and their labels, is one environment variable
(PAGE_CAUSES), from the alarm specs (components/alarms/catalogue.py `page_causes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import pulumi
from pulumi_aws import lambda_, sns, ssm

from components.packaged_function import PackagedFunction, PackagedFunctionArgs
from observability.page_causes import PAGE_CAUSES, PageCauses
from stackconfig.own_functions import forwarder_name

# The handler and the one module of the runtime library it imports, as the package they are in here.
HANDLER_MODULES = ("__init__.py", "page_causes.py", "slack_forwarder.py")
PACKAGE = Path(__file__).resolve().parent.parent / "observability"
TIMEOUT_SECONDS = 10


def environment_alarms_arn(topic_arn: str, environment: str) -> str:
    """`arn:<partition>:cloudwatch:<region>:<account>:alarm:<environment>-*`, from the tier topic's ARN."""
    partition, region, account = topic_arn.split(":")[1:2] + topic_arn.split(":")[3:5]
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{environment}-*"


@dataclasses.dataclass
class SlackForwarderArgs:
    environment: str
    tier: str
    webhook_url: pulumi.Output[str]
    topic_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    tags: Mapping[str, str]
    # What a page names as its probable causes (components/alarms/catalogue.py `page_causes`).
    causes: Optional[PageCauses] = None


class SlackForwarder(pulumi.ComponentResource):
    function: lambda_.Function

    def __init__(self, name: str, args: SlackForwarderArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:SlackForwarder", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        parameter = ssm.Parameter(
            f"{name}-webhook",
            name=f"/{args.environment}/hasivu-monitoring/{args.tier}/slack-webhook-url",
            type="SecureString",
            key_id=args.key_arn,
            value=args.webhook_url,
            description=f"Slack incoming webhook for the {args.tier} alert tier",
            tags=dict(args.tags),
            opts=child,
        )
        packaged = PackagedFunction(
            f"{name}-lambda",
            PackagedFunctionArgs(
                function_name=forwarder_name(args.environment, args.tier),
                description=f"Forwards {args.tier} alerts from SNS to Slack",
                code=pulumi.AssetArchive({f"observability/{module}": pulumi.FileAsset(str(PACKAGE / module))
                                          for module in HANDLER_MODULES}),
                handler="observability.slack_forwarder.handler",
                statements=[
                    {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": parameter.arn},
                    {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": args.key_arn},
                    {"Effect": "Allow", "Action": ["cloudwatch:DescribeAlarmContributors", "cloudwatch:DescribeAlarms"],
                     "Resource": pulumi.Output.from_input(args.topic_arn).apply(
                         lambda arn: environment_alarms_arn(arn, args.environment))},
                ],
                environment={"SLACK_WEBHOOK_PARAMETER": parameter.name,
                             PAGE_CAUSES: (args.causes or PageCauses(f"{args.environment}-", {})).variable()},
                tags={**args.tags, "Service": f"{args.tier}-slack-forwarder"},
                timeout_seconds=TIMEOUT_SECONDS,
            ),
            opts=child,
        )
        self.function = packaged.function
        permission = lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="sns.amazonaws.com",
            source_arn=args.topic_arn,
            opts=child,
        )
        sns.TopicSubscription(
            f"{name}-subscription",
            topic=args.topic_arn,
            protocol="lambda",
            endpoint=self.function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        self.register_outputs({"functionName": self.function.name})
