"""A drill's series in the history format (`drill --save-history OUT`), so that a drill and its replay
can be held against each other: the replay of an exported drill must give the drill's transitions.

Written: every series the alarms read, at each alarm's statistic and period, over every simulated
minute (a sliding window's one-minute series also over the history before it); the anomaly bands the
drill's band model gave; the window is the drill's evaluated minutes (warm-up included), so the replay
evaluates the alarms at the same minutes as the drill.
"""

from __future__ import annotations

import datetime as dt

from preflight.drill.runner import HISTORY_MINUTES, WARMUP_MINUTES, DrillResult
from preflight.history.history_file import Band, History, Series
from preflight.history.sources import MINUTE, band_source, every_source


def _period_ends(first_minute: int, last_minute: int, step: int) -> range:
    """Ends (minutes) of the whole periods between the first simulated minute and the last."""
    first_end = -(-first_minute // step) * step + step
    return range(first_end, last_minute + 1, step)


def drill_history(result: DrillResult, stack: str) -> History:
    start = result.start_minute - WARMUP_MINUTES
    end = result.start_minute + result.drill.minutes
    first = start - HISTORY_MINUTES  # the first simulated minute
    store, alarms = result.store, result.platform.alarms
    metrics = []
    for key, stat, period in every_source(alarms, store.keys()):
        step = period // 60
        points = []
        # A one-minute series of a sliding window starts with the days of history before the simulation.
        since = min(first, min(store.series.get(key) or [first])) if period == MINUTE else first
        for period_end in _period_ends(since, end, step):
            value = store.datapoint(key, stat, period_end, period)
            if value is not None:
                points.append(((period_end - step) * 60, value))
        metrics.append(Series(key, stat, period, points))
    bands = []
    band_model = result.model.band_model
    for alarm in alarms:
        found = band_source(alarm)
        if found is None or band_model is None:
            continue
        source = found.source
        step = source[2] // 60
        points = [((e - step) * 60, *band_model(source, found.deviations, e)) for e in _period_ends(first, end, step)]
        band = Band(*source, found.deviations, points)
        if (band.source, band.deviations) not in {(b.source, b.deviations) for b in bands}:
            bands.append(band)
    return History(stack=stack, region=result.platform.region, source=f"drill {result.drill.name}",
                   start=dt.datetime.fromtimestamp(start * 60, dt.UTC), end=dt.datetime.fromtimestamp(end * 60, dt.UTC),
                   metrics=metrics, bands=bands)
