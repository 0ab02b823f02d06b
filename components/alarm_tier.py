"""One alert tier: its topic, encrypted with the alert key (components/alert_key.py), the topic's policy,
subscriptions."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional

import pulumi
from pulumi_aws import chatbot, iam, lambda_, sns

from components.iam_documents import assume_role_policy, tier_topic_policy
from components.slack_forwarder import SlackForwarder, SlackForwarderArgs
from observability.page_causes import PageCauses
from stackconfig.model import TierContacts


@dataclasses.dataclass
class AlarmTierArgs:
    environment: str
    contacts: TierContacts
    account_id: pulumi.Input[str]
    # The alert key's ARN: a key the alert publishers may use.
    key_arn: pulumi.Input[str]
    tags: Mapping[str, str]
    # What a Slack page names first (components/alarms/catalogue.py `page_causes`).
    causes: Optional[PageCauses] = None


class AlarmTier(pulumi.ComponentResource):
    """A tier's `hasivu-<tier>-alerts` topic, encrypted with a key CloudWatch can use."""

    topic: sns.Topic
    tier: str
    slack_forwarder: Optional[lambda_.Function]

    def __init__(self, name: str, args: AlarmTierArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hasivu:monitoring:AlarmTier", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.tier = args.contacts.tier.value
        tags = {**args.tags, "Tier": self.tier, "Service": "alerting"}
        topic_name = f"{args.environment}-hasivu-{self.tier}-alerts"

        self.topic = sns.Topic(
            f"{name}-topic", name=topic_name, kms_master_key_id=args.key_arn, tags=tags, opts=child
        )
        sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, args.account_id).apply(lambda v: tier_topic_policy(*v)),
            opts=child,
        )
        self._subscribe(name, args, tags)
        self.register_outputs({"topicArn": self.topic.arn})

    def _subscribe(self, name: str, args: AlarmTierArgs, tags: Mapping[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        contacts = args.contacts
        for i, email in enumerate(contacts.emails):
            sns.TopicSubscription(
                f"{name}-email-{i}", topic=self.topic.arn, protocol="email", endpoint=email, opts=child
            )
        for i, number in enumerate(contacts.sms_numbers):
            sns.TopicSubscription(f"{name}-sms-{i}", topic=self.topic.arn, protocol="sms", endpoint=number, opts=child)
        if contacts.pagerduty_endpoint is not None:
            sns.TopicSubscription(
                f"{name}-pagerduty",
                topic=self.topic.arn,
                protocol="https",
                endpoint=contacts.pagerduty_endpoint,
                endpoint_auto_confirms=True,
                # The integration key is in the URL: keep the endpoint secret in state as well.
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["endpoint"]),
            )
        if contacts.slack_channel is not None:
            role = iam.Role(
                f"{name}-chatbot-role",
                assume_role_policy=assume_role_policy("chatbot.amazonaws.com"),
                tags=dict(tags),
                opts=child,
            )
            iam.RolePolicyAttachment(
                f"{name}-chatbot-read-metrics",
                role=role.name,
                policy_arn="arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess",
                opts=child,
            )
            chatbot.SlackChannelConfiguration(
                f"{name}-slack",
                configuration_name=f"{args.environment}-hasivu-{self.tier}-alerts",
                iam_role_arn=role.arn,
                slack_team_id=contacts.slack_channel.workspace_id,
                slack_channel_id=contacts.slack_channel.channel_id,
                sns_topic_arns=[self.topic.arn],
                guardrail_policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                tags=dict(tags),
                opts=child,
            )
        self.slack_forwarder = None
        if contacts.slack_webhook_url is not None:
            forwarder = SlackForwarder(
                f"{name}-slack",
                SlackForwarderArgs(
                    environment=args.environment,
                    tier=self.tier,
                    webhook_url=contacts.slack_webhook_url,
                    topic_arn=self.topic.arn,
                    key_arn=args.key_arn,
                    tags=tags,
                    causes=args.causes,
                ),
                opts=child,
            )
            self.slack_forwarder = forwarder.function
