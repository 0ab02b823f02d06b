"""What each tier promises, in drill minutes: how soon its first page comes after a fault begins
(detection), and how soon its alarms are OK again once every fault has ended (recovery).

Recovery bounds: a critical alarm clears within 15 minutes (its OK notification tells on-call the
incident is over, and its pager can page again); a warning within 30 (the 5-minute windows of the
duration and latency alarms with a few clean windows); a business alarm within 60 (two clean windows
of the 15-minute payment and order ratios, and the hour the business tier's detection allows)."""

from __future__ import annotations

TIERS = ("critical", "warning", "business")
DETECTION_MINUTES = {"critical": 5, "warning": 15, "business": 60}
RECOVERY_MINUTES = {"critical": 15, "warning": 30, "business": 60}
# The report's criteria, per alarm or pager and per tier, as the allowlist names them.
CRITERIA = ("quiet", "fires", "can-fire", "recovers")
SECOND_INCIDENT, UNRELATED_OUTAGE = "second-incident", "unrelated-outage"
TIER_CRITERIA = (SECOND_INCIDENT, UNRELATED_OUTAGE)
