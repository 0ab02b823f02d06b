"""Burn-rate alarms generated from each SLO: the SRE workbook's multiwindow table (`BURN_RATES`).

Each row is a pair of alarms on the SLO's SLI, one per window, with the same threshold: the share of bad
minutes or requests at which the budget burns at the row's rate (rate x budget, e.g. 14.4 x 0.1 % = 1.44 %
of API requests failing). A pair pages only while both windows are over it: the long window says enough
budget is gone, the short one that it is still burning (the pager's rule is `ALARM(long) AND
ALARM(short)`, components/alarms/composites.py). The page rows go to the critical tier in the SLO's scope
pager; the ticket rows to a warning pager of their own per scope, so that a slow burn that lasts for
hours never holds the scope's other warnings.

Each window is one period of an alarm evaluated against one datapoint: 5 minutes to 3 days, within
CloudWatch's limit of a 7-day evaluation window for periods of an hour or more and one day below
(API reference, PutMetricAlarm `Period`); periods of an hour or more slide minute by minute
(user guide, "Alarm evaluation window"). The choice of these alarms over Application Signals SLOs:
docs/decisions/slo-burn-rate-alarms.md.

Minimum traffic: a request-based window is judged only when it holds the SLO's `minRequests`, enough
requests that one bad request alone does not cross its line (a 0.6 % line: 167 requests), and the SLO's
`minBadRequests` bad ones (10); otherwise it is judged good. So one failure among a handful of night-time
requests never pages or tickets, and a burn just under a line does not cross it by chance at dawn. A page
pair's short window with too few requests is good only without a bad one; with some, it has no datapoint.
Period-based SLOs (the health monitor's checks of a dependency, which already pages critical within two
minutes of an outage through its connectivity alarm) get the ticket rows only: they catch a dependency
failing now and then for days.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from components.alarms.spec import (
    GREATER,
    LAST_DATAPOINT_STANDS,
    LESS,
    NO_DATA_IS_FINE,
    NO_DATA_IS_MISSING,
    AlarmSpec,
    Metric,
    Query,
    filled,
    literal,
)
from components.slos import sli
from stackconfig.model import StackSettings, Tier
from stackconfig.slos import BURN_RATES, CHECKED_AROUND_THE_CLOCK, PERIOD, BurnRate, Slo

# Every burn-rate alarm is named `<env>-slo-<SLO>-burn-<window>-<rate>x`.
BURN_RATE_SERVICE_PREFIX = "slo-"
TIER_OF_ACTION = {"page": Tier.CRITICAL, "ticket": Tier.WARNING}


def _metric(sli_metric: dict[str, Any], period: int) -> Metric:
    return Metric(sli_metric["namespace"], sli_metric["metricName"], sli_metric["dimensions"], sli_metric["stat"],
                  period)


def window_name(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def _bad_percent(slo: Slo, row: BurnRate) -> float:
    """The share of bad minutes or requests, in percent, at which the budget burns at the row's rate."""
    return round(row.rate * slo.budget_fraction * 100, 6)


def _window(slo: Slo, settings: StackSettings, row: BurnRate, minutes: int, partner_minutes: int,
            clears_within: int) -> AlarmSpec:
    period = minutes * 60
    bad = _bad_percent(slo, row)
    guard = min_requests(slo, bad)
    signal = sli(slo, settings)
    common = dict(
        service=f"{BURN_RATE_SERVICE_PREFIX}{slo.name}", metric_key=f"burn-{window_name(minutes)}-{row.rate:g}x",
        resource=slo.name, tier=TIER_OF_ACTION[row.action], scope=slo.service,
        runbook=f"slos#{slo.name}",
        summary=(f"SLO {slo.name} ({slo.target_percent:g} % of {slo.what}): over {window_name(minutes)} more "
                 f"than {bad:g} % bad, the error budget burning at {row.rate:g}x (spends {row.budget_percent:g} "
                 f"% of the 30-day budget in {window_name(row.long_minutes)})."),
        impact=f"the {slo.service} SLO's error budget runs out early if this goes on.",
        evaluation_periods=1, datapoints_to_alarm=1,
        partner=f"burn-{window_name(partner_minutes)}-{row.rate:g}x", clears_within=clears_within,
    )
    if slo.kind == PERIOD:
        # DependencyHealthy is 1 or 0 a minute: its Average over the window is the share of good minutes.
        # A silent monitor is no judgement (the health-monitor-silent alarm pages that).
        return AlarmSpec(**common, comparison=LESS, threshold=round(1 - bad / 100, 8),
                         treat_missing_data=NO_DATA_IS_MISSING, metric=_metric(signal["good"], period))
    total = _metric(signal["total"], period)
    label = f"{slo.name} bad % over {window_name(minutes)}"
    # A page pair's short window says whether the burn still goes on. One too quiet to judge that still
    # holds bad requests says nothing either way: no datapoint, so the newest judged window of its
    # evaluation range decides, or the alarm keeps its state. An incident going on into the night's few
    # requests then stays one page instead of clearing and paging again as they come and go; a quiet
    # window without a bad request is good, so that a fix before a lull clears the page.
    keeps_state = row.action == "page" and minutes == row.short_minutes
    judge = _Judgement(slo, guard, signal, keeps_state)
    missing = LAST_DATAPOINT_STANDS if keeps_state else NO_DATA_IS_FINE
    if "bad" in signal:
        queries = (Query("m1", metric=_metric(signal["bad"], period)), Query("m2", metric=total),
                   Query("e1", expression=judge(f"100 * {filled('m1')} / {filled('m2')}", "0"), label=label,
                         returns=True))
        return AlarmSpec(**common, comparison=GREATER, threshold=bad, treat_missing_data=missing, queries=queries)
    if "good" in signal:
        good = (Query("m1", metric=_metric(signal["good"], period)),
                Query("e1", expression=judge(f"100 * {filled('m1')} / {filled('m2')}", "100"),
                      label=label.replace("bad", "good"), returns=True))
    else:
        # PR(:T) is already the good share of the window's requests; a window not judged is all good.
        good = (Query("m1", metric=_metric(signal["goodPercent"], period)),
                Query("e1", expression=judge("FILL(m1, 100)", "100"), label=label.replace("bad", "good"),
                      returns=True))
    return AlarmSpec(**common, comparison=LESS, threshold=round(100 - bad, 6), treat_missing_data=missing,
                     queries=(good[0], Query("m2", metric=total), good[1]))


@dataclasses.dataclass(frozen=True)
class _Judgement:
    """When a request-based window is judged: it holds `guard` requests and the SLO's `minBadRequests` bad
    ones. At low traffic a burn under a line crosses it by chance (two failed payments among sixty at
    dawn are 3.3 %, over the 14.4x line of 2.88 % while the day burns at 4x); a few bad requests
    more make that unlikely, and an outage brings them in minutes. A window with the requests and fewer
    bad ones is good. One with fewer requests is good too; where it `keeps_state`, only without a bad
    request, and otherwise it has no datapoint (IF without a false value)."""

    slo: Slo
    guard: int
    signal: dict[str, Any]
    keeps_state: bool

    def __call__(self, share: str, good: str) -> str:
        requests = filled("m2")
        if "bad" in self.signal:
            bad = filled("m1")
        elif "good" in self.signal:
            bad = f"({requests} - {filled('m1')})"
        else:
            bad = f"(100 - FILL(m1, 100)) * {requests} / 100"
        enough = f"{requests} >= {literal(self.guard)}" if self.guard else f"{requests} > 0"
        bad_enough = f"{bad} >= {literal(self.slo.min_bad_requests)}"
        if self.keeps_state:
            return f"IF({enough} OR {bad} <= 0, IF({bad_enough}, {share}, {good}))"
        return f"IF({enough} AND {bad_enough}, {share}, {good})"


def min_requests(slo: Slo, bad_percent: float) -> int:
    """The requests a window must hold to be judged: the SLO's `minRequests`, and at least as many as
    it takes for one bad request alone to stay within `bad_percent` (a 0.6 % line needs 167)."""
    return max(slo.min_requests, math.ceil(100 / bad_percent - 1e-9))


def rows(slo: Slo) -> tuple[BurnRate, ...]:
    """The workbook rows an SLO is alarmed on: every row for a request-based SLO, the tickets for a
    period-based one whose dependency is checked around the clock, none for the readers."""
    if slo.kind != PERIOD:
        return BURN_RATES
    # RFID is judged on card verifications instead (rfid-verification).
    if slo.dependency not in CHECKED_AROUND_THE_CLOCK:
        return ()
    return tuple(row for row in BURN_RATES if row.action == "ticket")


def _pair(slo: Slo, settings: StackSettings, row: BurnRate) -> tuple[AlarmSpec, AlarmSpec]:
    """A row's two alarms, the long window first. A pair clears when its short window does: its period
    closes and the window moves past the burn."""
    clears = 2 * row.short_minutes
    return (_window(slo, settings, row, row.long_minutes, row.short_minutes, clears),
            _window(slo, settings, row, row.short_minutes, row.long_minutes, clears))


def burn_rate_alarms(settings: StackSettings) -> list[AlarmSpec]:
    """Two alarms per workbook row of each SLO the stack measures: the long window, then the short."""
    return [spec for slo in settings.slos for row in rows(slo) for spec in _pair(slo, settings, row)]


def burn_rate_pairs(slo: Slo, settings: StackSettings) -> list[dict[str, Any]]:
    """Per workbook row the SLO is alarmed on: its action and tier, rate, windows, the line both windows
    are judged against (percent bad), a request-based window's minimum traffic, and the pair's alarm
    names, long window first."""
    pairs = []
    for row in rows(slo):
        bad = _bad_percent(slo, row)
        pairs.append({"action": row.action, "tier": TIER_OF_ACTION[row.action].value, "rate": row.rate,
                      "budgetPercent": row.budget_percent,
                      "windows": [window_name(row.long_minutes), window_name(row.short_minutes)],
                      "badPercent": bad, **({} if slo.kind == PERIOD else {"minRequests": min_requests(slo, bad)}),
                      "alarms": [spec.name(settings.environment) for spec in _pair(slo, settings, row)]})
    return pairs
