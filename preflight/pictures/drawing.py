"""What both kinds of picture share: the page, the dashboard's 24-column grid across the whole
window, a widget's frame and title, text and Logs Insights widgets, and the index page.

The grid keeps each widget's columns and rows, but a row grows when a widget's text needs more
room, so that no title, legend or name is ever cut off."""

from __future__ import annotations

import html
from typing import Any

COLUMNS = 24
ROW_PX = 28
GAP_PX = 4

CSS = f"""
body {{ font: 13px/1.35 system-ui, sans-serif; margin: 16px; background: #eef1f4; color: #16191f; }}
h1 {{ font-size: 20px; margin: 0 0 4px; overflow-wrap: anywhere; }}
.meta {{ color: #545b64; margin-bottom: 12px; }}
.grid {{ display: grid; grid-template-columns: repeat({COLUMNS}, minmax(0, 1fr));
  grid-auto-rows: minmax({ROW_PX}px, auto); gap: {GAP_PX}px; }}
.widget {{ box-sizing: border-box; min-width: 0; background: #fff; border: 1px solid #aab7b8;
  display: flex; flex-direction: column; }}
.widget > header {{ background: #232f3e; color: #fff; padding: 3px 6px; font-weight: 600;
  overflow-wrap: anywhere; }}
.widget > header .kind {{ float: right; font-weight: 400; color: #ffb84d; margin-left: 8px; }}
.body {{ padding: 4px 6px; flex: 1 1 auto; overflow-wrap: anywhere; }}
.text h2 {{ margin: 2px 0; font-size: 18px; }}
.text h3 {{ margin: 1px 0; font-size: 14px; }}
.text p {{ margin: 2px 0; }}
pre.query {{ margin: 0; font: 11px/1.4 ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere;
  color: #3b4550; }}
.note {{ color: #545b64; font-size: 11px; margin-top: 4px; }}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{css}</style></head>
<body><h1>{title}</h1><div class="meta">{meta}</div>
<div class="grid" id="grid">{widgets}</div></body></html>
"""

INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboards</title>
<style>body {{ font: 14px system-ui, sans-serif; margin: 24px; }} li {{ margin: 6px 0; }}</style></head>
<body><h1>Dashboards of {stack}</h1><ul>{items}</ul></body></html>
"""


def esc(value: Any) -> str:
    return html.escape(str(value))


def page(title: str, meta: str, widgets: str, css: str = "") -> str:
    """`meta` is HTML; the title is escaped here."""
    return PAGE.format(title=esc(title), meta=meta, widgets=widgets, css=CSS + css)


def index(stack: str, items: list[str]) -> str:
    """`items` are <li> elements."""
    return INDEX.format(stack=esc(stack), items="".join(items))


def title(widget: dict[str, Any]) -> str:
    p = widget.get("properties", {})
    heading = (p.get("markdown") or "").lstrip("#").strip().split("\n")[0]
    return str(p.get("title") or heading or widget.get("type", ""))


def frame(index_: int, widget: dict[str, Any], body: str, kind: str = "") -> str:
    """A widget on the grid: its columns and rows, its title bar (with `kind` on the right), `body`.
    A text widget has no title bar, as on a CloudWatch dashboard: its markdown is all it shows."""
    x, y = int(widget.get("x", 0)), int(widget.get("y", 0))
    w, h = int(widget.get("width", 6)), int(widget.get("height", 6))
    badge = f'<span class="kind">{esc(kind)}</span>' if kind else ""
    header = "" if widget.get("type") == "text" else f"<header>{badge}{esc(title(widget))}</header>"
    return (f'<div class="widget" data-widget="{index_}" data-kind="{esc(widget.get("type"))}" '
            f'style="grid-column: {x + 1} / span {w}; grid-row: {y + 1} / span {h}">{header}{body}</div>')


def markdown(text: str) -> str:
    """A text widget's markdown as the headings and paragraphs it holds (no inline formatting)."""
    parts = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        level = len(stripped) - len(stripped.lstrip("#"))
        tag = ("h2" if level == 1 else "h3") if level else "p"
        parts.append(f"<{tag}>{esc(stripped.lstrip('#').strip())}</{tag}>")
    return f'<div class="body text">{"".join(parts)}</div>'


def log_query(properties: dict[str, Any], note: str = "") -> str:
    """A Logs Insights widget: its query in small monospace type, wrapped to the widget."""
    extra = f'<div class="note">{esc(note)}</div>' if note else ""
    return f'<div class="body"><pre class="query">{esc(properties.get("query", ""))}</pre>{extra}</div>'


def alarm_name(arn: Any) -> str:
    return str(arn).split(":alarm:")[-1]
