"""The scales of a drill chart: round value ticks in k/M notation, percentages from 0 to 100, and
IST clock times along the drill."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

from stackconfig.traffic import IST

# Tick steps are 1, 2, 2.5 or 5 times a power of ten; about this many intervals span the values.
STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
INTERVALS = 4
PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"))
# Clock steps in minutes, and at most this many clock ticks along a chart.
CLOCK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440)
MAX_CLOCK_TICKS = 5


@dataclasses.dataclass(frozen=True)
class Scale:
    low: float
    high: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]

    def fraction(self, value: float) -> float:
        """0 at the bottom of the chart, 1 at the top."""
        return (value - self.low) / ((self.high - self.low) or 1.0)


def _step(span: float) -> float:
    raw = span / INTERVALS
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in STEPS if m * power >= raw * (1 - 1e-9))


def number(value: float, step: float = 0.0) -> str:
    """`value` in k/M/G notation, with as many decimals as `step` (the distance between ticks) needs;
    without a step, three significant digits."""
    if abs(value) < abs(step) * 1e-6 or value == 0:
        return "0"
    magnitude = max(abs(value), abs(step))
    divisor, prefix = next(((d, p) for d, p in PREFIXES if magnitude >= d), (1.0, ""))
    scaled, scaled_step = value / divisor, step / divisor
    if scaled_step:
        decimals = max(0, -math.floor(math.log10(scaled_step) + 1e-9))
        if round(scaled_step * 10 ** decimals, 6) % 1:  # 2.5 x 10^k needs one more digit
            decimals += 1
    else:
        decimals = max(0, 2 - math.floor(math.log10(abs(scaled)))) if scaled else 0
    text = f"{scaled:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + prefix


def value_scale(values: Sequence[float], percent: bool) -> Scale:
    """Round ticks from zero (or below, for negative values) to just above the largest value: at
    least three of them. A percentage runs from 0 to 100 unless a value lies outside."""
    low = min(0.0, min(values, default=0.0))
    high = max(values, default=0.0)
    if percent and low >= 0 and high <= 100:
        ticks = (0.0, 25.0, 50.0, 75.0, 100.0)
        return Scale(0.0, 100.0, ticks, tuple(f"{number(t, 25)}%" for t in ticks))
    if high <= low:
        high = low + 1.0
    step = _step(high - low)
    bottom, top = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    count = round((top - bottom) / step)
    ticks = tuple(bottom + i * step for i in range(count + 1))
    suffix = "%" if percent else ""
    return Scale(bottom, top, ticks, tuple(number(t, step) + suffix for t in ticks))


def clock_ticks(start: dt.datetime, minutes: int) -> list[tuple[int, str]]:
    """(drill minute, HH:MM in IST) on round clock times: the finest step with at most
    MAX_CLOCK_TICKS ticks, so that a chart shows three or more wherever the drill is long enough."""
    local = start.astimezone(IST)
    first = local.hour * 60 + local.minute + local.second / 60
    for step in CLOCK_STEPS:
        offset = math.ceil(first / step - 1e-9) * step - first
        ticks = [round(offset + i * step) for i in range(int((minutes - offset) // step) + 1)]
        if len(ticks) <= MAX_CLOCK_TICKS:
            return [(m, (local + dt.timedelta(minutes=m)).strftime("%H:%M")) for m in ticks]
    return [(0, local.strftime("%H:%M"))]


def clock(start: dt.datetime, minute: float) -> str:
    return (start.astimezone(IST) + dt.timedelta(minutes=minute)).strftime("%H:%M")
