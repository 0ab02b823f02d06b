"""A fleet drill with more contributors in ALARM than a Slack page shows: 12 of 50 functions failing.

The forwarder shows 10 contributors per alarm and counts the rest ("and 2 more",
observability/slack_forwarder.py). DescribeAlarmContributors' API reference
(API_DescribeAlarmContributors.html) does not say in which order contributors come back, so the model
answers in a stable one (attributes sorted) and `pageNames` does not depend on it: it lists every
contributor the page reports, those the text names and those behind "and K more". The same drill file
must print the same result whatever Python's hash seed (docs/drills.md: "the same file gives
the same result").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.drill.drill_file import DrillError, load_drill
from preflight.drill.runner import run_drill
from preflight.emulator.platform import Platform
from tests.support.stack import REPO

STACK = REPO / "drills" / "fleet" / "Pulumi.fleet-drill.yaml"
FAILING = [f"FunctionName=hasivu-fleet-menu-list-{i:03d}" for i in range(3, 50, 4)]  # 12 of 50
ERRORS_ALARM = "fleet-drill-fleet-fleet-errors"
PAGER = "fleet-drill-warning-platform-pager"


def _drill(folder: Path, expect: str, name: str = "drill.yaml", faults: str = "") -> Path:
    (folder / STACK.name).write_text(STACK.read_text())
    faults = faults or "".join(
        f"  - {{kind: function-errors, target: {f.split('=')[1]}, rate: 1.0, at: 5, for: 15}}\n" for f in FAILING)
    path = folder / name
    path.write_text('name: twelve-of-50\nstart: "2026-07-01T19:00:00+05:30"\nminutes: 20\ntraffic: school-day\n'
                    "stack: Pulumi.fleet-drill.yaml\n"
                    "account:\n  functions: {prefix: hasivu-fleet-menu-list-, count: 50}\n"
                    f"faults:\n{faults}expect:\n  pages: {{critical: 0, warning: 1}}\n{expect}")
    return path


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Platform:
    from preflight.drill.cli import drill_platform

    return drill_platform(load_drill(_drill(tmp_path_factory.mktemp("fleet"), "")), "production", REPO)[1]


def _page_names(names: list[str]) -> str:
    return f"  pageNames: [{', '.join(names)}]\n"


@pytest.mark.slow
def test_the_same_drill_prints_the_same_json_whatever_the_hash_seed(tmp_path):
    """Set iteration order changes with PYTHONHASHSEED; nothing the drill prints may follow it."""
    path = _drill(tmp_path, "")
    outputs = []
    for seed in ("1", "2"):
        run = subprocess.run([sys.executable, "-m", "preflight", "drill", "--stack", "production", str(path),
                              "--json"], cwd=REPO, capture_output=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": seed})
        assert run.returncode == 0, run.stdout + run.stderr
        outputs.append(run.stdout)
    assert outputs[0].count(b'"contributor": "FunctionName=') == 12 and b" and 2 more" in outputs[0]
    assert outputs[0] == outputs[1]


def test_page_names_lists_every_contributor_in_alarm_also_those_behind_and_more(platform, tmp_path):
    result = run_drill(load_drill(_drill(tmp_path, _page_names(FAILING))), platform)
    assert result.passed, result.failures
    [page] = result.notifications
    # The model's DescribeAlarmContributors answer is in attribute order, so the first ten are shown.
    assert page["slack"].splitlines()[-1] == f"_In ALARM in {ERRORS_ALARM}:_ {', '.join(FAILING[:10])} and 2 more"
    moved = [t["contributor"] for t in result.transitions if "contributor" in t and t["to"] == "ALARM"]
    assert moved == FAILING  # one minute's contributor transitions in the order of their names


def test_page_names_missing_a_contributor_behind_and_more_fails(platform, tmp_path):
    result = run_drill(load_drill(_drill(tmp_path, _page_names(FAILING[:11]))), platform)
    assert result.failures == [
        f"pageNames: the Slack page of {PAGER} at minute 13 names {', '.join(FAILING[:10])} and 2 more "
        f"(in ALARM: {', '.join(FAILING)}), expected exactly {', '.join(FAILING[:11])}"]


def test_empty_page_names_means_the_page_names_no_contributor(platform, tmp_path):
    failing = run_drill(load_drill(_drill(tmp_path, "  pageNames: []\n")), platform)
    assert failing.failures == [
        f"pageNames: the Slack page of {PAGER} at minute 13 names {', '.join(FAILING[:10])} and 2 more "
        f"(in ALARM: {', '.join(FAILING)}), expected no contributor"]
    # A slow listed function pages the warning tier through its p99 alarm, which has no contributors.
    slow = "  - {kind: function-slow, target: hasivu-fleet-payments-verify, p99Ms: 20000, at: 5, for: 15}\n"
    quiet = run_drill(load_drill(_drill(tmp_path, "  pageNames: []\n", "slow.yaml", slow)), platform)
    assert quiet.passed, quiet.failures
    assert "_In ALARM in" not in quiet.notifications[0]["slack"]


@pytest.mark.parametrize(("expect", "message"), [
    ("  pageNames: [FunctionName=hasivu-fleet-menu-list-999]\n",
     "expect.pageNames[0]: expected FunctionName=<a function of the drill's stack and account> "
     "(got 'FunctionName=hasivu-fleet-menu-list-999')"),
    (f"  contributors: [{FAILING[0]}, FunctionName=hasivu-fleet-menu-list-51]\n",
     "expect.contributors[1]: expected FunctionName=<a function of the drill's stack and account> "
     "(got 'FunctionName=hasivu-fleet-menu-list-51')"),
    (f"  fires: [{{alarm: '{ERRORS_ALARM}', within: 5}}, {{alarm: 'fleet-drill-fleet-errors*', within: 5}}]\n",
     "expect.fires[1].alarm: expected an alarm-name glob that matches an alarm of the stack "
     "(got 'fleet-drill-fleet-errors*')"),
    ("  silent: ['fleet-drill-nothing-*']\n",
     "expect.silent[0]: expected an alarm-name glob that matches an alarm of the stack (got 'fleet-drill-nothing-*')"),
])
def test_an_expectation_naming_nothing_of_the_stack_is_a_bad_drill_file(platform, tmp_path, expect, message):
    """Like an unknown fault target: one line naming the exact key (the CLI exits 2), not a failed drill."""
    path = _drill(tmp_path, expect)
    with pytest.raises(DrillError) as error:
        run_drill(load_drill(path), platform)
    assert str(error.value) == f"{path}: {message}"


def test_an_account_on_a_stack_without_discovery_is_a_bad_drill_file(tmp_path):
    """Production's inventory lists its functions and discovers none: the account's functions could never
    join it, so the drill names `account.functions`, not the fault target that would fail later."""
    from preflight.drill.cli import drill_platform

    path = _drill(tmp_path, "")
    path.write_text(path.read_text().replace("stack: Pulumi.fleet-drill.yaml\n", ""))
    with pytest.raises(DrillError) as error:
        drill_platform(load_drill(path), "production", REPO)
    assert str(error.value) == (f"{path}: account.functions: expected a drill stack with inventory.discovery "
                                "(stack production has none, so no function of the account would join it)")


def test_the_headlines_count_of_symptoms_is_not_taken_for_hidden_contributors():
    """A big incident's headline ends "and 5 more" too (symptoms beyond the first 8); only the contributor
    lines' "and K more" counts contributors the page does not show."""
    from preflight.cloudwatch.cloudwatch import Notification
    from preflight.drill.runner import _page_names

    functions = [f.split("=")[1] for f in FAILING]
    page = Notification(20, PAGER, "warning", "ALARM", triggering=(ERRORS_ALARM,),
                        contributors_in_alarm={ERRORS_ALARM: tuple({"FunctionName": f} for f in functions)})
    text = "\n".join([":mag: *In ALARM:* " + ", ".join(f"symptom-{i}" for i in range(8)) + " and 5 more",
                      f":rotating_light: *{PAGER}* is *ALARM*",
                      f"_In ALARM in {ERRORS_ALARM}:_ {', '.join(FAILING[:10])} and 2 more"])
    said, failed = _page_names(page, text, set(FAILING), set(FAILING))
    assert failed == [], said
    assert said.endswith("and 2 more (in ALARM: " + ", ".join(sorted(FAILING)) + ")")
