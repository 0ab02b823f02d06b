"""A Lambda with no alarm at all: the coverage table must show the gap."""

import pulumi
from pulumi_aws import lambda_

lambda_.Function("orphan", name="orphan-fn", role="arn:aws:iam::123456789012:role/x", runtime="python3.12",
                 handler="h.handler", code=pulumi.AssetArchive({}))
