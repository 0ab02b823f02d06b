"""A saved history: the metrics a stack's alarms read over a window, and what CloudWatch did with them.

One JSON document (docs/history.md describes it), written by `history --aws --save FILE` and by
`drill --save-history FILE`, read by `history --from FILE`. Every series is one metric at one
statistic and period, as GetMetricData returns it: each datapoint is stamped with the start of its
period (Unix seconds, UTC). Reading is strict: a problem is one line naming the key, the bad value
and the expected form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any, Optional

from preflight.cloudwatch.evaluation import STATES
from preflight.cloudwatch.store import PERCENTILE_RANK, MetricKey, metric_key

VERSION = 1
STATISTIC = re.compile(r"^(Sum|Average|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$")


class HistoryError(ValueError):
    """A history file that cannot be read: one line, exit 2."""


@dataclasses.dataclass(frozen=True)
class Series:
    """One metric at one statistic and period; datapoints are (period start in Unix seconds, value)."""

    key: MetricKey
    statistic: str
    period: int
    datapoints: list[tuple[int, float]]

    @property
    def source(self) -> tuple[MetricKey, str, int]:
        return self.key, self.statistic, self.period


@dataclasses.dataclass(frozen=True)
class Band:
    """An anomaly-detection band of one metric: (period start, lower, upper) per period."""

    key: MetricKey
    statistic: str
    period: int
    deviations: float
    datapoints: list[tuple[int, float, float]]

    @property
    def source(self) -> tuple[MetricKey, str, int]:
        return self.key, self.statistic, self.period


@dataclasses.dataclass(frozen=True)
class StateChange:
    """One alarm state change as the account's alarm history (DescribeAlarmHistory) records it."""

    alarm: str
    time: dt.datetime
    from_state: str
    to_state: str


@dataclasses.dataclass
class History:
    stack: str
    region: str
    source: str  # where it came from: `aws account 123456789012`, `drill redis-down`
    start: dt.datetime  # the window the report covers, [start, end), UTC, whole minutes
    end: dt.datetime
    metrics: list[Series]
    bands: list[Band] = dataclasses.field(default_factory=list)
    alarm_history: list[StateChange] = dataclasses.field(default_factory=list)
    # Deployed alarms' definitions as the account holds them (fidelity compares them with the working tree's).
    deployed: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    # Alarm states at `start` where the account says (DescribeAlarms, or the alarm history).
    states_at_start: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def start_minute(self) -> int:
        return int(self.start.timestamp()) // 60

    @property
    def end_minute(self) -> int:
        return int(self.end.timestamp()) // 60


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _dimensions(key: MetricKey) -> dict[str, str]:
    return dict(sorted(key[2]))


def as_json(history: History) -> dict[str, Any]:
    return {
        "version": VERSION,
        "stack": history.stack,
        "region": history.region,
        "source": history.source,
        "start": _iso(history.start),
        "end": _iso(history.end),
        "metrics": [{"namespace": s.key[0], "name": s.key[1], "dimensions": _dimensions(s.key),
                     "statistic": s.statistic, "period": s.period, "datapoints": [list(p) for p in s.datapoints]}
                    for s in history.metrics],
        "bands": [{"namespace": b.key[0], "name": b.key[1], "dimensions": _dimensions(b.key),
                   "statistic": b.statistic, "period": b.period, "deviations": b.deviations,
                   "datapoints": [[t, None if low == -math.inf else low, None if high == math.inf else high]
                                  for t, low, high in b.datapoints]} for b in history.bands],
        "alarmHistory": [{"alarm": c.alarm, "time": _iso(c.time), "from": c.from_state, "to": c.to_state}
                         for c in history.alarm_history],
        "deployed": history.deployed,
        "statesAtStart": history.states_at_start,
    }


def save(history: History, path: Path) -> None:
    # Compact: two weeks of one-minute data for every alarm is millions of datapoints.
    path.write_text(json.dumps(as_json(history), separators=(",", ":")) + "\n")


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, expected: str, value: Any = None) -> HistoryError:
        shown = "" if value is None else f" (got {_short(value)})"
        return HistoryError(f"{self.path}: {key}: expected {expected}{shown}")

    def mapping(self, key: str, data: Any, allowed: dict[str, bool]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key or "(file)", "a mapping", data)
        for name in data:
            if name not in allowed:
                raise self.fail(f"{key}.{name}" if key else name, "one of the keys " + ", ".join(allowed))
        for name, required in allowed.items():
            if required and name not in data:
                raise self.fail(f"{key}.{name}" if key else name, "a value (the key is required)")
        return data

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, "a non-empty string", value)
        return value

    def moment(self, key: str, value: Any, whole_minute: bool) -> dt.datetime:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None or (whole_minute and (parsed.second or parsed.microsecond)):
            what = "a whole minute" if whole_minute else "a time"
            raise self.fail(key, f"{what} in ISO 8601 with an offset, like 2026-07-01T00:00:00Z", value)
        return parsed.astimezone(dt.UTC)

    def source_of(self, key: str, data: dict[str, Any]) -> tuple[MetricKey, str, int]:
        namespace = self.text(f"{key}.namespace", data["namespace"])
        name = self.text(f"{key}.name", data["name"])
        dims = data.get("dimensions") or {}
        if not isinstance(dims, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in dims.items()):
            raise self.fail(f"{key}.dimensions", "a mapping of dimension name to value (strings)", dims)
        statistic = data["statistic"]
        if not isinstance(statistic, str) or not (STATISTIC.match(statistic) or PERCENTILE_RANK.fullmatch(statistic)):
            raise self.fail(f"{key}.statistic", "Sum, Average, Minimum, Maximum, SampleCount, pNN or PR(n:m)",
                            statistic)
        period = data["period"]
        if isinstance(period, bool) or not isinstance(period, int) or period <= 0 or period % 60:
            raise self.fail(f"{key}.period", "a positive multiple of 60 seconds", period)
        return metric_key(namespace, name, dims), statistic, period

    def datapoints(self, key: str, value: Any, period: int, width: int) -> list[tuple]:
        if not isinstance(value, list):
            raise self.fail(key, "a list of datapoints", value)
        points = []
        for i, point in enumerate(value):
            if width == 3 and isinstance(point, list) and len(point) == 3:
                # A band side that is null is unbounded.
                point = [point[0], -math.inf if point[1] is None else point[1],
                         math.inf if point[2] is None else point[2]]
            numbers = isinstance(point, list) and len(point) == width and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v) for v in point)
            if not numbers or not math.isfinite(point[0]) or (width == 2 and not math.isfinite(point[1])):
                form = "[period start, value]" if width == 2 else "[period start, lower or null, upper or null]"
                raise self.fail(f"{key}[{i}]", f"{form} with the start in Unix seconds", point)
            if point[0] % period:
                raise self.fail(f"{key}[{i}]", f"a period start: a multiple of {period} s since the epoch",
                                point[0])
            points.append((int(point[0]), *map(float, point[1:])))
        return points


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read(path: Path) -> History:
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise HistoryError(f"--from {path}: cannot read it: {error.strerror or error}") from None
    except ValueError as error:
        raise HistoryError(f"{path}: not JSON: {error}; expected a saved history (what history --save or "
                           "drill --save-history writes)") from None
    r = _Reader(path)
    r.mapping("", data, {"version": True, "stack": True, "region": True, "source": True, "start": True,
                         "end": True, "metrics": True, "bands": False, "alarmHistory": False, "deployed": False,
                         "statesAtStart": False})
    if data["version"] != VERSION:
        raise r.fail("version", f"{VERSION} (the format this preflight reads)", data["version"])
    start = r.moment("start", data["start"], True)
    end = r.moment("end", data["end"], True)
    if end <= start:
        raise r.fail("end", "a time after start", data["end"])
    metrics: list[Series] = []
    seen: set[tuple[MetricKey, str, int]] = set()
    if not isinstance(data["metrics"], list):
        raise r.fail("metrics", "a list of series", data["metrics"])
    for i, item in enumerate(data["metrics"]):
        key = f"metrics[{i}]"
        r.mapping(key, item, {"namespace": True, "name": True, "dimensions": False, "statistic": True,
                              "period": True, "datapoints": True})
        source = r.source_of(key, item)
        if source in seen:
            raise r.fail(key, "one series per metric, statistic and period (this one is listed twice)")
        seen.add(source)
        metrics.append(Series(*source, r.datapoints(f"{key}.datapoints", item["datapoints"], source[2], 2)))
    bands = []
    for i, item in enumerate(data.get("bands") or []):
        key = f"bands[{i}]"
        r.mapping(key, item, {"namespace": True, "name": True, "dimensions": False, "statistic": True,
                              "period": True, "deviations": True, "datapoints": True})
        source = r.source_of(key, item)
        deviations = item["deviations"]
        if isinstance(deviations, bool) or not isinstance(deviations, (int, float)) or deviations <= 0:
            raise r.fail(f"{key}.deviations", "a positive number of standard deviations", deviations)
        bands.append(Band(*source, float(deviations), r.datapoints(f"{key}.datapoints", item["datapoints"],
                                                                    source[2], 3)))
    changes = []
    for i, item in enumerate(data.get("alarmHistory") or []):
        key = f"alarmHistory[{i}]"
        r.mapping(key, item, {"alarm": True, "time": True, "from": True, "to": True})
        for state_key in ("from", "to"):
            if item[state_key] not in STATES:
                raise r.fail(f"{key}.{state_key}", "one of " + ", ".join(STATES), item[state_key])
        changes.append(StateChange(r.text(f"{key}.alarm", item["alarm"]), r.moment(f"{key}.time", item["time"], False),
                                   item["from"], item["to"]))
    deployed = data.get("deployed") or {}
    if not isinstance(deployed, dict) or not all(isinstance(v, dict) for v in deployed.values()):
        raise r.fail("deployed", "a mapping of alarm name to its definition", deployed)
    states = data.get("statesAtStart") or {}
    if not isinstance(states, dict):
        raise r.fail("statesAtStart", "a mapping of alarm name to its state at start", states)
    for name, state in states.items():
        if state not in STATES:
            raise r.fail(f"statesAtStart.{name}", "one of " + ", ".join(STATES), state)
    return History(r.text("stack", data["stack"]), r.text("region", data["region"]), r.text("source", data["source"]),
                   start, end, metrics, bands, sorted(changes, key=lambda c: c.time), deployed, dict(states))


def state_at(changes: list[StateChange], alarm: str, moment: dt.datetime) -> Optional[str]:
    """The alarm's state at `moment` by its recorded changes; None when they do not say."""
    before = [c for c in changes if c.alarm == alarm and c.time <= moment]
    if before:
        return before[-1].to_state
    after = next((c for c in changes if c.alarm == alarm), None)
    return after.from_state if after else None
