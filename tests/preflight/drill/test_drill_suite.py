"""The drill suite in drills/, on the production stack as registered in preview: every drill
is one test (`python -m preflight drill --stack production all` runs the same files)."""

from __future__ import annotations

import pytest

from preflight.drill.drill_file import load_drill
from preflight.drill.runner import run_drill
from preflight.emulator.platform import Platform, platform_from_run
from tests.support.stack import REPO, run

DRILLS = REPO / "drills"
REQUIRED = [
    "normal-school-day",                    # 24 h, no page in any tier
    "quiet-night-sporadic-failures",        # single failures at night: no critical page
    "razorpay-outage-at-lunch",             # exactly one critical page, within 5 minutes
    "database-unreachable",                 # critical within 3 minutes
    "redis-down",
    "reader-silent-in-school-hours",        # one reader silent 30 minutes: notified
    "readers-off-at-night",                 # every reader off at night: nothing
    "reconcile-job-failing",                # hourly job failing for 3 hours: warning page
    "orders-stop-at-lunch",                 # business alarm within 15 minutes
    "health-monitor-stops",                 # alarm within 10 minutes
    "maintenance-window-database-down",     # no page
    "health-monitor-deployed-environment",  # health alarms OK throughout
    "powertools-service-name-set",          # business alarms still see the metrics
    "cold-starts-on-low-traffic-endpoint",  # no critical page
    # Maintenance windows and the school calendar, as alarm mute rules:
    "weekly-window-database-restart",       # a restart in the weekly database window: no page
    "fault-outlives-window",                # one critical page, when the window's mute ends
    "school-holiday-no-orders",             # no orders, readers off on a holiday: no page
    "razorpay-outage-on-holiday",           # one critical page, within 5 minutes
    "job-fails-in-window",                  # a job run failing in a window: no page after it
    "razorpay-outage-in-database-window",   # a window mutes only what it maintains
]


def test_the_suite_is_exactly_the_drills_folder():
    assert sorted(REQUIRED) == sorted(p.stem for p in DRILLS.glob("*.yaml"))


@pytest.fixture(scope="module")
def platform() -> Platform:
    return platform_from_run(run("production", preview=True))


@pytest.mark.parametrize("name", REQUIRED)
def test_required_drill_passes(name: str, platform: Platform) -> None:
    result = run_drill(load_drill(DRILLS / f"{name}.yaml"), platform)
    assert result.passed, "\n".join(result.failures)
