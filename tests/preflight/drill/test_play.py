"""Several drills are played at once, one process per core: each result is the one the drill gives
played alone, in the drills' order, whatever world (stack file, account) each drill plays on."""

from __future__ import annotations

import pickle

import pytest

from preflight.cloudwatch.store import MetricStore, metric_key
from preflight.drill.cli import DRILLS, drill_platform, play, world_of
from preflight.drill.drill_file import load_drill

# Short drills of both worlds (the production stack, the fleet stack of 300 functions), interleaved.
NAMES = ["auth-release-breaks-sessions", "fleet/one-failing-function-among-300", "credential-stuffing-at-night",
         "health-monitor-stops"]


@pytest.mark.slow
def test_drills_played_at_once_give_the_results_played_one_by_one():
    drills = [load_drill(DRILLS / f"{name}.yaml") for name in NAMES]
    platforms = {}
    for drill in drills:
        platforms.setdefault(world_of(drill), drill_platform(drill, "production", DRILLS.parent)[1])
    assert len(platforms) == 2
    alone = play(drills, platforms, processes=1)
    at_once = play(drills, platforms, processes=2)
    assert [r.drill.name for r in at_once] == [d.name for d in drills]
    assert [r.as_json() for r in at_once] == [r.as_json() for r in alone]
    assert [r.platform for r in at_once] == [platforms[world_of(d)] for d in drills]
    # What the coverage report reads besides: the metrics, and the alarms' final states.
    for one, other in zip(alone, at_once, strict=True):
        assert other.store.series == one.store.series
        assert other.model.states == one.model.states


def test_a_store_sent_to_another_process_keeps_its_samples_and_answers_the_same():
    store = MetricStore()
    key = metric_key("HASIVU/Business", "PaymentErrors", {"Environment": "production"})
    for minute in range(100):
        store.put(key, minute, 1.0, minute % 3)
    before = [store.sliding(key, "Sum", end, 60) for end in (60, 80, 100)]
    copy = pickle.loads(pickle.dumps(store))  # noqa: S301 - our own bytes, as a worker process hands them back
    assert copy.series == store.series
    assert [copy.sliding(key, "Sum", end, 60) for end in (60, 80, 100)] == before
    copy.put(key, 100, 1.0, 5)
    assert copy.sliding(key, "Sum", 101, 60) == before[-1] - (40 % 3) + 5
