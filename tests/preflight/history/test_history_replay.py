"""`history --from FILE`: a saved history replayed through the CloudWatch model with the working tree's
alarms, and `drill --save-history` writing a drill's series in that format."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.cloudwatch.store import metric_key
from preflight.drill.cli import drill_platform
from preflight.drill.drill_file import load_drill
from preflight.drill.runner import run_drill
from preflight.history import history_file
from preflight.history.drill_export import drill_history
from preflight.history.figures import figures
from preflight.history.history_file import History, HistoryError, Series
from preflight.history.replay import replay
from tests.support.stack import REPO
from tests.support.stack import preflight_cli as preflight

START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
DAY = 1440


def _minute(hours: int, minutes: int = 0) -> int:
    return int(START.timestamp()) // 60 + hours * 60 + minutes


@pytest.mark.parametrize("drill_file", ["drills/redis-down.yaml", "drills/fleet/one-failing-function-among-300.yaml",
                                        "drills/orders-stop-at-lunch.yaml"])
@pytest.mark.slow
def test_a_drill_exported_and_replayed_gives_the_drills_transitions_and_pages(drill_file, tmp_path):
    # Static, metric-math, anomaly-band (orders-volume: the drill's band is exported with the series)
    # and Metrics Insights alarms (the fleet drill: each function's series, as the query reads them).
    drill = load_drill(REPO / drill_file)
    _, platform = drill_platform(drill, "production", REPO)
    result = run_drill(drill, platform)
    path = tmp_path / "history.json"
    history_file.save(drill_history(result, "production"), path)
    replayed = replay(history_file.read(path), platform.alarms, platform.composites)
    assert [(t.minute, t.alarm, t.from_state, t.to_state, t.contributor) for t in replayed.transitions] == [
        (result.start_minute + t["minute"], t["alarm"], t["from"], t["to"], t.get("contributor"))
        for t in result.transitions]
    assert [(p.minute, p.tier, p.alarm, p.contributor) for p in replayed.pages] == [
        (result.start_minute + p["minute"], p["tier"], p["alarm"], p.get("contributor")) for p in result.notifications]
    assert any(t["to"] == "ALARM" for t in result.transitions)  # the comparison saw the incident


@pytest.mark.slow
def test_drill_save_history_writes_the_from_format_and_history_reports_the_drills_pages(tmp_path):
    out = tmp_path / "redis-down.json"
    drilled = preflight("drill", "--stack", "production", "drills/redis-down.yaml", "--json",
                        "--save-history", str(out))
    assert drilled.returncode == 0, drilled.stderr
    assert f"preflight: --save-history: wrote {out}; replay with" in drilled.stderr
    drilled_doc = json.loads(drilled.stdout)["drills"][0]
    drill_pages = drilled_doc["pages"]
    [paged] = {n["alarm"] for n in drilled_doc["notifications"] if n["tier"] == "critical"}
    result = preflight("history", "--stack", "production", "--from", str(out), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {tier: t["pages"] for tier, t in doc["tiers"].items()} == drill_pages
    assert set(doc["tiers"]["critical"]) >= {"pages", "nightPages", "pagesPerWeek", "byHourIst"}
    pager = next(a for a in doc["alarms"] if a["name"] == paged)
    assert set(pager) >= {"name", "minutesInAlarm", "transitions", "pages"} and pager["pages"] == 1
    assert doc["source"] == "drill redis-down"


def _definitions() -> tuple[list[MetricAlarmDefinition], list[CompositeDefinition]]:
    latency = MetricAlarmDefinition("latency", {
        "namespace": "App", "metricName": "Latency", "statistic": "Maximum", "period": 60,
        "evaluationPeriods": 3, "datapointsToAlarm": 2, "threshold": 100,
        "comparisonOperator": "GreaterThanThreshold", "treatMissingData": "notBreaching"}, [], [])
    errors = MetricAlarmDefinition("errors", {
        "namespace": "App", "metricName": "Errors", "statistic": "Sum", "period": 60,
        "evaluationPeriods": 1, "threshold": 0, "comparisonOperator": "GreaterThanThreshold",
        "treatMissingData": "notBreaching"}, [], [])
    pager = CompositeDefinition("pager", 'ALARM("latency") OR ALARM("errors")', ["critical"], [])
    warning = CompositeDefinition("warning-pager", 'ALARM("errors")', ["warning"], [])
    return [latency, errors], [pager, warning]


def _history() -> History:
    """One day: latency 50 ms every minute but 200 ms for five minutes from 17:00 UTC (22:30 IST); errors
    published from 06:00 to 07:00 UTC only, 0 but 3 in each of four alternate minutes from 06:30 UTC
    (12:00 IST)."""
    night = _minute(17)
    latency = [(m * 60, 200.0 if night <= m < night + 5 else 50.0) for m in range(_minute(-1), _minute(24))]
    noon = _minute(6, 30)
    burst = {noon + 2 * i for i in range(4)}
    errors = [(m * 60, 3.0 if m in burst else 0.0) for m in range(_minute(6), _minute(7))]
    return History("test", "ap-south-1", "a test", START, START + dt.timedelta(days=1), [
        Series(metric_key("App", "Latency", {}), "Maximum", 60, latency),
        Series(metric_key("App", "Errors", {}), "Sum", 60, errors)])


def test_figures_count_time_in_alarm_transitions_pages_per_tier_night_pages_flapping_and_gaps():
    alarms, composites = _definitions()
    found = figures(replay(_history(), alarms, composites), flapping=6)
    # Latency, 2 of 3 one-minute periods: the minutes 17:00-17:04 breach. The range of the evaluation
    # at 17:02 holds two of them (ALARM); at 17:07 only 17:04 is left of the last three (OK).
    latency = found.alarm("latency")
    assert (latency.minutes_in_alarm, latency.transitions, latency.pages) == (5, 2, {"critical": 1})
    # Errors, 1 of 1: ALARM at the close of each error minute, OK at the close of the next one (its 0).
    errors = found.alarm("errors")
    assert (errors.minutes_in_alarm, errors.transitions) == (4, 8)
    assert errors.pages == {"critical": 4, "warning": 4}
    assert errors.flapping_days == ["2026-07-01"]  # 8 changes > 6 in one IST day
    assert (errors.no_data_periods, errors.periods) == (DAY - 60, DAY)
    assert (latency.no_data_periods, latency.flapping_days) == (0, [])
    critical = found.tiers["critical"]
    assert (critical.pages, critical.night_pages) == (5, 1)
    assert critical.by_hour_ist[22] == 1 and critical.by_hour_ist[12] == 4 and sum(critical.by_hour_ist) == 5
    assert found.tiers["warning"].pages == 4 and found.tiers["business"].pages == 0
    # The replay's first evaluation (INSUFFICIENT_DATA -> OK) is not counted as a change.
    assert found.alarm("pager").transitions == 2 + 8


def test_a_pager_held_by_its_suppressor_is_counted_as_held_not_as_a_page():
    """The warning pager's suppressor is the critical one, waited for 2 minutes as the stack's pagers wait
    (`ActionsSuppressorWaitPeriod`): each of the four error minutes at noon puts both in ALARM, so the
    warning tier hears nothing and the replay says why: four held pages."""
    alarms, _ = _definitions()
    pager = CompositeDefinition("pager", 'ALARM("latency") OR ALARM("errors")', ["critical"], [])
    held = CompositeDefinition("held-pager", 'ALARM("errors")', ["warning"], [], suppressor="pager",
                                wait_seconds=120)
    found = figures(replay(_history(), alarms, [pager, held]))
    assert (found.alarm("held-pager").held, found.alarm("held-pager").page_count) == (4, 0)
    assert (found.alarm("pager").held, found.alarm("pager").page_count) == (0, 5)
    assert (found.tiers["warning"].pages, found.tiers["warning"].held) == (0, 4)
    assert (found.tiers["critical"].pages, found.tiers["critical"].held) == (5, 0)


def test_an_alarm_starts_in_the_state_its_recorded_history_gives_it():
    alarms, composites = _definitions()
    history = _history()
    history.alarm_history = [history_file.StateChange("latency", START - dt.timedelta(hours=1), "OK", "ALARM")]
    replayed = replay(history, alarms, composites)
    # In ALARM at the start, it goes OK at the first evaluation: a change of the alarm, counted.
    first = next(t for t in replayed.transitions if t.alarm == "latency")
    assert (first.minute, first.from_state, first.to_state) == (_minute(0) + 1, "ALARM", "OK")
    assert figures(replayed).alarm("latency").transitions == 3


def _write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _doc() -> dict:
    return history_file.as_json(_history())


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(version=2), "version: expected 1 (the format this preflight reads) (got 2)"),
    (lambda d: d.update(extra=1), "extra: expected one of the keys version, stack, region"),
    (lambda d: d.update(start="2026-07-01T00:00:30Z"), "start: expected a whole minute in ISO 8601 with an offset"),
    (lambda d: d.update(end=d["start"]), "end: expected a time after start"),
    (lambda d: d["metrics"][0].update(period=45),
     "metrics[0].period: expected a positive multiple of 60 seconds (got 45)"),
    (lambda d: d["metrics"][0].update(statistic="Mean"),
     "metrics[0].statistic: expected Sum, Average, Minimum, Maximum, SampleCount, pNN or PR(n:m) (got 'Mean')"),
    (lambda d: d["metrics"][1]["datapoints"].append([1782864030, 1.0]),
     "metrics[1].datapoints[60]: expected a period start: a multiple of 60 s since the epoch (got 1782864030)"),
    (lambda d: d["metrics"][1]["datapoints"].append(["noon", 1.0]),
     "metrics[1].datapoints[60]: expected [period start, value] with the start in Unix seconds"),
    (lambda d: d["metrics"].append(dict(d["metrics"][0])),
     "metrics[2]: expected one series per metric, statistic and period (this one is listed twice)"),
    (lambda d: d.update(alarmHistory=[{"alarm": "x", "time": "2026-07-01T00:00:00Z", "from": "OK", "to": "ON"}]),
     "alarmHistory[0].to: expected one of OK, ALARM, INSUFFICIENT_DATA (got 'ON')"),
])
def test_a_bad_history_file_is_one_line_naming_the_key_and_the_expected_form(change, message, tmp_path):
    doc = _doc()
    change(doc)
    path = _write(tmp_path / "h.json", doc)
    with pytest.raises(HistoryError) as error:
        history_file.read(path)
    assert str(error.value).startswith(f"{path}: {message}")


@pytest.mark.slow
def test_history_refuses_another_stacks_file_and_a_bad_file_in_one_line(tmp_path):
    other = _write(tmp_path / "staging.json", _doc())
    result = preflight("history", "--stack", "production", "--from", str(other))
    assert result.returncode == 2
    assert result.stderr == (f"preflight: {other}: stack: expected production (--stack), the stack whose alarms "
                             "replay it (got 'test')\n")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = preflight("history", "--stack", "production", "--from", str(broken))
    assert result.returncode == 2 and result.stderr.startswith(f"preflight: {broken}: not JSON: ")
    assert result.stderr.rstrip().endswith("; expected a saved history (what history --save or drill --save-history "
                                           "writes)")
    assert len(result.stderr.splitlines()) == 1
    missing = preflight("history", "--stack", "production", "--from", str(tmp_path / "absent.json"))
    assert (missing.returncode, missing.stderr) == (
        2, f"preflight: --from {tmp_path / 'absent.json'}: cannot read it: No such file or directory\n")


@pytest.mark.slow
def test_history_usage_needs_one_source_and_days_with_aws():
    assert preflight("history", "--stack", "production").returncode == 2
    result = preflight("history", "--stack", "production", "--aws")
    assert result.returncode == 2 and "--aws needs --days N" in result.stderr
    result = preflight("history", "--stack", "production", "--aws", "--days", "500")
    assert result.returncode == 2 and "N from 1 to 455" in result.stderr
    assert "--from h.json --json" in preflight("history", "--help").stdout


@pytest.mark.slow
def test_history_aws_without_credentials_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONPATH=str(REPO), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = subprocess.run([sys.executable, "-m", "preflight", "history", "--stack", "production", "--aws",
                             "--days", "14"], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("preflight: AWS account: no credentials found")
    assert len(result.stderr.splitlines()) == 1
