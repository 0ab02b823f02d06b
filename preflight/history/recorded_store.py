"""The metric store of a replay: recorded aggregates instead of samples.

GetMetricData returns one value per period at the statistic asked for, so a replayed alarm reads
exactly the series recorded at its own statistic and period; a metric read at two statistics is two
series. A period with no datapoint is missing data, as in CloudWatch. Anomaly bands are read the same
way, from the bands recorded with the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from preflight.cloudwatch.store import MetricKey, MetricStore, Samples
from preflight.history.history_file import Band, Series
from preflight.history.sources import ADDED_UP, MINUTE

Source = tuple[MetricKey, str, int]  # metric, statistic, period in seconds


class _Aligned:
    """One value per period, indexed by the minute its period ends (the minute an alarm reads it)."""

    def __init__(self, period: int, points: Iterable[tuple]) -> None:
        self.step = period // 60
        by_end = {int(p[0]) // 60 + self.step: (p[1] if len(p) == 2 else p[1:]) for p in points}
        self.first = min(by_end, default=0)
        last = max(by_end, default=-self.step)
        self.values: list = [None] * ((last - self.first) // self.step + 1 if by_end else 0)
        for end, value in by_end.items():
            self.values[(end - self.first) // self.step] = value

    def at(self, end_minute: int):
        index, offset = divmod(end_minute - self.first, self.step)
        if offset or index < 0 or index >= len(self.values):
            return None
        return self.values[index]


class RecordedStore(MetricStore):
    def __init__(self, series: Iterable[Series]) -> None:
        super().__init__()
        self.recorded: dict[Source, _Aligned] = {s.source: _Aligned(s.period, s.datapoints) for s in series}
        self._prefixes: dict[tuple[MetricKey, str, bool], tuple[int, list[float], list[int]]] = {}
        self._keys = list(dict.fromkeys(source[0] for source, found in self.recorded.items() if found.values))
        self.latest_minute = max((found.first + (len(found.values) - 1) * found.step
                                  for found in self.recorded.values() if found.values), default=self.latest_minute)

    def has(self, source: Source) -> bool:
        return source in self.recorded

    def datapoint(self, key: MetricKey, stat: str, period_end_minute: int, period_seconds: int) -> Optional[float]:
        found = self.recorded.get((key, stat, period_seconds))
        return None if found is None else found.at(period_end_minute)

    def sliding(self, key: MetricKey, stat: str, end_minute: int, minutes: int) -> Optional[float]:
        """A window ending at any minute, from the one-minute series (preflight/history/sources.py)."""
        values = self._prefix(key, stat)
        if stat in ADDED_UP:
            total, seen = self._between(values, end_minute, minutes)
            return total if seen else None
        weighted, seen = self._between(self._prefix(key, stat, weighted=True), end_minute, minutes)
        count, _ = self._between(self._prefix(key, "SampleCount"), end_minute, minutes)
        return weighted / count if seen and count else None

    def _prefix(self, key: MetricKey, stat: str, weighted: bool = False) -> tuple[int, list[float], list[int]]:
        """(first minute, running total, running number of minutes with a value) of a one-minute series,
        each value times that minute's SampleCount when `weighted`."""
        cache_key = (key, stat, weighted)
        if cache_key not in self._prefixes:
            found = self.recorded.get((key, stat, MINUTE))
            counts = self.recorded.get((key, "SampleCount", MINUTE)) if weighted else None
            totals, seen, total, present = [], [], 0.0, 0
            for i, value in enumerate(found.values if found else []):
                if value is not None:
                    count = counts.at(found.first + i) if counts is not None else 1
                    total += value * (count or 0)
                    present += 1
                totals.append(total)
                seen.append(present)
            self._prefixes[cache_key] = (found.first if found else 0, totals, seen)
        return self._prefixes[cache_key]

    @staticmethod
    def _between(prefix: tuple[int, list[float], list[int]], end_minute: int, minutes: int) -> tuple[float, int]:
        """The total and the minutes with a value among the `minutes` whose periods end by `end_minute`."""
        first, totals, seen = prefix

        def upto(end: int) -> tuple[float, int]:
            index = min(end - first, len(totals) - 1)
            return (totals[index], seen[index]) if index >= 0 else (0.0, 0)

        (high, high_seen), (low, low_seen) = upto(end_minute), upto(end_minute - minutes)
        return high - low, high_seen - low_seen

    def samples(self, key: MetricKey, start_minute: int, minutes: int) -> Samples:
        """Only how many samples a period had (a recorded SampleCount series), for the percentile
        alarms that `evaluateLowSampleCountPercentile: ignore` holds on too few samples."""
        count = self.datapoint(key, "SampleCount", start_minute + minutes, minutes * 60)
        return [(0.0, count)] if count else []

    def keys(self) -> list[MetricKey]:
        return self._keys


class RecordedBands:
    """ANOMALY_DETECTION_BAND as recorded: (lower, upper) per period, None where none was recorded."""

    def __init__(self, bands: Iterable[Band]) -> None:
        self.bands = {(b.source, b.deviations): _Aligned(b.period, b.datapoints) for b in bands}

    def __call__(self, source: Source, deviations: float, end_minute: int) -> Optional[tuple[float, float]]:
        found = self.bands.get((source, float(deviations)))
        return None if found is None else found.at(end_minute)
