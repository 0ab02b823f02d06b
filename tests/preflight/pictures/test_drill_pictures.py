"""Drill pictures (`drill ... --render DIR`), laid out by a real headless Chromium: axes a person
reads at a glance, nothing cut off, the whole window used, and every empty line explained."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from preflight.drill.drill_file import load_drill
from preflight.drill.runner import run_drill
from preflight.emulator.platform import platform_from_run
from preflight.model.stack import build_model
from preflight.pictures.drill_charts import render_drills
from tests.support.chromium import measure
from tests.support.stack import REPO, run

DRILLS = REPO / "drills"
# Widgets whose lines are all percentages: a metric AWS or the runtime library publishes in Percent
# (CPUUtilization, EngineCPUUtilization, DatabaseMemoryUsagePercentage; SystemHealthScore), or metric
# math of the form 100 * a / b.
PERCENT_WIDGETS = {"CPU %", "hasivu-production-cache-001 engine CPU %", "hasivu-production-cache-002 engine CPU %",
                   "hasivu-production-cache-001 memory %", "hasivu-production-cache-002 memory %",
                   "hasivu-production-cache-001 hit rate %", "hasivu-production-cache-002 hit rate %",
                   "Payment success rate", "Order completion rate", "System health score",
                   "Payment failure rate %", "RFID verification rate %", "Failed logins % of attempts"}
TICK = re.compile(r"^-?\d+(\.\d+)?[kMG]?%?$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> dict[str, list[Path]]:
    """Per drill, its five pages: redis-down (12:00-14:00 IST), a quiet night, a normal school day."""
    program = run("production", preview=True)
    platform = platform_from_run(program)
    out = tmp_path_factory.mktemp("drills")
    results = [run_drill(load_drill(DRILLS / f"{name}.yaml"), platform)
               for name in ("redis-down", "quiet-night-sporadic-failures", "normal-school-day")]
    pages = render_drills(build_model(program), results, out, "production")
    return {r.drill.name: [p for p in pages if p.parent.name == r.drill.name] for r in results}


@pytest.fixture(scope="module")
def redis_down(drawn, tmp_path_factory, chromium) -> dict[str, dict]:
    profile = tmp_path_factory.mktemp("profile")
    return {p.stem.removeprefix("production-HASIVU-"): measure(p, profile) for p in drawn["redis-down"]}


def _titles(measured: dict) -> dict[int, str]:
    return {w["index"]: w["text"].split("\n", 1)[0] for w in measured["widgets"]}


def test_axes_have_round_ticks_in_k_m_notation_and_ist_clock_times(redis_down):
    charts = 0
    for page, measured in redis_down.items():
        for chart in measured["charts"]:
            charts += 1
            labels = [t["text"] for t in chart["y"]]
            assert len(labels) >= 3 and all(TICK.match(label) for label in labels), (page, labels)
            tops = [t["rect"]["top"] for t in chart["y"]]
            assert tops == sorted(tops, reverse=True), (page, labels)  # ascending values, bottom to top
            assert labels[0] in ("0", "0%"), (page, labels)
            clock = [t["text"] for t in chart["x"]]
            # The drill runs 12:00-14:00 IST: round half hours from its start to its end.
            assert clock == ["12:00", "12:30", "13:00", "13:30", "14:00"], (page, clock)
    assert charts > 60
    titles = _titles(redis_down["Database-Performance"])
    memory = next(c for c in redis_down["Database-Performance"]["charts"]
                  if titles[c["widget"]] == "Freeable memory (MiB)")
    # About 6,144 MiB: thousands, not 6.64e+03.
    assert [t["text"] for t in memory["y"]] == ["0", "2k", "4k", "6k", "8k"]


def test_percentage_charts_run_from_0_to_100(redis_down):
    seen = set()
    for measured in redis_down.values():
        titles = _titles(measured)
        for chart in measured["charts"]:
            title = titles[chart["widget"]]
            labels = [t["text"] for t in chart["y"]]
            if title in PERCENT_WIDGETS:
                seen.add(title)
                assert (chart["unit"], labels) == ("percent", ["0%", "25%", "50%", "75%", "100%"]), title
            else:
                assert chart["unit"] == "" and not any(label.endswith("%") for label in labels), title
    assert seen == PERCENT_WIDGETS


def test_ticks_stand_apart(redis_down):
    for page, measured in redis_down.items():
        for chart in measured["charts"]:
            for axis, ends in (("y", ("top", "bottom")), ("x", ("left", "right"))):
                rects = [t["rect"] for t in chart[axis]]
                for a, b in itertools.pairwise(rects):
                    first, second = (a, b) if a[ends[0]] <= b[ends[0]] else (b, a)
                    assert first[ends[1]] <= second[ends[0]] + 0.5, (page, axis, [t["text"] for t in chart[axis]])


@pytest.mark.parametrize("width", [1400, 1000])
def test_no_text_is_cut_off_and_every_name_is_whole(drawn, tmp_path, width, chromium):
    """Every text's laid-out box lies inside its widget, inside every box that clips, and inside the
    window; and the alarm names and line labels are there in full, not shortened."""
    for page in drawn["redis-down"]:
        measured = measure(page, tmp_path / "profile", width)
        cut = [(t["text"][:80], t["cut"]) for t in measured["texts"] if t["cut"]]
        assert cut == [], (page.name, width, cut[:5])
        html = page.read_text()
        for widget in measured["widgets"]:
            if widget["kind"] == "alarm":
                names = re.findall(r'<div class="name">([^<]*)</div>', html)
                assert "production-payment-system-health" in names
                for name in names:
                    assert name in widget["text"], name
    # The executive's alarm widget: the two status roll-ups, each name whole.
    executive = (drawn["redis-down"][0].parent / "production-HASIVU-Executive-Overview.html").read_text()
    assert re.findall(r'<div class="name">([^<]*)</div>', executive) == [
        "production-payment-system-health", "production-system-health"]


@pytest.mark.parametrize("width", [1400, 1920])
def test_pages_use_the_full_width_of_the_window(drawn, tmp_path, width, chromium):
    page = drawn["redis-down"][0].parent / "production-HASIVU-Database-Performance.html"
    measured = measure(page, tmp_path / "profile", width)
    grid = measured["grid"]
    assert grid["left"] <= 17 and grid["right"] >= width - 17, (width, grid)
    assert max(w["rect"]["right"] for w in measured["widgets"]) >= width - 17


def test_logs_insights_queries_are_small_plain_type(redis_down):
    queries = redis_down["Database-Performance"]["queries"] + redis_down["Lambda-Performance"]["queries"]
    assert len(queries) >= 4
    assert all(q["fontSize"] <= 12 and q["fontWeight"] < 600 for q in queries), queries


def _marks(pages: list[Path]) -> list[tuple[str, str]]:
    return [(production, re.sub(r"&[a-z]+;", "'", text)) for page in pages
            for production, text in re.findall(r'<p class="no-data" data-production="(\w+)">([^<]*)</p>',
                                               page.read_text())]


@pytest.mark.slow
def test_every_never_published_mark_names_the_metric_and_whether_production_publishes_it(drawn):
    day = _marks(drawn["normal-school-day"])
    # The API Gateway cache widget reads metrics a stage publishes only with API caching, which the
    # inventory does not declare: a dashboard defect the picture names.
    assert sorted(day) == [
        ("never", "AWS/ApiGateway CacheHitCount [ApiName=hasivu-production-api, Stage=prod]: no datapoint in this "
                  "drill, and production would not publish it either: API Gateway publishes it only for a stage "
                  "with API caching enabled, and the inventory declares no cache for the API"),
        ("never", "AWS/ApiGateway CacheMissCount [ApiName=hasivu-production-api, Stage=prod]: no datapoint in this "
                  "drill, and production would not publish it either: API Gateway publishes it only for a stage "
                  "with API caching enabled, and the inventory declares no cache for the API")]
    night = _marks(drawn["quiet-night-sporadic-failures"])
    # At night a rare function is never invoked: Lambda publishes its metrics only in minutes it runs.
    refund = [text for production, text in night if production == "publishes"
              and text.startswith("AWS/Lambda Duration [FunctionName=hasivu-production-payments-refund]")]
    assert refund == ["AWS/Lambda Duration [FunctionName=hasivu-production-payments-refund]: no datapoint in this "
                      "drill; production publishes it: Lambda publishes it for function "
                      "hasivu-production-payments-refund, every minute the function is invoked"]  # once, not per stat
    for production, text in day + night:
        assert re.match(r"^(AWS|HASIVU)/\w+ \w+", text), text
        assert ("production publishes it: " in text) == (production == "publishes"), text


@pytest.mark.slow
def test_the_redis_panels_move_with_the_outage(drawn):
    """The engine CPU line of each cache node drops for the outage (minutes 30-60 of 120, so x from
    250 to 500 of the plot's 1000) and comes back."""
    page = (drawn["redis-down"][0].parent / "production-HASIVU-Database-Performance.html").read_text()
    for node in ("hasivu-production-cache-001", "hasivu-production-cache-002"):
        widget = page.split(f"<header>{node} engine CPU %</header>", 1)[1].split('<div class="widget"', 1)[0]
        [path] = re.findall(r'<path class="series" d="([^"]+)"', widget)
        points = [(float(x), float(y)) for x, y in re.findall(r"([\d.]+),([\d.]+)", path)]
        before = [y for x, y in points if x < 250]
        during = [y for x, y in points if 300 <= x <= 500]
        after = [y for x, y in points if x > 560]
        # y grows downwards: during the outage the line is lower on the chart.
        assert min(during) > max(before) + 50 and max(after) < min(during) - 50, points


def test_the_pictures_document_shows_a_drill_page_before_and_after():
    from PIL import Image

    text = (REPO / "docs" / "pictures.md").read_text()
    images = re.findall(r"!\[[^\]]+\]\((images/[^)]+\.png)\)", text)
    assert sorted(images) == ["images/drill-redis-down-database-after.png",
                              "images/drill-redis-down-database-before.png"]
    for image in images:
        path = REPO / "docs" / image
        assert path.stat().st_size < 300_000, image
        assert Image.open(path).size[0] == 1400, image


def _tiles(page: Path) -> dict[str, list[str]]:
    """Per single-value widget of a drill page, its title and the full-precision values it shows."""
    tiles = {}
    for widget in page.read_text().split('<div class="widget"')[1:]:
        header = re.search(r"<header>(?:<span[^>]*>[^<]*</span>)?([^<]*)</header>", widget)
        values = re.findall(r'<div class="single-value" data-value="([^"]*)">', widget)
        if header and values:
            tiles[header.group(1)] = values
    return tiles


@pytest.mark.slow
def test_the_error_budget_tiles_of_a_nine_minute_database_outage(tmp_path):
    """The database is down from minute 30 for 9 minutes; the health monitor checks it once a minute
    from the simulation's start (60 minutes before the drill's), so 9 checks fail. The tiles' range is
    the 30 days to the drill's end; the minutes before the simulation have no check and spend nothing.
    The budget is 0.1 % of 43,200 minutes = 43.2 minutes: 9 spent leave 100 x (1 - 9 / 43.2) = 79.17 %,
    and 43,191 good minutes of 43,200 are 99.979 % attained."""
    program = run("production", preview=True)
    result = run_drill(load_drill(DRILLS / "database-outage-of-nine-minutes.yaml"), platform_from_run(program))
    [page] = [p for p in render_drills(build_model(program), [result], tmp_path, "production")
              if p.name == "production-HASIVU-Executive-Overview.html"]
    tiles = _tiles(page)
    assert [float(v) for v in tiles["database: error budget left (30 days)"]] == pytest.approx([79.1667], abs=1e-4)
    assert [float(v) for v in tiles["database: attainment (30 days)"]] == pytest.approx([99.97917], abs=1e-5)
    # Redis stayed up: its budget is whole.
    assert [float(v) for v in tiles["redis: error budget left (30 days)"]] == [100.0]
    assert "one value over the 30 days to 16:00 IST, of which the drill simulated the last 300 minutes" in \
        page.read_text()
