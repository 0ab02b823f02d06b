"""The metric store: a metric is namespace + name + the exact dimension set, fed per minute.

Samples are kept per minute as (value, count) pairs, so a batch of identical events costs one entry.
Statistics follow the CloudWatch concepts page ("Statistics"): Sum, Average, Minimum, Maximum,
SampleCount, percentiles pNN and percentile ranks PR(n:m) over the samples of a period.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Optional

MetricKey = tuple[str, str, frozenset[tuple[str, str]]]
Samples = list[tuple[float, float]]


def metric_key(namespace: str, name: str, dimensions: Optional[Mapping[str, str]]) -> MetricKey:
    return namespace, name, frozenset((str(k), str(v)) for k, v in (dimensions or {}).items())


def percentile(samples: Samples, p: float) -> float:
    """The smallest value with at least p% of the samples at or below it (nearest rank, weighted)."""
    ordered = sorted(samples)
    total = sum(c for _, c in ordered)
    rank = max(math.ceil(total * p / 100 - 1e-9), 1)
    seen = 0.0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return value
    return ordered[-1][0]


# "PR(:300) returns the percentage of data points that have a value of 300 or less. PR(100:2000) returns
# the percentage of data points that have a value between 100 and 2000. Percentile rank is exclusive on the
# lower bound and inclusive on the upper bound." (user guide, "CloudWatch statistics definitions")
PERCENTILE_RANK = re.compile(r"PR\((\d+(?:\.\d+)?)?:(\d+(?:\.\d+)?)?\)")


def percentile_rank(samples: Samples, lower: Optional[float], upper: Optional[float]) -> float:
    """The percentage of the samples above `lower` (exclusive) and at most `upper` (inclusive); a bound
    left out is no bound."""
    total = sum(c for _, c in samples)
    return 100 * _inside_count(samples, lower, upper) / total


def _inside_count(samples: Samples, lower: Optional[float], upper: Optional[float]) -> float:
    return sum(c for v, c in samples if (lower is None or v > lower) and (upper is None or v <= upper))


def statistic(samples: Samples, stat: str) -> Optional[float]:
    if not samples:
        return None
    count = sum(c for _, c in samples)
    if stat == "SampleCount":
        return count
    if stat == "Sum":
        return sum(v * c for v, c in samples)
    if stat == "Average":
        return sum(v * c for v, c in samples) / count
    if stat == "Minimum":
        return min(v for v, _ in samples)
    if stat == "Maximum":
        return max(v for v, _ in samples)
    if stat.startswith("p"):
        return percentile(samples, float(stat[1:]))
    rank = PERCENTILE_RANK.fullmatch(stat)
    if rank:
        lower, upper = (None if bound is None else float(bound) for bound in rank.groups())
        return percentile_rank(samples, lower, upper)
    raise ValueError(f"unsupported statistic {stat!r}")


def low_sample_count(samples: Samples, stat: str) -> bool:
    """"Percentile-based alarms and low data samples": fewer than 10/(1-p) samples (p >= 0.5),
    or 10/p below the median, is too few for a statistically significant percentile."""
    p = float(stat[1:]) / 100
    needed = 10 / (1 - p) if p >= 0.5 else 10 / p
    return sum(c for _, c in samples) < needed


@dataclasses.dataclass
class _Running:
    """Running totals of one metric up to each minute that has samples: what a long window's Sum,
    SampleCount, Average or percentile rank needs, without walking its samples every minute."""

    minutes: list[int] = dataclasses.field(default_factory=list)
    counts: list[float] = dataclasses.field(default_factory=list)
    sums: list[float] = dataclasses.field(default_factory=list)
    # (lower, upper) of a PR statistic -> running count of the samples inside it.
    inside: dict[tuple[Optional[float], Optional[float]], list[float]] = dataclasses.field(default_factory=dict)
    folded_to: int = -(2**62)
    # Minutes written after `folded_to` and not folded in yet: a fold reads these, not every minute.
    pending: set[int] = dataclasses.field(default_factory=set)

    def before(self, series: list[float], minute: int) -> float:
        """The running value over the minutes before `minute`."""
        i = bisect.bisect_left(self.minutes, minute)
        return series[i - 1] if i else 0.0


# Statistics a window answers from running totals (the others walk the window's samples).
RUNNING_STATISTICS = ("Sum", "SampleCount", "Average")


def _minutes() -> defaultdict[int, Samples]:
    return defaultdict(list)


class MetricStore:
    def __init__(self) -> None:
        self.series: dict[MetricKey, dict[int, Samples]] = defaultdict(_minutes)
        # Aggregates of closed periods: minutes are fed in order, so a past period never changes.
        self._closed: dict[tuple[MetricKey, str, int, int], Optional[float]] = {}
        self.latest_minute = -(2**62)
        # The unit a metric is published with (PutMetricData's and EMF's `Unit`), where it was given.
        self.units: dict[MetricKey, str] = {}
        self._running: dict[MetricKey, _Running] = {}

    def __getstate__(self) -> dict:
        """The samples and units, for a drill played in another process; the closed periods' aggregates
        and the running totals are caches, rebuilt where they are read."""
        return {**self.__dict__, "_closed": {}, "_running": {}}

    def put(self, key: MetricKey, minute: int, value: float, count: float = 1) -> None:
        """`minute` is minutes since the epoch (UTC); `count` identical samples of `value`."""
        self._invalidate(key, minute)
        if count > 0:
            self.series[key][minute].append((value, count))
            if minute > self.latest_minute:
                self.latest_minute = minute

    def put_samples(self, key: MetricKey, minute: int, samples: Samples) -> None:
        """Several (value, count) samples of one metric in one minute."""
        self._invalidate(key, minute)
        if samples:
            self.series[key][minute].extend(samples)
            if minute > self.latest_minute:
                self.latest_minute = minute

    def samples(self, key: MetricKey, start_minute: int, minutes: int) -> Samples:
        by_minute = self.series.get(key)
        if not by_minute:
            return []
        found: Samples = []
        if minutes > len(by_minute):  # a long window (e.g. 30 days of SLA history): walk what exists
            for minute, samples in by_minute.items():
                if start_minute <= minute < start_minute + minutes:
                    found.extend(samples)
            return found
        for minute in range(start_minute, start_minute + minutes):
            found.extend(by_minute.get(minute, ()))
        return found

    def window_statistic(self, key: MetricKey, stat: str, start_minute: int, minutes: int) -> Optional[float]:
        """`stat` over a window; Sum, SampleCount and Average of one that reaches the newest minute (30 days
        of SLA history, read every minute) from running totals instead of walking the samples."""
        by_minute = self.series.get(key)
        if not by_minute:
            return None
        if stat in RUNNING_STATISTICS and start_minute + minutes > self.latest_minute:
            return self._running_window(key, by_minute, stat, start_minute, start_minute + minutes)
        return statistic(self.samples(key, start_minute, minutes), stat)

    def _running_window(self, key: MetricKey, by_minute: dict[int, Samples], stat: str, start: int,
                        end: int) -> Optional[float]:
        """Sum, SampleCount or Average of a window reaching the newest minute (a health check reading 30
        days of SLA history every minute): the complete minutes from running totals, the newest, which
        may still grow, from its samples."""
        running = self._fold(key, by_minute, self.latest_minute)
        lower = min(start, self.latest_minute)
        count = running.before(running.counts, self.latest_minute) - running.before(running.counts, lower)
        total = running.before(running.sums, self.latest_minute) - running.before(running.sums, lower)
        if start <= self.latest_minute < end:
            for value, weight in by_minute.get(self.latest_minute, ()):
                count, total = count + weight, total + value * weight
        if count <= 0:
            return None
        return {"SampleCount": count, "Sum": total, "Average": total / count}[stat]

    def datapoint(self, key: MetricKey, stat: str, period_end_minute: int, period_seconds: int) -> Optional[float]:
        cache_key = (key, stat, period_end_minute, period_seconds)
        if cache_key in self._closed:
            return self._closed[cache_key]
        minutes = max(period_seconds // 60, 1)
        value = statistic(self.samples(key, period_end_minute - minutes, minutes), stat)
        if period_end_minute - 1 <= self.latest_minute:
            self._closed[cache_key] = value
        return value

    def sliding(self, key: MetricKey, stat: str, end_minute: int, minutes: int) -> Optional[float]:
        """`stat` over the `minutes` before `end_minute`, for windows that are evaluated every minute:
        Sum, SampleCount, Average and PR(n:m) from running totals, the others from the samples."""
        rank = PERCENTILE_RANK.fullmatch(stat)
        if stat not in RUNNING_STATISTICS and not rank:
            return statistic(self.samples(key, end_minute - minutes, minutes), stat)
        by_minute = self.series.get(key)
        if not by_minute:
            return None
        running = self._fold(key, by_minute, end_minute)
        start = end_minute - minutes
        count = running.before(running.counts, end_minute) - running.before(running.counts, start)
        if count <= 0:
            return None
        if rank:
            bounds = tuple(None if b is None else float(b) for b in rank.groups())
            inside = self._inside(running, by_minute, bounds)  # type: ignore[arg-type]
            return 100 * (running.before(inside, end_minute) - running.before(inside, start)) / count
        if stat == "SampleCount":
            return count
        total = running.before(running.sums, end_minute) - running.before(running.sums, start)
        return total if stat == "Sum" else total / count

    def _fold(self, key: MetricKey, by_minute: dict[int, Samples], end_minute: int) -> _Running:
        """The running totals of `key` folded up to the minute before `end_minute`."""
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = _Running(pending=set(by_minute))
        if end_minute - 1 <= running.folded_to:
            return running
        new = sorted(m for m in running.pending if m < end_minute)
        running.pending.difference_update(new)
        for minute in new:
            samples = by_minute.get(minute)
            if not samples:
                continue
            running.minutes.append(minute)
            running.counts.append((running.counts[-1] if running.counts else 0.0) + sum(c for _, c in samples))
            running.sums.append((running.sums[-1] if running.sums else 0.0) + sum(v * c for v, c in samples))
            for (lower, upper), inside in running.inside.items():
                inside.append((inside[-1] if inside else 0.0) + _inside_count(samples, lower, upper))
        running.folded_to = end_minute - 1
        return running

    @staticmethod
    def _inside(running: _Running, by_minute: dict[int, Samples],
                bounds: tuple[Optional[float], Optional[float]]) -> list[float]:
        if bounds not in running.inside:
            total, inside = 0.0, []
            for minute in running.minutes:
                total += _inside_count(by_minute[minute], *bounds)
                inside.append(total)
            running.inside[bounds] = inside
        return running.inside[bounds]

    def _invalidate(self, key: MetricKey, minute: int) -> None:
        """A sample for a minute already folded in (a drill writing the past) makes its totals stale."""
        running = self._running.get(key)
        if running is None:
            return
        if minute <= running.folded_to:
            del self._running[key]
        else:
            running.pending.add(minute)

    def set_unit(self, key: MetricKey, unit: Optional[str]) -> None:
        if unit and unit != "None":
            self.units[key] = unit

    def keys(self) -> list[MetricKey]:
        return list(self.series)
