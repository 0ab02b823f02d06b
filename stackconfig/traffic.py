"""Traffic profiles and the platform model: how many business events and invocations each minute
brings, which functions serve which flow, and which dependencies each function group uses. The drills'
emulator plays it minute by minute; the cost estimate and the SLOs' budgets read its monthly totals.

Profiles are shapes over the IST day, scaled from the stack's `activeUsers` and `dailyRevenueInr`:
breakfast ordering 07:30-09:00, lunch peak 12:00-14:00 with the RFID pickups, evening ordering for the
next day 18:00-21:00, near zero at night. `school-night` is the overnight level all day; `holiday`
is a few percent of a school day with no pickups.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Optional

from observability.school_hours import IST
from stackconfig.health_monitor import HealthMonitorSettings
from stackconfig.slos import API_REQUESTS, WINDOW_DAYS

AVERAGE_ORDER_INR = 60.0
# A stack that does not say how big the platform is (no healthMonitor.activeUsers or
# dailyRevenueInr: those feed the health report) is modelled as a small school platform.
DEFAULT_ACTIVE_USERS = 1000
DEFAULT_DAILY_REVENUE_INR = 60_000.0

# (start hour, end hour, ordering weight, pickup weight): weights per minute, relative.
SCHOOL_DAY = (
    (0.0, 6.0, 0.01, 0.0),
    (6.0, 7.5, 0.15, 0.0),
    (7.5, 9.0, 1.0, 0.15),
    (9.0, 12.0, 0.25, 0.0),
    (12.0, 14.0, 0.5, 1.0),
    (14.0, 18.0, 0.2, 0.0),
    (18.0, 21.0, 1.2, 0.0),
    (21.0, 24.0, 0.08, 0.0),
)


def _daily_weight(shape: tuple[tuple[float, float, float, float], ...], column: int) -> float:
    return sum((end - start) * 60 * row[column] for row in shape for start, end in [row[:2]])


# Minute-weights of a whole school day: what one minute's weight is a share of.
ORDERING_PER_DAY = _daily_weight(SCHOOL_DAY, 2)
PICKUP_PER_DAY = _daily_weight(SCHOOL_DAY, 3)


@dataclasses.dataclass(frozen=True)
class Profile:
    """Expected events per minute at a given IST time (before faults)."""

    name: str
    orders_per_day: float
    active_users: int

    def weights(self, when: dt.datetime) -> tuple[float, float]:
        local = when.astimezone(IST)
        hour = local.hour + local.minute / 60
        if self.name == "school-night":
            return SCHOOL_DAY[0][2], 0.0
        for start, end, ordering, pickup in SCHOOL_DAY:
            if start <= hour < end:
                if self.name == "holiday":
                    return ordering * 0.03, 0.0
                return ordering, pickup
        return 0.0, 0.0

    def rates(self, when: dt.datetime) -> dict[str, float]:
        ordering, pickup = self.weights(when)
        orders = self.orders_per_day * ordering / ORDERING_PER_DAY
        pickups = self.orders_per_day * 0.97 * pickup / PICKUP_PER_DAY
        logins = self.active_users * 0.6 * ordering / ORDERING_PER_DAY
        return {
            "orders": orders,
            "payments": orders * 1.04,  # a few retries per order
            "rfid": pickups,
            "completions": pickups,
            "logins": logins,
            "browsing": orders * 6 + logins * 2,
        }


    def sessions(self, when: dt.datetime) -> float:
        """Users with a live session (the runtime library's ActiveUsers): those who logged in within a
        session's life, at most the platform's active users."""
        return min(float(self.active_users), self.rates(when)["logins"] * ACTIVE_SESSION_MINUTES)


def profile(name: str, active_users: int, daily_revenue_inr: float) -> Profile:
    return Profile(name, daily_revenue_inr / AVERAGE_ORDER_INR, active_users)


# Outcome shares on a normal day.
PAYMENT_FAILED_SHARE = 0.02  # declined by the bank or abandoned
PAYMENT_ERROR_SHARE = 0.0005
RFID_FAILED_SHARE = 0.002
LOGIN_FAILED_SHARE = 0.03
API_4XX_SHARE = 0.01
# Orders finished at the counter without a pickup (expired, refused): counted as cancelled.
ORDER_CANCELLED_SHARE = 0.01
# A session lives this long after a login: the runtime library's ActiveUsers counts them.
ACTIVE_SESSION_MINUTES = 30
# Cache use by the functions that need Redis (sessions, menus): lookups per request, and how many hit.
CACHE_LOOKUPS_PER_REQUEST = 3
CACHE_HIT_SHARE = 0.95


@dataclasses.dataclass(frozen=True)
class FunctionRole:
    """What drives a function's invocations: `flow` events x `per_event`, or a schedule."""

    flow: Optional[str]
    per_event: float = 1.0
    schedule_minutes: Optional[int] = None  # every N minutes at minute 0 (IST)
    base_ms: float = 120.0
    api: bool = True


# Matched on the function's name after the `hasivu-<env>-` prefix; the first match wins.
ROLES: tuple[tuple[str, FunctionRole], ...] = (
    ("payments-create-order", FunctionRole("payments", 1.0, base_ms=350)),
    ("payments-verify", FunctionRole("payments", 0.98, base_ms=250)),
    ("payments-webhook", FunctionRole("payments", 1.0, base_ms=150)),
    ("payments-refund", FunctionRole("payments", 0.005, base_ms=400)),
    ("payments-reconcile", FunctionRole(None, schedule_minutes=60, base_ms=40_000, api=False)),
    ("auth-login", FunctionRole("logins", 1.0, base_ms=250)),
    ("auth-refresh-token", FunctionRole("logins", 3.0, base_ms=60)),
    ("auth-logout", FunctionRole("logins", 0.3, base_ms=50)),
    ("auth-register", FunctionRole("logins", 0.01, base_ms=300)),
    ("orders-create", FunctionRole("orders", 1.0, base_ms=200)),
    ("orders-get", FunctionRole("browsing", 0.3, base_ms=80)),
    ("orders-update-status", FunctionRole("completions", 1.0, base_ms=120)),
    ("orders-cancel", FunctionRole("orders", 0.02, base_ms=150)),
    ("rfid-verify-card", FunctionRole("rfid", 1.0, base_ms=90)),
    ("rfid-register-card", FunctionRole("orders", 0.001, base_ms=150)),
    ("rfid-reader-heartbeat", FunctionRole("heartbeats", 1.0, base_ms=30)),
    ("health-check", FunctionRole(None, schedule_minutes=1, base_ms=300)),
    ("health-monitor", FunctionRole(None, schedule_minutes=1, base_ms=400, api=False)),
    ("menu-list", FunctionRole("browsing", 0.6, base_ms=70)),
    ("menu-update", FunctionRole("orders", 0.001, base_ms=200)),
    ("menu-plan-weekly", FunctionRole(None, schedule_minutes=7 * 24 * 60, base_ms=20_000, api=False)),
    ("notifications-send-sms", FunctionRole("orders", 0.5, base_ms=300, api=False)),
    ("notifications-send-email", FunctionRole("orders", 0.5, base_ms=250, api=False)),
    ("notifications-daily-digest", FunctionRole(None, schedule_minutes=24 * 60, base_ms=60_000, api=False)),
    ("slack", FunctionRole(None, base_ms=200, api=False)),
)
# A function no fragment names: by how the inventory says it is invoked. Behind the API, a little of the
# browsing; invoked by events, as many as one order in a hundred, not through the API; on a schedule,
# hourly (the job alarms' assumption), not through the API.
DEFAULT_ROLES = {
    "sync": FunctionRole("browsing", 0.01),
    "async": FunctionRole("orders", 0.01, api=False),
    "scheduled": FunctionRole(None, schedule_minutes=60, base_ms=5_000, api=False),
}

# The dependency map: which inventory groups need which dependency to serve a request.
DEPENDENCY_USERS = {
    "database": ("payments", "auth", "orders", "rfid", "menu", "notifications", "health"),
    "redis": ("auth", "menu"),
    "payment_gateway": ("payments",),
    "rfid": ("rfid",),
}
# The dependency each critical cause pager (its scope) watches.
CAUSE_DEPENDENCY = {"database": "database", "redis": "redis", "payments": "payment_gateway"}


def uses_cause(scope: str, cause: str) -> bool:
    """Whether a scope's flows need the dependency a cause pager (database, redis, payments) watches, by the
    dependency map: its own, and every one for the API, which serves every flow."""
    return scope in (cause, "api") or scope in DEPENDENCY_USERS.get(CAUSE_DEPENDENCY[cause], ())


# How a group's functions fail when a dependency is down: unhandled (Lambda Errors + 5XX) or handled
# (the function answers 502/503 itself: API 5XX, no Lambda error). Razorpay errors are caught by the
# payment code and recorded as PaymentErrors; database and cache errors are unhandled.
HANDLED_FAILURES = {"payment_gateway"}


def role_of(function_name: str, invocation: str = "sync") -> FunctionRole:
    """The role a fragment of the name gives; otherwise the one of the inventory's `invocation`."""
    for fragment, role in ROLES:
        if fragment in function_name:
            return role
    return DEFAULT_ROLES.get(invocation, DEFAULT_ROLES["sync"])


def platform_size(monitor: Optional[HealthMonitorSettings]) -> tuple[int, float]:
    """(active users, daily revenue) of the traffic model: the stack's figures, or a small platform's."""
    return ((monitor.active_users if monitor else 0) or DEFAULT_ACTIVE_USERS,
            (monitor.daily_revenue_inr if monitor else 0.0) or DEFAULT_DAILY_REVENUE_INR)


@dataclasses.dataclass(frozen=True)
class MonthlyTraffic:
    """What a 30-day month (an SLO's window; the cost estimate's month) brings: the first
    `school_days_per_week` days of each week at the school-day profile, the others at the holiday one.
    The calendar's holidays are left out: a month's estimate is not tied to a date."""

    events: dict[str, float]  # flow -> events
    readers: int

    def invocations(self, function_name: str, invocation: str = "sync") -> float:
        role = role_of(function_name, invocation)
        if role.schedule_minutes:
            return WINDOW_DAYS * 24 * 60 / role.schedule_minutes
        if role.flow == "heartbeats":
            return WINDOW_DAYS * 24 * 60 * self.readers
        return self.events.get(role.flow or "", 0.0) * role.per_event

    def api_requests(self, functions: Iterable[tuple[str, str]]) -> float:
        """Requests to the API stage: the invocations of the functions (name, invocation) that serve it."""
        return sum(self.invocations(name, how) for name, how in functions if role_of(name, how).api)

    def count(self, what: str, functions: Iterable[tuple[str, str]]) -> float:
        """`api`: the API stage's requests; otherwise the events of the flow `what`."""
        return self.api_requests(functions) if what == API_REQUESTS else self.events.get(what, 0.0)


def monthly_traffic(monitor: Optional[HealthMonitorSettings], school_days_per_week: float) -> MonthlyTraffic:
    """The month of the platform the health monitor's figures describe (its readers send heartbeats)."""
    users, revenue = platform_size(monitor)
    school_days = WINDOW_DAYS * school_days_per_week / 7
    events: dict[str, float] = {}
    for name, days in (("school-day", school_days), ("holiday", WINDOW_DAYS - school_days)):
        day = profile(name, users, revenue)
        midnight = dt.datetime(2026, 1, 5, tzinfo=IST)  # any date: the profiles depend on the hour only
        for minute in range(24 * 60):
            for flow, rate in day.rates(midnight + dt.timedelta(minutes=minute)).items():
                events[flow] = events.get(flow, 0.0) + rate * days
    return MonthlyTraffic(events, len(monitor.rfid_reader_ids) if monitor else 0)
