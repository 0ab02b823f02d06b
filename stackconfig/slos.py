"""Service level objectives: what each one measures, its target, and the error budget that follows.

Each SLO is judged over a 30-day rolling window (the monthly report uses calendar months). Two kinds:
- period-based, on the health monitor's per-minute result of a dependency (`DependencyHealthy`, 1 or 0):
  a minute is bad when the check failed, and the budget is a number of bad minutes;
- request-based, on the share of good requests among all: the budget is a number of bad requests at
  the expected monthly traffic.
The four dependency targets (database 99.9 %, Redis 99.5 %, payments 99.8 %, RFID 99 %) are the
platform's availability targets; the request-based ones are where parents and students feel failures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import Field, create_model

from stackconfig.types import Section, number, whole

if TYPE_CHECKING:
    from stackconfig.health_monitor import HealthMonitorSettings
    from stackconfig.model import Inventory
    from stackconfig.traffic import MonthlyTraffic

WINDOW_DAYS = 30
WINDOW_MINUTES = WINDOW_DAYS * 24 * 60
PERIOD, REQUEST = "period", "request"
API_REQUESTS = "api"


@dataclasses.dataclass(frozen=True)
class BurnRate:
    """One row of the SRE workbook's multiwindow burn-rate table ("Alerting on SLOs"): spending
    `budget_percent` of a 30-day budget in `long_minutes` is a burn rate of `rate`; the short window
    confirms the burn is still going on."""

    rate: float
    budget_percent: float
    long_minutes: int
    short_minutes: int
    action: Literal["page", "ticket"]


BURN_RATES = (
    BurnRate(14.4, 2, 60, 5, "page"),
    BurnRate(6, 5, 6 * 60, 30, "page"),
    BurnRate(3, 10, 24 * 60, 2 * 60, "ticket"),
    BurnRate(1, 10, 3 * 24 * 60, 6 * 60, "ticket"),
)


@dataclasses.dataclass(frozen=True)
class Slo:
    """One objective. `good`/`total` name the SLI; `dependency` is set for the period-based ones."""

    name: str
    service: str
    kind: Literal["period", "request"]
    target_percent: float
    what: str
    # Period-based: the health monitor's Dependency dimension.
    dependency: Optional[str] = None
    # Request-based: a window with fewer requests is never judged bad (one failure at night is no outage).
    min_requests: int = 0
    # Request-based: nor one with fewer bad requests (a couple of failures at dawn are chance, not a burn).
    min_bad_requests: int = 10
    # The latency SLO: a request is good under this many milliseconds.
    threshold_ms: Optional[int] = None
    # Request-based: what the SLI counts in the traffic model, the API stage's requests or a flow of events.
    counts: Optional[str] = None
    # Requests a 30-day window is expected to hold: the budget in requests (default: the traffic model's).
    monthly_requests: int = 0
    enabled: bool = True
    # Period-based: the minutes of a 30-day window the health monitor judges (all of them, or school hours).
    judged_minutes: int = WINDOW_MINUTES

    @property
    def budget_fraction(self) -> float:
        """The share of minutes or requests that may be bad: 1 - target."""
        return 1 - self.target_percent / 100

    @property
    def budget_minutes(self) -> float:
        return self.budget_fraction * self.judged_minutes

    @property
    def budget_requests(self) -> float:
        return self.budget_fraction * self.monthly_requests


DEFAULT_SLOS = (
    Slo("database", "database", PERIOD, 99.9, "minutes the health monitor reached the database",
        dependency="database"),
    Slo("redis", "redis", PERIOD, 99.5, "minutes the health monitor reached Redis", dependency="redis"),
    Slo("payments", "payments", PERIOD, 99.8, "minutes the health monitor reached Razorpay",
        dependency="payment_gateway"),
    Slo("rfid", "rfid", PERIOD, 99.0, "school-hour minutes the health monitor judged the RFID readers healthy "
        "(answering, and verifying at least 95 % of cards)", dependency="rfid"),
    Slo("api-availability", "api", REQUEST, 99.9, "requests to the API stage answered without a 5XX",
        min_requests=50, counts=API_REQUESTS),
    Slo("payment-success", "payments", REQUEST, 99.8,
        "payment attempts that did not fail for the platform's or Razorpay's fault", min_requests=20,
        counts="payments"),
    Slo("rfid-verification", "rfid", REQUEST, 99.5, "RFID card verifications that succeeded", min_requests=20,
        counts="rfid"),
    Slo("api-latency", "api", REQUEST, 99.0, "requests to the API stage answered under the threshold",
        min_requests=50, threshold_ms=3000, counts=API_REQUESTS),
)

# The dependencies the health monitor judges around the clock. The RFID readers are switched off
# outside school hours, and judged only within them (observability/school_hours.py).
CHECKED_AROUND_THE_CLOCK = ("database", "redis", "payment_gateway")

# The threshold alarm an SLO's burn-rate pages take the place of: SLO -> (alarm service, metric key,
# its threshold under `thresholds.business`). The drills detect every incident of the suite as early
# without it (docs/slos.md, "What the burn-rate pages replace").
REPLACED_ALARMS = {
    "rfid-verification": ("rfid", "verification-rate", "rfid_verification_percent"),
}


def replaced_alarms(slos: tuple[Slo, ...]) -> dict[str, tuple[str, str, str]]:
    """Of REPLACED_ALARMS, those of the SLOs this stack alarms on."""
    return {slo.name: REPLACED_ALARMS[slo.name] for slo in slos if slo.name in REPLACED_ALARMS}


# Below this target the fastest burn rate's line is over 100 % bad: its alarms could never fire (a
# fraction such as 0.999 written for 99.9 % lands here). Above 99.999 the budget is under 1 in 100,000.
FASTEST_BURN = max(row.rate for row in BURN_RATES)
LOWEST_TARGET = 100 - 100 / FASTEST_BURN
Target = number(f"a percentage above {LOWEST_TARGET:.2f} and at most 99.999, like 99.9 (at or below "
                f"{LOWEST_TARGET:.2f} the {FASTEST_BURN:g}x burn rate is more than every request or minute bad)",
                low=LOWEST_TARGET, high=99.999, low_exclusive=True)


class PeriodSloEntry(Section):
    target: Optional[Target] = Field(None, description="the objective, a percentage of good minutes")
    enabled: Optional[bool] = Field(None, strict=True, description="false: no SLO, burn-rate alarms or budget")


class RequestSloEntry(PeriodSloEntry):
    target: Optional[Target] = Field(None, description="the objective, a percentage of good requests")
    min_requests: Optional[whole(0)] = Field(  # type: ignore[valid-type]
        None, description="a window with fewer requests is never judged bad (one failure at night is no outage)")
    min_bad_requests: Optional[whole(1)] = Field(  # type: ignore[valid-type]
        None, description="a window with fewer bad requests is never judged bad: at low traffic a burn just "
                          "under a line crosses it by chance (default 10)")
    monthly_requests: Optional[whole(1)] = Field(  # type: ignore[valid-type]
        None, description="the requests a 30-day window holds, for the budget in requests (default: the "
                          "traffic model's, sized by healthMonitor.activeUsers and dailyRevenueInr)")


class LatencySloEntry(RequestSloEntry):
    threshold_ms: Optional[whole(1, 29_000)] = Field(  # type: ignore[valid-type]
        None, description="a request is good under this many milliseconds (API Gateway's 29 s integration limit)")


def field_name(slo: Slo) -> str:
    return slo.name.replace("-", "_")


def _entry(slo: Slo) -> type[Section]:
    if slo.kind == PERIOD:
        return PeriodSloEntry
    return LatencySloEntry if slo.threshold_ms is not None else RequestSloEntry


SlosSection = create_model(
    "SlosSection", __base__=Section,
    **{field_name(s): (Optional[_entry(s)], Field(None, description=f"default: {s.target_percent:g} % of {s.what}"))
       for s in DEFAULT_SLOS},
)


def slo_settings(section: Any) -> tuple[Slo, ...]:
    """The SLOs from the validated `slos` section: defaults, overridden key by key."""
    slos = []
    for default in DEFAULT_SLOS:
        entry = getattr(section, field_name(default), None) if section is not None else None
        given = {k: v for k, v in dict(entry or {}).items() if v is not None}
        slos.append(dataclasses.replace(
            default,
            target_percent=float(given.get("target", default.target_percent)),
            enabled=given.get("enabled", default.enabled),
            min_requests=given.get("min_requests", default.min_requests),
            min_bad_requests=given.get("min_bad_requests", default.min_bad_requests),
            monthly_requests=given.get("monthly_requests", default.monthly_requests),
            threshold_ms=given.get("threshold_ms", default.threshold_ms),
        ))
    return tuple(slos)


def with_expected_traffic(slos: tuple[Slo, ...], traffic: MonthlyTraffic,
                          functions: Sequence[tuple[str, str]]) -> tuple[Slo, ...]:
    """The request-based SLOs whose `monthlyRequests` the config leaves out get the traffic model's, from
    the inventory's functions (name, invocation)."""
    return tuple(
        dataclasses.replace(slo, monthly_requests=round(traffic.count(slo.counts, functions)))
        if slo.counts is not None and not slo.monthly_requests else slo
        for slo in slos)


def judged_in_school_hours(slos: tuple[Slo, ...], school_day_hours: float,
                           school_days_per_week: float) -> tuple[Slo, ...]:
    """The period-based SLOs of dependencies checked only in school hours judge that many minutes of a
    30-day window (the calendar's holidays left out, as for the expected traffic)."""
    minutes = round(school_day_hours * 60 * WINDOW_DAYS * school_days_per_week / 7)
    return tuple(dataclasses.replace(slo, judged_minutes=minutes)
                 if slo.dependency is not None and slo.dependency not in CHECKED_AROUND_THE_CLOCK else slo
                 for slo in slos)


def measurable_slos(slos: tuple[Slo, ...], inventory: Inventory,
                    monitor: Optional[HealthMonitorSettings]) -> tuple[Slo, ...]:
    """The enabled SLOs whose SLI this stack publishes: a dependency's minutes need the health monitor
    checking it; the API's requests need an API; payments and RFID need their business metrics."""
    def measured(slo: Slo) -> bool:
        if slo.kind == PERIOD:
            checks = {"database": bool(inventory.rds), "redis": inventory.redis is not None,
                      "payment_gateway": bool(monitor and monitor.payment_gateway_url),
                      "rfid": bool(monitor and monitor.rfid_reader_ids)}
            return monitor is not None and checks[str(slo.dependency)]
        return inventory.api is not None if slo.service == "api" else True
    return tuple(slo for slo in slos if slo.enabled and measured(slo))
