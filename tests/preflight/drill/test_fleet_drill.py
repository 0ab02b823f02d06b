"""The fleet drill (drills/fleet/): 300 functions alarmed as one fleet, one of them failing.

The stack (drills/fleet/Pulumi.fleet-drill.yaml) puts the fleet on the warning tier (a fleet group's
default), which posts to Slack, and routes the fleet's alarms through the warning platform pager, so
the incident is one warning page. The fleet's errors alarm enters ALARM at the end of the third
failing minute (3 of 5 minutes above 5 errors; the fault starts at minute 10, so minutes 10, 11 and 12
breach: minute 13), and so does the pager; its actions wait 300 s for its hold ("warning claimed": a
critical incident or a scoped warning pager would claim the page) and go out at minute 18. The alarm's
contributors in ALARM name the function ("each returned time series becomes a contributor to the alarm",
Create_Metrics_Insights_Alarm.html; DescribeAlarmContributors lists "the current alarm contributors
that are in ALARM state", API_DescribeAlarmContributors.html), and the Slack page, rendered by the
forwarder's own code from the composite's notification, names it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from preflight.drill.drill_file import DrillError, drill_paths, load_drill
from preflight.drill.runner import DrillResult, run_drill
from preflight.emulator.platform import Platform
from preflight.program.engine import ProgramRun
from tests.support.stack import REPO, preflight_cli

DRILL = REPO / "drills" / "fleet" / "one-failing-function-among-300.yaml"
FAILING = "FunctionName=hasivu-fleet-menu-list-137"
ERRORS_ALARM = "fleet-drill-fleet-fleet-errors"


@pytest.fixture(scope="module")
def world() -> tuple[ProgramRun, Platform]:
    from preflight.drill.cli import drill_platform

    return drill_platform(load_drill(DRILL), "production", REPO)


@pytest.fixture(scope="module")
def platform(world) -> Platform:
    return world[1]


@pytest.fixture(scope="module")
def result(platform) -> DrillResult:
    return run_drill(load_drill(DRILL), platform)


def test_the_fleet_has_300_functions_and_one_errors_alarm_over_them(platform):
    drill = load_drill(DRILL)
    fleet = [f for f, group in platform.functions.items() if group == "fleet"]
    assert len(fleet) == 300 and set(fleet) == set(drill.account_functions)
    [errors] = [a for a in platform.alarms if a.name == ERRORS_ALARM]
    assert errors.insights is not None and errors.insights.group_by == ("FunctionName",)


@pytest.mark.slow
def test_one_failing_function_among_300_pages_once_and_is_the_only_contributor_named(result):
    assert result.passed, result.failures
    assert result.pages == {"critical": 0, "warning": 1, "business": 0}
    [page] = result.model.pages
    assert (page.minute, page.alarm) == (18, "fleet-drill-warning-platform-pager")
    assert page.members_in_alarm == (f"{ERRORS_ALARM} [{FAILING}]",)
    named = {t.contributor for t in result.model.transitions if t.contributor and t.to_state == "ALARM"}
    assert named == {FAILING}  # the other 299, and the one with a single error at minute 20, never


def test_the_slack_page_names_the_failing_function_and_no_other(result, platform):
    [notification] = result.notifications
    assert notification["slack"].splitlines() == [
        # The one metric alarm in ALARM (DescribeAlarms), named without the environment prefix; no cause.
        ":mag: *In ALARM:* fleet-fleet-errors",
        ":rotating_light: *fleet-drill-warning-platform-pager* is *ALARM*",
        "Pages the warning tier once per incident: one of its platform alarms is in ALARM. Impact: see the "
        "member alarms in ALARM (the notification's reason names them). Runbook: "
        "https://runbooks.hasivu.com/monitoring/composites#warning-platform-pager",
        f"_Reason:_ arn:aws:cloudwatch:ap-south-1:123456789012:alarm:{ERRORS_ALARM} transitioned to ALARM at "
        "Wednesday 01 July, 2026 13:43:00 UTC",  # minute 13 after 19:00 IST, when the pager entered ALARM
        f"_In ALARM in {ERRORS_ALARM}:_ {FAILING}"]


def test_the_pages_composite_notification_has_the_documented_fields(result, platform):
    """"Schema when a composite alarm changes state" (Notify_Users_Alarm_Changes.html) lists these keys."""
    from preflight.drill.slack_pages import composite_notification

    documented = {"AlarmName", "AlarmDescription", "AWSAccountId", "NewStateValue", "NewStateReason",
                  "StateChangeTime", "Region", "AlarmArn", "OKActions", "AlarmActions", "InsufficientDataActions",
                  "OldStateValue", "AlarmRule", "TriggeringChildren"}
    [page] = result.model.pages
    [pager] = [c for c in platform.composites if c.name == page.alarm]
    message = composite_notification(page, pager, result.start_minute + page.minute, platform.region)
    assert set(message) == documented
    assert message["TriggeringChildren"][0]["Arn"].endswith(f":alarm:{ERRORS_ALARM}")


def test_a_page_that_names_another_function_fails_the_drill(platform, tmp_path):
    """pageNames is exact: expecting another function of the fleet (the one with a single error) is a
    failure naming both."""
    (tmp_path / "Pulumi.fleet-drill.yaml").write_text((DRILL.parent / "Pulumi.fleet-drill.yaml").read_text())
    path = tmp_path / "drill.yaml"
    path.write_text(DRILL.read_text().replace("pageNames: [FunctionName=hasivu-fleet-menu-list-137]",
                                              "pageNames: [FunctionName=hasivu-fleet-menu-list-042]"))
    result = run_drill(load_drill(path), platform)
    assert result.failures == [
        f"pageNames: the Slack page of fleet-drill-warning-platform-pager at minute 18 names {FAILING}, "
        "expected exactly FunctionName=hasivu-fleet-menu-list-042"]


def test_the_fleet_graphs_draw_one_line_per_function_the_query_returns(world, result, tmp_path):
    """The Lambda dashboard's fleet widgets are Metrics Insights queries (worst 10): the failing function
    is the top line of the fleet's errors graph, not a graph reported as never published."""
    from preflight.pictures.drill_charts import render_drills

    pages = render_drills(world[0], [result], tmp_path, "fleet-drill")
    [lambda_page] = [p for p in pages if p.name.endswith("Lambda-Performance.html")]
    widget = lambda_page.read_text().split("<header>fleet: errors, worst 10</header>", 1)[1].split(
        '<div class="widget" ', 1)[0]
    lines = re.findall(r'<path class="series" d="[^"]*"[^>]*><title>([^<]*)</title>', widget)
    assert lines[0] == FAILING and len(lines) == 10
    assert 'class="no-data"' not in widget


def test_a_fleet_query_that_leaves_the_function_out_does_not_page(platform):
    """The model reads the query: exclude the failing function in WHERE and the fleet alarm never sees it."""
    mutated = copy.deepcopy(platform)
    [errors] = [a for a in mutated.alarms if a.name == ERRORS_ALARM]
    query = errors.props["metricQueries"][0]
    query["expression"] = query["expression"].replace(
        " WHERE ", " WHERE FunctionName != 'hasivu-fleet-menu-list-137' AND ", 1)
    errors.__dict__.pop("insights", None)  # the parsed query is cached on the definition
    result = run_drill(load_drill(DRILL), mutated)
    assert result.pages["warning"] == 0
    assert f"contributors in ALARM: expected exactly {FAILING}, got none" in result.failures
    assert "pageNames: no page reached a tier with a Slack forwarder (tiers with one: warning)" in result.failures


@pytest.mark.slow
def test_the_fleet_drill_runs_through_the_command_line_and_names_the_function(tmp_path):
    result = preflight_cli("drill", "--stack", "production", str(DRILL), "--render", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    # Drawn in a folder of its own stack, and the message says where to open it.
    assert result.stderr.endswith(f"; open {tmp_path / 'fleet-drill' / 'index.html'}\n")
    assert (tmp_path / "fleet-drill" / "index.html").is_file()
    assert f"fleet-drill-warning-platform-pager  (in ALARM: {ERRORS_ALARM} [{FAILING}])" in result.stdout
    assert f"      slack: _In ALARM in {ERRORS_ALARM}:_ {FAILING}\n" in result.stdout
    assert f"{ERRORS_ALARM} [{FAILING}]  OK -> ALARM" in result.stdout
    assert "1 out of 300 time series evaluated to ALARM" in result.stdout
    # The only OK notifications are the critical pagers' first evaluations, told apart from the drill's.
    assert ("pages: critical 0, warning 1, business 0; OK notifications 0 (and 5 in warm-up: the first evaluation "
            "of fleet-drill-critical-jobs-60m-pager, fleet-drill-critical-monitoring-pager, "
            "fleet-drill-critical-payments-pager, "
            "fleet-drill-critical-platform-pager, fleet-drill-critical-rfid-pager, INSUFFICIENT_DATA -> OK, "
            "runs its OK actions as for a newly created alarm)\n") in result.stdout
    assert "1 of 1 drills passed" in result.stdout


def test_drill_all_includes_the_fleet_drill_and_no_stack_file():
    paths = drill_paths("all", REPO / "drills")
    assert DRILL in paths and REPO / "drills" / "redis-down.yaml" in paths
    # Pulumi.fleet-drill.yaml sits beside the drill: a stack file, never read as a drill.
    assert [p.name for p in paths if p.name.startswith("Pulumi.")] == []


@pytest.mark.parametrize(("old", "new", "message"), [
    ("stack: Pulumi.fleet-drill.yaml", "stack: fleet.yml",
     "stack: expected a stack file Pulumi.<stack>.yaml beside the drill file (got 'fleet.yml')"),
    ("stack: Pulumi.fleet-drill.yaml", "stack: Pulumi.absent.yaml",
     "stack: expected a stack file beside the drill file"),
    ("count: 300}", "count: 0}", "account.functions.count: expected an integer 1-10000 (got 0)"),
    ("count: 300}", "count: 10001}", "account.functions.count: expected an integer 1-10000 (got 10001)"),
    ("functions: {prefix: hasivu-fleet-menu-list-, count: 300}", "functions: [a, b]",
     "account.functions: expected {prefix: <name prefix>, count: n}"),
    ("pageNames: [FunctionName=hasivu-fleet-menu-list-137]", "pageNames: hasivu-fleet-menu-list-137",
     "expect.pageNames: expected a list of contributors like FunctionName=<name> (got 'hasivu-fleet-menu-list-137')"),
])
def test_a_bad_stack_or_account_key_is_one_line(tmp_path: Path, old: str, new: str, message: str):
    (tmp_path / "Pulumi.fleet-drill.yaml").write_text((DRILL.parent / "Pulumi.fleet-drill.yaml").read_text())
    path = tmp_path / "drill.yaml"
    path.write_text(DRILL.read_text().replace(old, new))
    with pytest.raises(DrillError) as error:
        load_drill(path)
    assert str(error.value).startswith(f"{path}: {message}") and "\n" not in str(error.value)
