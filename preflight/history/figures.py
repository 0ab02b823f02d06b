"""What a replay says about each alarm and each tier: time in ALARM, transitions, pages, held pages,
flapping, periods without data; pages per tier per week and at night.

A page is an ALARM notification delivered to a tier's topic. A metric alarm that pages through a
composite pager (the production stack's alarms have no actions of their own) is charged with each
page its pager sent while it was in ALARM beneath it. Night is 22:00-06:00 IST (Asia/Kolkata, UTC+05:30,
no daylight saving): the hours a page wakes someone. Days are IST days. A held page is a pager that went
into ALARM while its actions suppressor was in ALARM: nobody was paged for it, the suppressor's cause's
page covered it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Optional

from preflight.cloudwatch.cloudwatch import CompositeDefinition, MetricAlarmDefinition
from preflight.cloudwatch.insights import InsightsError
from preflight.drill.drill_file import TIERS
from preflight.history.replay import Replay
from preflight.history.sources import alarm_sources, insights_sources
from preflight.model.stack import alarm_kind
from stackconfig.traffic import IST

NIGHT_STARTS, NIGHT_ENDS = 22, 6  # IST hours
# An alarm that changes state more often than this in one day flaps (`--flapping N`).
FLAPPING_TRANSITIONS_A_DAY = 6


def ist(minute: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60, IST)


def is_night(minute: int) -> bool:
    hour = ist(minute).hour
    return hour >= NIGHT_STARTS or hour < NIGHT_ENDS


@dataclasses.dataclass
class AlarmFigures:
    name: str
    kind: str  # static | anomaly | metric-math | metrics-insights | composite
    tiers: tuple[str, ...]  # the tiers its ALARM reaches, directly or through composites
    minutes_in_alarm: int
    transitions: int
    pages: dict[str, int]  # tier -> pages it sent or was beneath
    page_minutes: list[tuple[int, str]]  # (minute, tier) of each of those pages
    held: int  # times it went into ALARM with its actions held by its suppressor (pagers only)
    flapping_days: list[str]  # IST dates with more transitions than the flapping limit
    no_data_periods: Optional[int]  # periods in which none of its metrics had a datapoint (None: a composite)
    periods: Optional[int]

    @property
    def page_count(self) -> int:
        return sum(self.pages.values())


@dataclasses.dataclass
class TierFigures:
    pages: int
    night_pages: int
    by_hour_ist: list[int]  # pages per IST hour of the day, 0-23
    page_minutes: list[int]
    held: int  # pages of this tier's pagers held by their suppressors


@dataclasses.dataclass
class Figures:
    days: float
    alarms: list[AlarmFigures]
    tiers: dict[str, TierFigures]

    def alarm(self, name: str) -> AlarmFigures:
        return next(a for a in self.alarms if a.name == name)

    def per_week(self, count: int) -> float:
        return count / self.days * 7 if self.days else 0.0


def beneath(composites: Iterable[CompositeDefinition]) -> dict[str, set[str]]:
    """Composite -> every alarm and composite under it, through nested composites."""
    by_name = {c.name: c for c in composites}
    found: dict[str, set[str]] = {}

    def visit(name: str, path: tuple[str, ...]) -> set[str]:
        if name in found:
            return found[name]
        under: set[str] = set()
        for member in by_name[name].members:
            under.add(member)
            if member in by_name and member not in path:
                under |= visit(member, (*path, name))
        found[name] = under
        return under

    for name in by_name:
        visit(name, ())
    return found


def reached_tiers(alarms: Iterable[MetricAlarmDefinition], composites: Iterable[CompositeDefinition]
                  ) -> dict[str, tuple[str, ...]]:
    """Alarm or composite -> the tiers its ALARM reaches: its own alarm actions' and every composite's above it."""
    composites = list(composites)
    under = beneath(composites)
    tiers: dict[str, set[str]] = {a.name: set(a.alarm_topics) for a in alarms}
    for c in composites:
        tiers.setdefault(c.name, set()).update(c.alarm_topics)
    for c in composites:
        for member in under[c.name]:
            tiers.setdefault(member, set()).update(c.alarm_topics)
    return {name: tuple(t for t in TIERS if t in found) for name, found in tiers.items()}


def _kind(alarm: MetricAlarmDefinition | CompositeDefinition) -> str:
    return "composite" if isinstance(alarm, CompositeDefinition) else alarm_kind(alarm.props)


def _no_data(replay: Replay, alarm: MetricAlarmDefinition) -> tuple[int, int]:
    """(periods in the window with no datapoint in any of the alarm's series, periods in the window)."""
    step = alarm.period // 60
    try:
        sources = (insights_sources(alarm, replay.store.keys()) if alarm.insights is not None
                   else alarm_sources(alarm))
    except InsightsError:
        sources = []
    ends = range(-(-(replay.start + 1) // step) * step, replay.end + 1, step)
    empty = sum(1 for e in ends if all(replay.store.datapoint(key, stat, e, period) is None
                                       for key, stat, period in sources))
    return empty, len(ends)


def figures(replay: Replay, flapping: int = FLAPPING_TRANSITIONS_A_DAY) -> Figures:
    start, end = replay.start, replay.end
    under = beneath(replay.composites)
    tiers_of = reached_tiers(replay.alarms, replay.composites)
    windows = {a.name: replay.alarm_windows(a.name) for a in [*replay.alarms, *replay.composites]}
    first = replay.first_evaluations()
    counted = [t for i, t in enumerate(replay.transitions) if i not in first and t.contributor is None]
    by_alarm_day = Counter((t.alarm, ist(t.minute).date().isoformat()) for t in counted)
    transitions = Counter(t.alarm for t in counted)
    pages: dict[str, list[tuple[int, str]]] = {name: [] for name in windows}
    for page in replay.pages:
        pages[page.alarm].append((page.minute, page.tier))
        for member in under.get(page.alarm, ()):
            if any(a <= page.minute < b for a, b in windows.get(member, ())):
                pages[member].append((page.minute, page.tier))
    held = Counter(h.alarm for h in replay.model.held_pages)
    result = []
    for definition in [*replay.alarms, *replay.composites]:
        name = definition.name
        no_data, periods = (_no_data(replay, definition) if isinstance(definition, MetricAlarmDefinition)
                            else (None, None))
        result.append(AlarmFigures(
            name=name, kind=_kind(definition), tiers=tiers_of.get(name, ()),
            minutes_in_alarm=sum(min(b, end) - max(a, start) for a, b in windows[name] if b > start),
            transitions=transitions[name], pages=dict(Counter(tier for _, tier in pages[name])),
            page_minutes=pages[name], held=held[name],
            flapping_days=sorted(day for (alarm, day), n in by_alarm_day.items() if alarm == name and n > flapping),
            no_data_periods=no_data, periods=periods))
    topics = {c.name: c.alarm_topics for c in replay.composites}
    tier_figures = {}
    for tier in TIERS:
        minutes = [p.minute for p in replay.pages if p.tier == tier]
        hours = Counter(ist(m).hour for m in minutes)
        tier_figures[tier] = TierFigures(len(minutes), sum(1 for m in minutes if is_night(m)),
                                         [hours[h] for h in range(24)], minutes,
                                         sum(n for name, n in held.items() if tier in topics.get(name, ())))
    return Figures((end - start) / 1440, result, tier_figures)
