"""`report --drill FILE`: the SLA report over a drill's own span, from the drill's simulated metrics, and
its HTML checked in a real headless Chromium."""

from __future__ import annotations

import argparse
import itertools
import json
import re
from pathlib import Path

import pytest

from preflight.cli import main
from preflight.cloudwatch.store import metric_key
from preflight.report.cli import build, rendered
from preflight.report.render import document
from tests.support.chromium import dump_dom, measure, run_chromium
from tests.support.stack import REPO

DRILL = REPO / "drills" / "database-outage-of-nine-minutes.yaml"
STAGE = {"ApiName": "hasivu-production-api", "Stage": "prod"}


@pytest.fixture(scope="module")
def report():
    """PostgreSQL unreachable from minute 30 for 9 minutes of a 240-minute drill at lunch."""
    args = argparse.Namespace(stack="production", program=REPO, drill=DRILL, aws=False, month=None)
    model, data, figures = build(args)
    return {"model": model, "data": data, "figures": figures, "doc": document(model.stack, data, figures)}


def _slo(report, name: str) -> dict:
    return next(s for s in report["doc"]["slos"] if s["name"] == name)


def test_nine_bad_database_minutes_of_a_240_minute_drill(report):
    """100 x (1 - 9 / 240) = 96.25 % attained; the drill's budget is 0.1 % of 240 = 0.24 minutes, so 9 are
    3,750 % of it. The health report puts a day of the database down at Rs 450,000 and 12,000 users:
    9 minutes are Rs 450,000 x 9 / 1,440 = Rs 2,812.50."""
    database = _slo(report, "database")
    assert database["attained"] == 96.25
    assert database["budgetSpent"] == 3750
    assert database["over"]["what"] == "drill"
    assert database["badWindows"] == [{"start": "2026-07-01T07:00:00Z", "end": "2026-07-01T07:09:00Z", "minutes": 9,
                                       "badMinutes": 9, "revenueAtRiskInr": 2812.5, "usersAffected": 12000}]
    assert (database["revenueAtRiskInr"], database["usersAffected"]) == (2812.5, 12000)
    redis = _slo(report, "redis")
    assert (redis["attained"], redis["budgetSpent"], redis["badWindows"], redis["usersAffected"]) == (100, 0, [], 0)


def test_api_availability_is_the_5xx_share_of_the_stages_requests(report):
    """Every 5-minute window of a school-day lunch holds more than the 50-request guard, so the bad requests
    are all the 5XX errors the drill's stage answered, and the total all its requests."""
    api = _slo(report, "api-availability")
    store, window = report["data"].store, report["data"].window
    minutes = window.end_minute - window.start_minute

    def total(name: str) -> float:
        return store.window_statistic(metric_key("AWS/ApiGateway", name, STAGE), "Sum", window.start_minute, minutes)

    assert api["ignoredBadRequests"] == 0
    assert (api["badRequests"], api["requests"]) == (total("5XXError"), total("Count"))
    assert api["attained"] == pytest.approx(100 * (1 - total("5XXError") / total("Count")), abs=1e-6)
    # The outage's 5XX fill the two 5-minute windows from 12:30 IST; no other window misses 99.9 %.
    assert [(w["start"], w["end"]) for w in api["badWindows"]] == [("2026-07-01T07:00:00Z", "2026-07-01T07:10:00Z")]


def test_markdown_names_each_slo_and_its_bad_windows(report):
    text = rendered("md", report["model"], report["data"], report["figures"])
    assert "| database | period | 99.9 % | 96.2500 % (missed) | 3750.0 % | 9 minutes | 1 |" in text
    assert "| 2026-07-01 07:00 UTC (12:30 IST) | 2026-07-01 07:09 UTC (12:39 IST) | 9 | 9 minutes | " \
           "Rs 2,812.50 at risk, 12,000 users |" in text
    assert text.count("\n## ") == len(report["doc"]["slos"])


def test_the_json_output_is_the_document(report, capsys):
    assert main(["report", "--stack", "production", "--drill", str(DRILL), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(report["doc"]))


# -- the HTML in a real browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(report, tmp_path_factory, chromium) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(rendered("html", report["model"], report["data"], report["figures"]))
    return path


def test_the_page_renders_without_console_messages(page, tmp_path):
    """Chromium logs every console message of the page (`--enable-logging=stderr`) as `CONSOLE`."""
    run = run_chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--window-size=1400,1000", "--dump-dom",
                       page.as_uri())
    assert "SLA report" in run.stdout
    assert [line for line in run.stderr.splitlines() if ":CONSOLE" in line] == []


def test_each_slo_has_its_chart_with_its_bad_windows(report, page, tmp_path):
    measured = measure(page, tmp_path)
    slos = report["doc"]["slos"]
    assert len(measured["charts"]) == len(slos)
    for chart, slo in zip(measured["charts"], slos, strict=True):
        assert chart["plot"]["width"] > 800 and chart["plot"]["height"] >= 80, slo["name"]
        assert len(chart["y"]) >= 3 and len(chart["x"]) >= 3, slo["name"]
    # The bad windows drawn, per chart, as laid out in the DOM.
    dom = dump_dom(page, tmp_path)
    charts = re.findall(r'<div class="chart" data-slo="([^"]+)".*?</svg>', dom, re.S)
    drawn = {name: len(re.findall(r'class="bad-window"', body))
             for name, body in re.findall(r'<div class="chart" data-slo="([^"]+)"(.*?)</svg>', dom, re.S)}
    assert charts == [s["name"] for s in slos]
    assert drawn == {s["name"]: len(s["badWindows"]) for s in slos}
    assert drawn["database"] == 1 and drawn["redis"] == 0


def test_no_text_is_cut_off(page, tmp_path):
    cut = [(t["text"], t["cut"]) for t in measure(page, tmp_path, width=1000)["texts"] if t["cut"]]
    assert cut == []


def test_a_drill_of_odd_length_ends_its_last_window_with_the_drill(tmp_path):
    """A 37-minute drill is judged in 5-minute windows from its start; the last holds minutes 35 to 37.
    With the database down over its last 3 minutes, the API's bad windows are consecutive, merged into
    one from 12:30 IST to the drill's end, not two windows overlapping by three minutes."""
    drill = tmp_path / "tail.yaml"
    drill.write_text(TAIL)
    model, data, figures = build(argparse.Namespace(stack="production", program=REPO, drill=drill, aws=False,
                                                    month=None))
    doc = document(model.stack, data, figures)
    for slo in doc["slos"]:
        windows = [(w["start"], w["end"]) for w in slo["badWindows"]]
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(windows)), slo["name"]
        assert all(end <= "2026-07-01T07:07:00Z" for _, end in windows), slo["name"]
    api = next(s for s in doc["slos"] if s["name"] == "api-availability")
    assert [(w["start"], w["end"], w["minutes"]) for w in api["badWindows"]] == [
        ("2026-07-01T07:00:00Z", "2026-07-01T07:07:00Z", 7)]


TAIL = """\
name: database-down-at-the-end
description: The database unreachable over the last 3 minutes of a 37-minute drill.
start: "2026-07-01T12:00:00+05:30"
minutes: 37
traffic: school-day
faults:
  - {kind: dependency-down, target: database, at: 34, for: 3}
expect: {}
"""


MONTH = """\
name: november-with-three-outages
description: Thirty days from 1 November; the database down 20 minutes, Redis 45, Razorpay 90.
start: "2026-11-01T00:00:00+05:30"
minutes: 43200
traffic: school-day
faults:
  - {kind: dependency-down, target: database, at: 14460, for: 20}
  - {kind: dependency-down, target: redis, at: 25000, for: 45}
  - {kind: dependency-down, target: payment_gateway, at: 36000, for: 90}
expect: {}
"""


@pytest.mark.slow
def test_a_30_day_drill_gives_the_attainment_computed_by_hand(tmp_path):
    """30 days are 43,200 minutes. Each dependency's budget is its share of them: 43.2 minutes at 99.9 %
    (database), 216 at 99.5 % (Redis), 86.4 at 99.8 % (Razorpay). The health report puts a day of each down
    at Rs 450,000 x its revenue share (1, 0.1, 1) and 12,000 users x its users share (1, 0.3, 0.6)."""
    drill = tmp_path / "november.yaml"
    drill.write_text(MONTH)
    args = argparse.Namespace(stack="production", program=REPO, drill=drill, aws=False, month=None)
    model, data, figures = build(args)
    doc = document(model.stack, data, figures)
    assert doc["window"]["budgetMinutes"] == 43_200
    by_hand = {
        # name: (bad minutes, budget minutes, start, end, revenue at risk, users affected)
        "database": (20, 43.2, "2026-11-10T19:30:00Z", "2026-11-10T19:50:00Z", 450_000 * 20 / 1440, 12_000),
        "redis": (45, 216, "2026-11-18T03:10:00Z", "2026-11-18T03:55:00Z", 450_000 * 0.1 * 45 / 1440, 3_600),
        "payments": (90, 86.4, "2026-11-25T18:30:00Z", "2026-11-25T20:00:00Z", 450_000 * 90 / 1440, 7_200),
    }
    for name, (bad, budget, start, end, revenue, users) in by_hand.items():
        slo = next(s for s in doc["slos"] if s["name"] == name)
        assert slo["over"]["what"] == "drill", name
        assert slo["attained"] == pytest.approx(100 * (1 - bad / 43_200), abs=1e-6), name
        assert slo["budgetSpent"] == pytest.approx(100 * bad / budget, abs=1e-4), name
        assert slo["badWindows"] == [{"start": start, "end": end, "minutes": bad, "badMinutes": bad,
                                      "revenueAtRiskInr": revenue, "usersAffected": users}], name
    # No reader fault: every school minute of the month is good, the first minutes of each day included.
    rfid = next(s for s in doc["slos"] if s["name"] == "rfid")
    assert (rfid["attained"], rfid["badWindows"]) == (100, [])
    # 99.953704 % meets 99.9 %; Razorpay's 90 minutes spend more than its 86.4-minute budget.
    assert [s["name"] for s in doc["slos"] if s["kind"] == "period" and s["attained"] < s["target"]] == ["payments"]
