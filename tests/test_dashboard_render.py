"""`--render DIR` pages, opened in a real headless Chromium: every widget is drawn, to scale."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.stack import preflight_cli

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEADER_RGB = (0x23, 0x2F, 0x3E)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    assert Path(CHROMIUM).exists(), "Chromium missing: scripts/test.sh installs it (scripts/system-packages.sh)"
    out = tmp_path_factory.mktemp("render")
    result = preflight_cli("--stack", "production", "--no-policy", "--json", "--render", str(out))
    assert result.returncode == 0, result.stderr
    (out / "bodies.json").write_text(json.dumps({
        r["props"]["dashboardName"]: json.loads(r["props"]["dashboardBody"])
        for r in json.loads(result.stdout)["resources"] if r["type"] == "aws:cloudwatch/dashboard:Dashboard"}))
    return out


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=90)


def test_index_links_the_five_pages(rendered: Path):
    index = (rendered / "index.html").read_text()
    assert len(re.findall(r'<a href="production-HASIVU-[A-Za-z-]+\.html">', index)) == 5


@pytest.mark.servers
def test_every_widget_is_drawn_by_the_browser(rendered: Path, tmp_path: Path):
    bodies = json.loads((rendered / "bodies.json").read_text())
    for name, body in bodies.items():
        dom = _chromium(tmp_path, "--dump-dom", (rendered / f"{name}.html").as_uri()).stdout
        drawn = re.findall(r'<div class="widget" data-widget="(\d+)" data-kind="(\w+)"', dom)
        assert len(drawn) == len(body["widgets"]), name
        assert [kind for _, kind in drawn] == [w["type"] for w in body["widgets"]]
        assert f'data-rendered="{len(body["widgets"])}"' in dom
        for widget in body["widgets"]:
            title = widget["properties"].get("title")
            if title:
                assert title.replace("&", "&amp;") in dom, title


@pytest.mark.servers
def test_screenshot_shows_the_widgets_on_the_grid(rendered: Path, tmp_path: Path):
    body = json.loads((rendered / "bodies.json").read_text())["production-HASIVU-Executive-Overview"]
    shot = tmp_path / "executive.png"
    _chromium(tmp_path, "--window-size=1280,900", f"--screenshot={shot}",
              (rendered / "production-HASIVU-Executive-Overview.html").as_uri())
    image = Image.open(shot).convert("RGB")
    # Each widget has a dark title bar at its top-left corner on the grid (50 px a column, 28 px a row,
    # the grid 16 px in from the page edge plus the page heading).
    grid_top = next(y for y in range(image.height) if image.getpixel((20, y)) == HEADER_RGB)
    for widget in body["widgets"]:
        x = 16 + widget["x"] * 50 + 6
        y = grid_top + widget["y"] * 28 + 4
        assert image.getpixel((x, y)) == HEADER_RGB, (widget["properties"].get("title"), x, y)
    # Right of the 24-column grid nothing is drawn.
    assert image.getpixel((16 + 24 * 50 + 20, grid_top + 10)) != HEADER_RGB
