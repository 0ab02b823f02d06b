"""A small program outside this repo's layout: a key, a topic under it, and a secret tag."""

import pulumi
from pulumi_aws import kms, sns

config = pulumi.Config()
key = kms.Key("key", enable_key_rotation=True)
topic = sns.Topic("topic", name=f"{config.require('prefix')}-alerts", kms_master_key_id=key.arn,
                  tags={"Token": config.require_secret("token")})
pulumi.export("topicArn", topic.arn)
pulumi.export("prefix", config.require("prefix"))
