"""The metric store: a metric is namespace + name + the exact dimension set, fed per minute.

Samples are kept per minute as (value, count) pairs, so a batch of identical events costs one entry.
Statistics follow the CloudWatch concepts page ("Statistics"): Sum, Average, Minimum, Maximum,
SampleCount, percentiles pNN and percentile ranks PR(n:m) over the samples of a period.
"""

from __future__ import annotations

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
    inside = sum(c for v, c in samples if (lower is None or v > lower) and (upper is None or v <= upper))
    return 100 * inside / total


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


class MetricStore:
    def __init__(self) -> None:
        self.series: dict[MetricKey, dict[int, Samples]] = defaultdict(lambda: defaultdict(list))
        # Aggregates of closed periods: minutes are fed in order, so a past period never changes.
        self._closed: dict[tuple[MetricKey, str, int, int], Optional[float]] = {}
        self.latest_minute = -(2**62)
        # Metrics read over windows that hold all their samples: the last minute folded in, and
        # SampleCount, Sum, Minimum, Maximum up to it.
        self.totals: dict[MetricKey, tuple[int, list[float]]] = {}
        # The unit a metric is published with (PutMetricData's and EMF's `Unit`), where it was given.
        self.units: dict[MetricKey, str] = {}

    def put(self, key: MetricKey, minute: int, value: float, count: float = 1) -> None:
        """`minute` is minutes since the epoch (UTC); `count` identical samples of `value`."""
        if count > 0:
            self.series[key][minute].append((value, count))
            if minute > self.latest_minute:
                self.latest_minute = minute

    def put_samples(self, key: MetricKey, minute: int, samples: Samples) -> None:
        """Several (value, count) samples of one metric in one minute."""
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
        """`stat` over a window; one that holds every sample of the metric (e.g. 30 days of SLA history)
        is answered from running totals instead of walking the samples."""
        by_minute = self.series.get(key)
        if not by_minute:
            return None
        first = next(iter(by_minute))  # minutes are fed in order
        if minutes <= len(by_minute) or stat.startswith(("p", "PR(")) or start_minute > first or \
                start_minute + minutes <= self.latest_minute:
            return statistic(self.samples(key, start_minute, minutes), stat)
        folded_to, total = self.totals.get(key) or (first - 1, [0.0, 0.0, math.inf, -math.inf])
        # Minutes before the newest are complete and folded in once; the newest may still grow.
        for minute in range(folded_to + 1, self.latest_minute):
            for value, count in by_minute.get(minute, ()):
                total[0] += count
                total[1] += value * count
                total[2], total[3] = min(total[2], value), max(total[3], value)
        self.totals[key] = (max(folded_to, self.latest_minute - 1), total)
        count, amount, low, high = total
        for value, weight in by_minute.get(self.latest_minute, ()):
            count, amount = count + weight, amount + value * weight
            low, high = min(low, value), max(high, value)
        if not count:
            return None
        return {"SampleCount": count, "Sum": amount, "Average": amount / count, "Minimum": low,
                "Maximum": high}[stat]

    def datapoint(self, key: MetricKey, stat: str, period_end_minute: int, period_seconds: int) -> Optional[float]:
        cache_key = (key, stat, period_end_minute, period_seconds)
        if cache_key in self._closed:
            return self._closed[cache_key]
        minutes = max(period_seconds // 60, 1)
        value = statistic(self.samples(key, period_end_minute - minutes, minutes), stat)
        if period_end_minute - 1 <= self.latest_minute:
            self._closed[cache_key] = value
        return value

    def set_unit(self, key: MetricKey, unit: Optional[str]) -> None:
        if unit and unit != "None":
            self.units[key] = unit

    def keys(self) -> list[MetricKey]:
        return list(self.series)
