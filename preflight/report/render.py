"""The report as JSON and as Markdown. Percentages are numbers from 0 to 100; times are UTC, ISO 8601."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from preflight.report.data import ReportData
from preflight.report.measure import SloFigures, judged_minutes
from stackconfig.traffic import IST


def moment(minute: int) -> str:
    return dt.datetime.fromtimestamp(minute * 60, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shown(minute: int) -> str:
    """UTC, with the IST clock beside it: the platform's day runs in IST."""
    at = dt.datetime.fromtimestamp(minute * 60, dt.UTC)
    return f"{at:%Y-%m-%d %H:%M} UTC ({at.astimezone(IST):%H:%M} IST)"


def _round(value: Optional[float], digits: int = 4) -> Optional[float]:
    return None if value is None else round(value, digits)


def over(figures: SloFigures, data: ReportData) -> dict[str, Any]:
    """What the attainment is over: the whole window, or the stretch that has data when that is shorter."""
    window = data.window
    if figures.span is None:
        return {"what": "none", "start": None, "end": None, "minutes": 0}
    start, end = figures.span
    what = ("drill" if window.label.startswith("drill ") else "month so far" if window.in_progress else "month") \
        if figures.whole_window else "data"
    return {"what": what, "start": moment(start), "end": moment(end), "minutes": end - start}


def slo_json(figures: SloFigures, data: ReportData) -> dict[str, Any]:
    slo = figures.slo
    found: dict[str, Any] = {
        "name": slo["name"], "service": slo["service"], "kind": slo["kind"], "target": slo["target"],
        "attained": _round(figures.attained, 6), "over": over(figures, data),
        "budgetSpent": _round(figures.budget_spent, 4),
    }
    if figures.period_based:
        found.update(badMinutes=_round(figures.bad, 2), checkedMinutes=_round(figures.total, 2))
    else:
        found.update(badRequests=_round(figures.bad, 2), requests=_round(figures.total, 2),
                     minRequests=slo.get("minRequests", 0), ignoredBadRequests=_round(figures.ignored_bad, 2),
                     windowMinutes=judged_minutes(data.window))
    windows = []
    for w in figures.windows:
        entry: dict[str, Any] = {"start": moment(w.start_minute), "end": moment(w.end_minute),
                                 "minutes": w.end_minute - w.start_minute}
        if figures.period_based:
            entry.update(badMinutes=_round(w.bad, 2), revenueAtRiskInr=w.revenue_inr, usersAffected=w.users)
        else:
            entry.update(badRequests=_round(w.bad, 2), requests=_round(w.total, 2))
        windows.append(entry)
    found["badWindows"] = windows
    if figures.period_based:
        found.update(revenueAtRiskInr=figures.revenue_inr, usersAffected=figures.users)
    return found


def document(stack: str, data: ReportData, figures: list[SloFigures]) -> dict[str, Any]:
    window = data.window
    doc: dict[str, Any] = {
        "stack": stack, "source": data.source,
        "window": {"label": window.label, "start": moment(window.start_minute), "end": moment(window.end_minute),
                   "budgetMinutes": window.budget_minutes, "periodSeconds": window.period,
                   "inProgress": window.in_progress},
        "slos": [slo_json(f, data) for f in figures],
    }
    if data.fetch is not None:
        doc["fetch"] = data.fetch
    return doc


def percent_text(value: Optional[float], digits: int = 4) -> str:
    return "no data" if value is None else f"{value:.{digits}f} %"


def over_text(entry: dict[str, Any]) -> str:
    o = entry["over"]
    if o["what"] == "none":
        return "(no datapoint in the window)"
    if o["what"] == "data":
        return f"over the data's span, {o['start']} to {o['end']} ({o['minutes']:,} minutes)"
    return {"drill": "over the drill", "month": "over the month",
            "month so far": f"over the month so far, to {o['end']}"}[o["what"]]


def markdown(doc: dict[str, Any]) -> str:
    window = doc["window"]
    heading = (f"SLA report {window['label']}" if not window["label"].startswith("drill ")
               else f"SLA report of {window['label']}")
    lines = [f"# {heading}: stack {doc['stack']}", "",
             f"From {doc['source']}: {window['start']} to {window['end']}"
             + (" (month in progress)" if window["inProgress"] else "")
             + f", read at {window['periodSeconds']} s periods; budgets of {window['budgetMinutes']:,} minutes.", ""]
    if "fetch" in doc:
        f = doc["fetch"]
        calls = f["getMetricDataCalls"]
        lines += [f"Fetched in {calls} GetMetricData call{'s' if calls != 1 else ''} ({f['metricsRequested']} metrics "
                  f"requested, {f['costUsd']:.4f} USD; {f['priceSource']}).", ""]
        lines += [f"- {note}" for note in f["retention"]] + ([""] if f["retention"] else [])
    lines += ["| SLO | kind | target | attained | budget spent | bad | bad windows |",
              "|---|---|---|---|---|---|---|"]
    for s in doc["slos"]:
        bad = (f"{s['badMinutes']:,g} minutes" if "badMinutes" in s
               else f"{s['badRequests']:,g} of {s['requests']:,g} requests")
        met = "" if s["attained"] is None else (" (met)" if s["attained"] >= s["target"] else " (missed)")
        lines.append(f"| {s['name']} | {s['kind']} | {s['target']:g} % | {percent_text(s['attained'])}{met} | "
                     f"{percent_text(s['budgetSpent'], 1)} | {bad} | {len(s['badWindows'])} |")
    for s in doc["slos"]:
        lines += ["", f"## {s['name']} ({s['service']}, {s['kind']}-based, target {s['target']:g} %)", ""]
        lines.append(f"Attained {percent_text(s['attained'])} {over_text(s)}; error budget spent "
                     f"{percent_text(s['budgetSpent'], 1)}.")
        if "revenueAtRiskInr" in s:
            lines.append(f"Revenue at risk Rs {s['revenueAtRiskInr']:,.2f}; users affected {s['usersAffected']:,} "
                         "(the health report's figures for the dependency down: revenue per day, here per bad minute).")
        if s.get("ignoredBadRequests"):
            lines.append(f"{s['ignoredBadRequests']:,} bad requests fell in {s['windowMinutes']}-minute windows "
                         f"under {s['minRequests']} requests and spend no budget.")
        if not s["badWindows"]:
            lines += ["", "No bad window."]
            continue
        lines += ["", "| start | end | minutes | bad | |", "|---|---|---|---|---|"]
        for w in s["badWindows"]:
            start = dt.datetime.fromisoformat(w["start"]).timestamp() // 60
            end = dt.datetime.fromisoformat(w["end"]).timestamp() // 60
            if "badMinutes" in w:
                extra = f"Rs {w['revenueAtRiskInr']:,.2f} at risk, {w['usersAffected']:,} users"
                bad = f"{w['badMinutes']:,g} minutes"
            else:
                extra, bad = "", f"{w['badRequests']:,g} of {w['requests']:,g} requests"
            lines.append(f"| {shown(int(start))} | {shown(int(end))} | {w['minutes']:,} | {bad} | {extra} |")
    return "\n".join(lines) + "\n"
