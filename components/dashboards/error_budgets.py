"""Error-budget widgets: per SLO the stack measures, the budget left and the attainment over the 30-day
window, and the burn rate against the SRE workbook's page and ticket rates.

Everything is metric math over the SLO's own SLI (`components.slos.sli`), so a widget and the SLO it
depicts cannot disagree. The two tiles have their own 30-day range (`"start": "-P30D"`) and are one
period over it (`setPeriodToTimeRange`), whatever range the dashboard shows.

- Period-based SLOs: the health monitor checks once a minute, so the bad minutes of a range are
  SampleCount x (1 - Average) of `DependencyHealthy`. They are spent against the budget in minutes, as
  Application Signals keeps a period-based SLO's budget in time (`TotalBudgetSeconds`,
  `BudgetSecondsRemaining` of its budget report): a minute without a check spends none. The RFID
  readers are judged in school hours only: their budget and attainment count those minutes.
- Request-based SLOs: the bad share of the range's requests, bad / total, (total - good) / total or
  (100 - PR(:T)) / 100, against the budget fraction (1 - target).
- Burn rate: each 5-minute period's bad share over the budget fraction (1: the budget lasts exactly
  the window). A request-based period with fewer than `minRequests` requests burns nothing, as the SLO
  never judges such a window bad.
"""

from __future__ import annotations

from typing import Any

from components.dashboards.widgets import Line, MetricGraph, Text, Threshold, single_value
from components.slos import sli
from stackconfig.model import StackSettings
from stackconfig.slos import BURN_RATES, PERIOD, WINDOW_DAYS, WINDOW_MINUTES, Slo

WINDOW = f"-P{WINDOW_DAYS}D"
WINDOW_SECONDS = WINDOW_MINUTES * 60
# The workbook's shortest window: the burn-rate graph's period.
BURN_PERIOD = 300
PAGE_COLOR, TICKET_COLOR = "#d13212", "#ff9900"


def _number(value: float) -> str:
    """A constant in an expression: 0.001, not 0.0009999999999999454."""
    return f"{value:.10g}"


def _line(metric: dict[str, Any], line_id: str) -> Line:
    return Line(metric["namespace"], metric["metricName"], metric["dimensions"], stat=metric["stat"],
                id=line_id, visible=False)


def _inputs(slo: Slo, settings: StackSettings) -> tuple[list[Line], Line, str]:
    """The SLI's metrics the bad share reads (hidden lines), its total as line `t`, and the expression of
    the bad share of a period."""
    measured = sli(slo, settings)
    total = _line(measured["total"], "t")
    if slo.kind == PERIOD:
        # `good` is the Average of the 1-or-0 checks: the healthy share of the period's minutes.
        return [_line(measured["good"], "a")], total, "(1 - a)"
    if "goodPercent" in measured:
        return [_line(measured["goodPercent"], "p")], total, "(100 - p) / 100"
    if "bad" in measured:
        return [_line(measured["bad"], "b"), total], total, "FILL(b, 0) / t"
    return [_line(measured["good"], "g"), total], total, "(t - FILL(g, 0)) / t"


def budget_expressions(slo: Slo, bad_share: str) -> tuple[str, str]:
    """(budget remaining %, attainment %) over a range that is one period, from the lines `_inputs` names."""
    if slo.kind == PERIOD:
        bad_minutes = f"t * {bad_share}"
        return (f"100 * (1 - {bad_minutes} / {_number(slo.budget_minutes)})",
                f"100 * (1 - {bad_minutes} / {slo.judged_minutes})")
    return f"100 * (1 - {bad_share} / {_number(slo.budget_fraction)})", f"100 * (1 - {bad_share})"


def burn_expression(slo: Slo, bad_share: str) -> str:
    """The burn rate of a period: its bad share over the budget fraction."""
    rate = f"{bad_share} / {_number(slo.budget_fraction)}"
    return f"IF(FILL(t, 0) >= {slo.min_requests}, {rate}, 0)" if _guarded(slo) else rate


def _guarded(slo: Slo) -> bool:
    """A request-based SLO with a minimum traffic: its burn-rate graph reads the total too."""
    return slo.kind != PERIOD and slo.min_requests > 0


def _with(lines: list[Line], total: Line) -> list[Line]:
    return lines if total in lines else [*lines, total]


def _thresholds() -> list[Threshold]:
    def window(minutes: int) -> str:
        return f"{minutes // 1440} d" if minutes % 1440 == 0 else (
            f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min")
    return [Threshold(f"{b.rate:g}x {b.action}: {b.budget_percent:g} % of the budget in {window(b.long_minutes)}",
                      b.rate, PAGE_COLOR if b.action == "page" else TICKET_COLOR) for b in BURN_RATES]


def slo_widgets(slo: Slo, settings: StackSettings) -> list[MetricGraph]:
    share, total, bad_share = _inputs(slo, settings)
    # A period-based tile counts bad minutes (it needs `t`); the minimum-traffic guard of the graph too.
    tile_inputs = _with(share, total) if slo.kind == PERIOD else share
    graph_inputs = _with(share, total) if _guarded(slo) else share
    burn = burn_expression(slo, bad_share)
    remaining, attainment = budget_expressions(slo, bad_share)
    unit = "minutes" if slo.kind == PERIOD else "requests"
    return [
        single_value(f"{slo.name}: error budget left ({WINDOW_DAYS} days)", [
            *tile_inputs, Line(expression=remaining, label=f"% of the {unit} budget left", id="budget")],
            period=WINDOW_SECONDS, start=WINDOW, whole_range=True, width=6, height=6),
        single_value(f"{slo.name}: attainment ({WINDOW_DAYS} days)", [
            *tile_inputs, Line(expression=attainment, label=f"% good {unit}", id="attained")],
            period=WINDOW_SECONDS, start=WINDOW, whole_range=True, width=6, height=6,
            thresholds=[Threshold(f"target {slo.target_percent:g} %", slo.target_percent)]),
        MetricGraph(title=f"{slo.name}: burn rate (5 min)", width=12, height=6, period=BURN_PERIOD, stat="Sum",
                    lines=[*graph_inputs, Line(expression=burn, label="burn rate", id="burn")],
                    thresholds=_thresholds()),
    ]


def error_budgets(settings: StackSettings) -> list:
    """A heading and one row per SLO the stack measures."""
    if not settings.slos:
        return []
    widgets: list = [Text(title="Error budgets", height=1, markdown=(
        f"## Error budgets: the last {WINDOW_DAYS} days, and how fast each SLO spends its budget now"))]
    for slo in settings.slos:
        widgets += slo_widgets(slo, settings)
    return widgets
