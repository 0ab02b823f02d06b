"""The drill coverage report: quiet on baselines, fires in a drill, can fire under the traffic, back to
OK within the tier's bound, a second incident heard; the allowlist that excuses, strictly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Optional

import pytest

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.drill.coverage.allowlist import Allowlist, load_allowlist
from preflight.drill.coverage.report import build_report
from preflight.drill.coverage.second_incident import second_incident, unrelated_outage
from preflight.drill.coverage.traffic import can_fire, unreachable
from preflight.drill.drill_file import DrillError, load_drill
from preflight.drill.runner import DrillResult, run_drill
from preflight.emulator.platform import Platform, platform_from_model
from preflight.model.stack import StackModel, build_model
from stackconfig.muting import Pager
from tests.support.stack import preflight_cli, run

LUNCH = """
name: NAME
start: "2026-07-01T12:00:00+05:30"
minutes: MINUTES
traffic: PROFILE
FAULTS
expect: {}
"""
ORDERS_FAILING = ("faults:\n"
                  "  - {kind: function-errors, target: hasivu-production-orders-create, rate: 0.5, at: 10, for: 10}")


def drill_text(name: str, minutes: int = 60, profile: str = "school-day", faults: str = "") -> str:
    return (LUNCH.replace("NAME", name).replace("MINUTES", str(minutes)).replace("PROFILE", profile)
            .replace("FAULTS", faults))


@pytest.fixture(scope="module")
def model() -> StackModel:
    return build_model(run("production", preview=True))


@pytest.fixture(scope="module")
def platform(model: StackModel) -> Platform:
    return platform_from_model(model)


def play(tmp_path: Path, platform: Platform, text: str) -> DrillResult:
    path = tmp_path / f"{abs(hash(text))}.yaml"
    path.write_text(text)
    return run_drill(load_drill(path), platform)


@pytest.fixture(scope="module")
def lunch(tmp_path_factory, platform) -> DrillResult:
    """A baseline: 90 minutes of a school day's lunch, nothing broken."""
    return play(tmp_path_factory.mktemp("lunch"), platform, drill_text("lunch", 90))


def alarm(platform: Platform, name: str) -> MetricAlarmDefinition:
    return next(a for a in platform.alarms if a.name == name)


def with_guard(definition: MetricAlarmDefinition, minimum: str) -> MetricAlarmDefinition:
    """A copy whose volume guard (`FILL(m2, 0) >= N`) asks for `minimum` instead."""
    changed = copy.deepcopy(definition)
    for query in changed.props["metricQueries"]:
        if query.get("expression", "").startswith("IF(FILL(m2, 0) >= "):
            guard = query["expression"].split(">= ", 1)[1].split(",", 1)[0]
            query["expression"] = query["expression"].replace(f">= {guard},", f">= {minimum},", 1)
    return changed


def test_a_volume_guard_above_the_busiest_window_cannot_fire(platform, lunch):
    """At lunch /rfid/verify serves every pickup: hundreds of requests per 5 minutes. A guard no window
    reaches leaves the alarm unable to fire, whatever the latency; one below the traffic can."""
    endpoint = alarm(platform, "production-api-rfid-verify-latency-p99")
    pickups = max(lunch.store.datapoint(next(k for k, s, p in endpoint.metrics.values() if k[1] == "Count"),
                                        "Sum", lunch.start_minute + end, 300) or 0 for end in range(5, 91, 5))
    assert pickups > 100
    never = can_fire(with_guard(endpoint, f"{pickups * 10:g}"), [lunch])
    assert [c.reachable for c in never] == [False]
    assert never[0].busiest <= pickups and never[0].needed == pickups * 10
    said = unreachable(never)
    assert said is not None and "Resource=/rfid/verify" in said and f"needs >= {pickups * 10:g}" in said
    reachable = can_fire(with_guard(endpoint, "10"), [lunch])
    assert [c.reachable for c in reachable] == [True] and unreachable(reachable) is None


def test_a_failure_count_is_bounded_by_the_traffic_it_counts(platform, lunch):
    """`Errors > N` a minute in 3 of 5 needs more than N invocations in 3 of 5 minutes even if all fail: the
    readers' heartbeats come once a minute from each of the 4 readers, over 2 but never over 5."""
    heartbeats = alarm(platform, "production-rfid-reader-heartbeat-errors")
    assert heartbeats.props["threshold"] == 2
    reachable = can_fire(heartbeats, [lunch])
    assert [c.reachable for c in reachable] == [True] and reachable[0].busiest == 4
    above = copy.deepcopy(heartbeats)
    above.props["threshold"] = 5
    never = can_fire(above, [lunch])
    assert [c.reachable for c in never] == [False] and never[0].busiest == 4
    assert "at most AWS/Lambda Invocations {FunctionName=hasivu-production-rfid-reader-heartbeat}" in never[0].what
    payments = can_fire(alarm(platform, "production-payments-create-order-errors"), [lunch])
    assert [c.reachable for c in payments] == [True] and payments[0].busiest > 5


def test_latency_gauge_and_silence_alarms_have_no_volume_to_check(platform, lunch):
    for name in ("production-db-cpu", "production-api-traffic-stopped", "production-security-failed-logins"):
        assert can_fire(alarm(platform, name), [lunch]) == []


def report(model, platform, results, allowlist=None):
    return build_report(model, platform, results, allowlist or Allowlist(Path("none.yaml")))


def misses(found, name: str) -> dict[str, str]:
    return {m.criterion: m.detail for a in found.alarms if a.name == name for m in a.misses}


@pytest.mark.slow
def test_an_alarm_in_alarm_on_a_baseline_is_not_quiet(tmp_path, model, platform):
    loud = copy.deepcopy(platform)
    alarm(loud, "production-api-latency-p99").props["threshold"] = 1
    baseline = play(tmp_path, loud, drill_text("lunch-baseline", 30))
    found = misses(report(model, loud, [baseline]), "production-api-latency-p99")
    assert found["quiet"].startswith("in ALARM at minute ")
    assert "lunch-baseline (school-day, no fault)" in found["quiet"]
    assert "quiet" not in misses(report(model, platform, [play(tmp_path, platform, drill_text("lunch-baseline", 30))]),
                                 "production-api-latency-p99")


@pytest.mark.slow
def test_recovery_is_judged_from_the_end_of_the_faults_against_the_tier_bound(tmp_path, model, platform):
    """The orders error rate (warning: 30 minutes) clears within minutes of the errors stopping; the same
    alarm holding 2 of 12 five-minute periods stays in ALARM for most of an hour after and misses."""
    name = "production-orders-create-error-rate"
    result = play(tmp_path, platform, drill_text("orders-failing", 90, faults=ORDERS_FAILING))
    covered = next(a for a in report(model, platform, [result]).alarms if a.name == name)
    assert covered.fired_in == ["orders-failing"]
    [recovered] = covered.recoveries
    assert recovered.judged and recovered.minutes is not None and recovered.minutes <= 30
    assert "recovers" not in misses(report(model, platform, [result]), name)
    holding = copy.deepcopy(platform)
    alarm(holding, name).props.update(evaluationPeriods=12, datapointsToAlarm=2)
    held = misses(report(model, holding, [play(tmp_path, holding, drill_text("orders-failing", 90,
                                                                            faults=ORDERS_FAILING))]), name)
    assert held["recovers"].startswith("not OK within 30 min (warning): orders-failing: ")
    short = play(tmp_path, holding, drill_text("orders-failing", 30, faults=ORDERS_FAILING))
    unjudged = misses(report(model, holding, [short]), name)
    assert unjudged["recovers"].startswith("never shown within a drill: orders-failing: still in ALARM at its end, "
                                           "10 min after every fault ended")


def tagged(name: str, service: str, tier: str = "warning") -> MetricAlarmDefinition:
    return MetricAlarmDefinition(name, {"tags": {"Tier": tier, "Service": service}, "evaluationPeriods": 1}, [], [])


def test_a_second_incident_is_heard_only_when_a_pager_can_still_page():
    """One pager over two services: the second incident joins an alarm already paging, nobody hears it.
    A pager per service: it pages. A suppressor (maintenance) is never taken for an incident."""
    alarms = [tagged("orders-errors", "orders"), tagged("menu-errors", "menu"), tagged("maintenance", "operations")]
    shared = [CompositeDefinition("pager", 'ALARM("orders-errors") OR ALARM("menu-errors")', ["warning"], [],
                                  "maintenance", 0, 0)]
    unheard = second_incident(alarms, shared, "warning", 15)
    assert [(p.first, p.second, p.reached) for p in unheard.pairs] == [
        ("orders-errors", "menu-errors", False), ("menu-errors", "orders-errors", False)]
    assert not unheard.reached and "e.g. menu-errors during orders-errors pages nobody" in unheard.summary()
    separate = [CompositeDefinition("orders-pager", 'ALARM("orders-errors")', ["warning"], []),
                CompositeDefinition("menu-pager", 'ALARM("menu-errors")', ["warning"], [])]
    assert second_incident(alarms[:2], separate, "warning", 15).reached
    # A page that comes only after the tier's detection target does not count.
    waiting = [CompositeDefinition(c.name, c.rule_text, ["warning"], [], "maintenance", 1200, 0) for c in separate]
    assert not second_incident(alarms, waiting, "warning", 15).reached


def test_an_outage_of_a_dependency_a_scope_does_not_use_must_not_hold_its_page():
    """Razorpay down (the critical payments pager) says nothing about the readers, which need the database
    only, nor about the cache: their warning pages must come. Held by every critical pager, they do not;
    held by what they use, they do. The database's outage is the readers' own: it is not paired with them."""
    alarms = [tagged("payments-connectivity", "payments", "critical"), tagged("db-connectivity", "db", "critical"),
              tagged("reader-silent", "rfid"), tagged("cache-slow", "redis")]
    pagers = [Pager("critical-payments-pager", "critical", "payments", False, 10),
              Pager("critical-database-pager", "critical", "database", False, 10),
              Pager("warning-rfid-pager", "warning", "rfid", False, 20),
              Pager("warning-redis-pager", "warning", "redis", False, 20)]
    critical = [CompositeDefinition("critical-payments-pager", 'ALARM("payments-connectivity")', ["critical"], []),
                CompositeDefinition("critical-database-pager", 'ALARM("db-connectivity")', ["critical"], []),
                CompositeDefinition("any-critical", 'ALARM("critical-payments-pager") OR '
                                    'ALARM("critical-database-pager")', [], [])]

    def warnings(rfid_hold: str, redis_hold: Optional[str]) -> list[CompositeDefinition]:
        return [CompositeDefinition("warning-rfid-pager", 'ALARM("reader-silent")', ["warning"], [], rfid_hold,
                                    300, 1200),
                CompositeDefinition("warning-redis-pager", 'ALARM("cache-slow")', ["warning"], [], redis_hold,
                                    300, 1200)]

    blanket = unrelated_outage(alarms, [*critical, *warnings("any-critical", "any-critical")], pagers, "warning", 15)
    assert [(p.first, p.second, p.reached) for p in blanket.pairs] == [
        ("db-connectivity", "cache-slow", False), ("payments-connectivity", "cache-slow", False),
        ("payments-connectivity", "reader-silent", False)]
    assert "e.g. cache-slow during db-connectivity pages nobody" in blanket.summary()
    scoped = unrelated_outage(alarms, [*critical, *warnings("critical-database-pager", None)],
                              pagers, "warning", 15)
    assert scoped.reached and len(scoped.pairs) == 3


ALLOWLIST = """
production:
  alarms:
    - alarm: "production-orders-create-*"
      criteria: [fires]
      reason: nothing in these drills breaks it
    - alarm: "production-nothing-*"
      criteria: [fires]
      reason: gone
  tiers:
    - {tier: warning, criteria: [second-incident], reason: one pager per tier}
"""


@pytest.mark.slow
def test_the_allowlist_excuses_only_its_criteria_and_reports_what_it_no_longer_excuses(tmp_path, model, platform):
    path = tmp_path / "coverage-allowlist.yaml"
    path.write_text(ALLOWLIST)
    allowlist = load_allowlist(path, "production")
    found = report(model, platform, [play(tmp_path, platform, drill_text("lunch-baseline", 30))], allowlist)
    errors = next(a for a in found.alarms if a.name == "production-orders-create-errors")
    assert set(errors.excused) == {"fires"} and errors.excused["fires"][1] == "nothing in these drills breaks it"
    assert "fires" not in {m.criterion for m in errors.unexcused}
    assert found.stale == ["production.alarms[1]: production-nothing-* matches no alarm of stack production"]
    assert found.tier_excused == {("warning", "second-incident"): ("production.tiers[0]", "one pager per tier")}
    assert not found.passed
    # Where the error rate fires it needs no excuse; the entry still excuses the orders alarms that do not.
    failing = report(model, platform, [play(tmp_path, platform, drill_text("orders", 60, faults=ORDERS_FAILING))],
                     allowlist)
    assert not next(a for a in failing.alarms if a.name == "production-orders-create-error-rate").excused
    assert next(a for a in failing.alarms if a.name == "production-orders-create-throttles").excused
    assert not any(line.startswith("production.alarms[0]") for line in failing.stale)
    # An entry for a criterion none of its alarms misses is reported, so the list only shrinks.
    path.write_text(ALLOWLIST.replace("criteria: [fires]\n      reason: nothing", "criteria: [quiet]\n      reason: "
                                                                                  "nothing"))
    stale = report(model, platform, [play(tmp_path, platform, drill_text("lunch-baseline", 30))],
                   load_allowlist(path, "production")).stale
    assert stale[0] == ("production.alarms[0]: no alarm matching production-orders-create-* misses quiet any more "
                        "(or an earlier entry excuses it)")


@pytest.mark.parametrize(("text", "message"), [
    ("production: [1]", "production: expected a mapping with alarms and/or tiers"),
    ("production:\n  alarms:\n    - {alarm: x, criteria: [fires]}", "production.alarms[0].reason: expected a value"),
    ("production:\n  alarms:\n    - {alarm: x, criteria: [loud], reason: r}",
     "production.alarms[0].criteria: expected a non-empty list of quiet, fires, can-fire, recovers"),
    ("production:\n  alarms:\n    - {alarm: x, criteria: [fires], reason: r, until: never}",
     "production.alarms[0].until: expected one of the keys alarm, criteria, reason"),
    ("production:\n  tiers:\n    - {tier: urgent, criteria: [second-incident], reason: r}",
     "production.tiers[0].tier: expected one of critical, warning, business"),
])
def test_a_bad_allowlist_is_one_line_naming_the_key(tmp_path, text, message):
    path = tmp_path / "coverage-allowlist.yaml"
    path.write_text(text)
    with pytest.raises(DrillError) as error:
        load_allowlist(path, "production")
    assert str(error.value).startswith(f"{path}: {message}") and "\n" not in str(error.value)


@pytest.mark.slow
def test_cli_coverage_reports_every_alarm_and_fails_until_each_miss_is_excused(tmp_path):
    folder = tmp_path / "suite"
    folder.mkdir()
    for profile in ("school-day", "school-night", "holiday"):
        (folder / f"{profile}.yaml").write_text(drill_text(f"quiet-{profile}", 30, profile))
    (folder / "orders.yaml").write_text(drill_text("orders-failing", 60, faults=ORDERS_FAILING))
    result = preflight_cli("drill", "--stack", "production", str(folder), "--coverage", "--json")
    assert result.returncode == 1, result.stderr
    coverage = json.loads(result.stdout)["coverage"]
    assert coverage["baselines"] == {"holiday": ["quiet-holiday"], "school-day": ["quiet-school-day"],
                                     "school-night": ["quiet-school-night"]}
    assert not coverage["passed"] and coverage["missingBaselines"] == []
    by_name = {a["name"]: a for a in coverage["alarms"]}
    assert by_name["production-orders-create-error-rate"]["firedIn"] == ["orders-failing"]
    assert by_name["production-critical-database-pager"]["composite"]
    assert {"fires"} <= {m["criterion"] for m in by_name["production-db-cpu"]["misses"]}
    assert [(t["tier"], t["criterion"]) for t in coverage["tiers"]] == [
        ("critical", "second-incident"), ("warning", "second-incident"), ("business", "second-incident"),
        ("warning", "unrelated-outage"), ("business", "unrelated-outage")]
    # Detection per tier, from each drill with faults: the orders error rate pages warning.
    orders = next(d for d in json.loads(result.stdout)["drills"] if d["name"] == "orders-failing")
    assert coverage["detection"]["warning"] == {"target": 15, "drills": {"orders-failing": orders["detectionMinutes"][
        "warning"]}, "overTarget": [] if orders["detectionMinutes"]["warning"] <= 15 else ["orders-failing"]}
    assert coverage["detection"]["critical"] == {"target": 5, "drills": {}, "overTarget": []}
    (folder / "coverage-allowlist.yaml").write_text("""
production:
  alarms:
    - {alarm: "production-*", criteria: [fires, can-fire], reason: a four-drill suite}
  tiers:
    - {tier: warning, criteria: [second-incident], reason: one pager per tier}
    - {tier: business, criteria: [second-incident], reason: one pager per tier}
""")
    clean = preflight_cli("drill", "--stack", "production", str(folder), "--coverage")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    lines = clean.stdout.splitlines()
    assert "4 of 4 drills passed" in lines and "  not covered and not allowlisted: 0" in lines
    assert lines[-1] == "  coverage: clean"
    assert any(line.startswith("    production-*  fires, can-fire  (") for line in lines)


def test_a_job_alarm_recovers_from_its_next_run_not_from_the_end_of_the_fault(tmp_path, model, platform):
    """A scheduled job's alarm keeps its state between runs (treat missing data as ignore): it can only
    clear at the next run, so its recovery is measured from that run's datapoint, an hour after the fault."""
    text = drill_text("reconcile", 120, faults="faults:\n  - {kind: function-errors, "
                      "target: hasivu-production-payments-reconcile, rate: 1, at: 25, for: 10}")
    result = play(tmp_path, platform, text.replace("12:00:00", "10:05:00"))
    covered = next(a for a in report(model, platform, [result]).alarms
                   if a.name == "production-payments-reconcile-run-failed")
    [recovered] = covered.recoveries
    assert recovered.judged and recovered.minutes == 0
    assert "its next datapoint after the faults (minute 86)" in recovered.detail
    assert not [m for m in covered.misses if m.criterion == "recovers"]
