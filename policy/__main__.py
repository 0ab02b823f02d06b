"""The HASIVU monitoring policy pack. Only builds the PolicyPack: its constructor serves the
analyzer over gRPC and never returns; the rules live in `hasivu_policy`."""

import gc

from pulumi_policy import EnforcementLevel, PolicyPack

from hasivu_policy.pack import PACK_NAME, POLICIES
from hasivu_policy.shared_props import share_props

# Analysis allocates many short-lived, acyclic objects per resource; with the default thresholds
# the cyclic collector rescans the whole heap so often that a large stack costs more than linear
# time (bench/policy_scale.py). Fewer, larger collections keep it linear.
gc.set_threshold(200_000, 100, 1000)
# Each resource's props converted once per analyzer call, not once per policy.
share_props()

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
    description="Blocks HASIVU deploys that break the monitoring rules: coverage, encryption, routing, "
                "deploy-time validity, secrets; advises on tags, runbooks and cost.",
)
