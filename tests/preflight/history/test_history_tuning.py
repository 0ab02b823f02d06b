"""Tuning from a history: incidents, the threshold or M of N that would have kept an alarm quiet outside
them and still fired in time, how close the quiet alarms came, and the stack-file key of each threshold."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json

import pytest
import yaml

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.cloudwatch.store import metric_key
from preflight.history.figures import figures
from preflight.history.history_file import History, HistoryError, Series
from preflight.history.incidents import Incident, critical_incidents, read_incidents
from preflight.history.replay import replay
from preflight.history.threshold_keys import threshold_keys
from preflight.history.tuning import headroom, tune
from preflight.model.stack import build_model
from preflight.program.engine import run_program
from tests.support.stack import REPO, stack_files

START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
T0 = int(START.timestamp()) // 60
DAYS = 3
INCIDENT = T0 + 1440 + 6 * 60  # day 2, 06:00 UTC (11:30 IST), for 30 minutes
NOISE = [T0 + d * 1440 + 20 * 60 for d in range(DAYS)]  # 20:00 UTC (01:30 IST) each night, for 20 minutes


def _cpu(noise_value: float, noise_minutes: int, incident_value: float) -> list[tuple[int, float]]:
    """Five-minute averages: 40 % normally, `noise_value` for `noise_minutes` each night, `incident_value`
    in the incident."""
    points = []
    for m in range(T0 - 60, T0 + DAYS * 1440, 5):
        value = 40.0
        if any(n <= m < n + noise_minutes for n in NOISE):
            value = noise_value
        if INCIDENT <= m < INCIDENT + 30:
            value = incident_value
        points.append((m * 60, value))
    return points


def _database_up() -> list[tuple[int, float]]:
    return [(m * 60, 0.0 if INCIDENT <= m < INCIDENT + 30 else 1.0) for m in range(T0 - 60, T0 + DAYS * 1440)]


def _world(cpu: list[tuple[int, float]], datapoints_to_alarm: int = 3, evaluation_periods: int = 3
           ) -> tuple[History, list[MetricAlarmDefinition], list[CompositeDefinition]]:
    cpu_alarm = MetricAlarmDefinition("db-cpu", {
        "namespace": "AWS/RDS", "metricName": "CPUUtilization", "statistic": "Average", "period": 300,
        "evaluationPeriods": evaluation_periods, "datapointsToAlarm": datapoints_to_alarm, "threshold": 80,
        "comparisonOperator": "GreaterThanThreshold", "treatMissingData": "missing"}, [], [])
    database = MetricAlarmDefinition("db-connectivity", {
        "namespace": "App", "metricName": "DatabaseUp", "statistic": "Minimum", "period": 60,
        "evaluationPeriods": 1, "threshold": 1, "comparisonOperator": "LessThanThreshold",
        "treatMissingData": "missing"}, [], [])
    composites = [CompositeDefinition("critical-pager", 'ALARM("db-connectivity")', ["critical"], []),
                  CompositeDefinition("warning-pager", 'ALARM("db-cpu")', ["warning"], [])]
    history = History("test", "ap-south-1", "a test", START, START + dt.timedelta(days=DAYS), [
        Series(metric_key("AWS/RDS", "CPUUtilization", {}), "Average", 300, cpu),
        Series(metric_key("App", "DatabaseUp", {}), "Minimum", 60, _database_up())])
    return history, [cpu_alarm, database], composites


def _tuned(history, alarms, composites, incidents=None):
    replayed = replay(history, alarms, composites)
    if incidents is None:
        incidents, _ = critical_incidents(replayed)
    return tune(replayed, figures(replayed), incidents, {}), incidents


def test_without_a_file_the_incidents_are_when_a_critical_alarm_was_in_alarm():
    history, alarms, composites = _world(_cpu(85, 20, 97))
    incidents, where = critical_incidents(replay(history, alarms, composites))
    # DatabaseUp is 0 from INCIDENT: the one-minute alarm is in ALARM from the close of that minute to
    # the close of the first minute back at 1.
    assert incidents == [Incident(INCIDENT + 1, INCIDENT + 31, "critical alarms in ALARM: db-connectivity")]
    assert where == "when an alarm paging the critical tier was in ALARM, by the replay"


def test_a_noisy_alarm_gets_the_roundest_threshold_that_is_quiet_outside_and_fires_in_time_inside():
    # CPU at 85 % for 20 minutes every night pages warning three times; in the incident it is 97 %.
    (suggestions, _), _ = _tuned(*_world(_cpu(85, 20, 97)))
    suggestion = suggestions["db-cpu"]
    # Quiet needs a threshold of at least 85 (values at it no longer breach); 97 must still breach:
    # the roundest number in [85, 97) is 90.
    assert suggestion.threshold == 90
    assert len(suggestion.noise) == DAYS
    assert "keeps it quiet there and still fires within 15 minutes" in suggestion.text
    assert set(suggestions) == {"db-cpu"}  # the database alarm paged only in the incident


def test_the_suggested_threshold_is_checked_against_the_data_directly():
    history, alarms, composites = _world(_cpu(85, 20, 97))
    (suggestions, _), incidents = _tuned(history, alarms, composites)
    threshold = suggestions["db-cpu"].threshold
    # By hand: 3 of 3 five-minute averages above the threshold outside the incident never happens,
    # and inside it the third breaching period closes 15 minutes after the incident's first.
    values = dict((t // 60, v) for t, v in history.metrics[0].datapoints)
    ends = sorted(values)
    runs = [ends[i] for i in range(2, len(ends)) if all(values[ends[i - k]] > threshold for k in range(3))]
    outside = [m for m in runs if not any(i.start <= m + 5 <= i.end for i in incidents)]
    assert outside == [] and runs and runs[0] + 5 - INCIDENT <= 15


def test_m_of_n_where_no_threshold_separates_short_spikes_from_the_incident():
    # One five-minute period at 99 % each night, the incident 90 % for 30 minutes; alarm 1 of 1.
    history, alarms, composites = _world(_cpu(99, 5, 90), datapoints_to_alarm=1, evaluation_periods=1)
    (suggestions, _), _ = _tuned(history, alarms, composites)
    suggestion = suggestions["db-cpu"]
    assert suggestion.threshold is None
    assert suggestion.datapoints == (2, 2)  # two periods: a single spike never reaches ALARM, the incident at +10
    assert "M of N is not a stack-file setting" in suggestion.text


def test_no_suggestion_when_nothing_separates_the_noise_from_the_incident():
    history, alarms, composites = _world(_cpu(97, 30, 97))
    (suggestions, _), _ = _tuned(history, alarms, composites)
    assert suggestions["db-cpu"].threshold is None and suggestions["db-cpu"].datapoints is None
    assert "does not tell them apart" in suggestions["db-cpu"].text


def test_an_operator_incident_file_replaces_the_critical_alarms_and_an_alarm_inside_one_is_not_noise(tmp_path):
    history, alarms, composites = _world(_cpu(85, 20, 97))
    path = tmp_path / "incidents.yaml"
    night, outage = (dt.datetime.fromtimestamp(m * 60, dt.UTC).isoformat() for m in (NOISE[0], INCIDENT))
    path.write_text(f"incidents:\n  - {{start: '{night}', minutes: 40, what: a real slow night}}\n"
                    f"  - {{start: '{outage}', end: '{outage[:11]}06:30:00+00:00', what: database down}}\n")
    incidents = read_incidents(path, history)
    assert incidents == [Incident(NOISE[0], NOISE[0] + 40, "a real slow night"),
                         Incident(INCIDENT, INCIDENT + 30, "database down")]
    (suggestions, _), _ = _tuned(history, alarms, composites, incidents)
    # The first night is an incident now: the alarm must still fire there, at 85 %, and stay quiet
    # on the other two nights at the same 85 %: nothing separates them.
    assert len(suggestions["db-cpu"].noise) == DAYS - 1
    assert suggestions["db-cpu"].threshold is None and "does not tell them apart" in suggestions["db-cpu"].text


@pytest.mark.parametrize(("text", "message"), [
    ("incidents: {}", "(file): expected a mapping with one key, incidents"),
    ("incidents:\n  - {start: '2026-07-01T10:00:00', minutes: 5, what: x}", "incidents[0].start: expected a time in"),
    ("incidents:\n  - {start: '2026-07-01T10:00:00Z', what: x}", "incidents[0]: expected start, what, and either end"),
    ("incidents:\n  - {start: '2026-07-01T10:00:00Z', minutes: 5, what: x, who: y}",
     "incidents[0].who: expected one of the keys start, end, minutes, what"),
    ("incidents:\n  - {start: '2026-07-01T10:00:00Z', ned: '2026-07-01T10:05:00Z', what: x}",
     "incidents[0].ned: expected one of the keys start, end, minutes, what (did you mean `end`?)"),
    ("incidents:\n  - {start: '2027-01-01T10:00:00Z', minutes: 5, what: x}",
     "incidents[0].start: expected a time within the history's window (2026-07-01T05:30:00+05:30 to "
     "2026-07-04T05:30:00+05:30, IST as the report's)"),
])
def test_a_bad_incidents_file_is_one_line_naming_the_key(text, message, tmp_path):
    history, _, _ = _world(_cpu(85, 20, 97))
    path = tmp_path / "incidents.yaml"
    path.write_text(text)
    with pytest.raises(HistoryError) as error:
        read_incidents(path, history)
    assert str(error.value).startswith(f"{path}: {message}")


def test_headroom_says_how_close_a_quiet_alarm_came():
    history, alarms, composites = _world(_cpu(62, 20, 62))
    room = headroom(replay(history, alarms, composites), alarms[0])
    assert (room["closest"], room["margin"], room["breachingPeriods"]) == (62, 18, 0)
    assert room["text"].startswith("peak 62 at ") and room["text"].endswith(
        "against > 80: 18 below it (22% of the threshold); never breached")


@pytest.fixture(scope="module")
def production_keys():
    files = stack_files("production")
    model = build_model(run_program(files, preview=True))
    keys, problem = threshold_keys(files, model)
    assert problem is None
    return files, model, keys


def _apply(snippet: str, files):
    """The stack's config with a suggestion's YAML merged in (list entries by their name or path)."""
    config = dict(files.config)
    for full, value in yaml.safe_load(snippet)["config"].items():
        current = json.loads(config[full]) if full in config else {}
        config[full] = json.dumps(_merge(copy.deepcopy(current), value))
    return dataclasses.replace(files, config=config)


def _merge(current, change):
    if isinstance(change, dict):
        for key, value in change.items():
            current[key] = _merge(current.get(key, {} if isinstance(value, dict) else []), value)
        return current
    if isinstance(change, list):
        for item in change:
            key = "name" if "name" in item else "path"
            entries = [e if isinstance(e, dict) else {key: e} for e in current]
            target = next(e for e in entries if e[key] == item[key])
            _merge(target, item)
            current[:] = entries
        return current
    return change


@pytest.mark.parametrize(("alarm", "label", "new"), [
    ("production-db-cpu", "thresholds.rds.cpuPercent", 90),
    ("production-db-connections", "thresholds.rds.connectionsPercent", 70),
    ("production-db-freeable-memory", "thresholds.rds.freeableMemoryMb", 512),
    ("production-api-4xx-rate", "thresholds.api.error4xxRatePercent", 15),
    ("production-payments-verify-errors",
     "inventory.lambdaGroups.payments.functions[name: hasivu-production-payments-verify].thresholds.errorsPerMinute",
     12),
    ("production-payments-webhook-throttles",
     "inventory.lambdaGroups.payments.functions[name: hasivu-production-payments-webhook].thresholds.throttlesPer5min",
     2),
    ("production-api-orders-latency-p99", "inventory.api.criticalEndpoints[path: /orders].latencyP99Ms", 4000),
])
def test_the_yaml_of_a_threshold_key_moves_that_alarms_threshold_as_the_program_computes_it(
        production_keys, alarm, label, new):
    files, model, keys = production_keys
    key = keys[alarm]
    assert key.label == label
    changed = build_model(run_program(_apply(key.yaml(new), files), preview=True))
    threshold = next(a for a in changed.alarms if a.name == alarm).props["threshold"]
    assert threshold == pytest.approx(new * key.scale)
    before = {a.name: a.props.get("threshold") for a in model.alarms}
    moved = {a.name for a in changed.alarms if a.props.get("threshold") != before[a.name]}
    if "functions[" in label or "criticalEndpoints[" in label:
        assert moved == {alarm}  # a function's or endpoint's own key moves its alarm alone
    assert str(REPO) not in key.yaml(new)


def test_an_alarm_no_stack_key_sets_has_none(production_keys):
    _, _, keys = production_keys
    assert "production-database-connectivity" not in keys  # a fixed threshold of 1 (reachable or not)
    assert "production-orders-volume-anomaly" not in keys  # a band, no threshold
