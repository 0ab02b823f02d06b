"""Alarm mute rules in the model: which alarm is muted in which minute, and by which rule.

What muting does, from the user guide ("Alarm Mute Rules", "How alarm mute rules work") and the API
reference (PutAlarmMuteRule, DeleteAlarmMuteRule):
- a muted alarm keeps evaluating and changing state; the actions of every state are muted, and a
  Metrics Insights alarm's contributors are muted with it;
- when the mute ends, an action muted when the alarm entered a state runs if the alarm is still in
  that state ("Alarm action is executed because the mute window has ended and the alarm remains in the
  same state (ALARM) in which it was originally muted"); an alarm that left it runs nothing;
- overlapping rules: the alarm is muted while any of them is active.
The model applies this in `CloudWatchModel`; this module only says who is muted when.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Optional

from cloudwatch_rules.mute_rules import Schedule


@dataclasses.dataclass(frozen=True)
class MuteRuleDefinition:
    name: str
    schedule: Schedule
    targets: frozenset[str]


class MuteClock:
    """The muted minutes (epoch minutes, UTC) of each alarm within [first, last], from the rules."""

    def __init__(self, rules: Iterable[MuteRuleDefinition], first_minute: int, last_minute: int) -> None:
        self.rules = list(rules)
        begin = dt.datetime.fromtimestamp(first_minute * 60, dt.UTC)
        end = dt.datetime.fromtimestamp((last_minute + 1) * 60, dt.UTC)
        intervals: dict[str, list[tuple[int, int, str]]] = {}
        for rule in self.rules:
            for low, high in rule.schedule.windows(begin, end):
                span = (int(low.timestamp()) // 60, -(-int(high.timestamp()) // 60), rule.name)
                for target in rule.targets:
                    intervals.setdefault(target, []).append(span)
        self._intervals = {alarm: sorted(spans) for alarm, spans in intervals.items()}
        self._starts = {alarm: [s[0] for s in spans] for alarm, spans in self._intervals.items()}

    def muted_by(self, alarm: str, minute: int) -> Optional[str]:
        """The rule muting `alarm` in `minute` (the one ending last, when several do), or None."""
        spans = self._intervals.get(alarm)
        if not spans:
            return None
        active = [s for s in spans[:bisect.bisect_right(self._starts[alarm], minute)] if s[0] <= minute < s[1]]
        return max(active, key=lambda s: s[1])[2] if active else None

    def windows(self, alarm: str) -> list[tuple[int, int, str]]:
        return list(self._intervals.get(alarm, []))
