"""The drill suite in drills/, on the production stack as registered in preview: each required drill
of issue 11 that the catalogue passes is one test."""

from __future__ import annotations

import pytest

from preflight.simulation.drill_file import load_drill
from preflight.simulation.platform import Platform, platform_from_run
from preflight.simulation.runner import run_drill
from tests.stack import REPO, run

DRILLS = REPO / "drills"
REQUIRED = [
    "razorpay-outage-at-lunch",             # exactly one critical page, within 5 minutes
    "database-unreachable",                 # critical within 3 minutes
    "redis-down",
    "reader-silent-in-school-hours",        # one reader silent 30 minutes: notified
    "reconcile-job-failing",                # hourly job failing for 3 hours: warning page
    "orders-stop-at-lunch",                 # business alarm within 15 minutes
    "health-monitor-stops",                 # alarm within 10 minutes
    "maintenance-window-database-down",     # no page
    "powertools-service-name-set",          # business alarms still see the metrics
    "cold-starts-on-low-traffic-endpoint",  # no critical page
]


@pytest.fixture(scope="module")
def platform() -> Platform:
    return platform_from_run(run("production", preview=True))


@pytest.mark.parametrize("name", REQUIRED)
def test_required_drill_passes(name: str, platform: Platform) -> None:
    result = run_drill(load_drill(DRILLS / f"{name}.yaml"), platform)
    assert result.passed, "\n".join(result.failures)
