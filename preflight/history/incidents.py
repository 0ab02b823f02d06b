"""The incidents of a history's window: the operator's file, or when a critical alarm was in ALARM.

The file (`--incidents FILE`, YAML):

    incidents:
      - start: "2026-07-03T12:10:00+05:30"   # ISO 8601 with an offset
        end: "2026-07-03T12:40:00+05:30"     # or `minutes: 30`
        what: Razorpay outage at lunch

Without a file, an incident is each stretch in which an alarm that pages the critical tier was in
ALARM (alarms that page only together, an SLO's burn-rate pair, while all of them were): by the
account's alarm history for the alarms it records, by the replay for the others (not deployed, or no
history fetched). Overlapping stretches are one incident.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from preflight.cloudwatch.cloudwatch import paged_together
from preflight.cloudwatch.evaluation import ALARM
from preflight.history.figures import ist, reached_tiers
from preflight.history.history_file import History, HistoryError
from preflight.history.replay import Replay
from stackconfig.types import nearest_key


@dataclasses.dataclass(frozen=True)
class Incident:
    start: int  # Unix minutes
    end: int
    what: str

    def holds(self, minute: int) -> bool:
        return self.start <= minute <= self.end


def incident_json(incident: Incident) -> dict[str, str]:
    return {"start": ist(incident.start).isoformat(), "end": ist(incident.end).isoformat(), "what": incident.what}


def _fail(path: Path, key: str, expected: str, value: Any = None) -> HistoryError:
    shown = "" if value is None else f" (got {value!r})"
    return HistoryError(f"{path}: {key}: expected {expected}{shown}")


def _moment(path: Path, key: str, value: Any) -> int:
    if isinstance(value, dt.datetime):  # YAML reads an unquoted timestamp as one
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _fail(path, key, "a time in ISO 8601 with an offset, like 2026-07-03T12:10:00+05:30", value)
    return int(parsed.timestamp()) // 60


INCIDENT_KEYS = ["start", "end", "minutes", "what"]


def read_incidents(path: Path, history: History) -> list[Incident]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise HistoryError(f"{path}: cannot read it: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise HistoryError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(data, dict) or set(data) != {"incidents"} or not isinstance(data["incidents"], list):
        raise _fail(path, "(file)", "a mapping with one key, incidents: a list of {start, end or minutes, what}")
    found = []
    for i, item in enumerate(data["incidents"]):
        where = f"incidents[{i}]"
        if not isinstance(item, dict):
            raise _fail(path, where, "a mapping with start, end or minutes, what", item)
        unknown = sorted(set(item) - set(INCIDENT_KEYS))
        if unknown:
            guess = nearest_key(str(unknown[0]), INCIDENT_KEYS)
            raise _fail(path, f"{where}.{unknown[0]}", "one of the keys start, end, minutes, what"
                        + (f" (did you mean `{guess}`?)" if guess else ""))
        if "start" not in item or "what" not in item or ("end" in item) == ("minutes" in item):
            raise _fail(path, where, "start, what, and either end or minutes", item)
        start = _moment(path, f"{where}.start", item["start"])
        if "end" in item:
            end = _moment(path, f"{where}.end", item["end"])
        else:
            minutes = item["minutes"]
            if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
                raise _fail(path, f"{where}.minutes", "a whole number of minutes >= 1", minutes)
            end = start + minutes
        if end <= start:
            raise _fail(path, f"{where}.end", "a time after start", item.get("end"))
        if end <= history.start_minute or start >= history.end_minute:
            raise _fail(path, f"{where}.start", f"a time within the history's window "
                                                f"({ist(history.start_minute).isoformat()} to "
                                                f"{ist(history.end_minute).isoformat()}, IST as the report's)",
                        item["start"])
        what = item["what"]
        if not isinstance(what, str) or not what.strip():
            raise _fail(path, f"{where}.what", "what broke, in words", what)
        found.append(Incident(start, end, what.strip()))
    return sorted(found, key=lambda i: i.start)


def _recorded_windows(history: History, alarm: str) -> list[tuple[int, int]]:
    windows, since = [], None
    changes = [c for c in history.alarm_history if c.alarm == alarm]
    if changes and changes[0].from_state == ALARM:
        since = history.start_minute
    for change in changes:
        minute = int(change.time.timestamp()) // 60
        if change.to_state == ALARM and since is None:
            since = minute
        elif change.to_state != ALARM and since is not None:
            windows.append((since, minute))
            since = None
    if since is not None:
        windows.append((since, history.end_minute))
    return windows


def _overlap(window_lists: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """The stretches in which every list has a window."""
    found = window_lists[0]
    for windows in window_lists[1:]:
        found = [(max(a, c), min(b, d)) for a, b in found for c, d in windows if max(a, c) < min(b, d)]
    return found


def _merged(stretches: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, list[str]]]:
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, name in sorted(stretches):
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2] + ([name] if name not in last[2] else []))
        else:
            merged.append((start, end, [name]))
    return merged


def critical_incidents(replay: Replay) -> tuple[list[Incident], str]:
    """Incidents from the critical alarms' ALARM stretches, and where they were read."""
    history = replay.history
    recorded = {c.alarm for c in history.alarm_history}
    tiers = reached_tiers(replay.alarms, replay.composites)
    stretches = []
    sources = set()
    windows_of: dict[str, list[tuple[int, int]]] = {}
    for alarm in replay.alarms:
        if "critical" not in tiers.get(alarm.name, ()):
            continue
        if alarm.name in recorded:
            windows, sources = _recorded_windows(history, alarm.name), sources | {"the account's alarm history"}
        else:
            windows, sources = replay.alarm_windows(alarm.name), sources | {"the replay"}
        windows_of[alarm.name] = windows
    # Alarms that page only together (an SLO's burn-rate pair) are an incident while all are in ALARM.
    together = paged_together(replay.composites)
    paired = {name for term in together for name in term}
    for name, windows in windows_of.items():
        if name not in paired:
            stretches += [(max(a, replay.start), min(b, replay.end), name) for a, b in windows if b > replay.start]
    for term in sorted(together):
        if all(name in windows_of for name in term):
            both = _overlap([windows_of[name] for name in term])
            stretches += [(max(a, replay.start), min(b, replay.end), " AND ".join(term))
                          for a, b in both if b > replay.start]
    incidents = [Incident(start, end, "critical alarms in ALARM: " + ", ".join(sorted(names)))
                 for start, end, names in _merged(stretches)]
    where = " and ".join(sorted(sources)) or "no critical alarm"
    return incidents, f"when an alarm paging the critical tier was in ALARM, by {where}"
