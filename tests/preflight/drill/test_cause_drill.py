"""The probable-cause drill (drills/causes/): Redis down on a stack whose critical tier posts to Slack.

The cache connectivity alarm (2 of 3 one-minute health checks failing) enters ALARM at minute 32 for a
fault from minute 30, and its pager pages critical at once (a cause's pager is held by nothing,
components/alarms/composites.py). The page is rendered by the forwarder's own code from the composite's
notification, with DescribeAlarms answered from the CloudWatch model, and the forwarder's causes read
from its Lambda environment as the program registered it: the page's first line names Redis as the
probable cause. The login errors and API 5XX it causes enter ALARM a minute later.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from observability.page_causes import PAGE_CAUSES
from preflight.drill.drill_file import DrillError, drill_paths, load_drill
from preflight.drill.runner import DrillResult, run_drill
from preflight.emulator.platform import Platform
from tests.support.stack import REPO

DRILL = REPO / "drills" / "causes" / "redis-down-pages-name-the-cache.yaml"
CACHE = "cause-drill-cache-connectivity"


@pytest.fixture(scope="module")
def platform() -> Platform:
    from preflight.drill.cli import drill_platform

    return drill_platform(load_drill(DRILL), "production", REPO)[1]


@pytest.fixture(scope="module")
def result(platform) -> DrillResult:
    return run_drill(load_drill(DRILL), platform)


def test_the_critical_forwarder_is_told_the_stacks_causes(platform):
    causes = json.loads(platform.forwarder_environments["critical"][PAGE_CAUSES])
    assert causes["alarmNamePrefix"] == "cause-drill-"
    assert list(causes["causes"].items())[:2] == [("cause-drill-database-connectivity", "Database unreachable"),
                                                  (CACHE, "Redis unreachable")]


def test_redis_down_pages_critical_once_naming_redis_first(result):
    assert result.passed, result.failures
    [page] = result.notifications
    assert (page["minute"], page["tier"]) == (32, "critical")
    lines = page["slack"].splitlines()
    # At minute 32 the cache alarm is the only one in ALARM; the errors it causes follow at minute 33.
    assert lines[0] == f":mag: *Probable cause:* Redis unreachable ({CACHE})"
    assert lines[1] == f":rotating_light: *{page['alarm']}* is *ALARM*"
    assert {t["alarm"] for t in result.transitions if t["minute"] == 33 and t["to"] == "ALARM"} >= {
        "cause-drill-auth-login-errors", "cause-drill-api-5xx-rate"}


def test_a_forwarder_not_told_the_causes_fails_the_expectation(platform):
    """A forwarder deployed without the variable posts no headline: the page names no probable cause."""
    mutated = copy.deepcopy(platform)
    del mutated.forwarder_environments["critical"][PAGE_CAUSES]
    result = run_drill(load_drill(DRILL), mutated)
    assert result.failures == [f"pageCause: the Slack page of {result.notifications[0]['alarm']} at minute 32 "
                               f"names no probable cause, expected {CACHE}"]
    assert not result.notifications[0]["slack"].startswith(":mag:")


def _variant(tmp_path: Path, page_cause: str) -> Path:
    """The drill with another `pageCause` line, beside a copy of its stack file."""
    stack = DRILL.parent / "Pulumi.cause-drill.yaml"
    (tmp_path / stack.name).write_text(stack.read_text())
    path = tmp_path / DRILL.name
    path.write_text(DRILL.read_text().replace(f'pageCause: "{CACHE}"', page_cause))
    return path


def test_a_page_whose_cause_is_another_alarm_fails(tmp_path: Path, platform):
    path = _variant(tmp_path, 'pageCause: "cause-drill-auth-*"')
    result = run_drill(load_drill(path), platform)
    assert result.failures == [f"pageCause: the Slack page of {result.notifications[0]['alarm']} at minute 32 "
                               f"names {CACHE} first, expected cause-drill-auth-*"]


@pytest.mark.parametrize(("new", "message"), [
    ("pageCause: [a]", "expect.pageCause: expected an alarm-name glob (got ['a'])"),
    ('pageCause: ""', "expect.pageCause: expected an alarm-name glob (got '')"),
])
def test_a_bad_page_cause_is_one_line(tmp_path: Path, new: str, message: str):
    path = _variant(tmp_path, new)
    with pytest.raises(DrillError) as error:
        load_drill(path)
    assert str(error.value) == f"{path}: {message}"


def test_a_page_cause_that_matches_no_alarm_is_a_bad_drill(tmp_path: Path, platform):
    path = _variant(tmp_path, 'pageCause: "cause-drill-redis-*"')
    with pytest.raises(DrillError, match=r"expect\.pageCause: expected an alarm-name glob that matches an alarm "
                                         r"of the stack \(got 'cause-drill-redis-\*'\)"):
        run_drill(load_drill(path), platform)


def test_drill_all_includes_the_cause_drill_and_no_stack_file():
    paths = drill_paths("all", REPO / "drills")
    assert DRILL in paths
    assert [p.name for p in paths if p.name.startswith("Pulumi.")] == []
