"""The HASIVU monitoring policy pack. Only builds the PolicyPack: its constructor serves the
analyzer over gRPC and never returns; the rules live in `hasivu_policy`."""

from hasivu_policy.pack import PACK_NAME, POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
    description="Blocks HASIVU deploys that break the monitoring rules: coverage, encryption, routing, "
                "deploy-time validity, secrets; advises on tags, runbooks and cost.",
)
