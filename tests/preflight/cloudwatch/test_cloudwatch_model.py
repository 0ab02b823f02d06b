"""The CloudWatch model behind the drills, checked against the AWS documentation it follows.

Sources: "Specification: Embedded metric format" (CloudWatch_Embedded_Metric_Format_Specification),
"Using metric math" (using-metric-math), "Percentile-based alarms and low data samples" and
"Create a composite alarm" -> "WaitPeriod and ExtensionPeriod" (examples 1 and 2) in the CloudWatch
user guide (AlarmThatSendsEmail, Create_Composite_Alarm); docs.aws.amazon.com/AmazonCloudWatch/latest/
monitoring/, also awsdocs/amazon-cloudwatch-user-guide doc_source/ at fbd27d47.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from cloudwatch_rules.composite import RuleError, composite_state, parse_rule
from preflight.cloudwatch.cloudwatch import CloudWatchModel, CompositeDefinition, MetricAlarmDefinition
from preflight.cloudwatch.emf import InvalidEmf, ingest_log_lines, metrics_in
from preflight.cloudwatch.evaluation import evaluate_alarm
from preflight.cloudwatch.metric_math import Evaluator
from preflight.cloudwatch.store import MetricStore, metric_key, statistic


def emitted(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, call) -> str:
    """What the real runtime library prints under `env`."""
    from observability.metrics import BusinessMetrics

    for k in ("POWERTOOLS_SERVICE_NAME", "HASIVU_ENVIRONMENT"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        call(BusinessMetrics())
    return out.getvalue()


def test_each_emf_dimension_set_is_its_own_metric_and_arrays_are_samples():
    # The specification's own shape: two dimension sets, a value array.
    document = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{
        "Namespace": "Demo", "Dimensions": [["Environment"], ["Environment", "Route"]],
        "Metrics": [{"Name": "Time", "Unit": "Milliseconds"}]}]},
        "Environment": "prod", "Route": "/orders", "Time": [10, 20, 30]}
    store = MetricStore()
    assert ingest_log_lines(store, json.dumps(document), minute=5) == 2
    env_only = store.samples(metric_key("Demo", "Time", {"Environment": "prod"}), 5, 1)
    both = store.samples(metric_key("Demo", "Time", {"Environment": "prod", "Route": "/orders"}), 5, 1)
    assert statistic(env_only, "SampleCount") == 3 and statistic(both, "Sum") == 60
    # No metric exists for a dimension set nobody listed (here: none, or Route alone).
    assert store.samples(metric_key("Demo", "Time", {}), 5, 1) == []
    assert store.samples(metric_key("Demo", "Time", {"Route": "/orders"}), 5, 1) == []


def test_a_dimension_that_is_not_a_string_member_creates_no_metric():
    document = {"_aws": {"CloudWatchMetrics": [{"Namespace": "Demo", "Dimensions": [["Missing"]],
                                                 "Metrics": [{"Name": "Count"}]}]}, "Count": 1}
    store = MetricStore()
    assert ingest_log_lines(store, json.dumps(document), minute=0) == 0


@pytest.mark.parametrize(("line", "why"), [
    ('{"_aws": {"CloudWatchMetrics": []}, "Revenue": NaN}', "NaN is not JSON"),
    ('{"_aws": {"CloudWatchMetrics": [{"Namespace": "Demo", "Dimensions": [["Env"]], "Metrics": [{"Name": "Count"}]}]}'
     ', "Env": "prod", "Count": "1"}', "metric Count is not a number"),
    ('{"_aws": {"CloudWatchMetrics": [{"Namespace": "Demo", "Dimensions": [["Env"]], "Metrics": [{"Name": "Count"}]}]}'
     ', "Env": 7, "Count": 1}', "dimension Env is not a string"),
    (json.dumps({"_aws": {"CloudWatchMetrics": [{"Namespace": "Demo", "Dimensions": [[f"d{i}" for i in range(31)]],
                                                 "Metrics": [{"Name": "Count"}]}]},
                 "Count": 1, **{f"d{i}": "x" for i in range(31)}}), "at most 30 keys"),
    ('{"_aws": {"Timestamp": 1}, "Count": 1}', "CloudWatchMetrics is not an array"),
])
def test_a_document_breaking_a_must_creates_no_metric_at_all(line: str, why: str):
    """The specification's MUSTs; a valid directive beside the broken one is lost with it."""
    valid = {"Namespace": "Demo", "Dimensions": [[]], "Metrics": [{"Name": "Other"}]}
    document = json.loads(line, parse_constant=lambda token: float(token))
    if "_aws" in document and "CloudWatchMetrics" in document["_aws"]:
        document["_aws"]["CloudWatchMetrics"].append(valid)
        document["Other"] = 1
        line = json.dumps(document)
    assert ingest_log_lines(MetricStore(), line, minute=0) == 0
    with pytest.raises(InvalidEmf, match=why):
        metrics_in(line, strict=True)


def test_powertools_service_name_lands_on_another_metric_than_environment_alone(monkeypatch):
    """What CloudWatch sees from the runtime library, with and without POWERTOOLS_SERVICE_NAME."""
    store = MetricStore()
    text = emitted({"HASIVU_ENVIRONMENT": "production", "POWERTOOLS_SERVICE_NAME": "orders"}, monkeypatch,
                   lambda m: m.track_order_metrics("o-1", "created"))
    ingest_log_lines(store, text, minute=0, repeat=7)
    published = {(k[1], tuple(sorted(d for d, _ in k[2]))) for k in store.keys()}
    env_only = store.samples(metric_key("HASIVU/Business", "OrdersCreated", {"Environment": "production"}), 0, 1)
    document = json.loads(text)
    dimension_sets = document["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    # Whatever sets the library lists, the store holds exactly those metrics, each with 7 samples.
    assert published == {("OrdersCreated", tuple(sorted(s))) for s in dimension_sets}
    assert (statistic(env_only, "Sum") == 7) == (["Environment"] in dimension_sets)


def test_statistics_and_percentiles_over_weighted_samples():
    samples = [(100.0, 989), (1000.0, 11)]  # 1.1% slow
    assert statistic(samples, "p99") == 1000.0
    assert statistic(samples, "p98") == 100.0
    assert statistic(samples, "SampleCount") == 1000
    assert statistic(samples, "Average") == pytest.approx(109.9)
    assert statistic([], "Sum") is None


def test_metric_math_missing_values_follow_the_metric_math_page():
    """"Missing values in a time series are treated as 0. If the value of a data point causes a function
    to attempt to divide by zero, the data point is dropped"; IF(metric1, metric2, metric3): 0 where
    metric1 is TRUE and metric2 has no datapoint, dropped where it is FALSE and metric3 has none."""
    series = {"m1": [None, 3.0, 0.0, None], "m2": [10.0, 10.0, None, None]}
    math = Evaluator(series, 4)
    assert math.evaluate("100 * m1 / m2") == [0.0, 30.0, None, None]
    assert math.evaluate("m1 + m2") == [10.0, 13.0, 0.0, None]
    # A series compared with a scalar keeps its gaps: no condition, no datapoint.
    assert math.evaluate("IF(m2 > 0, 100 * m1 / m2, 100)") == [0.0, 30.0, None, None]
    assert math.evaluate("IF(FILL(m2, 0) > 0, 100 * FILL(m1, 0) / FILL(m2, 0), 100)") == [0.0, 30.0, 100.0, 100.0]
    assert math.evaluate("IF(m2, m1, m2)") == [0.0, 3.0, None, None]
    assert math.evaluate("FILL(m2, REPEAT)") == [10.0, 10.0, 10.0, 10.0]
    assert math.evaluate("m1 >= 3 OR m2 == 10") == [1.0, 1.0, 0.0, None]


def test_metric_math_tables_of_the_metric_math_page():
    """The page's own tables: comparisons with "metric1 has values of [30, 20, 0, 0] and metric2 has
    values of [20, -, 20, -]", and IF(metric1, metric2, metric3) with its scalar variants."""
    tables = Evaluator({"metric1": [30.0, 20.0, 0.0, 0.0], "metric2": [20.0, None, 20.0, None]}, 4)
    assert tables.evaluate("(metric1 < metric2)") == [0.0, 0.0, 1.0, 0.0]
    assert tables.evaluate("(metric1 >= 30)") == [1.0, 0.0, 0.0, 0.0]
    assert tables.evaluate("(metric1 > 15 AND metric2 > 15)") == [1.0, 0.0, 0.0, 0.0]
    conditions = Evaluator({"metric1": [1.0, 1.0, 0.0, 0.0, None], "metric2": [30.0, None, 0.0, 0.0, 30.0],
                            "metric3": [0.0, 0.0, 20.0, None, 20.0]}, 5)
    assert conditions.evaluate("IF(metric1, metric2, metric3)") == [30.0, 0.0, 20.0, None, None]
    assert conditions.evaluate("IF(metric1, 5, metric3)") == [5.0, 5.0, 20.0, None, None]
    assert conditions.evaluate("IF(metric1, metric2, 5)") == [30.0, 0.0, 5.0, 5.0, None]


def test_strict_arithmetic_drops_what_the_page_counts_as_zero():
    """The less kind reading the catalogue's ratio alarms are also held to
    (tests/components/alarms/test_alarm_behaviour.py): arithmetic between two series drops a timestamp one
    lacks; comparisons and scalars are unchanged."""
    series = {"m1": [None, 2.0, None], "m2": [3.0, 2.0, None]}
    assert Evaluator(series, 3).evaluate("m1 + m2") == [3.0, 4.0, None]
    strict = Evaluator(series, 3, strict_arithmetic=True)
    assert strict.evaluate("m1 + m2") == [None, 4.0, None]
    assert strict.evaluate("100 * FILL(m1, 0) / m2") == [0.0, 100.0, None]
    assert strict.evaluate("m1 < m2") == [1.0, 0.0, None]


def alarm(name: str, **props) -> MetricAlarmDefinition:
    base = {"name": name, "namespace": "Demo", "metricName": "Errors", "statistic": "Sum", "period": 60,
            "comparisonOperator": "GreaterThanThreshold", "threshold": 0, "evaluationPeriods": 1,
            "treatMissingData": "notBreaching"}
    return MetricAlarmDefinition(name, {**base, **props}, ["critical"], ["critical"])


def test_low_sample_percentile_alarm_keeps_its_state_when_told_to_ignore():
    store = MetricStore()
    key = metric_key("Demo", "Latency", {})
    props = {"metricName": "Latency", "extendedStatistic": "p99", "statistic": None, "threshold": 500,
             "evaluateLowSampleCountPercentile": "ignore"}
    ignoring = alarm("ignore", **props)
    evaluating = alarm("evaluate", **{**props, "evaluateLowSampleCountPercentile": "evaluate"})
    model = CloudWatchModel(store, [ignoring, evaluating], [])
    store.put(key, 0, 2000, 5)  # 5 slow samples: far fewer than 10 / (1 - 0.99) = 1000
    model.tick(1, 1)
    assert model.states == {"ignore": "INSUFFICIENT_DATA", "evaluate": "ALARM"}
    store.put(key, 1, 2000, 1000)
    model.tick(2, 2)
    assert model.states == {"ignore": "ALARM", "evaluate": "ALARM"}


def test_an_hour_long_alarm_slides_every_minute_instead_of_waiting_for_the_top_of_the_hour():
    # "Alarm evaluation window": the default SlidingWindow "advances each time the alarm is evaluated".
    # More than 10 errors in the last hour: the 11th error at 10:17 is noticed at 10:18, not at 11:00,
    # and the alarm clears an hour after the errors, when they have slid out of the window. The metric
    # publishes a 0 every minute without errors, as Lambda's Errors does for a function that runs.
    store = MetricStore()
    key = metric_key("Demo", "Errors", {})
    model = CloudWatchModel(store, [alarm("hourly", period=3600, threshold=10)], [])
    base = 600  # 10:00
    for minute in range(base - 120, base + 240):
        store.put(key, minute, 1 if base + 7 <= minute <= base + 17 else 0)
        model.tick(minute + 1, minute + 1)
    entered = [t.minute for t in model.transitions if t.alarm == "hourly" and t.to_state == "ALARM"]
    cleared = [t.minute for t in model.transitions if t.alarm == "hourly" and t.to_state == "OK" and t.minute > base]
    assert entered == [base + 18]
    # At 11:08 the window 10:08-11:07 holds 10 errors: not more than 10.
    assert cleared == [base + 68]


def test_a_half_hour_alarm_slides_too_and_a_five_minute_one_waits_for_its_period_to_close():
    # Burn-rate short windows of 30 minutes slide like the hour-long ones; 5-minute periods keep the
    # period-close evaluation (docs/cloudwatch-model.md, the deviation). 6 errors from 10:07 to 10:12.
    store = MetricStore()
    key = metric_key("Demo", "Errors", {})
    alarms = [alarm("half-hour", period=1800, threshold=5), alarm("five", period=300, threshold=1)]
    model = CloudWatchModel(store, alarms, [])
    base = 600
    for minute in range(base - 60, base + 90):
        store.put(key, minute, 1 if base + 7 <= minute <= base + 12 else 0)
        model.tick(minute + 1, minute + 1)
    entered = {t.alarm: t.minute for t in model.transitions if t.to_state == "ALARM"}
    # The sixth error (10:12) is in the half-hour window ending 10:13, seen then; the 5-minute alarm
    # sees its first errors only when the period 10:05-10:09 closes, at 10:10 (not at 10:08).
    assert entered == {"half-hour": base + 13, "five": base + 10}


def test_a_sliding_alarm_judged_from_its_newest_datapoints_takes_the_state_of_its_whole_range():
    """A sliding alarm reads its newest Evaluation Periods first and the rest of the evaluation range only when
    one of those is missing: every minute its state is what the whole range gives by the documented rules
    (`evaluate_alarm`), through errors, a metric that stops publishing (older real datapoints decide) and
    its return."""
    store = MetricStore()
    key = metric_key("Demo", "Errors", {})
    hourly = alarm("hourly", period=3600, threshold=10, evaluationPeriods=2, datapointsToAlarm=1,
                   treatMissingData="missing")
    model = CloudWatchModel(store, [hourly], [])
    base, states = 600, []
    for minute in range(base, base + 500):
        if not base + 150 <= minute < base + 420:  # the metric stops for four and a half hours
            store.put(key, minute, 1 if base + 100 <= minute < base + 140 else 0)
        model.tick(minute + 1, minute + 1)
        ends = [minute + 1 - 60 * k for k in range(3, -1, -1)]
        states.append((model.states["hourly"], evaluate_alarm(hourly.props, [store.sliding(key, "Sum", e, 60)
                                                                            for e in ends], states[-1][1]
                                                              if states else "INSUFFICIENT_DATA")))
    assert all(got == whole for got, whole in states)
    assert {got for got, _ in states} == {"OK", "ALARM", "INSUFFICIENT_DATA"}


def test_sliding_window_statistics_equal_the_statistics_of_the_window_samples():
    import random

    rng = random.Random(7)
    store = MetricStore()
    key = metric_key("Demo", "Latency", {})
    for minute in range(0, 500):
        if rng.random() < 0.8:
            store.put_samples(key, minute, [(rng.choice([120, 900, 3000, 4200]), rng.randint(1, 5))
                                            for _ in range(rng.randint(1, 3))])
    for end in (60, 61, 250, 499, 500):
        for minutes in (5, 60, 360):
            window = store.samples(key, end - minutes, minutes)
            for stat in ("Sum", "SampleCount", "Average", "PR(:3000)", "PR(3000:12000)", "Maximum"):
                assert store.sliding(key, stat, end, minutes) == pytest.approx(statistic(window, stat)), (stat, end)


def test_composite_rule_grammar():
    states = {"a": "ALARM", "b": "OK", "c": "INSUFFICIENT_DATA"}
    assert composite_state(parse_rule('ALARM("a") AND NOT OK(b)'), states) == "OK"
    assert composite_state(parse_rule('ALARM(a) AND (OK("b") OR FALSE)'), states) == "ALARM"
    assert composite_state(parse_rule('INSUFFICIENT_DATA("c") AND TRUE'), states) == "ALARM"
    assert composite_state(parse_rule('NOT ALARM("a") OR ALARM("b") AND TRUE'), states) == "OK"
    with pytest.raises(RuleError):
        parse_rule('ALARM("a") AND')


def run_minutes(model: CloudWatchModel, store: MetricStore, errors: dict[int, float], suppress: range,
                minutes: int) -> None:
    for minute in range(minutes):
        if minute in errors:
            store.put(metric_key("Demo", "Errors", {}), minute, errors[minute])
        store.put(metric_key("Ops", "Maintenance", {}), minute, 1.0 if minute in suppress else 0.0)
        model.tick(minute + 1, minute + 1)


def suppressed_model() -> tuple[CloudWatchModel, MetricStore]:
    member = MetricAlarmDefinition("member", alarm("member").props, [], [])
    maintenance = MetricAlarmDefinition("maintenance", {**alarm("maintenance").props, "namespace": "Ops",
                                                        "metricName": "Maintenance", "statistic": "Maximum"}, [], [])
    composite = CompositeDefinition("composite", 'ALARM("member")', ["critical"], [], "maintenance",
                                    wait_seconds=120, extension_seconds=300)
    store = MetricStore()
    return CloudWatchModel(store, [member, maintenance], [composite]), store


def test_composite_actions_wait_for_the_suppressor_then_page_once():
    model, store = suppressed_model()
    run_minutes(model, store, {m: 1 for m in range(10, 20)}, range(0), 30)
    assert [(p.alarm, p.minute) for p in model.pages] == [("composite", 13)]  # ALARM at 11, waits 120 s


def test_a_suppressor_in_alarm_holds_the_composite_through_its_extension_period():
    model, store = suppressed_model()
    run_minutes(model, store, {m: 1 for m in range(10, 15)}, range(5, 15), 30)
    # Suppressed, then held 5 minutes after maintenance ends (16): the member is OK again at 18
    # (its last real datapoint, minute 14, leaves the 3-period evaluation range).
    assert model.pages == []
    model, store = suppressed_model()
    run_minutes(model, store, {m: 1 for m in range(10, 40)}, range(5, 15), 40)
    assert [(p.alarm, p.minute) for p in model.pages] == [("composite", 21)]  # 16 + 300 s extension


def test_a_member_with_its_own_actions_pages_besides_the_composite():
    member = alarm("member")
    composite = CompositeDefinition("composite", 'ALARM("member")', ["critical"], [])
    store = MetricStore()
    model = CloudWatchModel(store, [member], [composite])
    store.put(metric_key("Demo", "Errors", {}), 0, 1)
    model.tick(1, 1)
    assert sorted(p.alarm for p in model.pages) == ["composite", "member"]


def test_a_held_page_is_recorded_once_each_time_the_composite_enters_alarm_under_its_suppressor():
    """What a drill reports as `held`: the composite in ALARM, its actions suppressed. Not once a minute,
    not when the suppressor is quiet (the composite then pages after its wait), again after it left ALARM."""
    composite = CompositeDefinition("pager", 'ALARM("member")', ["warning"], [], "cause",
                                    wait_seconds=0, extension_seconds=0)
    model = CloudWatchModel(MetricStore(), [MetricAlarmDefinition(name, alarm(name).props, [], [])
                                            for name in ("member", "cause")], [composite])
    timeline = ([{"cause": "ALARM", "member": "ALARM"}] * 5 + [{"cause": "ALARM"}] * 2
                + [{"cause": "ALARM", "member": "ALARM"}] * 3 + [{}] * 2 + [{"member": "ALARM"}] * 2)
    for minute, states in enumerate(timeline):
        model.tick_states(states, minute)
    assert [(h.minute, h.alarm, h.suppressor) for h in model.held_pages] == [(0, "pager", "cause"),
                                                                             (7, "pager", "cause")]
    assert [(p.alarm, p.minute) for p in model.pages] == [("pager", 12)]


def test_alarm_states_given_from_outside_page_through_composites_and_suppressors():
    """`tick_states`: the metric alarms are in the states given (OK otherwise); a composite held by its
    suppressor pages once the extension period after the suppressor left ALARM has passed, if still in ALARM."""
    maintenance = alarm("maintenance")
    composite = CompositeDefinition("held", 'ALARM("member")', ["critical"], [], "maintenance",
                                    wait_seconds=0, extension_seconds=600)

    def pages(timeline: list[dict[str, str]]) -> list[tuple[str, int]]:
        model = CloudWatchModel(MetricStore(), [MetricAlarmDefinition("member", alarm("member").props, [], []),
                                                MetricAlarmDefinition("maintenance", maintenance.props, [], [])],
                                [composite])
        for minute, states in enumerate(timeline):
            model.tick_states(states, minute)
        return [(p.alarm, p.minute) for p in model.pages]

    timeline = [{"maintenance": "ALARM", "member": "ALARM"}] * 5 + [{"member": "ALARM"}] * 11
    assert pages(timeline) == [("held", 15)]  # maintenance left ALARM at 5, + 600 s
    assert pages(timeline[:14]) == []
    assert pages(timeline[:5] + [{}] * 11) == []
    with pytest.raises(ValueError, match="no metric alarm named membr"):
        pages([{"membr": "ALARM"}])


def test_time_functions_give_every_period_its_timestamp_in_utc():
    """"MINUTE HOUR DAY ... return a new non-sparse time series where each value is based on its
    timestamp"; IF(DAY(m1)<6, m1) keeps weekdays (DAY 1 = Monday). 2026-07-05 is a Sunday."""
    import datetime as dt

    end = int(dt.datetime(2026, 7, 5, 0, 10, tzinfo=dt.UTC).timestamp()) // 60
    math = Evaluator({"m1": [None, 4.0]}, 2, end_minute=end, period=300)
    assert math.evaluate("HOUR(m1) * 60 + MINUTE(m1)") == [0.0, 5.0]
    assert math.evaluate("DAY(m1)") == [7.0, 7.0]
    assert math.evaluate("IF(DAY(m1) < 6, m1)") == [None, None]
    assert math.evaluate("IF(HOUR(m1) < 1 AND FILL(m1, 0) < 1, 1, 0)") == [1.0, 0.0]


def test_a_window_holding_all_samples_matches_the_samples_statistic():
    store = MetricStore()
    key = metric_key("Demo", "Healthy", {})
    for minute in range(200):
        store.put(key, minute, float(minute % 3 == 0))
        for stat in ("Average", "Sum", "SampleCount", "Minimum", "Maximum"):
            whole = statistic(store.samples(key, -43_200, 43_400), stat)
            assert store.window_statistic(key, stat, -43_200, 43_400) == pytest.approx(whole)


def test_a_window_ending_at_the_newest_minute_matches_the_samples_statistic_once_it_drops_old_ones():
    """A health check reads 30 days of SLA history every minute; past 30 days of samples its window no
    longer holds them all. Read minute by minute, with the newest minute written in two parts, the window
    must still give its samples' statistic."""
    store = MetricStore()
    key = metric_key("Demo", "Healthy", {})
    for minute in range(400):
        store.put(key, minute, float(minute % 7 != 0))
        for stat in ("Average", "Sum", "SampleCount"):
            window = statistic(store.samples(key, minute - 99, 100), stat)
            assert store.window_statistic(key, stat, minute - 99, 100) == pytest.approx(window), (minute, stat)
        store.put(key, minute, 0.5)
        assert store.window_statistic(key, "Sum", minute - 99, 100) == pytest.approx(
            statistic(store.samples(key, minute - 99, 100), "Sum"))
    assert store.window_statistic(key, "Average", 1_000, 100) is None


def test_a_new_composite_with_ok_actions_notifies_on_its_first_evaluation_to_ok():
    """PutCompositeAlarm (CloudWatch API reference): "the alarm state is immediately set to
    INSUFFICIENT_DATA. The alarm is then evaluated and its state is set appropriately. Any actions
    associated with the new state are then executed"; OKActions run on a transition "to an OK state
    from any other state". So the first evaluation of a pager with OK actions notifies, once."""
    composite = CompositeDefinition("pager", 'ALARM("member")', ["critical"], ["critical"])
    model = CloudWatchModel(MetricStore(), [MetricAlarmDefinition("member", alarm("member").props, [], [])],
                            [composite])
    for minute in range(3):
        model.tick_states({}, minute)
    assert [(n.alarm, n.minute) for n in model.ok_notifications] == [("pager", 0)]
    assert [(t.from_state, t.to_state) for t in model.transitions if t.alarm == "pager"] == [
        ("INSUFFICIENT_DATA", "OK")]


def test_percentile_rank_is_exclusive_below_and_inclusive_above():
    """User guide, "CloudWatch statistics definitions": "PR(:300) returns the percentage of data points
    that have a value of 300 or less. PR(100:2000) returns the percentage of data points that have a
    value between 100 and 2000. Percentile rank is exclusive on the lower bound and inclusive on the
    upper bound." Samples are (value, count)."""
    samples = [(100.0, 1), (300.0, 2), (301.0, 1), (2000.0, 3), (2500.0, 3)]
    assert statistic(samples, "PR(:300)") == pytest.approx(30.0)
    assert statistic(samples, "PR(100:2000)") == pytest.approx(60.0)
    assert statistic(samples, "PR(300:)") == pytest.approx(70.0)
    assert statistic([], "PR(:300)") is None
    store = MetricStore()
    key = metric_key("Demo", "Latency", {})
    store.put_samples(key, 0, samples)
    assert store.window_statistic(key, "PR(:300)", -43_200, 43_400) == pytest.approx(30.0)
    assert store.datapoint(key, "PR(100:2000)", 1, 60) == pytest.approx(60.0)


def test_a_band_on_an_expression_over_several_metrics_is_asked_for_that_expression():
    """An anomaly detector can take "the CloudWatch math expression that provides the time series the
    anomaly detector uses as input" (API reference, MetricMathAnomalyDetector): the band model is asked
    for the expression with the source of each metric it reads, not for one of the metrics."""
    from preflight.cloudwatch.cloudwatch import math_series
    from preflight.cloudwatch.metric_math import ExpressionSource

    ratio = "IF(FILL(m1, 0) + FILL(m2, 0) >= 100, 100 * FILL(m2, 0) / (FILL(m1, 0) + FILL(m2, 0)))"
    alarm = MetricAlarmDefinition("ratio", {
        "comparisonOperator": "GreaterThanUpperThreshold", "evaluationPeriods": 2, "thresholdMetricId": "ad1",
        "metricQueries": [
            {"id": "m1", "metric": {"namespace": "Demo", "metricName": "Done", "stat": "Sum", "period": 900}},
            {"id": "m2", "metric": {"namespace": "Demo", "metricName": "Cancelled", "stat": "Sum", "period": 900}},
            {"id": "e1", "expression": ratio, "returnData": True},
            {"id": "ad1", "expression": "ANOMALY_DETECTION_BAND(e1, 2)", "returnData": True}]}, [], [])
    asked = []

    def band(source, deviations, end_minute):
        asked.append((source, deviations))
        return (0.0, 3.0)

    values, bands = math_series(alarm, {"m1": [50.0, 950.0], "m2": [None, 50.0]}, 30, 2, band)
    assert values == [None, 5.0]
    assert bands == [(0.0, 3.0), (0.0, 3.0)]
    source, deviations = asked[0]
    assert deviations == 2.0
    assert source == ExpressionSource(ratio, (("m1", alarm.metrics["m1"]), ("m2", alarm.metrics["m2"])), 900)
