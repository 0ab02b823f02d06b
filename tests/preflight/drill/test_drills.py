"""Drills: the drill file, the command line, its JSON and exit codes, and verdicts that follow the alarms."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from preflight.drill.drill_file import DrillError, load_drill
from preflight.drill.runner import run_drill
from preflight.emulator.platform import Platform, platform_from_run
from tests.support.chromium import dump_dom
from tests.support.stack import REPO, preflight_cli, run

THROTTLED = """
name: verify-throttled
start: "2026-07-01T12:00:00+05:30"
minutes: 40
traffic: school-day
faults:
  - {kind: function-throttles, target: hasivu-production-payments-verify, rate: 0.6, at: 10, for: 20}
expect:
  fires: [{alarm: "ALARM_NAME", within: 6}]
"""


@pytest.fixture(scope="module")
def platform() -> Platform:
    return platform_from_run(run("production", preview=True))


def write(tmp_path: Path, text: str, name: str = "drill.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("change", "message"), [
    (("traffic: school-day", "traffic: weekend"), "traffic: expected one of school-day, school-night, holiday"),
    (("minutes: 40", "minutes: 40\nspeed: 2"), "speed: expected one of the keys name,"),
    (("faults:", "fault:"), "fault: expected one of the keys name, description, start, minutes, traffic, seed, faults, "
                            "expect, stack, account; did you mean `faults`?"),
    (('start: "2026-07-01T12:00:00+05:30"', 'start: "2026-07-01 12:00"'),
     "start: expected an ISO 8601 time with offset"),
    (("rate: 0.6", "rate: 1.5"), "faults[0].rate: expected a number 0-1 (got 1.5)"),
    (("kind: function-throttles", "kind: function-crash"), "faults[0].kind: expected one of dependency-down,"),
    (("rate: 0.6, ", ""), "faults[0].rate: expected a value (the key is required)"),
    (("within: 6", "within: soon"), "expect.fires[0].within: expected an integer 0-40 (got 'soon')"),
    (("expect:\n", "expect:\n  pages: {critical: {least: 1}}\n"), "expect.pages.critical: expected a count n >= 0"),
    (("kind: function-throttles, target: hasivu-production-payments-verify, rate: 0.6",
      "kind: orders-cancelled, rate: 4"), "faults[0].rate: expected a number 0-1 (got 4)"),
    (("kind: function-throttles, target: hasivu-production-payments-verify, rate: 0.6",
      "kind: traffic-spike, target: parents, factor: 0.2"),
     "faults[0].target: expected one of orders, payments, rfid, logins, all (got 'parents')"),
    # A key written twice is refused, as in a stack file: a silent later value would be judged instead.
    (("minutes: 40", "minutes: 40\nminutes: 10"), "line 5: expected valid YAML (mapping key 'minutes' already "
                                                  "defined at line 4)"),
])
def test_a_bad_drill_file_is_one_line_naming_file_key_and_expected_form(tmp_path, change, message):
    path = write(tmp_path, THROTTLED.replace(*change))
    with pytest.raises(DrillError) as error:
        load_drill(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_cli_bad_drill_exits_2_with_one_line_and_no_traceback(tmp_path):
    path = write(tmp_path, THROTTLED.replace("target: hasivu-production-payments-verify, rate: 0.6", "target: nowhere")
                 .replace("kind: function-throttles", "kind: dependency-down"))
    result = preflight_cli("drill", "--stack", "production", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"preflight: {path}: faults[0].target: expected one of database, redis, payment_gateway, rfid "
        "(got 'nowhere')"]
    assert result.stdout == ""
    missing = preflight_cli("drill", "--stack", "production", str(tmp_path / "absent.yaml"))
    assert missing.returncode == 2 and "expected a drill file, a folder of drill files, or all" in missing.stderr


def test_a_drill_written_for_production_played_on_staging_says_so():
    """Alarm names start with their stack's environment: production's drills name nothing of staging's, and
    the message says which stack the drill was written for, not only that the glob matched nothing."""
    drill = REPO / "drills" / "app-release-sends-bad-requests.yaml"
    result = preflight_cli("drill", "--stack", "staging", str(drill))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"preflight: {drill}: expect.fires[0].alarm: expected an alarm-name glob that matches an alarm of the stack "
        "(got 'production-api-4xx-rate'): it names stack production's alarms, and stack staging's start with "
        "staging-; play the drill with --stack production, or give it a stack file (`stack:`) of its own"]


def test_another_file_of_the_tools_given_as_a_drill_says_what_it_is(tmp_path):
    """The coverage allowlist and a saved history are mappings too: their keys must not read as a drill's typos."""
    with pytest.raises(DrillError) as allowlist:
        load_drill(REPO / "drills" / "coverage-allowlist.yaml")
    assert str(allowlist.value).endswith("coverage-allowlist.yaml: expected a drill file (name, start, minutes, "
                                         "traffic, expect, ...); this is a coverage allowlist: `drill --coverage` "
                                         "reads drills/coverage-allowlist.yaml")
    history = write(tmp_path, json.dumps({"version": 1, "stack": "production", "region": "ap-south-1",
                                          "source": "drill redis-down", "metrics": []}), "saved.json")
    with pytest.raises(DrillError, match=r"saved\.json: expected a drill file .*; this is a saved history: "
                                         r"`python -m preflight history --stack STACK --from FILE` replays it$"):
        load_drill(history)


def test_targets_must_exist_in_the_stack(tmp_path, platform):
    path = write(tmp_path, THROTTLED.replace("hasivu-production-payments-verify", "hasivu-production-nope"))
    with pytest.raises(DrillError, match=r"faults\[0\]\.target: expected a function name or inventory group"):
        run_drill(load_drill(path), platform)


def first_firing(tmp_path: Path, platform: Platform) -> str:
    result = run_drill(load_drill(write(tmp_path, THROTTLED.replace("ALARM_NAME", "production-*verify*"))), platform)
    fired = [t for t in result.transitions if t["to"] == "ALARM" and t["minute"] >= 10 and "verify" in t["alarm"]]
    assert fired, result.transitions
    return fired[0]["alarm"]


def test_mutating_the_alarm_flips_the_verdict(tmp_path, platform):
    name = first_firing(tmp_path, platform)
    drill = load_drill(write(tmp_path, THROTTLED.replace("ALARM_NAME", name), "exact.yaml"))
    assert run_drill(drill, platform).passed
    mutated = copy.deepcopy(platform)
    target = next(a for a in mutated.alarms if a.name == name)
    target.props["threshold"] = 1e12  # nothing ever breaches it
    verdict = run_drill(drill, mutated)
    assert not verdict.passed
    assert verdict.failures == [f"fires {name}: expected ALARM within 6 minutes of minute 10, never"]


@pytest.mark.slow
def test_cli_json_shape_and_exit_codes(tmp_path, platform):
    name = first_firing(tmp_path, platform)
    folder = tmp_path / "suite"
    folder.mkdir()
    write(folder, THROTTLED.replace("ALARM_NAME", name), "a-passes.yaml")
    write(folder, THROTTLED.replace("name: verify-throttled", "name: impossible")
          .replace('fires: [{alarm: "ALARM_NAME", within: 6}]', "silent: [\"" + name + "\"]"), "b-fails.yaml")
    result = preflight_cli("drill", "--stack", "production", str(folder), "--json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"drills"}
    passing, failing = doc["drills"]
    for drill in doc["drills"]:
        # `muted`: the notifications alarm mute rules held (minute, tier, alarm, state, rule); `held`: the
        # pagers whose actions suppressor held their page (minute, alarm, by).
        assert set(drill) == {"name", "passed", "pages", "notifications", "okNotifications", "muted", "held",
                              "transitions", "failures", "verdicts", "detectionMinutes"}
        assert all(set(h) == {"minute", "alarm", "by"} for h in drill["held"])
        # Each OK action that ran (a pager's "resolved"); a new alarm's first evaluation, in warm-up, flagged.
        assert all({"minute", "tier", "alarm"} <= set(n) <= {"minute", "tier", "alarm", "contributor",
                                                             "firstEvaluation"} for n in drill["okNotifications"])
        assert all(n["minute"] <= 0 for n in drill["okNotifications"] if n.get("firstEvaluation"))
        assert all(set(v) == {"expectation", "passed", "measured"} for v in drill["verdicts"])
        # Minutes from the first fault (minute 10) to each tier's first page from then on.
        assert drill["detectionMinutes"] == {n["tier"]: n["minute"] - 10 for n in reversed(drill["notifications"])
                                             if n["minute"] >= 10}
        assert set(drill["pages"]) == {"critical", "warning", "business"}
        # One entry per page, on the tier the counts give.
        assert sorted(n["tier"] for n in drill["notifications"]) == sorted(
            tier for tier, count in drill["pages"].items() for _ in range(count))
        assert all({"minute", "tier", "alarm"} <= set(n) <= {"minute", "tier", "alarm", "membersInAlarm"}
                   for n in drill["notifications"])
        assert all(set(t) == {"minute", "alarm", "from", "to"} for t in drill["transitions"])
    assert (passing["name"], passing["passed"], passing["failures"]) == ("verify-throttled", True, [])
    fired = next(t for t in passing["transitions"] if t["alarm"] == name and t["to"] == "ALARM")
    assert {"alarm": name, "from": "OK", "to": "ALARM"}.items() <= fired.items()
    assert passing["verdicts"] == [{"expectation": f"fires {name} within 6 min of the first fault (minute 10)",
                                    "passed": True, "measured": {"alarm": name, "minute": fired["minute"],
                                                                 "detectionMinutes": fired["minute"] - 10}}]
    assert (failing["name"], failing["passed"]) == ("impossible", False)
    assert failing["failures"] == [f"silent {name}: in ALARM: {name}"]
    assert failing["verdicts"] == [{"expectation": f"silent {name}", "passed": False, "measured": [name]}]
    single = preflight_cli("drill", "--stack", "production", str(folder / "a-passes.yaml"))
    assert single.returncode == 0, single.stdout + single.stderr
    assert "Drill verify-throttled" in single.stdout and "1 of 1 drills passed" in single.stdout
    # The text counts the OK actions the JSON lists, the warm-up's first evaluations apart.
    warm_up = [n for n in passing["okNotifications"] if n.get("firstEvaluation")]
    assert f"OK notifications {len(passing['okNotifications']) - len(warm_up)} (and {len(warm_up)} in warm-up" \
        in single.stdout


@pytest.mark.slow
def test_cli_text_gives_each_expectation_its_verdict_and_measurement(tmp_path, platform):
    """One line per expectation, passed ones included: pages per tier (expected and got), each `fires`
    glob (the alarm that fired, when, minutes after the fault), each `silent` glob."""
    name = first_firing(tmp_path, platform)
    path = write(tmp_path, THROTTLED.replace('fires: [{alarm: "ALARM_NAME", within: 6}]',
                                             f'fires: [{{alarm: "{name}", within: 6}}]\n  silent: ["production-db-*"]\n'
                                             "  pages: {critical: {max: 5}, business: 0}"))
    result = preflight_cli("drill", "--stack", "production", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    fired = next(t for t in run_drill(load_drill(path), platform).transitions
                 if t["alarm"] == name and t["to"] == "ALARM")
    lines = result.stdout.splitlines()
    verdicts = lines[lines.index("  expectations:") + 1:][:4]
    assert verdicts[0].startswith("    ok    critical pages at most 5; got ")
    assert verdicts[1:] == [
        "    ok    business pages exactly 0; got 0",
        f"    ok    fires {name} within 6 min of the first fault (minute 10); {name} in ALARM at minute "
        f"{fired['minute']}, {fired['minute'] - 10} min after the fault",
        "    ok    silent production-db-*; never in ALARM"]


@pytest.mark.slow
def test_cli_text_has_no_empty_section(tmp_path):
    """A drill with nothing broken moves no alarm into ALARM: the output says so in one line instead of a
    heading over an empty list."""
    quiet = write(tmp_path, THROTTLED.replace("faults:\n  - {kind: function-throttles, target: "
                                              "hasivu-production-payments-verify, rate: 0.6, at: 10, for: 20}\n", "")
                  .replace('fires: [{alarm: "ALARM_NAME", within: 6}]', "pages: {critical: 0}"))
    result = preflight_cli("drill", "--stack", "production", str(quiet))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if line.endswith(":"):
            indent = len(line) - len(line.lstrip())
            assert len(following) - len(following.lstrip()) > indent, (line, following)
    assert "  no transition into or out of ALARM" in result.stdout


def test_rendered_drill_shows_the_incident_on_every_graph_in_chromium(tmp_path, platform, chromium):
    """Each metric widget is an SVG with a plotted path, or says in red which metric never came."""
    import re

    from preflight.model.stack import build_model
    from preflight.pictures.drill_charts import render_drills

    drill = load_drill(write(tmp_path, THROTTLED.replace("ALARM_NAME", "production-*verify*")))
    result = run_drill(drill, platform)
    pages = render_drills(build_model(run("production", preview=True)), [result], tmp_path / "out", "production")
    assert len(pages) == 5
    plotted = 0
    for page in pages:
        dom = dump_dom(page, tmp_path / "profile")
        widgets = [w for w in dom.split('<div class="widget" ')[1:] if 'data-kind="metric"' in w[:60]]
        assert widgets, page.name
        for widget in widgets:
            has_path = re.search(r'<path class="series" d="M[\d.]+,[\d.]+ ', widget) is not None
            said_empty = '<p class="no-data"' in widget
            # A single value over the whole range (the error-budget tiles) is a number, not a line.
            single = re.search(r'<div class="single-value" data-value="-?[\d.]+"', widget) is not None
            assert has_path or said_empty or single, widget[:300]
            plotted += has_path
        if page.name == "production-HASIVU-Lambda-Performance.html":
            # The throttling shows as an ALARM band on the payments-verify graphs.
            assert 'class="alarm-band"' in dom
    assert plotted >= 20


def test_each_drill_is_a_fresh_lambda_container_for_the_health_monitor(tmp_path, platform):
    """The library keeps its monitor and clients per container; a second drill in the same process
    must read its own metrics, not the first drill's."""
    from preflight.cloudwatch.store import metric_key

    silent = "\n".join(f"  - {{kind: reader-silent, target: {r}, at: 0, for: 40}}" for r in platform.reader_ids)
    first = THROTTLED.replace("faults:\n  - {kind: function-throttles, target: hasivu-production-payments-verify, "
                              "rate: 0.6, at: 10, for: 20}", "faults:\n" + silent).replace(
        'fires: [{alarm: "ALARM_NAME", within: 6}]', "silent: []")
    second = THROTTLED.replace('fires: [{alarm: "ALARM_NAME", within: 6}]', "silent: []")
    rfid = metric_key("HASIVU/Health", "DependencyHealthy", {"Environment": "production", "Dependency": "rfid"})
    healthy = []
    for text, name in ((first, "first.yaml"), (second, "second.yaml")):
        result = run_drill(load_drill(write(tmp_path, text, name)), platform)
        end = result.start_minute + 40
        healthy.append(result.store.window_statistic(rfid, "Minimum", end - 5, 5))
    assert healthy == [0.0, 1.0]


def test_a_drill_is_deterministic_for_its_seed(tmp_path, platform):
    drill = load_drill(write(tmp_path, THROTTLED.replace("ALARM_NAME", "production-*verify*")))
    first, second = run_drill(drill, platform), run_drill(drill, platform)
    assert first.as_json() == second.as_json()
    assert first.store.series == second.store.series


def test_detection_is_the_tiers_first_page_after_the_first_fault(tmp_path, platform):
    """`expect.detection`: each listed tier's first page at or after the first fault comes within that
    many minutes; a tier never paged fails it. The payments-verify throttles page critical."""
    text = THROTTLED.replace('fires: [{alarm: "ALARM_NAME", within: 6}]', "detection: {critical: 5, business: 30}")
    result = run_drill(load_drill(write(tmp_path, text)), platform)
    took = result.detection_minutes["critical"]
    assert took <= 5
    assert [(v.expectation, v.passed, v.measured) for v in result.verdicts] == [
        ("critical detection within 5 min of the first fault", True, took),
        ("business detection within 30 min of the first fault", False, None)]
    assert result.failures == ["business detection: expected a page within 30 minutes of the first fault, never paged"]
    slow = run_drill(load_drill(write(tmp_path, text.replace("critical: 5", f"critical: {took - 1}"), "slow.yaml")),
                     platform)
    assert slow.failures[0] == (f"critical detection: expected a page within {took - 1} minutes of the first fault, "
                                f"first at minute {10 + took}, {took} min after it")


@pytest.mark.parametrize(("detection", "message"), [
    ("{urgent: 5}", "expect.detection.urgent: expected one of the keys critical, warning, business"),
    ("{critical: soon}", "expect.detection.critical: expected an integer 0-40 (got 'soon')"),
])
def test_a_bad_detection_expectation_names_its_key(tmp_path, detection, message):
    path = write(tmp_path, THROTTLED.replace('fires: [{alarm: "ALARM_NAME", within: 6}]', f"detection: {detection}"))
    with pytest.raises(DrillError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_drill(path)


def test_a_login_attack_is_failed_logins_on_top_of_the_parents_own(tmp_path, platform):
    """`login-attack`: that many wrong-password attempts a minute, through the real security event log
    and the stack's metric filter; `perMinute` is required and positive."""
    attack = THROTTLED.replace("{kind: function-throttles, target: hasivu-production-payments-verify, rate: 0.6, "
                               "at: 10, for: 20}", "{kind: login-attack, perMinute: 12, at: 10, for: 20}")
    result = run_drill(load_drill(write(tmp_path, attack.replace("ALARM_NAME", "production-security-failed-logins"))),
                       platform)
    assert result.passed, result.failures
    failed = next(k for k in result.store.keys() if k[1] == "FailedLogins")
    during = result.store.window_statistic(failed, "Sum", result.start_minute + 10, 20)
    before = result.store.window_statistic(failed, "Sum", result.start_minute - 20, 20) or 0
    assert during >= 12 * 20 and during - 12 * 20 < before + 40
    with pytest.raises(DrillError, match=r"faults\[0\]\.perMinute: expected a number > 0 \(got 0\)"):
        load_drill(write(tmp_path, attack.replace("perMinute: 12", "perMinute: 0"), "bad.yaml"))


RECONCILE = """
name: reconcile
start: "2026-07-01T10:15:00+05:30"
minutes: 90
traffic: school-day
faults:
  - {kind: function-errors, target: hasivu-production-payments-reconcile, rate: 1, at: 10, for: 10}
expect:
  clears: [{alarm: "production-payments-reconcile-run-failed", by: BY}]
"""


def test_clears_holds_an_alarm_to_be_out_of_alarm_from_a_minute_on(tmp_path, platform):
    """The 10:30 run fails, the 11:30 run (minute 75) succeeds: cleared by minute 76, not by 70."""
    cleared = run_drill(load_drill(write(tmp_path, RECONCILE.replace("BY", "76"))), platform)
    assert cleared.passed, cleared.failures
    held = run_drill(load_drill(write(tmp_path, RECONCILE.replace("BY", "70"), "held.yaml")), platform)
    assert held.failures == ["clears production-payments-reconcile-run-failed by minute 70: "
                             "production-payments-reconcile-run-failed (in ALARM at minute 70)"]
    never = run_drill(load_drill(write(tmp_path, RECONCILE.replace("BY", "70").replace(
        "run-failed", "throttles"), "never.yaml")), platform)
    assert never.failures == ["clears production-payments-reconcile-throttles: never in ALARM, nothing to clear"]
    with pytest.raises(DrillError, match=r"expect\.clears\[0\]\.by: expected an integer 0-90"):
        load_drill(write(tmp_path, RECONCILE.replace("BY", "soon"), "bad.yaml"))


@pytest.mark.parametrize(("fault", "message"), [
    ("{kind: datastore-metrics, target: hasivu-production-db, set: {CPUUtilization: 97}, at: 10, for: 20}", None),
    ("{kind: datastore-metrics, target: nowhere-db, set: {CPUUtilization: 97}, at: 10, for: 20}",
     r"faults\[0\]\.target: expected an RDS instance or cache node of the stack, one of hasivu-production-db, "),
    ("{kind: datastore-metrics, target: hasivu-production-db, set: {Evictions: 500}, at: 10, for: 20}",
     r"faults\[0\]\.set: expected metrics hasivu-production-db publishes \(CPUUtilization, .*\); got Evictions"),
    ("{kind: datastore-metrics, target: hasivu-production-db, set: {CPUUtilisation: 97}, at: 10, for: 20}",
     r"faults\[0\]\.set: expected a mapping of metric name: value in the unit AWS publishes, >= 0, of "),
])
def test_datastore_metrics_set_what_the_instance_publishes(tmp_path, platform, fault, message):
    """`datastore-metrics`: the instance or node publishes the given values instead of the load's."""
    text = THROTTLED.replace("{kind: function-throttles, target: hasivu-production-payments-verify, rate: 0.6, "
                             "at: 10, for: 20}", fault).replace("ALARM_NAME", "production-db-cpu")
    path = write(tmp_path, text)
    if message is None:
        result = run_drill(load_drill(path), platform)
        cpu = next(k for k in result.store.keys()
                   if k[1] == "CPUUtilization" and ("DBInstanceIdentifier", "hasivu-production-db") in k[2])
        assert result.store.datapoint(cpu, "Average", result.start_minute + 20, 60) == 97
        assert result.store.datapoint(cpu, "Average", result.start_minute + 5, 60) < 80
        return
    with pytest.raises(DrillError, match=message):
        run_drill(load_drill(path), platform)
