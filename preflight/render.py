"""`--render DIR`: one self-contained HTML page per dashboard, drawn to scale on the 24-column grid,
and an index. Each widget shows its title, kind, metrics and threshold lines, so a reviewer sees
the layout before anything is deployed."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from preflight.engine import Registration
from preflight.props import COMPUTED, struct_to_props

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 13px/1.35 system-ui, sans-serif; margin: 16px; background: #eef1f4; color: #16191f; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }}
.meta {{ color: #545b64; margin-bottom: 12px; }}
.grid {{ position: relative; width: {grid_width}px; height: {grid_height}px;
  background-image: linear-gradient(to right, #dde3e9 1px, transparent 1px);
  background-size: {col}px 100%; }}
.widget {{ position: absolute; box-sizing: border-box; background: #ffffff; border: 1px solid #aab7b8;
  overflow: hidden; display: flex; flex-direction: column; }}
.widget header {{ background: #232f3e; color: #fff; padding: 3px 6px; font-weight: 600; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }}
.widget .kind {{ float: right; font-weight: 400; color: #ffb84d; margin-left: 6px; }}
.widget ul {{ margin: 4px 0; padding-left: 18px; }}
.widget .body {{ padding: 2px 6px; flex: 1; overflow: hidden; position: relative; }}
.threshold {{ border-top: 2px dashed #d13212; color: #d13212; font-size: 11px; margin-top: 6px; }}
.text {{ font-size: 15px; font-weight: 600; }}
code {{ font-size: 11px; }}
</style></head>
<body><h1>{title}</h1><div class="meta">{meta}</div>
<div class="grid" id="grid"></div>
<script id="dashboard" type="application/json">{body}</script>
<script>
const COL = {col}, ROW = {row};
const widgets = JSON.parse(document.getElementById("dashboard").textContent).widgets;
const grid = document.getElementById("grid");
function el(tag, cls, text) {{ const e = document.createElement(tag); if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text; return e; }}
function describe(row) {{
  if (!Array.isArray(row)) return String(row);
  const last = row[row.length - 1]; const opts = (last && typeof last === "object") ? last : {{}};
  if (opts.expression) return (opts.label || opts.id || "expression") + " = " + opts.expression;
  const names = row.filter(v => typeof v === "string");
  const dims = []; for (let i = 2; i + 1 < names.length; i += 2) dims.push(names[i] + "=" + names[i + 1]);
  return (opts.label ? opts.label + ": " + names[1] : names[0] + " " + names[1]
    + (dims.length ? " [" + dims.join(", ") + "]" : "")) + (opts.stat ? " (" + opts.stat + ")" : "")
    + (opts.visible === false ? " (hidden)" : "");
}}
widgets.forEach((w, i) => {{
  const p = w.properties || {{}};
  const box = el("div", "widget"); box.dataset.widget = i; box.dataset.kind = w.type;
  Object.assign(box.style, {{ left: (w.x * COL) + "px", top: (w.y * ROW) + "px",
    width: (w.width * COL - 4) + "px", height: (w.height * ROW - 4) + "px" }});
  const head = el("header", "", p.title || (p.markdown || "").replace(/^#+\\s*/, "").split("\\n")[0] || w.type);
  head.appendChild(el("span", "kind", w.type === "metric" && p.view === "singleValue" ? "single value" : w.type));
  box.appendChild(head);
  const body = el("div", "body");
  if (w.type === "metric") {{
    ((p.annotations || {{}}).horizontal || []).forEach(t =>
      body.appendChild(el("div", "threshold", (t.label || "threshold") + ": " + t.value)));
    const list = el("ul"); (p.metrics || []).forEach(m => list.appendChild(el("li", "", describe(m))));
    body.appendChild(list);
  }} else if (w.type === "alarm") {{
    const list = el("ul"); (p.alarms || []).forEach(a => list.appendChild(el("li", "", a.split(":alarm:").pop())));
    body.appendChild(list);
  }} else if (w.type === "log") {{
    body.appendChild(el("code", "", p.query));
  }} else if (w.type === "text") {{
    body.appendChild(el("div", "text", (p.markdown || "").replace(/^#+\\s*/gm, "")));
  }}
  box.appendChild(body); grid.appendChild(box);
}});
document.body.dataset.rendered = widgets.length;
</script></body></html>
"""

INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboards</title>
<style>body {{ font: 14px system-ui, sans-serif; margin: 24px; }} li {{ margin: 6px 0; }}</style></head>
<body><h1>Dashboards of {stack}</h1><ul>{items}</ul></body></html>
"""
COL_PX, ROW_PX = 50, 28


def dashboards(registrations: list[Registration]) -> list[tuple[str, dict[str, Any] | None]]:
    """(dashboard name, parsed body or None when the body is unknown in preview)."""
    found = []
    for r in registrations:
        if r.type != DASHBOARD:
            continue
        props = struct_to_props(r.object)
        name = props.get("dashboardName") if props.get("dashboardName") != COMPUTED else r.name
        body = props.get("dashboardBody")
        found.append((str(name), json.loads(body) if isinstance(body, str) and body != COMPUTED else None))
    return found


def _page(name: str, body: dict[str, Any], stack: str) -> str:
    widgets = body.get("widgets", [])
    height = max((w.get("y", 0) + w.get("height", 6) for w in widgets), default=1)
    data = json.dumps(body).replace("</", "<\\/")
    meta = (f"{len(widgets)} widgets, {height} rows, stack {html.escape(stack)}; "
            f"1 column = {COL_PX}px, 1 row = {ROW_PX}px")
    return PAGE.format(title=html.escape(name), meta=meta, body=data, col=COL_PX, row=ROW_PX,
                       grid_width=24 * COL_PX, grid_height=height * ROW_PX)


def render(registrations: list[Registration], directory: Path, stack: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written, items = [], []
    for name, body in dashboards(registrations):
        if body is None:
            items.append(f"<li>{html.escape(name)}: body unknown until deploy</li>")
            continue
        path = directory / f"{name}.html"
        path.write_text(_page(name, body, stack))
        written.append(path)
        items.append(f'<li><a href="{html.escape(path.name)}">{html.escape(name)}</a> '
                     f"({len(body.get('widgets', []))} widgets)</li>")
    (directory / "index.html").write_text(INDEX.format(stack=html.escape(stack), items="".join(items)))
    return written
