"""What CloudWatch would do with the production catalogue: each test feeds
an alarm or the pagers the data of an incident or a normal day and asserts on states and pages,
through the CloudWatch model in preflight/cloudwatch (metric math, alarm evaluation, composites and
actions suppressors, each citing the user-guide page it follows; checked in
tests/preflight/cloudwatch/test_cloudwatch_model.py and tests/preflight/cloudwatch/test_alarm_evaluation.py)."""

from __future__ import annotations

import copy
import functools
import os
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest

from cloudwatch_rules.composite import conjunctions
from components.alarms.business import SECURITY_FILTERS, SECURITY_NAMESPACE
from observability.catalogue import published_metrics
from preflight.cloudwatch import evaluate_alarm
from preflight.cloudwatch.cloudwatch import CloudWatchModel, MetricAlarmDefinition, math_series
from preflight.cloudwatch.emf import metrics_in
from preflight.cloudwatch.store import MetricStore, metric_key
from preflight.emulator.platform import Platform, platform_from_run
from tests.support.stack import inventory_section, of_type, props, run

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
IST = timezone(timedelta(hours=5, minutes=30))
MONDAY = datetime(2026, 7, 6, tzinfo=IST)
SUNDAY = datetime(2026, 7, 5, tzinfo=IST)
READERS = ("reader-001", "reader-002", "reader-003", "reader-004")


def _alarms(result=None) -> dict[str, dict]:
    return {props(r)["name"]: props(r) for r in of_type(result or run(), ALARM)}


def _composites(result=None) -> list[dict]:
    return [props(r) for r in of_type(result or run(), COMPOSITE)]


def _period(alarm: dict) -> int:
    return MetricAlarmDefinition(alarm["name"], alarm, [], []).period


def _feed(alarm: dict, values: dict[str, list[Optional[float]]]) -> dict[str, list[Optional[float]]]:
    """Per query id ("" for a single-metric alarm), the series given by metric name."""
    queries = alarm.get("metricQueries")
    if not queries:
        return {"": values[alarm["metricName"]]}
    return {q["id"]: values[q["metric"]["metricName"]] for q in queries if q.get("metric")}


def _flat_band(source: object, deviations: float, end_minute: int) -> tuple[float, float]:
    """The anomaly band's values are not under test here, only the series it is drawn around."""
    return (0.0, 0.0)


def alarm_series(alarm: dict, metrics: dict[str, list[Optional[float]]], start: datetime,
                 strict: bool = False) -> list[Optional[float]]:
    """The series the alarm compares with its threshold, periods starting at `start`: its metric, or
    its returned expression (`strict`: arithmetic drops a timestamp one series lacks)."""
    count = len(next(iter(metrics.values())))
    if "" in metrics:
        return list(metrics[""])
    definition = MetricAlarmDefinition(alarm["name"], alarm, [], [])
    end_minute = int(start.timestamp()) // 60 + count * definition.period // 60
    values, _ = math_series(definition, {k: list(v) for k, v in metrics.items()}, end_minute, count,
                            _flat_band, strict)
    return values


def states_over_time(alarm: dict, series: list[Optional[float]]) -> list[str]:
    """The state after each period, each evaluation over the periods so far."""
    states, previous = [], "INSUFFICIENT_DATA"
    for i in range(len(series)):
        previous = evaluate_alarm(alarm, series[: i + 1], previous)
        states.append(previous)
    return states


def _evaluate(name: str, values: dict[str, list[Optional[float]]], start: datetime = MONDAY,
              strict: bool = False, previous: str = "INSUFFICIENT_DATA") -> str:
    alarm = _alarms()[name]
    return evaluate_alarm(alarm, alarm_series(alarm, _feed(alarm, values), start, strict), previous)


def _metric_refs(alarm: dict) -> list[tuple[str, str, dict]]:
    metrics = [q["metric"] for q in alarm.get("metricQueries", []) if q.get("metric")] or [alarm]
    return [(m["namespace"], m["metricName"], m.get("dimensions") or {}) for m in metrics]


# ---- every alarm reads a metric that is published with exactly its dimensions -----

def test_every_custom_metric_an_alarm_reads_is_published_with_exactly_those_dimensions():
    """A CloudWatch metric is namespace + name + the exact dimension set (DESIGN.md; user guide
    "CloudWatch concepts: Dimensions"): an alarm naming {Environment} never sees {Environment, service}."""
    published = [(ns, name, dims) for ns, name, dims in published_metrics("production", READERS)]
    published += [(SECURITY_NAMESPACE, f.metric_name, {}) for f in SECURITY_FILTERS]
    read = [ref for alarm in _alarms().values() for ref in _metric_refs(alarm) if not ref[0].startswith("AWS/")]
    assert len(read) > 20
    for ref in read:
        assert ref in published, ref


def test_the_deployed_health_monitor_publishes_what_the_health_alarms_read(monkeypatch, capsys):
    from observability.health_handler import publish
    from observability.settings import RuntimeSettings

    function = next(r for r in of_type(run(), "aws:lambda/function:Function")
                    if props(r)["name"] == "production-hasivu-health-monitor")
    for key in [k for k in os.environ if k.startswith(("POWERTOOLS_", "HASIVU_"))]:
        monkeypatch.delenv(key)
    for key, value in props(function)["environment"]["variables"].items():
        monkeypatch.setenv(key, value)
    checks = {name: {"status": "healthy", "latency_ms": 3.0} for name in ("database", "redis", "payment_gateway")}
    report = {"score": 100.0, "business_impact": {"revenue_at_risk_inr_per_day": 0.0, "users_affected": 0},
              "checks": checks}
    publish(report, RuntimeSettings.from_env())
    emitted = {metric for metric, _ in metrics_in(capsys.readouterr().out, strict=True)}
    health = [a for a in _alarms().values() if any(ref[0] == "HASIVU/Health" for ref in _metric_refs(a))]
    assert {a["name"] for a in health} >= {"production-platform-health-score", "production-database-connectivity",
                                           "production-cache-connectivity", "production-payments-connectivity"}
    for alarm in health:
        # The payment outage alarm reads the business metrics too; the monitor publishes the health ones.
        for namespace, metric, dims in _metric_refs(alarm):
            if namespace == "HASIVU/Health":
                assert metric_key(namespace, metric, dims) in emitted, alarm["name"]


def test_the_stacks_own_filters_publish_the_security_metrics_the_alarms_read():
    filters = {props(r)["metricTransformation"]["name"]: props(r)["metricTransformation"]
               for r in of_type(run(), "aws:cloudwatch/logMetricFilter:LogMetricFilter")}
    for f in SECURITY_FILTERS:
        assert filters[f.metric_name]["namespace"] == SECURITY_NAMESPACE
        # A filter's metric has no dimensions unless the filter declares them.
        assert not filters[f.metric_name].get("dimensions")


# ---- ratios have a value when the numerator has none --------------------------------

@pytest.mark.parametrize("strict", [False, True], ids=["guide-arithmetic", "strict-arithmetic"])
def test_every_math_alarm_returns_a_datapoint_in_every_period_even_without_any_data(strict):
    """Except a scheduled job's: it has a datapoint only in a minute it ran, and keeps the last run's
    verdict in between (treat missing data as ignore); and the anomaly-band alarms that judge a share or
    a level only at volume or in school hours: no value lies inside a band for sure, so outside those they
    return no datapoint, which they treat as not breaching."""
    jobs = {"production-payments-reconcile-run-failed", "production-menu-plan-weekly-run-failed",
            "production-notifications-daily-digest-run-failed"}
    # A page pair's short window keeps its state too, but only when it is too quiet to judge and holds bad
    # requests: with no data at all it is good (test_a_quiet_short_window_of_a_page_pair_keeps_its_state).
    quiet_short_windows = {f"production-slo-{slo}-burn-{window}" for window in ("5m-14.4x", "30m-6x")
                           for slo in ("api-availability", "api-latency", "payment-success", "rfid-verification")}
    keep_state = {name for name, alarm in _alarms().items() if alarm.get("treatMissingData") == "ignore"}
    assert keep_state == jobs | quiet_short_windows
    judged_sometimes = {"production-orders-cancellation-rate", "production-users-engagement-drop"}
    for name in judged_sometimes:
        assert _alarms()[name]["treatMissingData"] == "notBreaching"
    for name, alarm in _alarms().items():
        if not alarm.get("metricQueries") or name in jobs | judged_sometimes:
            continue
        empty = {ref[1]: [None] * 6 for ref in _metric_refs(alarm)}
        series = alarm_series(alarm, _feed(alarm, empty), MONDAY, strict)
        assert None not in series, name


@pytest.mark.parametrize("strict", [False, True], ids=["guide-arithmetic", "strict-arithmetic"])
def test_zero_successes_is_a_zero_rate_that_alarms(strict):
    # Card verification: the rfid-verification SLO's 5-minute burn-rate window (under 92.8 % good).
    assert _evaluate("production-slo-rfid-verification-burn-5m-14.4x", {
        "RFIDVerificationSuccess": [None], "RFIDVerificationAttempts": [120.0]}, strict=strict) == "ALARM"
    assert _evaluate("production-payments-failure-rate", {
        "PaymentFailures": [150.0] * 3, "PaymentAttempts": [150.0] * 3}, strict=strict) == "ALARM"
    assert _evaluate("production-orders-completion-rate", {
        "OrdersCompleted": [None] * 4, "OrdersCancelled": [40.0] * 4}, strict=strict) == "ALARM"
    assert _evaluate("production-slo-rfid-verification-burn-5m-14.4x", {
        "RFIDVerificationSuccess": [110.0], "RFIDVerificationAttempts": [120.0]}, strict=strict) == "ALARM"
    assert _evaluate("production-slo-rfid-verification-burn-5m-14.4x", {
        "RFIDVerificationSuccess": [120.0], "RFIDVerificationAttempts": [120.0]}, strict=strict) == "OK"


def test_orders_placed_ahead_do_not_count_against_completion():
    # Lunch: 300 pickups complete orders placed the evening before; no new orders are created.
    assert _evaluate("production-orders-completion-rate", {
        "OrdersCompleted": [300.0] * 4, "OrdersCancelled": [None] * 4}) == "OK"


def test_order_volume_anomaly_sees_zero_orders_not_a_gap():
    alarm = _alarms()["production-orders-volume-anomaly"]
    [shown] = [q for q in alarm["metricQueries"] if q.get("returnData") and q["id"] != alarm["thresholdMetricId"]]
    assert _period(alarm) == 300
    series = alarm_series(alarm, _feed(alarm, {"OrdersCreated": [None] * 3}), MONDAY)
    assert series == [0.0, 0.0, 0.0]
    band = next(q for q in alarm["metricQueries"] if q["id"] == alarm["thresholdMetricId"])
    assert band["expression"].startswith(f"ANOMALY_DETECTION_BAND({shown['id']},")


# ---- low-volume functions that fail every time ------------------------------------

def _low_volume_functions() -> dict[str, dict]:
    found = {}
    for body in inventory_section()["lambdaGroups"].values():
        for fn in body["functions"]:
            if isinstance(fn, dict) and (fn.get("thresholds") or {}).get("lowVolumeWindowMinutes"):
                found[fn["name"]] = fn["thresholds"]
    return found


def test_low_volume_functions_alarm_when_every_call_fails():
    functions = _low_volume_functions()
    assert {"hasivu-production-payments-refund", "hasivu-production-payments-webhook"} <= set(functions)
    for function, thresholds in functions.items():
        name = f"production-{function.removeprefix('hasivu-production-')}-error-rate"
        runs = float(thresholds.get("lowVolumeMinErrors", 1))
        assert _evaluate(name, {"Errors": [runs], "Invocations": [runs]}) == "ALARM", name
        assert _evaluate(name, {"Errors": [None], "Invocations": [runs]}) == "OK", name


def _job_states(errors: list[Optional[float]], invocations: list[Optional[float]]) -> list[str]:
    alarm = _alarms()["production-payments-reconcile-run-failed"]
    series = alarm_series(alarm, _feed(alarm, {"Errors": errors, "Invocations": invocations}), MONDAY)
    return states_over_time(alarm, series)


def test_a_scheduled_job_is_judged_on_its_last_run_until_the_next():
    """One run an hour: the failed run's minute puts the alarm in ALARM; the 59 minutes without a run
    keep it there (missing data: the state is maintained); the next successful run clears it. Lambda
    publishes Errors = 0 in a minute with invocations and nothing in a minute without."""
    alarm = _alarms()["production-payments-reconcile-run-failed"]
    assert alarm["tags"]["Tier"] == "warning" and alarm["treatMissingData"] == "ignore"
    hour = [None] * 59
    states = _job_states([1.0, *hour, 0.0, *hour], [1.0, *hour, 1.0, *hour])
    assert states[0] == "ALARM" and set(states[1:60]) == {"ALARM"}
    assert set(states[60:]) == {"OK"}
    # Never run since the deploy: no judgement yet, not an outage.
    assert set(_job_states([None] * 10, [None] * 10)) == {"INSUFFICIENT_DATA"}
    # A failed run whose retry a minute later succeeds: ALARM for that minute only.
    assert _job_states([1.0, 0.0, None], [1.0, 1.0, None]) == ["ALARM", "OK", "OK"]


def test_the_scheduled_jobs_alarm_on_a_lost_run():
    """EventBridge invokes a scheduled job asynchronously: a run Lambda drops is lost like any event."""
    alarms = _alarms()
    for job in ("payments-reconcile", "menu-plan-weekly", "notifications-daily-digest"):
        name = f"production-{job}-async-events-dropped"
        assert _evaluate(name, {alarms[name]["metricName"]: [1.0]}) == "ALARM"
        assert f"production-{job}-errors" not in alarms and f"production-{job}-error-rate" not in alarms


def test_a_quiet_half_hour_inside_a_webhook_outage_keeps_it_one_incident():
    """Webhooks at night: every call fails while the database is down, but one half hour brings only two
    calls, under the 3-error floor. The alarm judges the last hour, one window (1 of 1), which holds the
    half hour before as well: it stays in ALARM instead of sending OK mid-outage and paging again."""
    alarm = _alarms()["production-payments-webhook-error-rate"]
    assert {q["metric"]["period"] for q in alarm["metricQueries"] if q.get("metric")} == {3600}
    assert (alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (1, 1)
    # Hours of the outage: 7 calls then 2 in a quiet half hour, all failing; 3 of 4; then none failing.
    series = alarm_series(alarm, _feed(alarm, {"Errors": [9.0, 3.0, None, None],
                                               "Invocations": [9.0, 4.0, 2.0, 5.0]}), SUNDAY)
    assert series == [100.0, 75.0, 0.0, 0.0]
    assert states_over_time(alarm, series) == ["ALARM", "ALARM", "OK", "OK"]
    # The quiet half hour alone: two failed calls are under the floor.
    assert _evaluate("production-payments-webhook-error-rate", {"Errors": [2.0], "Invocations": [2.0]}) == "OK"


def test_a_sporadic_refund_failure_at_night_does_not_alarm():
    assert _evaluate("production-payments-refund-error-rate", {"Errors": [1.0], "Invocations": [2.0]}) == "OK"
    assert _evaluate("production-payments-verify-error-rate", {
        "Errors": [1.0, 1.0, 1.0], "Invocations": [3.0, 3.0, 3.0]}) == "OK"


# ---- volume guards ------------------------------------------------------------------

def test_rates_are_judged_only_at_volume():
    assert _evaluate("production-payments-failure-rate", {
        "PaymentFailures": [1.0] * 3, "PaymentAttempts": [3.0] * 3}) == "OK"
    # Two declines in 40 attempts (5 %) between breakfast and lunch is the banks' noise, not an incident.
    assert _evaluate("production-payments-failure-rate", {
        "PaymentFailures": [3.0] * 3, "PaymentAttempts": [40.0] * 3}) == "OK"
    assert _evaluate("production-payments-failure-rate", {
        "PaymentFailures": [15.0] * 3, "PaymentAttempts": [150.0] * 3}) == "ALARM"
    assert _evaluate("production-slo-rfid-verification-burn-1h-14.4x", {
        "RFIDVerificationSuccess": [2.0], "RFIDVerificationAttempts": [3.0]}) == "OK"
    assert _evaluate("production-api-5xx-rate", {"5XXError": [2.0] * 5, "Count": [3.0] * 5}) == "OK"
    assert _evaluate("production-api-5xx-rate", {"5XXError": [10.0] * 5, "Count": [100.0] * 5}) == "ALARM"
    assert _evaluate("production-api-5xx-rate", {"5XXError": [None] * 5, "Count": [100.0] * 5}) == "OK"


def test_endpoint_p99_ignores_cold_starts_at_low_traffic():
    name = "production-api-rfid-verify-latency-p99"
    assert _evaluate(name, {"Latency": [2500.0] * 3, "Count": [20.0] * 3}) == "OK"
    assert _evaluate(name, {"Latency": [2500.0] * 3, "Count": [600.0] * 3}) == "ALARM"
    assert _evaluate(name, {"Latency": [400.0] * 3, "Count": [600.0] * 3}) == "OK"


def test_each_endpoint_is_guarded_at_its_own_traffic():
    """Payment orders see about 40 requests in 5 minutes at lunch, card verifications hundreds: the same
    40 requests are judged on the first and left alone on the second (minRequests per endpoint)."""
    lunch = {"Latency": [8000.0] * 3, "Count": [40.0] * 3}
    assert _evaluate("production-api-payments-orders-latency-p99", lunch) == "ALARM"
    assert _evaluate("production-api-rfid-verify-latency-p99", lunch) == "OK"
    # Two slow windows of three are enough, so the warning page comes within 15 minutes.
    assert _evaluate("production-api-payments-orders-latency-p99",
                     {"Latency": [8000.0, 8000.0, 300.0], "Count": [40.0] * 3}) == "ALARM"
    assert _evaluate("production-api-payments-orders-latency-p99",
                     {"Latency": [8000.0] * 3, "Count": [10.0] * 3}) == "OK"


@pytest.mark.parametrize("failed, succeeded, expected", [
    # An evening twenty times busier than usual: 3 % wrong passwords of ~1,750 logins in 5 minutes.
    ([53.0], [1700.0], "OK"),
    # A botnet at night: 50 failures among a handful of parents' logins.
    ([50.0], [1.0], "ALARM"),
    # The same at the evening peak (~85 good logins in 5 minutes): still more than a fifth of attempts.
    ([60.0], [85.0], "ALARM"),
    # Under the floor: a parent trying passwords at night is not an attack.
    ([6.0], [None], "OK"),
    ([None], [None], "OK"),
])
def test_failed_logins_are_judged_against_attempts_with_a_floor(failed, succeeded, expected):
    assert _evaluate("production-security-failed-logins",
                     {"FailedLogins": failed, "UserLogins": succeeded}) == expected


# ---- silence that matters only in school hours -------------------------------

@pytest.mark.parametrize("name, metric, start, expected", [
    ("production-rfid-reader-reader-002-silent", "RFIDReaderHeartbeat", MONDAY + timedelta(hours=10), "ALARM"),
    ("production-rfid-reader-reader-002-silent", "RFIDReaderHeartbeat", MONDAY + timedelta(hours=1), "OK"),
    ("production-rfid-reader-reader-002-silent", "RFIDReaderHeartbeat", MONDAY + timedelta(hours=20), "OK"),
    ("production-rfid-reader-reader-002-silent", "RFIDReaderHeartbeat", SUNDAY + timedelta(hours=10), "OK"),
    ("production-orders-ordering-stopped", "OrdersCreated", MONDAY + timedelta(hours=12, minutes=30), "ALARM"),
    ("production-orders-ordering-stopped", "OrdersCreated", MONDAY + timedelta(hours=23), "OK"),
    ("production-api-traffic-stopped", "Count", MONDAY + timedelta(hours=9), "ALARM"),
    ("production-api-traffic-stopped", "Count", MONDAY + timedelta(hours=3), "OK"),
])
def test_silence_alarms_only_in_school_hours(name, metric, start, expected):
    assert _evaluate(name, {metric: [None] * 3}, start) == expected
    assert _evaluate(name, {metric: [5.0] * 3}, start) == "OK"


def _reader_states(heartbeats: list[Optional[float]]) -> list[str]:
    """The reader alarm's state after each 5-minute window of school hours, heartbeats per window."""
    alarm = _alarms()["production-rfid-reader-reader-001-silent"]
    series = alarm_series(alarm, _feed(alarm, {"RFIDReaderHeartbeat": heartbeats}), MONDAY + timedelta(hours=10))
    return states_over_time(alarm, series)


def test_a_five_minute_blip_is_not_an_outage_and_ten_minutes_is():
    assert "ALARM" not in _reader_states([5.0, None, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    # Two windows with under half the heartbeats (2 of 5 is under half): offline.
    assert _reader_states([5.0, 5.0, None, 2.0]) == ["OK", "OK", "OK", "ALARM"]


@pytest.mark.parametrize("cycle", [
    [None, None, 5.0],              # 10 minutes off, 5 on
    [None, None, None, None, 5.0, 5.0],  # 20 off, 10 on
])
def test_a_flapping_reader_is_one_incident(cycle):
    """Judged over 30 minutes (6 windows), a rhythm of 15 or 30 minutes is a steady count: the alarm
    enters ALARM once, 10 minutes into the first drop, and stays there while the reader keeps flapping."""
    states = _reader_states([5.0] * 6 + cycle * 6)
    assert states[6:] == ["OK", "ALARM"] + ["ALARM"] * (len(cycle) * 6 - 2)


def test_every_configured_reader_has_its_own_alarm():
    alarms = _alarms()
    for reader in READERS:
        alarm = alarms[f"production-rfid-reader-{reader}-silent"]
        assert _metric_refs(alarm) == [("HASIVU/Business", "RFIDReaderHeartbeat",
                                        {"Environment": "production", "ReaderId": reader})]


# ---- the health monitor's silence is one warning, not a critical outage ----------------

def test_a_silent_health_monitor_is_one_warning_alarm_and_no_connectivity_alarm():
    silent = [None] * 5
    assert _evaluate("production-platform-health-monitor-silent", {"SystemHealthScore": silent}) == "ALARM"
    assert _alarms()["production-platform-health-monitor-silent"]["tags"]["Tier"] == "warning"
    assert _evaluate("production-database-connectivity", {"DependencyHealthy": silent[:3]}) == "INSUFFICIENT_DATA"
    assert _evaluate("production-platform-health-score", {"SystemHealthScore": silent[:3]}) == "INSUFFICIENT_DATA"
    assert _evaluate("production-database-connectivity", {"DependencyHealthy": [0.0, 0.0, 1.0]}) == "ALARM"


def _score(**statuses: str) -> float:
    """The health score the deployed monitor computes for these check results."""
    from observability.health import BusinessProfile, EnhancedHealthMonitor
    from observability.health_checks import CheckResult

    monitor = EnhancedHealthMonitor([], BusinessProfile(0, 0))
    return monitor.score([CheckResult(name, status, 1.0) for name, status in statuses.items()])


@pytest.mark.parametrize("statuses, expected", [
    ({"database": "healthy", "redis": "healthy", "payment_gateway": "healthy", "rfid": "healthy"}, "OK"),
    ({"database": "degraded", "redis": "healthy", "payment_gateway": "healthy", "rfid": "healthy"}, "OK"),
    ({"database": "healthy", "redis": "healthy", "payment_gateway": "healthy", "rfid": "unhealthy"}, "OK"),
    ({"database": "healthy", "redis": "unhealthy", "payment_gateway": "healthy", "rfid": "healthy"}, "OK"),
    ({"database": "unhealthy", "redis": "healthy", "payment_gateway": "healthy", "rfid": "healthy"}, "ALARM"),
    ({"database": "healthy", "redis": "healthy", "payment_gateway": "unhealthy", "rfid": "healthy"}, "ALARM"),
    ({"database": "degraded", "redis": "degraded", "payment_gateway": "degraded", "rfid": "healthy"}, "ALARM"),
], ids=["all-healthy", "slow-database", "readers-off-at-night", "redis-down", "database-down", "razorpay-down",
        "three-slow"])
def test_the_health_score_alarm_fires_on_outages_not_on_one_slow_dependency(statuses, expected):
    """Scores from the runtime library's own weights; Redis down is the Redis connectivity alarm's page."""
    assert _evaluate("production-platform-health-score", {"SystemHealthScore": [_score(**statuses)] * 3}) == expected


# ---- one page per incident per tier ---------------------------------------------------

@functools.cache
def _production_platform() -> Platform:
    return platform_from_run(run())


def _pages(timeline: list[dict[str, str]], result=None) -> dict[str, int]:
    """ALARM notifications per tier topic when the metric alarms go through `timeline` (one mapping of
    alarm name -> state per minute, OK where none is given), through the program's own alarm actions,
    composites and suppressors as the drills read them."""
    platform = platform_from_run(result) if result is not None else _production_platform()
    model = CloudWatchModel(MetricStore(), platform.alarms, platform.composites)
    for minute, states in enumerate(timeline):
        model.tick_states(states, minute)
    counts: dict[str, int] = {}
    for page in model.pages:
        counts[page.tier] = counts.get(page.tier, 0) + 1
    return counts


def _incident(start: int, end: int, names: list[str], minutes: int = 60) -> list[dict[str, str]]:
    return [{n: "ALARM" for n in names} if start <= m < end else {} for m in range(minutes)]


def _merge(*timelines: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for t in minute for k, v in t.items()} for minute in zip(*timelines, strict=True)]


def test_every_alarm_alone_pages_its_own_tier_exactly_once():
    alarms = _alarms()
    pairs = {name: term for c in _production_platform().composites for term in conjunctions(c.rule) for name in term}
    assert pairs, "the SLOs' burn-rate pairs"
    for name, alarm in alarms.items():
        tier = alarm["tags"]["Tier"]
        if name in pairs:
            # One window of a burn-rate pair says nothing alone; both windows page the tier once.
            assert _pages(_incident(5, 40, [name])) == {}, name
            assert _pages(_incident(5, 40, list(pairs[name]))) == {tier: 1}, name
            continue
        # A dependency's "down recently" alarm is a hold: its connectivity alarm is the one that pages.
        expected = {} if name.endswith("-down-recently") else {tier: 1}
        assert _pages(_incident(5, 40, [name])) == expected, name


def test_a_razorpay_outage_pages_critical_once_and_holds_the_warnings_it_causes():
    warnings = ["production-payments-verification-failures", "production-payments-create-order-duration-p99",
                "production-api-latency-p99", "production-api-payments-orders-latency-p99"]
    critical = ["production-payments-payment-errors", "production-payments-create-order-errors",
                "production-payments-verify-error-rate", "production-api-5xx-rate", "production-platform-health-score"]
    business = ["production-payments-failure-rate"]
    timeline = _merge(
        _incident(10, 36, warnings, 90),  # slow payments show first and clear last
        _incident(12, 30, critical[:2], 90), _incident(14, 32, critical[2:], 90),
        _incident(13, 33, business, 90),
    )
    assert _pages(timeline) == {"critical": 1}


def test_an_unrelated_warning_after_a_critical_incident_still_pages():
    timeline = _merge(_incident(5, 20, ["production-payments-payment-errors"], 90),
                      _incident(50, 80, ["production-db-cpu"], 90))
    assert _pages(timeline) == {"critical": 1, "warning": 1}


@pytest.mark.parametrize("warning", ["production-db-cpu", "production-cache-slow"])
def test_a_datastore_warning_during_an_unrelated_critical_incident_pages(warning: str):
    """A payments incident says nothing about the database or the cache: their warnings during it page."""
    timeline = _merge(_incident(5, 60, ["production-payments-payment-errors"], 90),
                      _incident(15, 50, [warning], 90))
    assert _pages(timeline) == {"critical": 1, "warning": 1}


def test_a_dependency_outage_pages_its_cause_once_and_holds_the_symptoms_of_every_tier():
    """The database pager pages unheld; the API and platform pagers it trips wait 2 minutes for it, the
    payments pager needs no wait, and all are held (components/alarms/composites.py), warnings too."""
    # The cause's "down recently" hold enters ALARM with its connectivity alarm (the same 2 failed checks).
    causes = ["production-database-connectivity", "production-database-down-recently"]
    symptoms = ["production-platform-health-score", "production-api-5xx-rate",
                "production-auth-login-errors", "production-payments-reconcile-run-failed", "production-db-cpu",
                "production-orders-ordering-stopped", "production-api-latency-p99"]
    # A symptom may cross its threshold a minute before the cause's 2-of-3-minutes alarm does; payment
    # errors need 3 of 5 minutes, so the payments pager does not wait for the cause and is held as it fires.
    assert _pages(_merge(_incident(7, 40, causes, 90), _incident(6, 38, symptoms, 90),
                         _incident(8, 38, ["production-payments-payment-errors"], 90))) == {"critical": 1}
    assert _pages(_merge(_incident(7, 40, ["production-cache-connectivity", "production-cache-down-recently"], 90),
                         _incident(8, 38, ["production-auth-login-errors", "production-api-5xx-rate"], 90))) == {
        "critical": 1}


def test_a_symptom_still_in_alarm_after_the_hold_pages_then():
    """A held pager pages when its hold ends (the cause's recovery plus the pager's alarm window) if its
    alarm is still in ALARM: a real second problem is not swallowed."""
    timeline = _merge(_incident(5, 20, ["production-database-connectivity"], 120),
                      _incident(8, 110, ["production-auth-login-errors"], 120))
    assert _pages(timeline) == {"critical": 2}


def test_the_slack_forwarder_and_topic_failures_report_to_another_tier():
    assert _pages(_incident(5, 30, ["production-warning-slack-forwarder-error-rate"])) == {"critical": 1}
    assert _pages(_incident(5, 30, ["production-alerting-warning-deliveries-failed"])) == {"critical": 1}
    assert _pages(_incident(5, 30, ["production-alerting-critical-deliveries-failed"])) == {"warning": 1}
    assert _pages(_incident(5, 30, ["production-alerting-business-deliveries-failed"])) == {"warning": 1}


def test_a_pager_too_long_for_one_rule_is_split_and_still_pages_once():
    inventory = copy.deepcopy(inventory_section())
    inventory["lambdaGroups"]["menu"]["functions"] += [f"hasivu-production-menu-extra-{i:03d}" for i in range(60)]
    result = run(set_={"inventory": inventory})
    composites = {c["alarmName"]: c for c in _composites(result)}
    assert "production-warning-platform-pager-part-2" in composites
    assert all(len(c["alarmRule"]) <= 10_240 for c in composites.values())
    assert _pages(_incident(5, 30, ["production-menu-extra-059-errors"]), result) == {"warning": 1}


# ---- what is alarmed, at which tier -----------------------------------------------

def test_storage_running_out_is_critical():
    alarms = _alarms()
    for instance in ("db", "db-replica"):
        assert alarms[f"production-{instance}-free-storage"]["tags"]["Tier"] == "critical"


def test_replication_and_disk_queue_are_watched_where_they_are_published():
    alarms = _alarms()
    assert "production-db-replica-replica-lag" in alarms and "production-db-replica-lag" not in alarms
    assert {"production-db-disk-queue-depth", "production-db-replica-disk-queue-depth"} <= set(alarms)
    # ReplicationLag exists only on the node that is a replica now: the primary's silence is fine.
    for node in ("cache-001", "cache-002"):
        lag = alarms[f"production-{node}-replication-lag"]
        assert _evaluate(lag["name"], {"ReplicationLag": [None] * 3}) == "OK"
        assert _evaluate(lag["name"], {"ReplicationLag": [30.0] * 3}) == "ALARM"
    assert "production-api-integration-latency-p99" in alarms


def test_asynchronous_groups_alarm_on_lost_events():
    alarms = _alarms()
    for fn in ("send-sms", "send-email", "daily-digest"):
        for key in ("async-events-dropped", "dead-letter-errors"):
            name = f"production-notifications-{fn}-{key}"
            assert _evaluate(name, {alarms[name]["metricName"]: [1.0]}) == "ALARM"
    assert "production-payments-verify-async-events-dropped" not in alarms


def test_a_proxy_api_alarms_on_the_resource_path_api_gateway_reports():
    inventory = copy.deepcopy(inventory_section())
    inventory["api"]["criticalEndpoints"] = [{"path": "/{proxy+}", "method": "ANY", "latencyP99Ms": 2000}]
    alarms = _alarms(run(set_={"inventory": inventory}))
    alarm = alarms["production-api-proxy-latency-p99"]
    assert {ref[2]["Resource"] for ref in _metric_refs(alarm)} == {"/{proxy+}"}


# ---- business outcomes: cancellations, engagement, user satisfaction ----------------------

def _band_states(name: str, values: dict[str, list[Optional[float]]], start: datetime,
                 band: tuple[float, float]) -> tuple[list[Optional[float]], str]:
    """(the series an anomaly alarm compares with its band, its state), with the band fixed at `band`."""
    from preflight.cloudwatch.evaluation import breaches, evaluate_breaches

    alarm = _alarms()[name]
    definition = MetricAlarmDefinition(name, alarm, [], [])
    metrics = _feed(alarm, values)
    count = len(next(iter(metrics.values())))
    end_minute = int(start.timestamp()) // 60 + count * definition.period // 60
    series, bands = math_series(definition, {k: list(v) for k, v in metrics.items()}, end_minute, count,
                                lambda source, deviations, end: band)
    flags = [None if v is None else breaches(alarm, v, b) for v, b in zip(series, bands, strict=True)]
    return series, evaluate_breaches(alarm, flags)


LUNCH_BAND = (-1.2, 3.2)  # the drill model's band of the cancelled share at lunch (2 std devs around 1 %)


@pytest.mark.parametrize("completed, cancelled, expected", [
    ([800.0] * 2, [8.0] * 2, "OK"),  # the usual 1 %
    ([800.0] * 2, [40.0] * 2, "ALARM"),  # 5 %: meals refused at the counter
    ([800.0, 800.0], [40.0, 8.0], "OK"),  # one window: 2 of 2 are needed
    ([150.0] * 2, [30.0] * 2, "OK"),  # 17 %, but a breakfast's handful of pickups is not judged
    ([None] * 2, [None] * 2, "OK"),  # no pickups (night, holiday)
])
def test_cancellations_are_judged_against_their_usual_share_at_volume(completed, cancelled, expected):
    series, state = _band_states("production-orders-cancellation-rate",
                                 {"OrdersCompleted": completed, "OrdersCancelled": cancelled},
                                 MONDAY + timedelta(hours=12, minutes=30), LUNCH_BAND)
    assert state == expected
    if completed[0] is None or completed[0] < 200:
        assert series == [None, None]


@pytest.mark.parametrize("start, users, expected", [
    (MONDAY + timedelta(hours=10), [110.0] * 3, "OK"),
    (MONDAY + timedelta(hours=10), [20.0] * 3, "ALARM"),
    (MONDAY + timedelta(hours=10), [None] * 3, "ALARM"),  # no sessions published is 0 users
    (MONDAY + timedelta(hours=20), [0.0] * 3, "OK"),  # after school hours: not judged
    (SUNDAY + timedelta(hours=10), [0.0] * 3, "OK"),  # not a school day
])
def test_engagement_drops_are_judged_in_school_hours_only(start, users, expected):
    assert _band_states("production-users-engagement-drop", {"ActiveUsers": users}, start, (67.0, 153.0))[1] \
        == expected


def test_the_engagement_alarm_pages_through_the_pager_the_school_calendar_mutes():
    rules = {c["alarmName"]: c["alarmRule"] for c in _composites()}
    school_day = rules["production-business-platform-school-day-pager"]
    assert '"production-users-engagement-drop"' in school_day
    assert '"production-users-satisfaction"' not in school_day
    assert '"production-orders-cancellation-rate"' not in school_day
    assert '"production-users-satisfaction"' in rules["production-business-platform-pager"]
    assert '"production-orders-cancellation-rate"' in rules["production-business-platform-pager"]


def test_user_satisfaction_is_apdex_of_the_api_latency():
    """Apdex = (satisfied + tolerating / 2) / total, satisfied at most T, tolerating over T up to 4T
    (Apdex Alliance, "Apdex Technical Specification"), from CloudWatch's percentile rank of the stage's
    Latency ("PR(:300) returns the percentage of data points that have a value of 300 or less", exclusive
    on the lower bound and inclusive on the upper: user guide, "CloudWatch statistics definitions"). Each
    minute 60 requests satisfied, 30 tolerating, 10 frustrated: (60 + 30 / 2) / 100 = 75 %."""
    alarm = _alarms()["production-users-satisfaction"]
    stats = {q["metric"]["stat"] for q in alarm["metricQueries"] if q.get("metric", {}).get("metricName") == "Latency"}
    assert stats == {"PR(:1500)", "PR(1500:6000)"}
    definition = MetricAlarmDefinition(alarm["name"], alarm, ["business"], [])
    dims = next(q["metric"]["dimensions"] for q in alarm["metricQueries"] if q.get("metric"))
    start = int((MONDAY + timedelta(hours=19)).timestamp()) // 60

    def state(samples: list[tuple[float, float]]) -> str:
        store = MetricStore()
        for minute in range(start, start + 15):
            store.put_samples(metric_key("AWS/ApiGateway", "Latency", dims), minute, samples)
            store.put(metric_key("AWS/ApiGateway", "Count", dims), minute, 1, sum(c for _, c in samples))
        model = CloudWatchModel(store, [definition], [])
        for minute in range(start + 1, start + 16):
            model.tick(minute, minute - start)
        values, _ = model.series(definition, start + 15)
        return model.states[alarm["name"]], values[-1]

    assert state([(1500.0, 60), (6000.0, 30), (6001.0, 10)]) == ("ALARM", pytest.approx(75.0))
    assert state([(200.0, 97), (1600.0, 2), (9000.0, 1)]) == ("OK", pytest.approx(98.0))
    # A handful of requests (under 100 in 5 minutes), all slow, is not judged.
    assert state([(9000.0, 5)]) == ("OK", 100.0)


def test_a_large_floor_of_errors_is_written_as_metric_math_reads_it():
    """`:g` would write a million as `1e+06`, which no metric-math expression reads as a number."""
    result = run(set_={"thresholds": {"business": {"paymentOutageMinErrors": 1_000_000,
                                                   "orderCancellationMinOrders": 2_000_000}}})
    alarms = _alarms(result)
    for name, written in (("production-payments-outage", ">= 1000000,"),
                          ("production-orders-cancellation-rate", ">= 2000000,")):
        expressions = " ".join(q["expression"] for q in alarms[name]["metricQueries"] if "expression" in q)
        assert written in expressions and "e+" not in expressions, name


# ---- payment outage and burn-rate windows at low traffic ----------------------------

def test_a_payment_outage_stands_down_in_an_hour_razorpay_failed_its_health_checks():
    """More than half of the hour's attempts ending in an error pages as an outage of the payment code (a
    release), unless the health monitor saw Razorpay fail two checks in that hour: its connectivity alarm
    has that page, and after Razorpay recovers the share sits at the line for the rest of the hour."""
    broken = {"PaymentErrors": [20.0], "PaymentAttempts": [30.0]}
    assert _evaluate("production-payments-outage", {**broken, "DependencyHealthy": [1.0]}) == "ALARM"
    assert _evaluate("production-payments-outage", {**broken, "DependencyHealthy": [59 / 60]}) == "ALARM"
    assert _evaluate("production-payments-outage", {**broken, "DependencyHealthy": [58 / 60]}) == "OK"
    # A silent health monitor is its own alarm's page; the outage is still judged.
    assert _evaluate("production-payments-outage", {**broken, "DependencyHealthy": [None]}) == "ALARM"


def test_a_burn_rate_window_is_judged_from_ten_bad_requests():
    """At dawn a 4x burn of payment-success (0.8 %) puts 3 bad among 60 attempts (5 %) over the 14.4x line
    (2.88 %) by chance; ten bad requests over the line are a burn."""
    window = "production-slo-payment-success-burn-1h-14.4x"
    assert _evaluate(window, {"PaymentErrors": [3.0], "PaymentAttempts": [60.0]}) == "OK"
    assert _evaluate(window, {"PaymentErrors": [9.0], "PaymentAttempts": [300.0]}) == "OK"
    assert _evaluate(window, {"PaymentErrors": [10.0], "PaymentAttempts": [300.0]}) == "ALARM"
    # Latency: PR(:3000) is the good share; 20 % slow of 40 requests is 8 slow, of 100 it is 20.
    latency = "production-slo-api-latency-burn-1h-14.4x"
    assert _evaluate(latency, {"Latency": [80.0], "Count": [40.0]}) == "OK"
    assert _evaluate(latency, {"Latency": [80.0], "Count": [100.0]}) == "ALARM"
    # Card verification: the good count against the attempts.
    cards = "production-slo-rfid-verification-burn-1h-14.4x"
    assert _evaluate(cards, {"RFIDVerificationSuccess": [21.0], "RFIDVerificationAttempts": [30.0]}) == "OK"
    assert _evaluate(cards, {"RFIDVerificationSuccess": [50.0], "RFIDVerificationAttempts": [60.0]}) == "ALARM"


def test_a_quiet_short_window_of_a_page_pair_keeps_its_state():
    """The 5-minute window is the page pair's sign that the burn goes on. Four failed payments among 20 at
    night (under the 35 attempts that judge the 2.88 % line) neither start nor end a page; 20 without a
    failure, or none at all, are good, as are 40 attempts with 9 failed (under the 10 bad that judge); 40
    with 10 failed are a burn."""
    window = "production-slo-payment-success-burn-5m-14.4x"
    for previous in ("OK", "ALARM"):
        assert _evaluate(window, {"PaymentErrors": [4.0], "PaymentAttempts": [20.0]}, previous=previous) == previous
        assert _evaluate(window, {"PaymentErrors": [None], "PaymentAttempts": [20.0]}, previous=previous) == "OK"
        assert _evaluate(window, {"PaymentErrors": [None], "PaymentAttempts": [None]}, previous=previous) == "OK"
        assert _evaluate(window, {"PaymentErrors": [9.0], "PaymentAttempts": [40.0]}, previous=previous) == "OK"
        assert _evaluate(window, {"PaymentErrors": [10.0], "PaymentAttempts": [40.0]}, previous=previous) == "ALARM"
    # The latency and card-verification windows alike.
    latency = "production-slo-api-latency-burn-5m-14.4x"
    assert _evaluate(latency, {"Latency": [80.0], "Count": [40.0]}, previous="ALARM") == "ALARM"
    assert _evaluate(latency, {"Latency": [80.0], "Count": [100.0]}, previous="OK") == "ALARM"
    cards = "production-slo-rfid-verification-burn-5m-14.4x"
    assert _evaluate(cards, {"RFIDVerificationSuccess": [21.0], "RFIDVerificationAttempts": [30.0]},
                     previous="OK") == "OK"
