"""Quiet, fires and recovers, read from the drills' results (each drill's transitions and metrics).

- Baselines are the suite's drills without faults: every alarm and pager stays out of ALARM in each,
  warm-up included (an alarm that never sees its metric goes to ALARM there).
- Fires: the alarm enters ALARM during at least one drill with faults.
- Recovers: in each drill with faults, once every fault has ended (the last `at + for`; an `env`
  fault is the Lambda's configuration for the whole drill, not an incident), the alarm is out of
  ALARM within its tier's bound and stays out. An alarm that keeps its state while its metric is
  missing (`treatMissingData: ignore`, a scheduled job's last run) can only change with its next
  datapoint: its bound runs from that datapoint. A drill that ends before the bound has passed with the
  alarm still in ALARM does not judge it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Optional

from preflight.cloudwatch.cloudwatch import MetricAlarmDefinition
from preflight.drill.runner import DrillResult

ALARM = "ALARM"


@dataclasses.dataclass(frozen=True)
class Miss:
    criterion: str
    detail: str


@dataclasses.dataclass(frozen=True)
class Recovery:
    drill: str
    # Minutes from the end of the faults (or the alarm's next datapoint) to its last exit from ALARM;
    # None: still in ALARM when the drill ended.
    minutes: Optional[int]
    judged: bool
    detail: str


def incident_end(result: DrillResult) -> Optional[int]:
    ends = [f.at + f.duration for f in result.drill.faults if f.kind != "env"]
    return max(ends) if ends else None


def is_baseline(result: DrillResult) -> bool:
    return not result.drill.faults


class Timelines:
    """Each drill's transitions of the alarms themselves (not a Metrics Insights contributor's), by alarm."""

    def __init__(self, results: Sequence[DrillResult]) -> None:
        self.by_drill: dict[str, dict[str, list[dict]]] = {}
        for result in results:
            by_alarm: dict[str, list[dict]] = {}
            for t in result.transitions:
                if "contributor" not in t:
                    by_alarm.setdefault(t["alarm"], []).append(t)
            self.by_drill[result.drill.name] = by_alarm

    def of(self, result: DrillResult, alarm: str) -> list[dict]:
        return self.by_drill[result.drill.name].get(alarm, [])

    def add_conjunction(self, name: str, alarms: Sequence[str]) -> None:
        """The timeline of `alarms` together, as `name`: in ALARM while every one of them is."""
        for by_alarm in self.by_drill.values():
            moves = sorted((t for a in alarms for t in by_alarm.get(a, [])), key=lambda t: t["minute"])
            states = dict.fromkeys(alarms, "OK")
            together, timeline = "OK", []
            for i, move in enumerate(moves):
                states[move["alarm"]] = move["to"]
                if i + 1 < len(moves) and moves[i + 1]["minute"] == move["minute"]:
                    continue  # moves of one minute are judged together
                now = ALARM if all(state == ALARM for state in states.values()) else "OK"
                if now != together:
                    timeline.append({"minute": move["minute"], "alarm": name, "from": together, "to": now})
                    together = now
            if timeline:
                by_alarm[name] = timeline


def quiet(alarm: str, baselines: Sequence[DrillResult], timelines: Timelines) -> Optional[Miss]:
    for result in baselines:
        loud = next((t for t in timelines.of(result, alarm) if t["to"] == ALARM), None)
        if loud is not None:
            return Miss("quiet", f"in ALARM at minute {loud['minute']} of {result.drill.name} "
                                 f"({result.drill.traffic}, no fault)")
    return None


def fired_in(alarm: str, incidents: Sequence[DrillResult], timelines: Timelines) -> list[str]:
    return [r.drill.name for r in incidents
            if any(t["to"] == ALARM and t["minute"] >= 0 for t in timelines.of(r, alarm))]


def _next_datapoint(result: DrillResult, definition: MetricAlarmDefinition, after: int) -> Optional[int]:
    """The drill minute whose evaluation first sees a datapoint of the alarm's metrics at or after `after`."""
    found = []
    for key, _, _ in definition.metrics.values():
        minutes = result.store.series.get(key) or {}
        found += [m - result.start_minute for m in minutes if after <= m - result.start_minute < result.drill.minutes]
    return min(found) + 1 if found else None


def recovery(alarm: str, result: DrillResult, timelines: Timelines, bound: int,
             definition: Optional[MetricAlarmDefinition]) -> Optional[Recovery]:
    """How the alarm came back after the drill's faults ended; None when it was not in ALARM then."""
    end = incident_end(result)
    if end is None or end >= result.drill.minutes:
        return None
    moves = timelines.of(result, alarm)
    before = [t for t in moves if t["minute"] <= end]
    after = [t for t in moves if t["minute"] > end]
    in_alarm_at_end = bool(before) and before[-1]["to"] == ALARM
    if not in_alarm_at_end and not any(t["to"] == ALARM for t in after):
        return None
    name = result.drill.name
    start, since = end, "every fault ended"
    if definition is not None and definition.props.get("treatMissingData") == "ignore":
        resumed = _next_datapoint(result, definition, end)
        if resumed is None:
            return Recovery(name, None, False, f"{name}: no datapoint of its metrics after the faults ended "
                                               f"(minute {end}) before the drill's end")
        start, since = resumed, f"its next datapoint after the faults (minute {resumed})"
    final = after[-1]["to"] if after else (ALARM if in_alarm_at_end else "OK")
    left = result.drill.minutes - start
    if final == ALARM:
        judged = left > bound
        return Recovery(name, None, judged, f"{name}: still in ALARM at its end, {left} min after {since}")
    out = max(t["minute"] for t in moves if t["from"] == ALARM)
    again = [t["minute"] for t in after if t["to"] == ALARM]
    late = f" (entered ALARM at minute {again[0]}, after the faults ended)" if again else ""
    minutes = max(out - start, 0)
    return Recovery(name, minutes, True, f"{name}: OK at minute {out}, {minutes} min after {since}{late}")
