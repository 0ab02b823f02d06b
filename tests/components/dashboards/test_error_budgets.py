"""The error-budget widgets of the executive dashboard: per SLO the stack measures, the budget left and
the attainment over 30 days, and the burn rate against the SRE workbook's rates. Each widget is read
the way a dashboard reads it, by the project's CloudWatch model (`preflight.cloudwatch.series`), over a
metric store seeded from the SLIs the program exports (its `slos` output), and must give the number
worked out by hand."""

from __future__ import annotations

import json

import pytest

from cloudwatch_rules.limits import dashboard_problems
from preflight.cloudwatch.series import range_values, widget_series
from preflight.cloudwatch.store import MetricStore, metric_key
from preflight.model.stack import build_model
from tests.support.stack import of_type, props, run

EXECUTIVE = "production-HASIVU-Executive-Overview"
DAY = 24 * 60
WINDOW = 30 * DAY
# The store's clock: minutes since the epoch of the range's end (any minute will do).
END = 29_000_000


@pytest.fixture(scope="module")
def program():
    return run()


def _executive(result) -> list[dict]:
    body = next(props(r)["dashboardBody"] for r in of_type(result, "aws:cloudwatch/dashboard:Dashboard")
                if props(r)["dashboardName"] == EXECUTIVE)
    return json.loads(body)["widgets"]


def _widget(result, title: str) -> dict:
    return next(w["properties"] for w in _executive(result) if w["properties"].get("title") == title)


def _sli(result, name: str) -> dict:
    return next(slo["sli"] for slo in build_model(result).output("slos") if slo["name"] == name)


def _key(metric: dict):
    return metric_key(metric["namespace"], metric["metricName"], metric["dimensions"])


def _tile(result, title: str, store: MetricStore) -> float:
    [line] = range_values(_widget(result, title), store, END, 180)
    [(_, value)] = line.points
    return value


def test_each_measured_slo_has_its_budget_attainment_and_burn_rate_and_only_those(program):
    slos = [slo["name"] for slo in build_model(program).output("slos")]
    titles = [w["properties"].get("title") for w in _executive(program)]
    assert len(slos) == 8
    for name in slos:
        assert {f"{name}: error budget left (30 days)", f"{name}: attainment (30 days)",
                f"{name}: burn rate (5 min)"} <= set(titles)
    without = run(set_={"slos": {"redis": {"enabled": False}}})
    titles = [w["properties"].get("title") or "" for w in _executive(without)]
    assert not any(t.startswith("redis:") for t in titles)
    body = json.dumps({"widgets": _executive(program)})
    assert dashboard_problems(body) == []


def test_the_tiles_span_the_last_30_days_as_one_period(program):
    tile = _widget(program, "database: error budget left (30 days)")
    assert (tile["view"], tile["start"], tile["setPeriodToTimeRange"]) == ("singleValue", "-P30D", True)


def test_nine_bad_minutes_of_the_database_leave_79_percent_of_its_budget(program):
    """99.9 % of 43,200 minutes: a budget of 43.2 bad minutes. Nine bad minutes spend 9 / 43.2 of it."""
    healthy = _key(_sli(program, "database")["good"])
    store = MetricStore()
    for minute in range(END - WINDOW, END):
        store.put(healthy, minute, 0.0 if END - 600 <= minute < END - 591 else 1.0)
    assert _tile(program, "database: error budget left (30 days)", store) == pytest.approx(100 * (1 - 9 / 43.2))
    assert _tile(program, "database: attainment (30 days)", store) == pytest.approx(100 * (1 - 9 / 43_200))


def test_a_minute_without_a_check_spends_no_budget(program):
    """Only the last 10 days were checked (the monitor was deployed then): 20 bad minutes of Redis's
    budget of 216 (99.5 % of 43,200) are spent."""
    healthy = _key(_sli(program, "redis")["good"])
    store = MetricStore()
    for minute in range(END - 10 * DAY, END):
        store.put(healthy, minute, 0.0 if minute < END - 10 * DAY + 20 else 1.0)
    assert _tile(program, "redis: error budget left (30 days)", store) == pytest.approx(100 * (1 - 20 / 216))


def test_request_slos_spend_their_bad_share_of_the_budget(program):
    store = MetricStore()
    # API availability, 99.9 %: 400 5XX of 1,000,000 requests is 0.04 %, 40 % of the 0.1 % budget.
    api = _sli(program, "api-availability")
    store.put(_key(api["total"]), END - 100, 1.0, 1_000_000)
    store.put(_key(api["bad"]), END - 100, 1.0, 400)
    assert _tile(program, "api-availability: error budget left (30 days)", store) == pytest.approx(60)
    assert _tile(program, "api-availability: attainment (30 days)", store) == pytest.approx(99.96)
    # Payment success, 99.8 %: 30 errors of 10,000 attempts is 0.3 %, 1.5 times the 0.2 % budget.
    payments = _sli(program, "payment-success")
    store.put(_key(payments["total"]), END - 5 * DAY, 1.0, 10_000)
    store.put(_key(payments["bad"]), END - 5 * DAY, 1.0, 30)
    assert _tile(program, "payment-success: error budget left (30 days)", store) == pytest.approx(-50)
    # RFID verification, 99.5 %: 9,980 verified of 10,000 is 0.2 % bad, 40 % of the 0.5 % budget.
    rfid = _sli(program, "rfid-verification")
    store.put(_key(rfid["total"]), END - 7, 1.0, 10_000)
    store.put(_key(rfid["good"]), END - 7, 1.0, 9_980)
    assert _tile(program, "rfid-verification: error budget left (30 days)", store) == pytest.approx(60)
    assert _tile(program, "rfid-verification: attainment (30 days)", store) == pytest.approx(99.8)


def test_the_latency_slo_counts_requests_at_most_the_threshold_as_good(program):
    """API latency, 99 % under 3,000 ms: 995 requests at 3,000 ms or less (the bound is inclusive) and 5
    slower is 0.5 % bad, half the 1 % budget."""
    latency = _sli(program, "api-latency")["goodPercent"]
    store = MetricStore()
    store.put_samples(_key(latency), END - 60, [(250.0, 900), (3000.0, 95), (3001.0, 5)])
    assert _tile(program, "api-latency: error budget left (30 days)", store) == pytest.approx(50)
    assert _tile(program, "api-latency: attainment (30 days)", store) == pytest.approx(99.5)


def _burn(program, name: str, store: MetricStore, start: int, minutes: int) -> list:
    [line] = widget_series(_widget(program, f"{name}: burn rate (5 min)"), store, start, minutes)
    return [value for _, value in line.points]


def test_burn_rate_is_the_bad_share_of_each_5_minutes_over_the_budget(program):
    # An hour: 12 periods of 5 minutes (a picture draws at least 12 points).
    start = END - 60
    store = MetricStore()
    # The database: one bad minute in the first 5 is 20 % bad, 200 times its 0.1 % budget; then none.
    healthy = _key(_sli(program, "database")["good"])
    for minute in range(start, start + 60):
        store.put(healthy, minute, 0.0 if minute == start + 2 else 1.0)
    assert _burn(program, "database", store, start, 60) == pytest.approx([200] + [0] * 11)
    # The API: 1.44 % 5XX is the workbook's fastest page rate, 14.4; 2 of 10 requests at night is
    # under the 50-request guard and burns nothing; a quiet 5 minutes burns nothing either.
    api = _sli(program, "api-availability")
    for minute in range(start, start + 5):
        store.put(_key(api["total"]), minute, 1.0, 1000)
        store.put(_key(api["bad"]), minute, 1.0, 14.4)
    store.put(_key(api["total"]), start + 6, 1.0, 10)
    store.put(_key(api["bad"]), start + 6, 1.0, 2)
    assert _burn(program, "api-availability", store, start, 60) == pytest.approx([14.4] + [0] * 11)


def test_the_burn_rate_graph_draws_the_workbooks_page_and_ticket_rates(program):
    graph = _widget(program, "payment-success: burn rate (5 min)")
    lines = {(a["value"], a["label"].split(":")[0]) for a in graph["annotations"]["horizontal"]}
    assert lines == {(14.4, "14.4x page"), (6, "6x page"), (3, "3x ticket"), (1, "1x ticket")}
