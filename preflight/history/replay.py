"""A history replayed through the CloudWatch model with the working tree's alarms.

The alarms are evaluated minute by minute over the history's window, as in a drill: each one when one
of its periods closes, over its evaluation range of recorded datapoints (datapoints before the
window's start serve the first ranges). An alarm starts in the state the account's alarm history
gives it at the window's start; without one it starts as a new alarm does, in INSUFFICIENT_DATA, and
its first evaluation's transition is the replay's own start rather than a change of the alarm.
Transitions and pages carry the minute (Unix minutes, UTC) at which they happened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Optional

from preflight.cloudwatch.cloudwatch import (
    CloudWatchModel,
    CompositeDefinition,
    MetricAlarmDefinition,
    Notification,
    Transition,
)
from preflight.cloudwatch.evaluation import ALARM
from preflight.history.history_file import History, state_at
from preflight.history.recorded_store import RecordedBands, RecordedStore


@dataclasses.dataclass
class Replay:
    history: History
    alarms: list[MetricAlarmDefinition]
    composites: list[CompositeDefinition]
    store: RecordedStore
    model: CloudWatchModel
    known_start: dict[str, str]  # alarm -> its state at the window's start, by the alarm history

    @property
    def start(self) -> int:
        return self.history.start_minute

    @property
    def end(self) -> int:
        return self.history.end_minute

    @property
    def transitions(self) -> list[Transition]:
        return self.model.transitions

    @property
    def pages(self) -> list[Notification]:
        return self.model.pages

    def first_evaluations(self) -> set[int]:
        """Indexes in `transitions` of each alarm's first transition out of INSUFFICIENT_DATA when its
        state at the start was not known (the replay starting, not the alarm changing)."""
        seen: set[str] = set()
        found = set()
        for i, t in enumerate(self.transitions):
            if t.contributor is not None or t.alarm in seen:
                continue
            seen.add(t.alarm)
            if t.alarm not in self.known_start and t.from_state == "INSUFFICIENT_DATA":
                found.add(i)
        return found

    def alarm_windows(self, name: str) -> list[tuple[int, int]]:
        """[entered ALARM, left ALARM) per time the alarm was in ALARM, cut to the window."""
        return alarm_windows(self.transitions, name, self.start, self.end, self.known_start.get(name))


def alarm_windows(transitions: list[Transition], name: str, start: int, end: int,
                  state_at_start: Optional[str]) -> list[tuple[int, int]]:
    """[entered ALARM, left ALARM) per time `name` was in ALARM in `transitions`, up to `end`."""
    windows, since = [], start if state_at_start == ALARM else None
    for t in transitions:
        if t.alarm != name or t.contributor is not None:
            continue
        if t.to_state == ALARM and since is None:
            since = t.minute
        elif t.to_state != ALARM and since is not None:
            windows.append((since, t.minute))
            since = None
    if since is not None:
        windows.append((since, end))
    return windows


def alone(replay: Replay, alarm: MetricAlarmDefinition) -> list[tuple[int, int]]:
    """The ALARM windows of one alarm (a variant of a replayed one) evaluated alone over the history."""
    model = CloudWatchModel(replay.store, [alarm], [], replay.model.band_model)
    state = replay.known_start.get(alarm.name)
    if state is not None:
        model.states[alarm.name] = state
    step = alarm.period // 60
    for minute in range(-(-(replay.start + 1) // step) * step, replay.end + 1, step):
        model.tick(minute, minute)
    return alarm_windows(model.transitions, alarm.name, replay.start, replay.end, state)


def replay(history: History, alarms: Sequence[MetricAlarmDefinition],
           composites: Sequence[CompositeDefinition]) -> Replay:
    store = RecordedStore(history.metrics)
    model = CloudWatchModel(store, alarms, composites, RecordedBands(history.bands))
    known = {}
    for name in model.states:
        state = history.states_at_start.get(name) or state_at(history.alarm_history, name, history.start)
        if state is not None:
            known[name] = model.states[name] = state
    # Minute m closes at m + 1: the window's minutes close at start + 1 ... end.
    for minute in range(history.start_minute + 1, history.end_minute + 1):
        model.tick(minute, minute)
    return Replay(history, list(alarms), list(composites), store, model, known)
