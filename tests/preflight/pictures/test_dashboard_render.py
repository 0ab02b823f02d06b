"""`--render DIR` pages, opened in a real headless Chromium: every widget is drawn on the grid across the
window, and no text is cut off."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.support.chromium import dump_dom, measure, screenshot
from tests.support.stack import preflight_cli

HEADER_RGB = (0x23, 0x2F, 0x3E)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render")
    result = preflight_cli("--stack", "production", "--no-policy", "--json", "--render", str(out))
    assert result.returncode == 0, result.stderr
    (out / "bodies.json").write_text(json.dumps({
        r["props"]["dashboardName"]: json.loads(r["props"]["dashboardBody"])
        for r in json.loads(result.stdout)["resources"] if r["type"] == "aws:cloudwatch/dashboard:Dashboard"}))
    return out


def test_index_links_the_five_pages(rendered: Path):
    index = (rendered / "index.html").read_text()
    assert len(re.findall(r'<a href="production-HASIVU-[A-Za-z-]+\.html">', index)) == 5


def test_every_widget_is_drawn_by_the_browser(rendered: Path, tmp_path: Path, chromium: str):
    bodies = json.loads((rendered / "bodies.json").read_text())
    for name, body in bodies.items():
        dom = dump_dom(rendered / f"{name}.html", tmp_path / "profile")
        drawn = re.findall(r'<div class="widget" data-widget="(\d+)" data-kind="(\w+)"', dom)
        assert len(drawn) == len(body["widgets"]), name
        assert [kind for _, kind in drawn] == [w["type"] for w in body["widgets"]]
        for widget in body["widgets"]:
            title = widget["properties"].get("title")
            if title:
                assert f"{html.escape(title, quote=False)}</header>" in dom, title


def test_screenshot_shows_the_widgets_on_the_grid(rendered: Path, tmp_path: Path, chromium: str):
    """The 24 columns span the window; each widget keeps its columns and its place among the rows, and
    its dark title bar is where the layout put it (text widgets have none, as on CloudWatch)."""
    body = json.loads((rendered / "bodies.json").read_text())["production-HASIVU-Executive-Overview"]
    page = rendered / "production-HASIVU-Executive-Overview.html"
    measured = measure(page, tmp_path / "profile", 1400)
    grid = measured["grid"]
    pitch = (grid["width"] + 4) / 24  # a column and the 4 px gap after it
    rects = {w["index"]: w["rect"] for w in measured["widgets"]}
    for i, widget in enumerate(body["widgets"]):
        rect = rects[i]
        assert abs(rect["left"] - (grid["left"] + widget["x"] * pitch)) < 1, widget
        assert abs(rect["width"] - (widget["width"] * pitch - 4)) < 1, widget
        for j, other in enumerate(body["widgets"]):
            if other["y"] == widget["y"]:
                assert rects[j]["top"] == rect["top"]
            elif other["y"] >= widget["y"] + widget["height"]:
                assert rects[j]["top"] >= rect["bottom"]
    # A window as tall as the page, so every widget is in the screenshot.
    height = int(max(r["bottom"] for r in rects.values())) + 20
    image = Image.open(screenshot(page, tmp_path / "profile", tmp_path / "executive.png", 1400, height)).convert("RGB")
    for i, widget in enumerate(body["widgets"]):
        corner = (int(rects[i]["left"]) + 6, int(rects[i]["top"]) + 4)
        assert (image.getpixel(corner) == HEADER_RGB) == (widget["type"] != "text"), (widget["properties"], corner)


@pytest.mark.parametrize("width", [1400, 1920])
def test_the_pages_use_the_whole_window_and_cut_no_text(rendered: Path, tmp_path: Path, width: int, chromium: str):
    bodies = json.loads((rendered / "bodies.json").read_text())
    for name in bodies:
        measured = measure(rendered / f"{name}.html", tmp_path / "profile", width)
        assert measured["grid"]["left"] <= 17 and measured["grid"]["right"] >= width - 17, (name, measured["grid"])
        cut = [(t["text"][:80], t["cut"]) for t in measured["texts"] if t["cut"]]
        assert cut == [], (name, cut[:5])
        assert all(q["fontSize"] <= 12 and q["fontWeight"] < 600 for q in measured["queries"])
