"""`--render DIR`: one self-contained HTML page per dashboard, its widgets on the 24-column grid
across the window, and an index. Each widget shows its title, kind, metrics and threshold lines, so
a reviewer sees the layout before anything is deployed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from preflight.model.stack import StackModel
from preflight.pictures.axes import number
from preflight.pictures.drawing import alarm_name, esc, frame, index, log_query, markdown, page

CSS = """
.widget ul { margin: 4px 0; padding-left: 18px; }
.threshold { border-top: 2px dashed #d13212; color: #d13212; font-size: 11px; margin-top: 6px; }
"""


def describe(row: Any) -> str:
    """One line of a metric widget as a reviewer reads it."""
    if not isinstance(row, list):
        return str(row)
    options = row[-1] if row and isinstance(row[-1], dict) else {}
    if options.get("expression"):
        return f"{options.get('label') or options.get('id') or 'expression'} = {options['expression']}"
    names = [v for v in row if isinstance(v, str)]
    dims = ", ".join(f"{names[i]}={names[i + 1]}" for i in range(2, len(names) - 1, 2))
    text = (f"{options['label']}: {names[1]}" if options.get("label")
            else f"{names[0]} {names[1]}" + (f" [{dims}]" if dims else ""))
    return text + (f" ({options['stat']})" if options.get("stat") else "") + (
        " (hidden)" if options.get("visible") is False else "")


def _widget(i: int, widget: dict[str, Any]) -> str:
    p = widget.get("properties", {})
    kind = widget.get("type")
    if kind == "metric":
        lines = "".join(f'<div class="threshold">{esc(t.get("label", "threshold"))}: {esc(number(t["value"]))}</div>'
                        for t in (p.get("annotations") or {}).get("horizontal", [])
                        if isinstance(t.get("value"), (int, float)))
        lines += "<ul>" + "".join(f"<li>{esc(describe(m))}</li>" for m in p.get("metrics", [])) + "</ul>"
        if p.get("setPeriodToTimeRange") is True:
            lines += f'<div class="note">one value over {esc(p.get("start") or "the dashboard range")}</div>'
        shown = "single value" if p.get("view") == "singleValue" else "metric"
        return frame(i, widget, f'<div class="body">{lines}</div>', shown)
    if kind == "alarm":
        names = "".join(f"<li>{esc(alarm_name(a))}</li>" for a in p.get("alarms", []))
        return frame(i, widget, f'<div class="body"><ul>{names}</ul></div>', "alarm")
    if kind == "log":
        return frame(i, widget, log_query(p), "log")
    return frame(i, widget, markdown(p.get("markdown") or ""))


def _page(name: str, body: dict[str, Any], stack: str) -> str:
    widgets = body.get("widgets", [])
    height = max((w.get("y", 0) + w.get("height", 6) for w in widgets), default=1)
    meta = f"{len(widgets)} widgets on 24 columns and {height} rows, stack {esc(stack)}"
    return page(name, meta, "".join(_widget(i, w) for i, w in enumerate(widgets)), CSS)


def render(model: StackModel, directory: Path, stack: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written, items = [], []
    for name, body in ((d.name, d.body) for d in model.dashboards):
        if body is None:
            items.append(f"<li>{esc(name)}: body unknown until deploy</li>")
            continue
        path = directory / f"{name}.html"
        path.write_text(_page(name, body, stack))
        written.append(path)
        items.append(f'<li><a href="{esc(path.name)}">{esc(name)}</a> ({len(body.get("widgets", []))} widgets)</li>')
    (directory / "index.html").write_text(index(stack, items))
    return written
