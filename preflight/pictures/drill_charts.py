"""`drill ... --render DIR`: per drill, DIR/<drill>/<dashboard>.html, every dashboard of the stack
drawn with the drill's simulated series: each metric widget a chart (round ticks in k/M notation,
percentages from 0 to 100, IST clock times), its thresholds, the fault's minutes and the ALARM
periods of the alarms on its metrics; alarm widgets as a timeline per alarm. A metric that has no
datapoint in the drill is named on its widget, with who would publish it in production (or that
nothing would: then the widget stays empty in production too)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from preflight.cloudwatch.insights import parse
from preflight.cloudwatch.series import (
    Series,
    insights_queries,
    is_whole_range,
    range_minutes,
    range_values,
    read_metrics,
    widget_series,
)
from preflight.cloudwatch.store import MetricKey, MetricStore
from preflight.drill.runner import CONDITIONS, DrillResult
from preflight.emulator.publishers import Publisher, publisher
from preflight.model.stack import StackModel
from preflight.pictures.axes import Scale, clock, clock_ticks, value_scale
from preflight.pictures.drawing import alarm_name, esc, frame, index, log_query, markdown, page

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
# The plot is drawn in a 1000 x 1000 box stretched over the chart; strokes keep their width.
BOX = 1000
# Metric math that scales a ratio by 100, like `100 * h / (h + m)`: a percentage.
PERCENT_MATH = re.compile(r"\b100\s*\*[^/]*/")
PLOT_MIN_PX = 80
TICK_SPACING_PX = 18

CSS = """
.chart { flex: 1 1 auto; display: grid; grid-template-columns: max-content minmax(0, 1fr);
  padding: 8px 20px 0 4px; }
.y-axis { position: relative; padding-right: 4px; font-size: 10px; color: #545b64; }
.y-axis .sizer { display: block; height: 0; visibility: hidden; white-space: nowrap; }
.y-tick { position: absolute; right: 4px; transform: translateY(-50%); white-space: nowrap; }
.plot { position: relative; border: 1px solid #d5dbdb; background: #fafbfc; }
.plot svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.x-axis { position: relative; font-size: 10px; color: #545b64; container-type: inline-size; }
.x-tick { position: absolute; top: 2px; transform: translateX(-50%); white-space: nowrap; }
@container (max-width: 220px) { .x-tick.minor { display: none; } }
.legend { list-style: none; margin: 3px 6px 4px; padding: 0; display: flex; flex-wrap: wrap; gap: 1px 12px;
  font-size: 11px; }
.legend li { min-width: 0; overflow-wrap: anywhere; }
.swatch { display: inline-block; width: 14px; height: 0; border-top: 2px solid; vertical-align: middle;
  margin-right: 4px; }
.swatch.threshold { border-top: 2px dashed #d13212; }
.swatch.alarm { height: 8px; border: 0; background: rgba(209, 50, 18, 0.35); }
.swatch.fault { height: 8px; border: 0; background: rgba(84, 91, 100, 0.22); }
.no-data { color: #b0270f; font-size: 11px; margin: 2px 6px 4px; overflow-wrap: anywhere; }
.timeline { display: grid; grid-template-columns: fit-content(45%) minmax(0, 1fr); gap: 3px 8px;
  padding: 6px 20px 4px 6px; font-size: 11px; align-items: center; }
.timeline .name { overflow-wrap: anywhere; }
.track { position: relative; height: 10px; background: #e9f3e6; }
.track .alarm-band { position: absolute; top: 0; bottom: 0; background: #d13212; }
.track .fault, .plot .fault { position: absolute; top: 0; bottom: 0; background: rgba(84, 91, 100, 0.22); }
.timeline .x-axis { height: 14px; }
.single-value { margin: 6px 8px 2px; }
.single-value .value { font-size: 28px; font-weight: 600; }
.single-value .label, .single-value .range { font-size: 11px; color: #545b64; overflow-wrap: anywhere; }
"""


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


def _faults(result: DrillResult) -> list[tuple[int, int, str]]:
    """(start, end, what) of each fault that is the incident, clipped to the drill."""
    shown = []
    for f in result.drill.faults:
        if f.kind in CONDITIONS:
            continue
        end = min(f.at + f.duration, result.drill.minutes)
        shown.append((f.at, end, f"{f.kind} {f.target or ''}".strip()))
    return shown


def _percent(x: float) -> str:
    return f"{max(0.0, min(100.0, x)):.3f}".rstrip("0").rstrip(".") + "%"


def _is_percentage(series: list[Series], store: MetricStore) -> bool:
    """Every line is a metric published in Percent, or metric math that scales a ratio by 100."""
    return bool(series) and all(
        (s.key is not None and store.units.get(s.key) == "Percent")
        or (s.key is None and s.expression is not None and PERCENT_MATH.search(s.expression) is not None)
        for s in series)


def _path(points: Iterable[tuple[int, float | None]], scale: Scale, minutes: int) -> str:
    commands, pen_down = [], False
    for minute, value in points:
        if value is None:
            pen_down = False
            continue
        x, y = BOX * minute / max(minutes, 1), BOX * (1 - scale.fraction(value))
        # A lone datapoint between gaps is drawn as a dot (a zero-length stroke with round caps).
        commands.append(f"L{x:.1f},{y:.1f}" if pen_down else f"M{x:.1f},{y:.1f} h0.01")
        pen_down = True
    return " ".join(commands)


def _x_axis(result: DrillResult) -> str:
    ticks = clock_ticks(result.drill.start, result.drill.minutes)
    # Of five ticks, every other one is minor: hidden where the axis is too narrow for all, leaving three.
    minor = len(ticks) >= 5
    return "".join(f'<span class="x-tick{" minor" if minor and n % 2 else ""}" '
                   f'style="left:{_percent(100 * m / max(result.drill.minutes, 1))}">{esc(label)}</span>'
                   for n, (m, label) in enumerate(ticks))


def _bands(spans: Iterable[tuple[int, int]], minutes: int, cls: str) -> str:
    return "".join(f'<div class="{cls}" style="left:{_percent(100 * a / max(minutes, 1))};'
                   f'width:{_percent(100 * max(b - a, 0.5) / max(minutes, 1))}"></div>' for a, b in spans)


def _chart(series: list[Series], thresholds: list[dict[str, Any]], bands: list[tuple[int, int]],
           result: DrillResult, percent: bool) -> str:
    minutes = result.drill.minutes
    values = [v for s in series for _, v in s.points if v is not None]
    values += [float(t["value"]) for t in thresholds]
    scale = value_scale(values, percent)
    shapes = [f'<line x1="0" x2="{BOX}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7eb" vector-effect="non-scaling-stroke"/>'
              for y in (BOX * (1 - scale.fraction(t)) for t in scale.ticks)]
    for start, end in bands:
        shapes.append(f'<rect class="alarm-band" x="{BOX * start / max(minutes, 1):.1f}" y="0" '
                      f'width="{max(BOX * (end - start) / max(minutes, 1), 1):.1f}" height="{BOX}" '
                      'fill="rgba(209,50,18,0.18)"/>')
    for t in thresholds:
        y = BOX * (1 - scale.fraction(float(t["value"])))
        shapes.append(f'<line class="threshold" x1="0" x2="{BOX}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d13212" '
                      'stroke-width="1.2" stroke-dasharray="5 4" vector-effect="non-scaling-stroke"/>')
    for i, s in enumerate(series):
        d = _path(s.points, scale, minutes)
        if d:
            shapes.append(f'<path class="series" d="{d}" fill="none" stroke="{COLORS[i % len(COLORS)]}" '
                          'stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round" '
                          f'vector-effect="non-scaling-stroke"><title>{esc(s.label)}</title></path>')
    sizers = "".join(f'<span class="sizer">{esc(label)}</span>' for label in scale.labels)
    ticks = "".join(f'<span class="y-tick" style="top:{_percent(100 * (1 - scale.fraction(t)))}">{esc(label)}</span>'
                    for t, label in zip(scale.ticks, scale.labels, strict=True))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {BOX} {BOX}" preserveAspectRatio="none">'
           f'{"".join(shapes)}</svg>')
    unit = ' data-unit="percent"' if percent else ""
    # The plot is tall enough for its value ticks to stand apart; the grid row grows if needed.
    rows = f"grid-template-rows: minmax({max(PLOT_MIN_PX, (len(scale.ticks) - 1) * TICK_SPACING_PX)}px, 1fr) 16px"
    return (f'<div class="chart"{unit} style="{rows}"><div class="y-axis">{sizers}{ticks}</div>'
            f'<div class="plot">{_bands(((a, b) for a, b, _ in _faults(result)), minutes, "fault")}{svg}</div>'
            f'<div></div><div class="x-axis">{_x_axis(result)}</div></div>')


def _metric_name(namespace: str, name: str, dims: dict[str, str]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(dims.items()))
    return f"{namespace} {name}" + (f" [{shown}]" if shown else "")


def _mark(what: str, who: Publisher) -> str:
    if who.publishes:
        text = f"{what}: no datapoint in this drill; production publishes it: {who.explanation}"
    else:
        text = f"{what}: no datapoint in this drill, and production would not publish it either: {who.explanation}"
    return f'<p class="no-data" data-production="{"publishes" if who.publishes else "never"}">{esc(text)}</p>'


def _has_data(store: MetricStore, key: MetricKey, start: int, end: int) -> bool:
    return any(start <= minute < end for minute in store.series.get(key, {}))


def _marks(properties: dict[str, Any], series: list[Series], result: DrillResult) -> list[str]:
    """Each metric the widget reads that has no datapoint in the drill, and who would publish it."""
    start, end = result.start_minute, result.start_minute + result.drill.minutes
    marks = []
    for key in dict.fromkeys(read_metrics(properties)):
        if not _has_data(result.store, key, start, end):
            dims = dict(key[2])
            marks.append(_mark(_metric_name(key[0], key[1], dims), publisher(result.platform, key[0], key[1], dims)))
    returned = {s.expression for s in series if s.key is None}
    for text in insights_queries(properties):
        if text in returned:
            continue
        query = parse(text)
        if query.schema == {"FunctionName"}:
            chosen = [f for f in result.platform.functions if query.matches({"FunctionName": f})]
            what = f"{query.namespace} {query.metric} per FunctionName ({len(chosen)} functions the query selects)"
            who = (publisher(result.platform, query.namespace, query.metric, {"FunctionName": chosen[0]}) if chosen
                   else Publisher(False, "no function of the inventory matches the query"))
        else:
            keys = ", ".join(sorted(query.schema or ())) or "any dimensions"
            what = f"{query.namespace} {query.metric} per {keys}"
            who = publisher(result.platform, query.namespace, query.metric, {})
        marks.append(_mark(what, who))
    return marks


def _span(minutes: int) -> str:
    return f"{minutes // 1440} days" if minutes % 1440 == 0 else f"{minutes} minutes"


def _value(value: Optional[float]) -> str:
    return "no value" if value is None else f"{value:,.2f}"


def _single_value(i: int, widget: dict[str, Any], result: DrillResult) -> str:
    """One value per line over the widget's whole range, which ends at the drill's end: the drill
    simulated only its last minutes, and the rest of the range has no datapoint."""
    p = widget.get("properties", {})
    end = result.start_minute + result.drill.minutes
    series = range_values(p, result.store, end, result.drill.minutes)
    firsts = [next(iter(result.store.series[key])) for key in read_metrics(p) if result.store.series.get(key)]
    simulated = f", of which the drill simulated the last {end - min(firsts)} minutes" if firsts else ""
    values = "".join(
        f'<div class="single-value" data-value="{"" if v is None else repr(v)}"><div class="value">{esc(_value(v))}'
        f'</div><div class="label">{esc(s.label)}</div></div>' for s in series for _, v in s.points)
    thresholds = "".join(f'<div class="range">{esc(t.get("label", "threshold"))}: {esc(_value(t["value"]))}</div>'
                         for t in (p.get("annotations") or {}).get("horizontal", [])
                         if isinstance(t.get("value"), (int, float)))
    shown = (f'<div class="range single-value">one value over the {_span(range_minutes(p, result.drill.minutes))} '
             f"to {clock(result.drill.start, result.drill.minutes)} IST{simulated}</div>")
    return frame(i, widget, values + thresholds + shown + "".join(_marks(p, series, result)))


def _metric_widget(i: int, widget: dict[str, Any], result: DrillResult, spans: dict[str, list[tuple[int, int]]],
                   alarms_of: dict[MetricKey, list[str]]) -> str:
    p = widget.get("properties", {})
    if is_whole_range(p):
        return _single_value(i, widget, result)
    series = widget_series(p, result.store, result.start_minute, result.drill.minutes)
    alarms = sorted({a for key in read_metrics(p) for a in alarms_of.get(key, ())})
    bands = [span for a in alarms for span in spans.get(a, [])]
    thresholds = [t for t in (p.get("annotations") or {}).get("horizontal", [])
                  if isinstance(t.get("value"), (int, float))]
    chart = _chart(series, thresholds, bands, result, _is_percentage(series, result.store))
    legend = [f'<li><i class="swatch" style="border-color:{COLORS[n % len(COLORS)]}"></i>{esc(s.label)}</li>'
              for n, s in enumerate(series)]
    legend += [f'<li><i class="swatch threshold"></i>{esc(t.get("label", "threshold"))}</li>' for t in thresholds]
    legend += [f'<li><i class="swatch fault"></i>{esc(what)} {clock(result.drill.start, a)}-'
               f'{clock(result.drill.start, b)}</li>' for a, b, what in _faults(result)]
    start = result.drill.start
    for alarm in alarms:
        if spans.get(alarm):
            when = ", ".join(f"{clock(start, a)}-{clock(start, b)}" for a, b in spans[alarm])
            legend.append(f'<li><i class="swatch alarm"></i>{esc(alarm)} in ALARM {when}</li>')
    calm = [a for a in alarms if not spans.get(a)]
    if calm:
        legend.append(f'<li>never in ALARM: {esc(", ".join(calm))}</li>')
    body = chart + f'<ul class="legend">{"".join(legend)}</ul>' + "".join(_marks(p, series, result))
    return frame(i, widget, body)


def _alarm_widget(i: int, widget: dict[str, Any], result: DrillResult, spans: dict[str, list[tuple[int, int]]]) -> str:
    minutes = result.drill.minutes
    faults = _bands(((a, b) for a, b, _ in _faults(result)), minutes, "fault")
    rows = [f'<div class="name">{esc(name)}</div><div class="track">{faults}'
            f'{_bands(spans.get(name, []), minutes, "alarm-band")}</div>'
            for name in (alarm_name(a) for a in widget.get("properties", {}).get("alarms", []))]
    rows.append(f'<div></div><div class="x-axis">{_x_axis(result)}</div>')
    return frame(i, widget, f'<div class="timeline">{"".join(rows)}</div>')


def _widget(i: int, widget: dict[str, Any], result: DrillResult, spans: dict[str, list[tuple[int, int]]],
            alarms_of: dict[MetricKey, list[str]]) -> str:
    kind, p = widget.get("type"), widget.get("properties", {})
    if kind == "metric":
        return _metric_widget(i, widget, result, spans, alarms_of)
    if kind == "alarm":
        return _alarm_widget(i, widget, result, spans)
    if kind == "log":
        return frame(i, widget, log_query(p, "Logs Insights: a drill simulates metrics, not log events."))
    return frame(i, widget, markdown(p.get("markdown") or ""))


def _meta(result: DrillResult, stack: str) -> str:
    start, minutes = result.drill.start, result.drill.minutes
    faults = "; ".join(f"{what} {clock(start, a)}-{clock(start, b)}" for a, b, what in _faults(result)) or "none"
    return (f"drill {esc(result.drill.name)} ({'passed' if result.passed else 'FAILED'}), "
            f"{start.strftime('%Y-%m-%d')} {clock(start, 0)}-{clock(start, minutes)} IST ({minutes} minutes), "
            f"stack {esc(stack)}. Grey: the fault ({esc(faults)}); red: alarms on the widget's metrics in ALARM; "
            "dashed red: thresholds.")


def render_drills(model: StackModel, results: list[DrillResult], directory: Path,
                  stack: str) -> list[Path]:
    """Per drill, DIR/<drill>/<dashboard>.html; an index links them all."""
    directory.mkdir(parents=True, exist_ok=True)
    written, items = [], []
    for result in results:
        folder = directory / result.drill.name
        folder.mkdir(exist_ok=True)
        spans = _alarm_spans(result)
        alarms_of: dict[MetricKey, list[str]] = {}
        for alarm in result.model.alarms:
            for key, _, _ in alarm.metrics.values():
                alarms_of.setdefault(key, []).append(alarm.name)
        links = []
        for name, body in ((d.name, d.body) for d in model.dashboards):
            if body is None:
                continue
            widgets = "".join(_widget(i, w, result, spans, alarms_of) for i, w in enumerate(body.get("widgets", [])))
            path = folder / f"{name}.html"
            path.write_text(page(name, _meta(result, stack), widgets, CSS))
            written.append(path)
            links.append(f'<a href="{esc(result.drill.name)}/{esc(path.name)}">{esc(name)}</a>')
        items.append(f"<li>{esc(result.drill.name)}: {', '.join(links)}</li>")
    (directory / "index.html").write_text(index(stack, items))
    return written
