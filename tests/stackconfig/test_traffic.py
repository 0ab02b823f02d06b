"""The platform's traffic model as monthly totals: what the cost estimate and the SLOs' budgets expect."""

from __future__ import annotations

import pytest

from stackconfig.costs import DEFAULT_SAMPLING, expected_requests
from stackconfig.health_monitor import HealthMonitorSettings
from stackconfig.model import LambdaFunction, Tier
from stackconfig.traffic import DEFAULT_ACTIVE_USERS, monthly_traffic

# Rs 60,000 a day at Rs 60 an order: 1,000 orders on a school day.
SMALL = HealthMonitorSettings(daily_revenue_inr=60_000, active_users=2_000, rfid_reader_ids=("r1", "r2"))


def test_a_month_is_its_school_days_at_the_daily_orders_and_the_rest_at_a_holidays_three_percent():
    every_day = monthly_traffic(SMALL, school_days_per_week=7)
    assert every_day.events["orders"] == pytest.approx(30 * 1_000)
    five_days = monthly_traffic(SMALL, school_days_per_week=5)
    # 30 x 5/7 school days of 1,000 orders; 30 x 2/7 days without school at 3 % of a school day.
    assert five_days.events["orders"] == pytest.approx(30 * 5 / 7 * 1_000 + 30 * 2 / 7 * 30)
    # Pickups happen on school days only: 97 % of the orders.
    assert five_days.events["rfid"] == pytest.approx(30 * 5 / 7 * 970)


def test_scheduled_functions_and_reader_heartbeats_do_not_follow_the_orders():
    month = monthly_traffic(SMALL, school_days_per_week=6)
    assert month.invocations("hasivu-dev-health-check") == 30 * 24 * 60  # every minute
    assert month.invocations("hasivu-dev-rfid-reader-heartbeat") == 2 * 30 * 24 * 60  # 2 readers, every minute
    assert month.invocations("hasivu-dev-notifications-daily-digest") == 30
    # Not served by the API stage: a job and an event consumer.
    assert month.api_requests([("hasivu-dev-payments-reconcile", "scheduled"),
                               ("hasivu-dev-notifications-send-sms", "async")]) == 0


def test_a_function_the_model_does_not_know_is_traffic_as_the_inventory_invokes_it():
    """A new group's functions: behind the API a little of the browsing; invoked by events or on a schedule,
    none of the API stage's requests (the budget of api-availability stays the same)."""
    month = monthly_traffic(SMALL, school_days_per_week=6)
    assert month.api_requests([("hasivu-dev-reports-daily", "sync")]) > 0
    assert month.api_requests([("hasivu-dev-reports-daily", "async"), ("hasivu-dev-reports-weekly", "scheduled")]) == 0
    assert month.invocations("hasivu-dev-reports-weekly", "scheduled") == 30 * 24  # hourly
    assert month.invocations("hasivu-dev-reports-daily", "async") > 0


def test_a_stack_that_does_not_size_its_platform_is_modelled_as_a_small_one():
    unsized = monthly_traffic(HealthMonitorSettings(), school_days_per_week=7)
    assert unsized.events["logins"] == pytest.approx(30 * 0.6 * DEFAULT_ACTIVE_USERS)
    assert monthly_traffic(None, school_days_per_week=7).events == unsized.events


def _function(name: str, group: str) -> LambdaFunction:
    return LambdaFunction(f"hasivu-dev-{name}", group, Tier.WARNING, 30)


def test_each_sampling_class_expects_the_requests_of_its_function_groups_and_general_takes_the_rest():
    month = monthly_traffic(SMALL, school_days_per_week=7)
    functions = [_function("payments-verify", "payments"), _function("health-check", "health"),
                 _function("orders-get", "orders"), _function("reports-export", "reports")]
    requests = expected_requests(month, functions)
    assert set(requests) == {cls.name for cls in DEFAULT_SAMPLING}
    assert requests["critical"] == round(0.98 * 1.04 * 30_000)  # verified payments: 98 % of attempts
    assert requests["health"] == 30 * 24 * 60
    # A group no class names ("reports") is traced under the catch-all rule.
    assert requests["general"] == round(month.invocations("hasivu-dev-reports-export"))
    assert requests["general"] > 0
