"""`history --aws`: the production stack's history fetched from a moto account that holds one-minute data
for every metric the stack reads, with two real incidents and one noisy alarm (tests/support/history_scenario.py).

moto's GetMetricData scans every stored datapoint of the range for every period of every query
(moto/cloudwatch/models.py `get_metric_data`), so its cost grows with (minutes x metrics)^2: 20 metrics x
6 hours already take 3.5 s on this machine, and two weeks of every metric (3.4 million datapoints, about
6 minutes of PutMetricData alone at 10,000 a second) would take days. So the account holds SCENARIO_MINUTES,
not two weeks, and the stack keeps only the function groups the incidents reach (payments and auth: with
the other five groups' Lambda metrics the account's setup took four times as long, 160 s). Two
weeks of the whole stack are replayed offline from the same scenario in
tests/preflight/history/test_history_fortnight.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from preflight.account.policy import HISTORY_ACTIONS, NEEDS_NO_PERMISSION, iam_action, policy_document
from preflight.account.session import connect
from preflight.cloudwatch.insights import statistics_needed
from preflight.cloudwatch.store import metric_key
from preflight.drill.cli import drill_platform
from preflight.drill.drill_file import load_drill
from preflight.emulator.platform import platform_from_model
from preflight.history.account_fetch import MAX_DATAPOINTS, MAX_QUERIES, fetch_history
from preflight.history.cli import history_report
from preflight.history.report import document
from preflight.model.stack import build_model
from preflight.program.engine import run_program
from preflight.program.stack_files import load_stack_files
from tests.support import history_scenario, moto_account
from tests.support.history_scenario import CPU, DATABASE, PAYMENT_ERRORS, Answers, Scenario, m_of_n_changes, state_item
from tests.support.stack import REPO, inventory_section, stack_files

# 00:00 IST on a Wednesday: the window is at night, the warning pages are night pages.
START = int(dt.datetime(2026, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))).timestamp()) // 60
SCENARIO_MINUTES = 170
LEAD = 35  # the longest evaluation range of the one- and five-minute alarms: (5 + 2) x 5 minutes
NOISE = [START + 5, START + 120]
DATABASE_DOWN = [START + 45]
# After the database's aftermath (its down-recently hold, 35 minutes), so that it is an incident of its own.
PAYMENTS = [START + 100]
# CloudWatch's evaluation comes a little after the period closes; one recorded transition comes too late.
LATE_BY = dt.timedelta(minutes=6)


def _at(minute: int, seconds: int = 0) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60 + seconds, dt.UTC)


def _inventory() -> dict:
    """The production inventory with the function groups the scenario's incidents reach: the critical
    ones (payments, auth)."""
    inventory = inventory_section("production")
    inventory["lambdaGroups"] = {name: group for name, group in inventory["lambdaGroups"].items()
                                 if name in ("payments", "auth")}
    return inventory


@pytest.fixture(scope="module")
def world(moto_endpoint):
    # Without the SLOs' burn-rate alarms (history_scenario.SCENARIO_SETTINGS); moto would also scan their
    # three-day windows of one-minute series period by period.
    files = stack_files("production", set_={**history_scenario.SCENARIO_SETTINGS, "inventory": _inventory()})
    model = build_model(run_program(files, preview=True))
    platform = platform_from_model(model)
    s = history_scenario.scenario(platform, START, SCENARIO_MINUTES, DATABASE_DOWN, PAYMENTS, NOISE, lead=LEAD)
    # What CloudWatch did, by the user guide's rules on the same data (each alarm's own M of N).
    database = m_of_n_changes(s, DATABASE, "Minimum", 1, lambda v: v < 1, 2, 3)
    payments = m_of_n_changes(s, PAYMENT_ERRORS, "Sum", 5, lambda v: v > 10, 1, 1)
    cpu = m_of_n_changes(s, CPU, "Average", 1, lambda v: v > 80, 8, 10)
    return {"files": files, "model": model, "platform": platform, "scenario": s,
            "changes": {"production-database-connectivity": database, "production-payments-payment-errors": payments,
                        "production-db-cpu": cpu}}


def _recorded(changes: dict[str, list[tuple[int, str]]]) -> dict[str, list[dict]]:
    """DescribeAlarmHistory items: CloudWatch evaluates 40 s after the period closes, and the db-cpu
    alarm's second ALARM came LATE_BY late (more than one period: a disagreement)."""
    items = {}
    for alarm, found in changes.items():
        previous, listed = "OK", []
        for i, (minute, state) in enumerate(found):
            when = _at(minute, 40)
            if alarm == "production-db-cpu" and i == 2:
                when = _at(minute) + LATE_BY
            listed.append(state_item(alarm, when, previous, state))
            previous = state
        items[alarm] = listed
    return items


@pytest.fixture(scope="module", autouse=True)
def endpoint(moto_endpoint):
    """Clients made without an endpoint (the account connection's) talk to moto too."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", moto_endpoint)
        yield moto_endpoint


@pytest.fixture(scope="module")
def fetched(world, moto_endpoint):
    """The account: the metrics, six of the stack's alarms deployed (one with another threshold), the
    recorded history; then the fetch as `history --aws` makes it, with every call recorded."""
    session = moto_account.fresh_account(moto_endpoint)
    s, model = world["scenario"], world["model"]
    cloudwatch = session.client("cloudwatch", endpoint_url=moto_endpoint)
    history_scenario.put_metrics(s, cloudwatch)
    props = {a.name: a.props for a in model.alarms}
    for name in ("production-db-cpu", "production-database-connectivity", "production-payments-payment-errors",
                 "production-payments-failure-rate", "production-orders-volume-anomaly"):
        history_scenario.put_alarm(cloudwatch, name, props[name])
    history_scenario.put_alarm(cloudwatch, "production-api-5xx-rate", props["production-api-5xx-rate"], Threshold=10)
    answers = Answers(session, moto_endpoint, s, _recorded(world["changes"]))
    calls = moto_account.record_operations(session)
    requests: list[dict] = []
    session.events.register("before-parameter-build.cloudwatch.GetMetricData",
                            lambda params, **_: requests.append(dict(params)))
    account = connect(world["files"], session)
    result = fetch_history(account, model, dt.timedelta(minutes=SCENARIO_MINUTES),
                           now=_at(s.end) + dt.timedelta(minutes=10))
    report = history_report(world["files"], model, result.history, None, 6, result.summary())
    return {"fetched": result, "doc": document(report), "calls": calls, "requests": requests, "answers": answers,
            "session": session}


def test_the_report_finds_both_incidents(world, fetched):
    windows = fetched["doc"]["incidents"]["windows"]
    assert len(windows) == 2
    database, payments = (dt.datetime.fromisoformat(w["start"]) for w in windows)
    assert database == _at(world["changes"]["production-database-connectivity"][0][0])
    assert payments == _at(world["changes"]["production-payments-payment-errors"][0][0])
    assert "production-database-connectivity" in windows[0]["what"]
    assert "production-payments-payment-errors" in windows[1]["what"]
    # The database's stretch is read from the account's alarm history, the payments' too.
    assert fetched["doc"]["incidents"]["from"] == ("when an alarm paging the critical tier was in ALARM, by the "
                                                   "account's alarm history and the replay")


def test_the_report_names_the_noisy_alarm_with_a_threshold_that_keeps_it_quiet(world, fetched):
    suggested = {a["name"]: a["suggestion"] for a in fetched["doc"]["alarms"] if "suggestion" in a}
    assert set(suggested) == {"production-db-cpu"}
    suggestion = suggested["production-db-cpu"]
    assert suggestion["key"] == "thresholds.rds.cpuPercent"
    assert "cpuPercent: " in suggestion["yaml"]
    # With it, the CPU alarm never goes to ALARM in the scenario's data (8 of 10 minutes above it).
    threshold = suggestion["threshold"]
    assert history_scenario.NOISY_CPU <= threshold
    assert m_of_n_changes(world["scenario"], CPU, "Average", 1, lambda v: v > threshold, 8, 10) == []


def test_per_tier_pages_match_a_direct_count_of_the_data(world, fetched):
    changes = world["changes"]
    # Critical: the pager pages when either incident's alarm enters ALARM. Warning: the pager waits
    # five minutes (its suppressor's WaitPeriod) and pages if the CPU alarm is still in ALARM.
    incidents = changes["production-database-connectivity"] + changes["production-payments-payment-errors"]
    critical = [m for m, state in incidents if state == "ALARM"]
    cpu = changes["production-db-cpu"]
    warning = [m + 5 for (m, state), (left, _) in zip(cpu[::2], cpu[1::2], strict=True)
               if state == "ALARM" and left - m > 5]
    tiers = fetched["doc"]["tiers"]
    assert (tiers["critical"]["pages"], tiers["warning"]["pages"], tiers["business"]["pages"]) == (
        len(critical), len(warning), 0) == (2, 2, 0)
    for tier, minutes in (("critical", critical), ("warning", warning)):
        hours = [0] * 24
        for m in minutes:
            hours[(m + 330) // 60 % 24] += 1
        assert tiers[tier]["byHourIst"] == hours
        night = sum(1 for m in minutes if (m + 330) // 60 % 24 >= 22 or (m + 330) // 60 % 24 < 6)
        assert tiers[tier]["nightPages"] == night


def test_fidelity_scores_the_model_against_the_recorded_history(world, fetched):
    fidelity = fetched["doc"]["fidelity"]
    recorded = sum(len(c) for c in world["changes"].values())
    # Every recorded transition has its model twin within one period but the late one (and its twin).
    assert (fidelity["byKind"]["static"]["matched"], fidelity["byKind"]["static"]["total"]) == (
        recorded - 1, recorded + 1)
    assert fidelity["byKind"]["metric-math"]["total"] == 0 and fidelity["byKind"]["anomaly"]["total"] == 0
    assert set(fidelity["compared"]) == {"production-db-cpu", "production-database-connectivity",
                                         "production-payments-payment-errors", "production-payments-failure-rate",
                                         "production-orders-volume-anomaly"}
    [differs] = [s for s in fidelity["skipped"] if s["alarm"] == "production-api-5xx-rate"]
    assert "threshold 10.0 deployed, 5.0 in the working tree" in differs["why"]
    [disagreement] = fidelity["disagreements"]
    assert disagreement["alarm"] == "production-db-cpu" and len(disagreement["model"]) == 4
    assert len(disagreement["cloudwatch"]) == 4


def test_each_series_is_fetched_at_its_alarms_period_and_statistic_in_calls_within_the_limits(world, fetched):
    queries = [q for r in fetched["requests"] for q in r["MetricDataQueries"]]
    assert all(len(r["MetricDataQueries"]) <= MAX_QUERIES for r in fetched["requests"])
    for request in fetched["requests"]:
        minutes = (request["EndTime"] - request["StartTime"]).total_seconds() / 60
        points = sum(minutes * 60 // q["MetricStat"]["Period"] for q in request["MetricDataQueries"]
                     if "MetricStat" in q)
        assert points <= MAX_DATAPOINTS
    database = [{"Name": "DBInstanceIdentifier", "Value": "hasivu-production-db"}]
    cpu = [q["MetricStat"] for q in queries if "MetricStat" in q
           and q["MetricStat"]["Metric"]["MetricName"] == "CPUUtilization"
           and q["MetricStat"]["Metric"]["Dimensions"] == database]
    assert [(c["Period"], c["Stat"]) for c in cpu] == [(60, "Average")]
    history = fetched["fetched"].history
    assert {s.source for s in history.metrics} == set(world["scenario"].sources)  # every series the alarms read
    assert all(s.datapoints for s in history.metrics)
    assert fetched["answers"].percentile_queries > 0  # the p99 alarms' series, answered from the recording
    # One band per metric the anomaly alarms are drawn around; the cancelled share's band is on an
    # expression of two metrics, which a history file cannot carry.
    assert [b.key[1] for b in history.bands] == ["OrdersCreated", "ActiveUsers"]


def test_the_cost_is_the_metrics_requested_at_the_get_metric_data_price(fetched):
    fetch = fetched["doc"]["fetch"]
    requested = sum(1 for r in fetched["requests"] for q in r["MetricDataQueries"] if "MetricStat" in q)
    assert fetch["metricsRequested"] == requested
    assert fetch["costUsd"] == pytest.approx(requested * 0.01 / 1000)
    assert "AWS price pages" in fetch["priceSource"]


def test_the_history_calls_are_exactly_the_policys_history_actions(fetched):
    used = {iam_action(service, operation, method) for service, operation, method in fetched["calls"]}
    # ListMetrics is the Metrics Insights alarms' (production has none): the metrics their query selects.
    assert used - NEEDS_NO_PERMISSION == set(HISTORY_ACTIONS) - {"cloudwatch:ListMetrics"}
    allowed = {a for statement in policy_document()["Statement"] for a in statement["Action"]}
    assert set(HISTORY_ACTIONS) <= allowed


def test_an_answer_in_pages_gives_the_same_history(world, moto_endpoint):
    """AWS cuts an answer at 100,800 datapoints and hands a NextToken; here every 100 (an account with no
    metrics of its own: the percentile series, answered from the recording, fill the pages)."""
    histories, counted = [], []
    for page in (100_800, 100):
        session = moto_account.fresh_account(moto_endpoint)
        answers = Answers(session, moto_endpoint, world["scenario"], {}, page_datapoints=page)
        calls = moto_account.record_operations(session)
        found = fetch_history(connect(world["files"], session), world["model"], dt.timedelta(minutes=60),
                              now=_at(START + 60) + dt.timedelta(minutes=10))
        assert answers.pages == {}  # every NextToken was followed
        assert sum(1 for _, op, _ in calls if op == "GetMetricData") == found.calls
        histories.append({x.source: x.datapoints for x in found.history.metrics})
        counted.append(found.calls)
    assert counted[1] > counted[0]
    assert histories[0] == histories[1] and any(histories[0].values())


def test_retention_limits_what_is_fetched_and_the_report_says_so(world, moto_endpoint):
    session = moto_account.fresh_account(moto_endpoint)
    now = _at(START) + dt.timedelta(days=20)
    requests: list[dict] = []
    session.events.register("before-parameter-build.cloudwatch.GetMetricData",
                            lambda params, **_: requests.append(dict(params)))
    Answers(session, moto_endpoint, world["scenario"], {})
    result = fetch_history(connect(world["files"], session), world["model"], dt.timedelta(days=16), now=now)
    def periods(request: dict) -> set[int]:
        return {q["MetricStat"]["Period"] for q in request["MetricDataQueries"] if "MetricStat" in q}

    one_minute = [r for r in requests if periods(r) == {60}]
    assert one_minute and all(now - r["StartTime"] <= dt.timedelta(days=15) for r in one_minute)
    five_minute = [r for r in requests if periods(r) == {300}]
    assert five_minute and all(now - r["StartTime"] > dt.timedelta(days=16) for r in five_minute)
    notes = result.summary()["retention"]
    one_minute_series = sum(1 for _, _, period in world["scenario"].sources if period == 60)
    assert len(notes) == 1 and notes[0].startswith(
        f"{one_minute_series} series at 60 s periods: CloudWatch keeps them 15 days")


def test_a_metrics_insights_alarm_fetches_the_metrics_its_query_selects(moto_endpoint):
    """The fleet drill's stack: one Metrics Insights alarm per metric over 300 functions. The account holds
    Errors of three of them; ListMetrics finds them, and each is fetched at what the query reads."""
    drill = load_drill(REPO / "drills" / "fleet" / "one-failing-function-among-300.yaml")
    model, platform = drill_platform(drill, "production", REPO)
    [errors] = [a for a in platform.alarms if a.name == "fleet-drill-fleet-fleet-errors"]
    session = moto_account.fresh_account(moto_endpoint)
    now = _at(START + 30) + dt.timedelta(minutes=10)
    functions = [f"hasivu-fleet-menu-list-{i:03d}" for i in (7, 42, 137)]
    session.client("cloudwatch", endpoint_url=moto_endpoint).put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": name}],
         "Timestamp": _at(START + minute), "Value": 9.0 if name.endswith("137") else 0.0}
        for name in functions for minute in range(-10, 30)])
    quiet = Scenario(START, 30, 10, [], [], [], {}, 0, [])  # the p99 series of the other alarms: zeros
    Answers(session, moto_endpoint, quiet, {})
    calls = moto_account.record_operations(session)
    files = load_stack_files(REPO, "fleet-drill", stack_file=drill.stack_file)
    found = fetch_history(connect(files, session), model, dt.timedelta(minutes=30), now=now)
    assert ("cloudwatch", "ListMetrics", "POST") in calls
    query = errors.insights
    fetched = {s.source for s in found.history.metrics
               if s.key[:2] == ("AWS/Lambda", "Errors") and dict(s.key[2]).get("FunctionName") in functions}
    assert fetched == {(metric_key("AWS/Lambda", "Errors", {"FunctionName": name}), stat, errors.period)
                       for name in functions for stat in statistics_needed(query)}
    history = {s.source: s.datapoints for s in found.history.metrics}
    failing = (metric_key("AWS/Lambda", "Errors", {"FunctionName": functions[2]}), "Sum", errors.period)
    assert history[failing] and all(v == 9.0 * errors.period // 60 for _, v in history[failing][1:])
    used = {iam_action(service, operation, method) for service, operation, method in calls}
    assert used - NEEDS_NO_PERMISSION == set(HISTORY_ACTIONS) - {"cloudwatch:DescribeAlarmHistory"}  # none deployed
