"""Threshold suggestions from what happened: for each alarm that paged outside the incidents, the
threshold (or M of N) that keeps it quiet there and still fires in time during the incidents; for
each alarm never in ALARM, how close it came.

"In time" is the tier's response time (critical 5 minutes, warning 15, business 1 hour): an alarm
must still enter ALARM within that many minutes of the start of each incident in which it fired as
it is now (or no later than it does now, where it is already slower). Every candidate is checked by
evaluating the alarm with it, alone, through the CloudWatch model over the whole history; raising a
threshold above a value changes nothing until the next observed value, so the candidates are the
values the alarm compared, and the suggestion is the roundest number between the quietest candidate
that still fires in time and the next one. M of N is searched where no threshold separates them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, Optional

from preflight.cloudwatch.cloudwatch import MetricAlarmDefinition, math_series, single_metric
from preflight.cloudwatch.evaluation import breaches
from preflight.cloudwatch.insights import InsightsError, returned_series
from preflight.history.figures import AlarmFigures, Figures, ist
from preflight.history.incidents import Incident
from preflight.history.replay import Replay, alone
from preflight.history.threshold_keys import ThresholdKey

# Each tier's response time, in minutes: a page later than this cannot be answered in time.
DETECTION_MINUTES = {"critical": 5, "warning": 15, "business": 60}
GREATER = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")
LESS = ("LessThanThreshold", "LessThanOrEqualToThreshold")
# M of N candidates: up to this many evaluation periods (and within CloudWatch's one day for periods under an hour).
MAX_EVALUATION_PERIODS = 10
MAX_ALARM_RANGE_SECONDS = 86400
DEFINITION = "change the alarm's definition in components/alarms/"


def _when(minute: int) -> str:
    return ist(minute).strftime("%Y-%m-%d %H:%M IST")


def compared_values(replay: Replay, alarm: MetricAlarmDefinition) -> list[tuple[int, Optional[float], Any]]:
    """(period end, the value the alarm compares, its band or None) for each of its periods in the window:
    metric math over the whole window at once (the same functions, one long range); for a Metrics
    Insights alarm every returned series' values."""
    step = alarm.period // 60
    ends = list(range(-(-(replay.start + 1) // step) * step, replay.end + 1, step))
    if not ends:
        return []
    store = replay.store
    try:
        query = alarm.insights
    except InsightsError:
        return []
    if query is not None:
        try:
            series = returned_series(query, store, ends, alarm.period, for_alarm=False)
        except InsightsError:
            return []
        return [(e, v, None) for values in series.values() for e, v in zip(ends, values, strict=True)]
    if alarm.props.get("metricName"):
        key, stat, period = single_metric(alarm.props)
        return [(e, store.datapoint(key, stat, e, period), None) for e in ends]
    computed = {query_id: [store.datapoint(key, stat, e, period) for e in ends]
                for query_id, (key, stat, period) in alarm.metrics.items()}
    try:
        values, band = math_series(alarm, computed, ends[-1], len(ends), replay.model.band_model)
    except ValueError:
        return []
    return [(e, v, None if band is None else band[i]) for i, (e, v) in enumerate(zip(ends, values, strict=True))]


@dataclasses.dataclass(frozen=True)
class Need:
    """An incident in which the alarm fired as it is: it must be in ALARM between start and deadline."""

    incident: Incident
    deadline: int


def _needs(windows: list[tuple[int, int]], incidents: Sequence[Incident], target: int) -> list[Need]:
    needs = []
    for incident in incidents:
        hits = [a for a, b in windows if a <= incident.end and b > incident.start]
        if hits:
            first = max(hits[0], incident.start)
            needs.append(Need(incident, max(incident.start + target, first)))
    return needs


def _noise(windows: list[tuple[int, int]], incidents: Sequence[Incident], replay: Replay, name: str) -> list[int]:
    """Entries into ALARM outside every incident (an alarm already in ALARM at the start did not enter)."""
    known = replay.known_start.get(name) == "ALARM"
    return [a for a, _ in windows if not (known and a == replay.start) and not any(i.holds(a) for i in incidents)]


def _fires(windows: list[tuple[int, int]], needs: Sequence[Need]) -> bool:
    return all(any(a <= n.deadline and b > n.incident.start for a, b in windows) for n in needs)


def _variant(alarm: MetricAlarmDefinition, **props: Any) -> MetricAlarmDefinition:
    return MetricAlarmDefinition(alarm.name, {**alarm.props, **props}, alarm.alarm_topics, alarm.ok_topics)


def _roundest(low: float, high: float, up: bool) -> float:
    """The number with the fewest significant digits in [low, high) rounding up (in (low, high] rounding
    down); the bound itself when none is shorter."""
    bound = low if up else high
    if bound == 0 or not math.isfinite(bound):
        return bound
    magnitude = math.floor(math.log10(abs(bound)))
    for digits in range(1, 13):
        step = 10.0 ** (magnitude - digits + 1)
        value = round((math.ceil(low / step) if up else math.floor(high / step)) * step, 12)
        if (low <= value < high) if up else (low < value <= high):
            return value
    return bound


def _first(candidates: Sequence[float], good: Callable[[float], bool]) -> Optional[int]:
    """The index of the first candidate for which `good` holds, `good` being monotone (False ... True)."""
    low, high, found = 0, len(candidates) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if good(candidates[middle]):
            found, high = middle, middle - 1
        else:
            low = middle + 1
    return found


@dataclasses.dataclass
class Suggestion:
    alarm: str
    text: str
    noise: list[int]  # the minutes it entered ALARM outside the incidents, as it is
    threshold: Optional[float] = None
    datapoints: Optional[tuple[int, int]] = None  # (M, N)
    key: Optional[ThresholdKey] = None
    setting: Optional[float] = None

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"text": self.text, "outsideIncidents": [_when(m) for m in self.noise]}
        if self.threshold is not None:
            shown["threshold"] = self.threshold
        if self.datapoints is not None:
            shown["datapointsToAlarm"], shown["evaluationPeriods"] = self.datapoints
        if self.key is not None and self.setting is not None:
            shown["key"], shown["value"], shown["yaml"] = self.key.label, self.setting, self.key.yaml(self.setting)
        return shown


class Tuner:
    def __init__(self, replay: Replay, incidents: Sequence[Incident], keys: dict[str, ThresholdKey]) -> None:
        self.replay, self.incidents, self.keys = replay, list(incidents), keys

    def _verdict(self, alarm: MetricAlarmDefinition, needs: Sequence[Need]) -> tuple[bool, bool]:
        windows = alone(self.replay, alarm)
        return not _noise(windows, self.incidents, self.replay, alarm.name), _fires(windows, needs)

    def suggest(self, alarm: MetricAlarmDefinition, figure: AlarmFigures) -> Optional[Suggestion]:
        outside = sorted({m for m, _ in figure.page_minutes if not any(i.holds(m) for i in self.incidents)})
        windows = self.replay.alarm_windows(alarm.name)
        noise = _noise(windows, self.incidents, self.replay, alarm.name)
        if not outside or not noise:
            return None  # no page outside the incidents, or only while still in ALARM from one
        target = min((DETECTION_MINUTES[t] for t in figure.tiers if t in DETECTION_MINUTES), default=60)
        needs = _needs(windows, self.incidents, target)
        fired = "; it fired in " + ", ".join(f"'{n.incident.what}'" for n in needs) if needs else ""
        head = (f"paged {len(outside)} times outside the incidents (first {_when(outside[0])}){fired}. ")
        found = self._threshold(alarm, needs, target)
        if found is not None:
            threshold, key, setting = found
            now = alarm.props["threshold"]
            where = (f"set {key.label}: {setting:g} (now {key.value:g})" if key is not None and setting is not None
                     else f"no stack-file key sets this threshold: {DEFINITION}")
            caught = f" and still fires within {target} minutes of each incident it caught" if needs else ""
            return Suggestion(alarm.name, head + f"A threshold of {threshold:g} (now {now:g}) keeps it quiet there"
                              f"{caught}: {where}.", noise, threshold=threshold, key=key, setting=setting)
        mn = self._m_of_n(alarm, needs, target)
        if mn is not None:
            m, n = mn
            now_n = int(alarm.props["evaluationPeriods"])
            now_m = int(alarm.props.get("datapointsToAlarm") or now_n)
            return Suggestion(alarm.name, head + f"No threshold separates it from the incidents; {m} of {n} periods "
                              f"(now {now_m} of {now_n}) does. M of N is not a stack-file setting: {DEFINITION}.",
                              noise, datapoints=(m, n))
        return Suggestion(alarm.name, head + f"No threshold or M of N (up to {MAX_EVALUATION_PERIODS} periods) keeps "
                          f"it quiet there and still fires within {target} minutes in the incidents: what it "
                          "measures does not tell them apart.", noise)

    def _threshold(self, alarm: MetricAlarmDefinition, needs: Sequence[Need], target: int
                   ) -> Optional[tuple[float, Optional[ThresholdKey], Optional[float]]]:
        operator = alarm.props.get("comparisonOperator")
        if alarm.props.get("thresholdMetricId") or operator not in (*GREATER, *LESS):
            return None
        up = operator in GREATER
        now = float(alarm.props["threshold"])
        values = {v for _, v, _ in compared_values(self.replay, alarm) if v is not None}
        # A threshold at a value: that value no longer breaches (strict comparisons; the inclusive
        # ones just past it). Only values beyond the current threshold can quiet the alarm.
        candidates = sorted((v for v in values if (v >= now if up else v <= now)), reverse=not up)
        if not candidates:
            return None

        def at(value: float) -> float:
            if operator.endswith("OrEqualToThreshold"):
                return math.nextafter(value, math.inf if up else -math.inf)
            return value

        verdicts: dict[float, tuple[bool, bool]] = {}

        def verdict(value: float) -> tuple[bool, bool]:
            if value not in verdicts:
                verdicts[value] = self._verdict(_variant(alarm, threshold=at(value)), needs)
            return verdicts[value]

        quiet = _first(candidates, lambda v: verdict(v)[0])
        if quiet is None or not verdict(candidates[quiet])[1]:
            return None
        # The last candidate that still fires in time: thresholds up to the next one behave alike.
        later = candidates[quiet + 1:]
        stops = _first(later, lambda v: not verdict(v)[1])
        limit = later[stops] if stops is not None else (math.inf if up else -math.inf)
        key = self.keys.get(alarm.name)
        scale = key.scale if key is not None and key.scale > 0 else 1.0
        low, high = sorted((at(candidates[quiet]) / scale, at(limit) / scale))
        threshold = round(_roundest(low, high, up) * scale, 12)
        for chosen in (threshold, at(candidates[quiet])):
            good_quiet, good_fires = self._verdict(_variant(alarm, threshold=chosen), needs)
            if good_quiet and good_fires:
                return chosen, key, (round(chosen / scale, 12) if key is not None else None)
        return None

    def _m_of_n(self, alarm: MetricAlarmDefinition, needs: Sequence[Need], target: int) -> Optional[tuple[int, int]]:
        period_minutes = alarm.period // 60
        latest = max([n.deadline - n.incident.start for n in needs], default=target)
        for m in range(1, MAX_EVALUATION_PERIODS + 1):
            if m * period_minutes > max(latest, target):
                break  # M breaching periods take longer than the incidents allow
            for n in range(m, MAX_EVALUATION_PERIODS + 1):
                if alarm.period < 3600 and n * alarm.period > MAX_ALARM_RANGE_SECONDS:
                    break
                quiet, fires = self._verdict(_variant(alarm, datapointsToAlarm=m, evaluationPeriods=n), needs)
                if quiet and fires:
                    return m, n
        return None


def headroom(replay: Replay, alarm: MetricAlarmDefinition) -> Optional[dict[str, Any]]:
    """For an alarm never in ALARM: its closest approach to the threshold, and how many periods breached."""
    operator = alarm.props.get("comparisonOperator")
    if operator not in (*GREATER, *LESS) or alarm.props.get("threshold") is None:
        return None
    threshold = float(alarm.props["threshold"])
    seen = [(e, v) for e, v, _ in compared_values(replay, alarm) if v is not None]
    if not seen:
        return None
    up = operator in GREATER
    end, closest = (max if up else min)(seen, key=lambda item: item[1])
    breaching = sum(1 for _, v in seen if breaches(alarm.props, v))
    margin = (threshold - closest) if up else (closest - threshold)
    sign = ">" if up else "<"
    peak = f"{'peak' if up else 'lowest'} {closest:g} at {_when(end)} against {sign} {threshold:g}"
    if breaching:
        m = int(alarm.props.get("datapointsToAlarm") or alarm.props["evaluationPeriods"])
        text = (f"breached in {breaching} periods, never {m} of {alarm.props['evaluationPeriods']} ({peak})")
    else:
        share = f" ({abs(margin / threshold):.0%} of the threshold)" if threshold else ""
        text = f"{peak}: {margin:g} {'below' if up else 'above'} it{share}; never breached"
    return {"name": alarm.name, "threshold": threshold, "closest": closest, "at": _when(end),
            "margin": margin, "breachingPeriods": breaching, "text": text}


def tune(replay: Replay, found: Figures, incidents: Sequence[Incident], keys: dict[str, ThresholdKey]
         ) -> tuple[dict[str, Suggestion], list[dict[str, Any]]]:
    """Suggestions for the alarms that paged outside the incidents, and the headroom of those never in ALARM."""
    tuner = Tuner(replay, incidents, keys)
    suggestions, far = {}, []
    for alarm in replay.alarms:
        figure = found.alarm(alarm.name)
        suggestion = tuner.suggest(alarm, figure)
        if suggestion is not None:
            suggestions[alarm.name] = suggestion
        elif not figure.minutes_in_alarm:
            room = headroom(replay, alarm)
            if room is not None:
                far.append(room)
    # Closest first: those that breached, then by headroom as a share of the threshold (a threshold of 0,
    # a count that must stay at 0, last: it has no share to compare).
    far.sort(key=lambda r: (r["breachingPeriods"] == 0, abs(r["margin"] / r["threshold"]) if r["threshold"]
                            else math.inf, r["name"]))
    return suggestions, far
