"""Opening rendered pages in a real headless Chromium: the DOM after layout, what the layout measured
(every text's box against the boxes that hold it), and screenshots."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

# Runs in the page after layout and leaves its findings in the DOM, which --dump-dom prints. For each
# text it takes the box of the text itself (a Range over the text node, as laid out, whether or not
# something clips it) and compares it with the box of its widget, of every ancestor that clips
# (overflow other than visible) and of the window: text outside any of them is cut off on screen.
MEASURE = r"""
<script>
(() => {
  const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height});
  const inside = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5
    && a.bottom <= b.bottom + 0.5;
  const shown = el => { for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e);
    if (s.display === "none" || s.visibility === "hidden") return false; } return true; };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || ["SCRIPT", "STYLE", "TITLE"].includes(el.tagName.toUpperCase())
        || !shown(el)) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    const cut = [];
    const widget = el.closest(".widget");
    if (widget && !inside(r, widget.getBoundingClientRect())) cut.push("outside its widget");
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if ((s.overflowX !== "visible" || s.overflowY !== "visible") && !inside(r, a.getBoundingClientRect()))
        cut.push("clipped by " + a.tagName.toLowerCase() + "." + (a.getAttribute("class") || ""));
    }
    if (r.left < -0.5 || r.right > innerWidth + 0.5) cut.push("outside the window");
    texts.push({text: node.textContent, cls: el.getAttribute("class") || "", tag: el.tagName.toLowerCase(),
      widget: widget ? +widget.dataset.widget : null, rect: box(r), cut: cut});
  }
  const grid = document.querySelector(".grid");
  const widgets = [...document.querySelectorAll(".widget")].map(w => ({index: +w.dataset.widget,
    kind: w.dataset.kind, rect: box(w.getBoundingClientRect()), text: w.innerText,
    header: w.querySelector("header") ? box(w.querySelector("header").getBoundingClientRect()) : null}));
  const charts = [...document.querySelectorAll(".chart")].map(c => ({
    widget: +c.closest(".widget").dataset.widget, unit: c.dataset.unit || "",
    plot: box(c.querySelector(".plot").getBoundingClientRect()),
    y: [...c.querySelectorAll(".y-tick")].map(t => ({text: t.textContent, rect: box(t.getBoundingClientRect())})),
    x: [...c.querySelectorAll(".x-tick")].filter(shown).map(t => ({text: t.textContent,
      rect: box(t.getBoundingClientRect())}))}));
  const queries = [...document.querySelectorAll(".widget[data-kind=log]")].map(w => {
    const q = [...w.querySelectorAll("*")].find(e => e.textContent.includes("SOURCE") && !e.children.length);
    const s = getComputedStyle(q); return {fontSize: parseFloat(s.fontSize), fontWeight: +s.fontWeight}; });
  const out = document.createElement("pre"); out.id = "measured"; out.hidden = true;
  out.textContent = JSON.stringify({window: innerWidth, grid: grid ? box(grid.getBoundingClientRect()) : null,
    widgets, texts, charts, queries});
  document.body.appendChild(out);
})();
</script>
"""


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def dump_dom(page: Path, profile: Path, width: int = 1400) -> str:
    return run_chromium(profile, f"--window-size={width},1000", "--dump-dom", page.as_uri()).stdout


def measure(page: Path, profile: Path, width: int = 1400) -> dict[str, Any]:
    """What Chromium laid out for `page` in a window `width` px wide (a copy beside it runs MEASURE)."""
    copy = page.with_name(f".measured-{page.name}")
    copy.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    dom = dump_dom(copy, profile, width)
    found = re.search(r'<pre id="measured" hidden="">(.*?)</pre>', dom, re.S)
    assert found, f"Chromium did not run the measurement on {page.name}: {dom[:300]}"
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, profile: Path, out: Path, width: int = 1400, height: int = 1000) -> Path:
    run_chromium(profile, f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri())
    return out
