"""The names of this stack's own Lambdas (Slack forwarders, health monitor), known from config alone.

The catch-all fleet query leaves them out by name, as it leaves out functions other groups list:
they have alarms of their own, on the tiers their failures are reported to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from stackconfig.health_monitor import HealthMonitorSettings
from stackconfig.model import Tier, TierContacts


def forwarder_name(environment: str, tier: str) -> str:
    return f"{environment}-hasivu-{tier}-slack-forwarder"


def health_monitor_name(environment: str) -> str:
    return f"{environment}-hasivu-health-monitor"


def own_function_names(environment: str, alerting: Mapping[Tier, TierContacts],
                       health_monitor: Optional[HealthMonitorSettings]) -> tuple[str, ...]:
    """A forwarder for each tier delivered to a Slack webhook; the health monitor when it is deployed."""
    names = [forwarder_name(environment, tier.value) for tier, contacts in alerting.items()
             if contacts.slack_webhook_url is not None]
    if health_monitor is not None:
        names.append(health_monitor_name(environment))
    return tuple(names)
