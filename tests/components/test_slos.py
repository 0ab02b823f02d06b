"""The SLOs a stack measures: targets, error budgets, and SLIs that read metrics the platform publishes."""

from __future__ import annotations

import pytest

from observability.catalogue import published_metrics
from preflight.cli import main as preflight_main
from preflight.model.stack import build_model
from tests.support.stack import run

# The platform's availability targets per dependency, and the request-based objectives users feel.
DEPENDENCY_TARGETS = {"database": 99.9, "redis": 99.5, "payments": 99.8, "rfid": 99.0}
MINUTES_IN_30_DAYS = 30 * 24 * 60


def _slos(**changes) -> dict[str, dict]:
    return {slo["name"]: slo for slo in build_model(run(**changes)).output("slos")}


def test_production_measures_the_dependency_targets_and_the_request_slos():
    slos = _slos()
    assert {name: slos[name]["target"] for name in DEPENDENCY_TARGETS} == DEPENDENCY_TARGETS
    assert {slos[name]["kind"] for name in DEPENDENCY_TARGETS} == {"period"}
    assert {"api-availability", "payment-success", "rfid-verification", "api-latency"} <= set(slos)
    assert slos["api-availability"]["target"] == 99.9
    assert slos["api-latency"]["sli"]["goodPercent"]["stat"] == f"PR(:{slos['api-latency']['thresholdMs']})"


def test_budgets_are_the_share_the_target_leaves_of_30_days_or_of_the_expected_requests():
    slos = _slos()
    # 0.1 % of 43,200 minutes; 0.5 % of them.
    assert slos["database"]["budget"] == {"minutes": pytest.approx(43.2), "judgedMinutes": MINUTES_IN_30_DAYS}
    assert slos["redis"]["budget"] == {"minutes": pytest.approx(216.0), "judgedMinutes": MINUTES_IN_30_DAYS}
    # The readers are judged in school hours only: 07:30 to 15:00 on 6 days of 7, over 30 days; 1 % of that.
    school_minutes = 7.5 * 60 * 30 * 6 / 7
    assert slos["rfid"]["budget"] == {"minutes": pytest.approx(0.01 * school_minutes, abs=0.05),
                                      "judgedMinutes": round(school_minutes)}
    payment = slos["payment-success"]
    assert payment["budget"]["requests"] == round(0.002 * payment["budget"]["monthlyRequests"])


def test_request_budgets_count_the_traffic_of_the_platform_the_health_monitor_describes():
    slos = _slos()
    # Production: Rs 450,000 a day at Rs 60 an order is 7,500 orders a school day, 6 school days a week:
    # 30 x 6/7 school days, and the other 30 x 1/7 days at 3 % of a school day's ordering.
    school_days, other_days = 30 * 6 / 7, 30 / 7
    attempts = 7_500 * 1.04  # a few payment retries per order
    assert slos["payment-success"]["budget"]["monthlyRequests"] == round(
        school_days * attempts + other_days * 0.03 * attempts)
    # Cards are verified at pickups, on school days: 97 % of the orders.
    assert slos["rfid-verification"]["budget"]["monthlyRequests"] == round(school_days * 7_500 * 0.97)
    configured = _slos(set_={"slos": {"paymentSuccess": {"monthlyRequests": 250_000}}})
    assert configured["payment-success"]["budget"] == {"requests": 500, "monthlyRequests": 250_000}


def test_each_slo_lists_its_burn_rate_pairs_and_each_is_a_registered_alarm_on_that_line():
    model = build_model(run())
    alarms = model.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    thresholds = {r.props["name"]: r.props.get("threshold") for r in alarms}
    slos = {slo["name"]: slo for slo in model.output("slos")}
    workbook = [("page", "critical", 14.4, ["1h", "5m"]), ("page", "critical", 6, ["6h", "30m"]),
                ("ticket", "warning", 3, ["1d", "2h"]), ("ticket", "warning", 1, ["3d", "6h"])]
    for name in ("api-availability", "payment-success", "rfid-verification", "api-latency"):
        pairs = slos[name]["burnRateAlarms"]
        assert [(p["action"], p["tier"], p["rate"], p["windows"]) for p in pairs] == workbook, name
    for name in ("database", "redis", "payments"):
        assert [p["action"] for p in slos[name]["burnRateAlarms"]] == ["ticket", "ticket"], name
    assert slos["rfid"]["burnRateAlarms"] == []
    # 14.4 times the 0.1 % budget: 1.44 % of requests failing, read by both alarms of the pair.
    fastest = slos["api-availability"]["burnRateAlarms"][0]
    assert fastest["badPercent"] == pytest.approx(1.44)
    assert [thresholds[alarm] for alarm in fastest["alarms"]] == [pytest.approx(1.44)] * 2
    # Period-based: the alarm reads the share of good minutes, 1 - 0.3 % for the database's 3x line.
    [daily, _] = slos["database"]["burnRateAlarms"]
    assert [thresholds[alarm] for alarm in daily["alarms"]] == [pytest.approx(0.997)] * 2


def test_config_overrides_a_target_and_switches_an_slo_off():
    slos = _slos(set_={"slos": {"database": {"target": 99.95}, "rfidVerification": {"enabled": False},
                                "apiLatency": {"thresholdMs": 1500, "minRequests": 10, "minBadRequests": 3}}})
    assert slos["database"]["budget"]["minutes"] == pytest.approx(21.6)
    assert "rfid-verification" not in slos
    assert slos["api-latency"]["sli"]["goodPercent"]["stat"] == "PR(:1500)"
    assert slos["api-latency"]["minRequests"] == 10
    assert (slos["api-latency"]["minBadRequests"], slos["api-availability"]["minBadRequests"]) == (3, 10)
    assert "minBadRequests" not in slos["database"]


def test_every_custom_metric_an_sli_reads_is_one_the_runtime_library_publishes():
    # A metric is namespace + name + the exact dimension set: an SLI naming another set reads nothing.
    published = {(ns, name, frozenset(dims.items())) for ns, name, dims in published_metrics("production")}
    for slo in _slos().values():
        for metric in slo["sli"].values():
            if metric["namespace"].startswith("AWS/"):
                continue
            key = (metric["namespace"], metric["metricName"], frozenset(metric["dimensions"].items()))
            assert key in published, f"{slo['name']} reads {key}, which nothing publishes"


def test_a_stack_without_a_health_monitor_measures_no_dependency_minutes():
    slos = _slos(remove=("healthMonitor",))
    assert not set(DEPENDENCY_TARGETS) & set(slos)
    assert "api-availability" in slos


def test_preview_prints_each_slo_with_its_budget(capsys):
    assert preflight_main(["--stack", "production", "--no-policy"]) == 0
    out = capsys.readouterr().out
    assert "Service level objectives: 8, error budgets over a 30-day window" in out
    assert "database (database, period-based): 99.9 % of" in out and "budget 43.2 bad minutes" in out
    assert "burn-rate tickets (warning): 1d and 2h over 0.3 % bad (3x), 3d and 6h over 0.1 % bad (1x)" in out
    # One bad request in a 1-hour window stays under 1.44 % from 70 requests (100 / 1.44 = 69.4).
    assert "burn-rate pages (critical): 1h and 5m over 1.44 % bad (14.4x, 70+ requests)" in out
    assert "budget 115.7 bad minutes of 11,571 judged" in out
    assert preflight_main(["--stack", "production", "--no-policy", "--json"]) == 0
