"""`--render DIR`: one self-contained HTML page per dashboard, drawn to scale on the 24-column grid,
and an index. Each widget shows its title, kind, metrics and threshold lines, so a reviewer sees
the layout before anything is deployed."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from preflight.cloudwatch.series import Series
    from preflight.drill.runner import DrillResult
    from preflight.model.stack import StackModel


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


def _page(name: str, body: dict[str, Any], stack: str) -> str:
    widgets = body.get("widgets", [])
    height = max((w.get("y", 0) + w.get("height", 6) for w in widgets), default=1)
    data = json.dumps(body).replace("</", "<\\/")
    meta = (f"{len(widgets)} widgets, {height} rows, stack {html.escape(stack)}; "
            f"1 column = {COL_PX}px, 1 row = {ROW_PX}px")
    return PAGE.format(title=html.escape(name), meta=meta, body=data, col=COL_PX, row=ROW_PX,
                       grid_width=24 * COL_PX, grid_height=height * ROW_PX)


def render(model: StackModel, directory: Path, stack: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written, items = [], []
    for name, body in ((d.name, d.body) for d in model.dashboards):
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


# --- drills: the dashboards drawn with a drill's simulated series --------------------------------

DRILL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 12px/1.3 system-ui, sans-serif; margin: 16px; background: #eef1f4; color: #16191f; }}
h1 {{ font-size: 19px; margin: 0 0 4px; }}
.meta {{ color: #545b64; margin-bottom: 12px; }}
.grid {{ position: relative; width: {grid_width}px; height: {grid_height}px; }}
.widget {{ position: absolute; box-sizing: border-box; background: #fff; border: 1px solid #aab7b8;
  overflow: hidden; }}
.widget header {{ background: #232f3e; color: #fff; padding: 3px 6px; font-weight: 600; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }}
.widget .text {{ padding: 6px; font-size: 15px; font-weight: 600; }}
.legend {{ font-size: 10px; padding: 0 6px; white-space: nowrap; overflow: hidden; }}
.no-data {{ color: #d13212; font-weight: 600; }}
svg text {{ font: 10px system-ui, sans-serif; fill: #545b64; }}
</style></head>
<body><h1>{title}</h1><div class="meta">{meta}</div>
<div class="grid">{widgets}</div></body></html>
"""
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
BAND = "rgba(209,50,18,0.18)"


def _alarm_spans(result: DrillResult) -> dict[str, list[tuple[int, int]]]:
    """Per alarm, the drill minutes it spent in ALARM."""
    spans: dict[str, list[tuple[int, int]]] = {}
    since: dict[str, int] = {}
    for t in result.transitions:
        if t["to"] == "ALARM":
            since[t["alarm"]] = max(t["minute"], 0)
        elif t["from"] == "ALARM" and t["alarm"] in since:
            spans.setdefault(t["alarm"], []).append((since.pop(t["alarm"]), max(t["minute"], 0)))
    for alarm, start in since.items():
        spans.setdefault(alarm, []).append((start, result.drill.minutes))
    return spans


def _svg(series: list[Series], thresholds: list[dict[str, Any]], bands: list[tuple[int, int]], minutes: int,
         width: int, height: int) -> str:
    left, right, top, bottom = 40, 6, 6, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for _, v in s.points if v is not None]
    values += [float(t["value"]) for t in thresholds if isinstance(t.get("value"), (int, float))]
    high = max(values, default=1.0) or 1.0
    low = min(0.0, min(values, default=0.0))
    high = high + (high - low) * 0.08

    def x(minute: float) -> float:
        return left + plot_w * minute / max(minutes, 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - (value - low) / ((high - low) or 1))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafbfc" stroke="#d5dbdb"/>']
    for start, end in bands:
        parts.append(f'<rect class="alarm-band" x="{x(start):.1f}" y="{top}" width="{max(x(end) - x(start), 1):.1f}" '
                     f'height="{plot_h}" fill="{BAND}"><title>ALARM minutes {start}-{end}</title></rect>')
    for t in thresholds:
        if isinstance(t.get("value"), (int, float)):
            parts.append(f'<line class="threshold" x1="{left}" x2="{left + plot_w}" y1="{y(t["value"]):.1f}" '
                         f'y2="{y(t["value"]):.1f}" stroke="#d13212" stroke-dasharray="4 3">'
                         f'<title>{html.escape(str(t.get("label", "threshold")))}: {t["value"]}</title></line>')
    for i, s in enumerate(series):
        commands, pen_down = [], False
        for minute, value in s.points:
            if value is None:
                pen_down = False
                continue
            # A lone datapoint between gaps gets a 2 px stroke so it is visible.
            commands.append(f'L{x(minute):.1f},{y(value):.1f}' if pen_down else f'M{x(minute):.1f},{y(value):.1f} h2')
            pen_down = True
        if commands:
            color = COLORS[i % len(COLORS)]
            parts.append(f'<path class="series" d="{" ".join(commands)}" fill="none" stroke="{color}" '
                         f'stroke-width="1.5"><title>{html.escape(s.label)}</title></path>')
    parts.append(f'<text x="2" y="{top + 9}">{high:.3g}</text><text x="2" y="{top + plot_h}">{low:.3g}</text>')
    parts.append(f'<text x="{left}" y="{height - 3}">0</text>'
                 f'<text x="{left + plot_w - 40}" y="{height - 3}">{minutes} min</text></svg>')
    return "".join(parts)


def _drill_widget(index: int, widget: dict[str, Any], result: DrillResult, spans: dict[str, list[tuple[int, int]]],
                  by_key: dict[Any, list[str]]) -> str:
    from preflight.cloudwatch.series import widget_series

    p = widget.get("properties", {})
    w, h = widget.get("width", 6) * COL_PX - 4, widget.get("height", 6) * ROW_PX - 4
    title = p.get("title") or (p.get("markdown") or "").lstrip("#").strip().split("\n")[0] or widget.get("type", "")
    style = f"left:{widget.get('x', 0) * COL_PX}px;top:{widget.get('y', 0) * ROW_PX}px;width:{w}px;height:{h}px"
    body = ""
    if widget.get("type") == "metric":
        series = widget_series(p, result.store, result.start_minute, result.drill.minutes)
        alarms = sorted({a for s in series if s.key for a in by_key.get(s.key, ())})
        bands = [span for a in alarms for span in spans.get(a, [])]
        thresholds = list((p.get("annotations") or {}).get("horizontal", []))
        legend = " · ".join(f'<span style="color:{COLORS[i % len(COLORS)]}">{html.escape(s.label)}</span>'
                            for i, s in enumerate(series))
        if alarms:
            legend += " · alarms: " + ", ".join(html.escape(a) for a in alarms)
        graph = _svg(series, thresholds, bands, result.drill.minutes, w - 2, h - 40)
        if not any(v is not None for s in series for _, v in s.points):
            # Say so on the picture: a graph that stays empty in a drill stays empty in production.
            missing = ", ".join(sorted({f"{k[0]} {k[1]}" for k in (s.key for s in series) if k})) or "its lines"
            legend = f'<span class="no-data">no datapoints: {html.escape(missing)} never published</span>'
        body = graph + f'<div class="legend">{legend}</div>'
    elif widget.get("type") == "alarm":
        names = [str(a).split(":alarm:")[-1] for a in p.get("alarms", [])]
        rows = []
        for i, name in enumerate(names[: max(1, (h - 30) // 14)]):
            y0 = 4 + i * 14
            scale = (w - 170) / max(result.drill.minutes, 1)
            rects = "".join(f'<rect class="alarm-band" x="{160 + scale * s:.1f}" y="{y0}" '
                            f'width="{max(scale * (e - s), 1):.1f}" height="10" fill="#d13212"/>'
                            for s, e in spans.get(name, []))
            rows.append(f'<text x="2" y="{y0 + 9}">{html.escape(name[-28:])}</text>'
                        f'<rect x="160" y="{y0}" width="{w - 170}" height="10" fill="#e9f3e6"/>{rects}')
        body = f'<svg xmlns="http://www.w3.org/2000/svg" width="{w - 2}" height="{h - 24}">{"".join(rows)}</svg>'
    elif widget.get("type") == "text":
        body = f'<div class="text">{html.escape((p.get("markdown") or "").replace("#", "").strip())}</div>'
    else:
        body = f'<div class="text">{html.escape(str(p.get("query", "")))}</div>'
    return (f'<div class="widget" data-widget="{index}" data-kind="{html.escape(str(widget.get("type")))}" '
            f'style="{style}"><header>{html.escape(str(title))}</header>{body}</div>')


def render_drills(model: StackModel, results: list[DrillResult], directory: Path,
                  stack: str) -> list[Path]:
    """Per drill, DIR/<drill>/<dashboard>.html: every metric widget drawn with the drill's series, its
    threshold lines and the ALARM periods of the alarms on its metrics; an index links them all."""
    directory.mkdir(parents=True, exist_ok=True)
    written, items = [], []
    for result in results:
        folder = directory / result.drill.name
        folder.mkdir(exist_ok=True)
        spans = _alarm_spans(result)
        by_key: dict[Any, list[str]] = {}
        for alarm in result.model.alarms:
            for key, _, _ in alarm.metrics.values():
                by_key.setdefault(key, []).append(alarm.name)
        links = []
        for name, body in ((d.name, d.body) for d in model.dashboards):
            if body is None:
                continue
            widgets = body.get("widgets", [])
            height = max((w.get("y", 0) + w.get("height", 6) for w in widgets), default=1)
            meta = (f"drill {html.escape(result.drill.name)} ({'passed' if result.passed else 'FAILED'}), "
                    f"{result.drill.minutes} minutes from {result.drill.start.isoformat()}, "
                    f"stack {html.escape(stack)}; "
                    "red bands: alarms in ALARM; dashed lines: thresholds")
            page = DRILL_PAGE.format(title=html.escape(name), meta=meta, grid_width=24 * COL_PX,
                                     grid_height=height * ROW_PX,
                                     widgets="".join(_drill_widget(i, w, result, spans, by_key)
                                                     for i, w in enumerate(widgets)))
            path = folder / f"{name}.html"
            path.write_text(page)
            written.append(path)
            links.append(f'<a href="{html.escape(result.drill.name)}/{html.escape(path.name)}">{html.escape(name)}</a>')
        items.append(f"<li>{html.escape(result.drill.name)}: {', '.join(links)}</li>")
    (directory / "index.html").write_text(INDEX.format(stack=html.escape(stack), items="".join(items)))
    return written
