"""Monitoring that scales: fleet groups, constant-size dashboards, the config size limit, and the
pipelined preflight's verdicts."""

from __future__ import annotations

import dataclasses
import errno
import json
import shutil
import subprocess

import pytest
import yaml

from cloudwatch_rules.limits import MAX_BODY_BYTES, alarm_problems, dashboard_problems
from cloudwatch_rules.metrics_insights import parse
from hasivu_policy.coverage import fleet_covers
from preflight.model.stack import build_model
from preflight.preview.analyzer import analyze, run_and_analyze
from preflight.preview.cost import estimate, load_prices
from preflight.program.engine import run_program
from preflight.program.environment_limits import MAX_ARG_STRLEN, go_json
from preflight.program.stack_files import load_stack_files
from tests.support.fleet import INVENTORY, account_with, fleet_files, function_names
from tests.support.stack import PROGRAMS, REPO, of_type, preflight_cli, props, stack_files

PACK = REPO / "policy"
PRODUCTION_POLICY = PACK / "config" / "production.json"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


def _fleet_run(count: int, preview: bool = False):
    return run_program(fleet_files(), preview=preview, invokes=account_with(function_names(count)))


def _insights(alarm) -> list:
    return [parse(q["expression"]) for q in props(alarm).get("metricQueries", []) if q.get("expression")]


def test_a_fleet_group_gets_one_metrics_insights_alarm_per_metric_that_covers_each_of_its_functions():
    result = _fleet_run(300)
    alarms = of_type(result, ALARM)
    fleet = [a for a in alarms if props(a)["name"].startswith("production-fleet-platform-")]
    assert sorted(props(a)["name"] for a in fleet) == [
        "production-fleet-platform-duration-max", "production-fleet-platform-errors",
        "production-fleet-platform-throttles"]
    generated = function_names(300)
    per_function = {props(a).get("dimensions", {}).get("FunctionName") for a in alarms}
    assert not per_function & set(generated)
    for alarm in fleet:
        (query,) = _insights(alarm)
        assert query.group_by == ("FunctionName",) and query.returns_worst() and query.limit == 500
        assert all(query.matches({"FunctionName": name}) for name in generated)
        # The listed critical functions have their own alarms: the fleet leaves them out.
        assert not query.matches({"FunctionName": "hasivu-production-payments-verify"})
        # A function created after the deploy is a contributor too.
        assert query.matches({"FunctionName": "hasivu-production-brand-new"})
        assert alarm_problems(props(alarm)) == []


def test_dashboards_do_not_grow_with_the_fleet_and_pass_cloudwatchs_rules():
    small = {props(d)["dashboardName"]: props(d)["dashboardBody"] for d in of_type(_fleet_run(300), DASHBOARD)}
    large = {props(d)["dashboardName"]: props(d)["dashboardBody"] for d in of_type(_fleet_run(3000), DASHBOARD)}
    assert small == large
    for body in large.values():
        assert dashboard_problems(body) == [] and len(body.encode()) < MAX_BODY_BYTES


def test_five_thousand_functions_preview_without_a_mandatory_violation_and_are_priced_per_metric_analyzed():
    files = fleet_files()
    result, found = run_and_analyze(files, True, PACK, PRODUCTION_POLICY, account_with(function_names(5000)))
    assert [v for v in found if v.level == "mandatory"] == []
    cost = {line["item"]: line for line in estimate(build_model(result))["lines"]}
    insights = cost["Metrics Insights alarm metrics"]
    assert insights["quantity"] == 3 * 5000
    assert insights["unit_usd"] == load_prices()["prices"]["alarm_metric_metrics_insights"]["usd"]


def test_coverage_accepts_a_fleet_alarm_only_for_the_functions_its_query_admits():
    files = load_stack_files(PROGRAMS / "fleet_alarmed", "dev")
    for preview in (True, False):
        found = analyze(run_program(files, preview=preview), PACK, PRODUCTION_POLICY)
        coverage = [v for v in found if v.policy == "alarm-coverage"]
        assert [v.urn.rsplit("::", 1)[1] for v in coverage] == ["excluded-fn"], coverage


@pytest.mark.parametrize("change, problem", [
    ({"period": 10}, "multiple of 60"),
    ({"period": 600}, "3 hours"),
    ({"expression": "SELECT P99(Duration) FROM \"AWS/Lambda\""}, "not a valid Metrics Insights query"),
    ({"expression": "SELECT SUM(Errors) FROM \"AWS/Lambda\" WHERE " + " OR ".join(  # noqa: S608 - a CloudWatch query
        f"FunctionName = 'fn-{i}'" for i in range(100))}, "at most 2048"),
])
def test_metrics_insights_alarms_cloudwatch_would_reject_are_caught(change, problem):
    alarm = props(next(a for a in of_type(_fleet_run(10), ALARM) if "fleet" in props(a)["name"]
                       and props(a)["name"].endswith("errors")))
    alarm["evaluationPeriods"] = 20 if change.get("period") == 600 else alarm["evaluationPeriods"]
    alarm["metricQueries"] = [{**alarm["metricQueries"][0], **change}]
    assert any(problem in p for p in alarm_problems(alarm)), alarm_problems(alarm)


@pytest.mark.parametrize("program", ["production", "noncompliant"])
def test_pipelined_analysis_gives_the_sequential_verdicts(program):
    files = stack_files() if program == "production" else load_stack_files(PROGRAMS / program, "dev")
    sequential = analyze(run_program(files, preview=True), PACK, PRODUCTION_POLICY)
    _, pipelined = run_and_analyze(files, True, PACK, PRODUCTION_POLICY)
    # The same verdicts; their order follows registration order, which asyncio may interleave differently.
    assert sorted(pipelined, key=repr) == sorted(sequential, key=repr)
    assert program == "production" or [v for v in pipelined if v.level == "mandatory"]


def test_the_limit_is_the_kernels_for_one_environment_string():
    # What execve does with PULUMI_CONFIG one byte over MAX_ARG_STRLEN (NUL included), and at it.
    true = shutil.which("true")
    with pytest.raises(OSError) as refused:
        subprocess.run([true], env={"PULUMI_CONFIG": "x" * (MAX_ARG_STRLEN - len("PULUMI_CONFIG="))}, check=True)
    assert refused.value.errno == errno.E2BIG
    subprocess.run([true], env={"PULUMI_CONFIG": "x" * (MAX_ARG_STRLEN - len("PULUMI_CONFIG=") - 1)}, check=True)


def test_an_inventory_inlined_past_the_limit_is_one_line_naming_the_key(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    stack = load_stack_files(REPO, "production")
    inventory = json.loads(stack.config["hasivu-monitoring:inventory"])
    inventory["lambdaGroups"]["orders"]["functions"] = function_names(5000)
    doc = {"config": {**_yaml_config()["config"], "hasivu-monitoring:inventory": inventory}}
    (tmp_path / "Pulumi.big.yaml").write_text(json.dumps(doc))
    assert len(go_json({"k": json.dumps(inventory)})) > MAX_ARG_STRLEN
    result = preflight_cli("--program", str(tmp_path), "--stack", "big")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "PULUMI_CONFIG" in result.stderr and "hasivu-monitoring:inventory" in result.stderr
    assert "argument list too long" in result.stderr


def _yaml_config() -> dict:
    return yaml.safe_load((REPO / "Pulumi.production.yaml").read_text())


def test_the_account_check_counts_functions_under_a_catch_all_fleet_as_alarmed():
    from types import SimpleNamespace

    from preflight.account.preconditions import check_unlisted_functions

    # The account's ListFunctions answer (data only): the fleet's functions, none listed in the stack file.
    account = SimpleNamespace(functions=[{"FunctionName": name} for name in function_names(40)])
    fleet_view = build_model(_fleet_run(40))
    assert any(group.catch_all for group in fleet_view.settings.inventory.fleet_groups)
    assert check_unlisted_functions(account, fleet_view, REPO / "Pulumi.production.yaml") == []
    listed_view = build_model(run_program(stack_files(), preview=True))
    assert not listed_view.settings.inventory.fleet_groups
    unlisted = check_unlisted_functions(account, listed_view, REPO / "Pulumi.production.yaml")
    assert len(unlisted) == 40


def test_a_fleet_group_without_a_tier_pages_the_warning_tier():
    files = fleet_files()
    inventory = json.loads(files.config[INVENTORY])
    del inventory["lambdaGroups"]["platform"]["tier"]
    untiered = dataclasses.replace(files, config={**files.config, INVENTORY: json.dumps(inventory)})
    alarms = [props(a) for a in of_type(run_program(untiered, preview=False, invokes=account_with(function_names(5))),
                                        ALARM) if props(a)["name"].startswith("production-fleet-platform-")]
    assert len(alarms) == 3 and {a["tags"]["Tier"] for a in alarms} == {"warning"}


def test_the_catch_all_leaves_out_the_stacks_own_lambdas_and_is_priced_for_every_function_it_matches():
    own = ["production-hasivu-warning-slack-forwarder", "production-hasivu-health-monitor"]
    other_stack = ["billing-invoice-export", "hasivu-staging-menu-list"]
    result = run_program(fleet_files(), preview=False,
                         invokes=account_with(function_names(20) + other_stack + own))
    names = {props(f)["name"] for f in of_type(result, "aws:lambda/function:Function")}
    assert set(own) <= names, "the stack deploys these Lambdas itself"
    fleet = [a for a in of_type(result, ALARM) if props(a)["name"].startswith("production-fleet-platform-")]
    for alarm in fleet:
        (query,) = _insights(alarm)
        # The pack's own coverage test: the fleet does not claim them; their own alarms do.
        assert not any(fleet_covers(query, "AWS/Lambda", query.metric, {"FunctionName": n}) for n in own)
        assert all(query.matches({"FunctionName": n}) for n in function_names(20) + other_stack)
    # Billed per metric the query analyzes: the 22 known functions it matches, outside the prefix too.
    cost = {line["item"]: line for line in estimate(build_model(result))["lines"]}
    assert cost["Metrics Insights alarm metrics"]["quantity"] == 3 * 22
    assert result.outputs["discovery"] == {
        "functionPrefix": "hasivu-production-", "group": "platform", "accountFunctions": 24, "joinedGroup": 20,
        "stackOwn": 2, "outsidePrefix": 2, "outsidePrefixCoveredBy": "platform"}


def test_a_fleet_query_matching_over_10000_functions_is_one_line_naming_the_group(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copy(REPO / "drills" / "fleet" / "Pulumi.fleet-drill.yaml", tmp_path)
    names = tmp_path / "functions.txt"
    names.write_text("\n".join(f"hasivu-fleet-fn{i:05d}" for i in range(10_001)) + "\n")
    result = preflight_cli("--program", str(tmp_path), "--stack", "fleet-drill", "--no-policy",
                           "--functions", str(names))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "preflight: config hasivu-monitoring:inventory.lambdaGroups.fleet: fleet group fleet's query matches 10,001 "
        "known functions, one metric each; a Metrics Insights query matches at most 10,000 metrics (CloudWatch "
        "quotas): split the group, so that no fleet query selects more than that"]
