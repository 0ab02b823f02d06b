"""The history report: a text summary for a person and the `--json` document (docs/history.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Optional, TextIO

from preflight.drill.drill_file import TIERS
from preflight.history.figures import NIGHT_ENDS, NIGHT_STARTS, AlarmFigures, Figures, ist
from preflight.history.history_file import History

# Alarms listed in the text report's headroom section (all of them in --json).
SHOWN = 10


@dataclasses.dataclass
class Report:
    history: History
    figures: Figures
    alarm_count: int
    composite_count: int
    flapping_limit: int
    # Sections the later steps add, each already as its JSON.
    incidents: Optional[dict[str, Any]] = None
    suggestions: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # alarm -> suggestion
    far: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # alarms that never came near
    fidelity: Optional[dict[str, Any]] = None
    fetch: Optional[dict[str, Any]] = None  # what the account fetch asked, its cost and the retention limits
    notes: list[str] = dataclasses.field(default_factory=list)


def _when(minute: int) -> str:
    return ist(minute).strftime("%Y-%m-%d %H:%M IST")


def _alarm_json(figure: AlarmFigures, report: Report) -> dict[str, Any]:
    days = report.figures.days
    shown: dict[str, Any] = {
        "name": figure.name, "kind": figure.kind, "tiers": list(figure.tiers),
        "minutesInAlarm": figure.minutes_in_alarm, "transitions": figure.transitions,
        "pages": figure.page_count, "held": figure.held,
        "pagesPerDay": {tier: round(n / days, 3) for tier, n in figure.pages.items()} if days else {},
        "flappingDays": figure.flapping_days,
        "noDataPeriods": figure.no_data_periods, "periods": figure.periods,
    }
    if figure.name in report.suggestions:
        shown["suggestion"] = report.suggestions[figure.name]
    return shown


def document(report: Report) -> dict[str, Any]:
    h, f = report.history, report.figures
    doc: dict[str, Any] = {
        "stack": h.stack,
        "source": h.source,
        "window": {"start": h.start.isoformat().replace("+00:00", "Z"), "end": h.end.isoformat().replace("+00:00", "Z"),
                   "days": round(f.days, 3)},
        "alarms": [_alarm_json(a, report) for a in f.alarms],
        "tiers": {tier: {"pages": t.pages, "nightPages": t.night_pages, "pagesPerWeek": round(f.per_week(t.pages), 2),
                         "byHourIst": t.by_hour_ist, "held": t.held} for tier, t in f.tiers.items()},
        "headroom": report.far,
    }
    if report.incidents is not None:
        doc["incidents"] = report.incidents
    if report.fidelity is not None:
        doc["fidelity"] = report.fidelity
    if report.fetch is not None:
        doc["fetch"] = report.fetch
    if report.notes:
        doc["notes"] = report.notes
    return doc


def _hours(by_hour: list[int]) -> str:
    return ", ".join(f"{h:02d}h {n}" for h, n in enumerate(by_hour) if n) or "none"


def write_text(report: Report, out: TextIO) -> None:
    h, f = report.history, report.figures
    length = f"{f.days:.1f} days" if f.days >= 1 else f"{f.days * 24:.1f} hours"
    out.write(f"History of stack {h.stack}: {_when(h.start_minute)} to {_when(h.end_minute)} ({length}), "
              f"from {h.source}\n")
    out.write(f"Replayed through the CloudWatch model: {report.alarm_count} metric alarms and "
              f"{report.composite_count} composites as they are in the working tree.\n")
    if report.fetch:
        out.write(f"  fetched: {report.fetch['summary']}\n")
        for limit in report.fetch.get("retention", []):
            out.write(f"  retention: {limit}\n")
    for note in report.notes:
        out.write(f"  note: {note}\n")
    out.write(f"\nPages per tier (night: {NIGHT_STARTS}:00-{NIGHT_ENDS:02d}:00 IST)\n")
    for tier in TIERS:
        t = f.tiers[tier]
        out.write(f"  {tier:<9} {t.pages:>4} page{'' if t.pages == 1 else 's'} ({f.per_week(t.pages):.1f} a week), "
                  f"{t.night_pages} at night; "
                  f"by IST hour: {_hours(t.by_hour_ist)}"
                  + (f"; {t.held} held by a cause's page" if t.held else "") + "\n")
    loud = [a for a in f.alarms if a.page_count or a.minutes_in_alarm or a.flapping_days]
    if loud:
        out.write("\nAlarms that paged, were in ALARM or flapped (held: pages held by the pager's suppressor)\n")
        out.write(f"  {'alarm':<56} {'kind':<16} {'in ALARM':>9} {'changes':>7} {'pages':>6} {'held':>5}  "
                  "flapping, no data\n")
        for a in sorted(loud, key=lambda a: (-a.page_count, -a.minutes_in_alarm, a.name)):
            flags = []
            if a.flapping_days:
                flags.append(f"flapped on {len(a.flapping_days)} days (> {report.flapping_limit} changes a day)")
            if a.no_data_periods:
                flags.append(f"no data in {a.no_data_periods} of {a.periods} periods")
            out.write(f"  {a.name:<56} {a.kind:<16} {a.minutes_in_alarm:>5} min {a.transitions:>7} "
                      f"{a.page_count:>6} {a.held:>5}  {'; '.join(flags)}\n")
    blind = sorted(a.name for a in f.alarms if a.periods and a.no_data_periods == a.periods)
    gaps = [a for a in f.alarms if a.no_data_periods and a.no_data_periods < (a.periods or 0)]
    if blind:
        out.write(f"\nNo datapoint in the whole window for {len(blind)} alarms (each sees only missing data): "
                  f"{', '.join(blind)}\n")
    if gaps:
        out.write(f"Periods without data for {len(gaps)} more alarms (--json: noDataPeriods of periods)\n")
    quiet = len(f.alarms) - len(loud)
    out.write(f"{quiet} alarms were never in ALARM.\n")
    if report.incidents is not None:
        _write_incidents(report.incidents, out)
    if report.suggestions or report.far:
        _write_tuning(report, out)
    if report.fidelity is not None:
        _write_fidelity(report.fidelity, out)


def _write_incidents(incidents: dict[str, Any], out: TextIO) -> None:
    out.write(f"\nIncidents ({incidents['from']})\n")
    for incident in incidents["windows"] or []:
        start, end = (dt.datetime.fromisoformat(incident[k]).strftime("%Y-%m-%d %H:%M") for k in ("start", "end"))
        out.write(f"  {start} to {end} IST  {incident['what']}\n")
    if not incidents["windows"]:
        out.write("  none\n")


def _write_tuning(report: Report, out: TextIO) -> None:
    if report.suggestions:
        out.write("\nTuning: alarms that paged outside the incidents\n")
        for name, s in report.suggestions.items():
            out.write(f"  {name}: {s['text']}\n")
            for line in (s.get("yaml") or "").splitlines():
                out.write(f"      {line}\n")
    if report.far:
        out.write(f"\nAlarms never in ALARM: how close they came (the {min(len(report.far), SHOWN)} closest; "
                  f"--json lists all {len(report.far)} as headroom)\n")
        for item in report.far[:SHOWN]:
            out.write(f"  {item['name']}: {item['text']}\n")


def _write_fidelity(fidelity: dict[str, Any], out: TextIO) -> None:
    out.write(f"\nFidelity: the model against the account's alarm history: {fidelity['matched']} of "
              f"{fidelity['total']} transitions matched within one period\n")
    for kind, figures in fidelity["byKind"].items():
        out.write(f"  {kind:<17} {figures['matched']} of {figures['total']}"
                  + (f" ({figures['share']:.0%})" if figures["total"] else "") + "\n")
    for skipped in fidelity.get("skipped", []):
        out.write(f"  not compared: {skipped['alarm']}: {skipped['why']}\n")
    for d in fidelity["disagreements"]:
        out.write(f"  disagreement: {d['alarm']} ({d['kind']})\n")
        out.write(f"      model:      {', '.join(d['model']) or 'no transition'}\n")
        out.write(f"      CloudWatch: {', '.join(d['cloudwatch']) or 'no transition'}\n")
