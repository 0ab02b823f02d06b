"""The report as one self-contained HTML page: per SLO its figures and an SVG chart of the bad minutes
(or bad requests) across the window, with each bad window as a red band. Drawn with the drill pictures'
page, widget frame, chart layout and scales (preflight/pictures), so it reads as they do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from preflight.pictures.axes import clock_ticks, value_scale
from preflight.pictures.drawing import esc, frame, page
from preflight.pictures.drill_charts import BOX, CSS, PLOT_MIN_PX, TICK_SPACING_PX
from preflight.report.data import ReportData
from preflight.report.measure import SloFigures
from preflight.report.render import document, over_text, percent_text

# A chart has at most this many bars: a month of minutes is drawn in hours.
MAX_BARS = 240
BUCKET_MINUTES = (1, 5, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_DATE_TICKS = 6
EXTRA_CSS = """
.summary { margin: 4px 8px; }
.summary .missed { color: #b0270f; font-weight: 600; }
.summary .met { color: #1d8102; font-weight: 600; }
.swatch.bad { height: 8px; border: 0; background: rgba(209, 50, 18, 0.35); }
.swatch.bar { height: 8px; border: 0; background: #1f77b4; }
"""


# Up to two days the time axis reads IST clock times; a longer window reads UTC dates.
CLOCK_AXIS_MINUTES = 2 * 1440


def _bucket(window_minutes: int, step: int) -> int:
    return next((b for b in BUCKET_MINUTES if b % step == 0 and window_minutes / b <= MAX_BARS), 1440)


def _x_ticks(start_minute: int, minutes: int) -> list[tuple[int, str]]:
    """IST clock times for up to two days, UTC dates beyond (a month is cut in UTC)."""
    start = dt.datetime.fromtimestamp(start_minute * 60, dt.UTC)
    if minutes <= CLOCK_AXIS_MINUTES:
        return clock_ticks(start, minutes)
    days = minutes // 1440
    step = next(s for s in (1, 2, 5, 7, 10, 15, 30) if days // s + 1 <= MAX_DATE_TICKS)
    return [(d * 1440, (start + dt.timedelta(days=d)).strftime("%b %-d")) for d in range(0, days + 1, step)]


def _per(minutes: int) -> str:
    return "minute" if minutes == 1 else f"{minutes} minutes"


def _x(minute: float, minutes: int) -> float:
    return BOX * minute / max(minutes, 1)


def chart(figures: SloFigures, data: ReportData) -> str:
    window = data.window
    minutes = window.end_minute - window.start_minute
    size = _bucket(minutes, figures.periods[0].minutes if figures.periods else 1)
    bars: dict[int, float] = {}
    for p in figures.periods:
        bucket = (p.start_minute - window.start_minute) // size
        bars[bucket] = bars.get(bucket, 0.0) + p.bad
    scale = value_scale(list(bars.values()), percent=False)
    shapes = [f'<line x1="0" x2="{BOX}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7eb" vector-effect="non-scaling-stroke"/>'
              for y in (BOX * (1 - scale.fraction(t)) for t in scale.ticks)]
    for bucket, value in sorted(bars.items()):
        if value <= 0:
            continue
        top = BOX * (1 - scale.fraction(value))
        shapes.append(f'<rect class="bar" x="{_x(bucket * size, minutes):.1f}" y="{top:.1f}" '
                      f'width="{max(_x(size, minutes), 1):.1f}" height="{BOX - top:.1f}" fill="#1f77b4"/>')
    for w in figures.windows:
        a, b = w.start_minute - window.start_minute, w.end_minute - window.start_minute
        shapes.append(f'<rect class="bad-window" x="{_x(a, minutes):.1f}" y="0" '
                      f'width="{max(_x(b - a, minutes), 2):.1f}" height="{BOX}" fill="rgba(209,50,18,0.25)">'
                      f'<title>bad {w.bad:g}</title></rect>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {BOX} {BOX}" preserveAspectRatio="none">'
           f'{"".join(shapes)}</svg>')
    sizers = "".join(f'<span class="sizer">{esc(label)}</span>' for label in scale.labels)
    y_ticks = "".join(f'<span class="y-tick" style="top:{100 * (1 - scale.fraction(t)):.3f}%">{esc(label)}</span>'
                      for t, label in zip(scale.ticks, scale.labels, strict=True))
    x_ticks = "".join(f'<span class="x-tick" style="left:{100 * m / max(minutes, 1):.3f}%">{esc(label)}</span>'
                      for m, label in _x_ticks(window.start_minute, minutes))
    rows = f"grid-template-rows: minmax({max(PLOT_MIN_PX, (len(scale.ticks) - 1) * TICK_SPACING_PX)}px, 1fr) 16px"
    unit = "minutes" if figures.period_based else "requests"
    legend = (f'<ul class="legend"><li><i class="swatch bar"></i>bad {unit} per {_per(size)}</li>'
              f'<li><i class="swatch bad"></i>bad windows: {len(figures.windows)}</li>'
              f'<li>time axis: {"IST" if minutes <= CLOCK_AXIS_MINUTES else "UTC dates"}</li></ul>')
    return (f'<div class="chart" data-slo="{esc(figures.slo["name"])}" data-bad-windows="{len(figures.windows)}" '
            f'style="{rows}"><div class="y-axis">{sizers}{y_ticks}</div><div class="plot">{svg}</div>'
            f'<div></div><div class="x-axis">{x_ticks}</div></div>{legend}')


def _summary(entry: dict[str, Any]) -> str:
    attained = entry["attained"]
    verdict = "" if attained is None else (
        '<span class="met">met</span>' if attained >= entry["target"] else '<span class="missed">missed</span>')
    parts = [f"target {entry['target']:g} %, attained {percent_text(attained)} {esc(over_text(entry))} {verdict}",
             f"error budget spent {percent_text(entry['budgetSpent'], 1)}"]
    if "revenueAtRiskInr" in entry:
        parts.append(f"revenue at risk Rs {entry['revenueAtRiskInr']:,.2f}, users affected {entry['usersAffected']:,}")
    return f'<p class="summary">{"; ".join(parts)}</p>'


def html(stack: str, data: ReportData, figures: list[SloFigures]) -> str:
    doc = document(stack, data, figures)
    widgets = []
    for i, (f, entry) in enumerate(zip(figures, doc["slos"], strict=True)):
        widget = {"type": "metric", "x": 0, "y": i * 8, "width": 24, "height": 8,
                  "properties": {"title": f"{entry['name']} ({entry['service']}, {entry['kind']}-based)"}}
        widgets.append(frame(i, widget, _summary(entry) + chart(f, data), "SLO"))
    window = doc["window"]
    meta = (f"{esc(doc['source'])}: {esc(window['start'])} to {esc(window['end'])}"
            f"{' (month in progress)' if window['inProgress'] else ''}; blue: bad {esc('minutes or requests')} "
            "per bar; red: the bad windows.")
    return page(f"SLA report {window['label']}: {stack}", meta, "".join(widgets), CSS + EXTRA_CSS)
