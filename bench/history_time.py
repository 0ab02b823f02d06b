"""Wall time of `history --from FILE` over two weeks of the production stack, beside one 24-hour drill.

The history: the 24-hour drill `drills/normal-school-day.yaml` exported with `--save-history`'s code
(every series every alarm reads, one-minute data where the alarm's period is a minute) and repeated day
after day for 14 days, so every alarm replays two weeks of its own data. Measured in the same run:

- the drill's simulation (program run excluded), the reference;
- the replay alone (the alarms over 14 days through the CloudWatch model), and each stage of the report:
  reading the file, the figures, incidents and tuning, fidelity;
- the whole `python -m preflight history --stack production --from FILE` process as a user runs it.

Usage: venv/bin/python -m bench.history_time [--runs 3] [--days 14]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from preflight.drill.drill_file import load_drill
from preflight.drill.runner import run_drill
from preflight.emulator.platform import cloudwatch_definitions, platform_from_model
from preflight.history import history_file
from preflight.history.cli import history_report
from preflight.history.drill_export import drill_history
from preflight.history.figures import figures
from preflight.history.history_file import Band, History, Series
from preflight.history.replay import replay
from preflight.model.stack import build_model
from preflight.program.engine import run_program
from preflight.program.stack_files import load_stack_files

REPO = Path(__file__).resolve().parent.parent
DAY_SECONDS = 86400


def _repeat(points: list[tuple], day_start: int, days: int) -> list[tuple]:
    """The points of one day (from `day_start`, seconds) repeated `days` times; earlier points kept as the lead."""
    lead = [p for p in points if p[0] < day_start]
    day = [p for p in points if day_start <= p[0] < day_start + DAY_SECONDS]
    return lead + [(p[0] + k * DAY_SECONDS, *p[1:]) for k in range(days) for p in day]


def fortnight(one_day: History, day_start: dt.datetime, days: int) -> History:
    start = int(day_start.timestamp())
    return dataclasses.replace(
        one_day, source=f"{one_day.source}, repeated for {days} days", start=day_start,
        end=day_start + dt.timedelta(days=days),
        metrics=[Series(s.key, s.statistic, s.period, _repeat(s.datapoints, start, days)) for s in one_day.metrics],
        bands=[Band(b.key, b.statistic, b.period, b.deviations, _repeat(b.datapoints, start, days))
               for b in one_day.bands])


def _timed(work, *args, **kwargs):
    started = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()

    files = load_stack_files(REPO, "production")
    model = build_model(run_program(files, preview=True))
    platform_ = platform_from_model(model)
    drill = load_drill(REPO / "drills" / "normal-school-day.yaml")
    drill_seconds, result = [], None
    for _ in range(args.runs):
        seconds, result = _timed(run_drill, drill, platform_)
        drill_seconds.append(seconds)
    assert result is not None
    history = fortnight(drill_history(result, "production"), drill.start.astimezone(dt.UTC), args.days)
    alarms, composites = cloudwatch_definitions(model)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.json"
        history_file.save(history, path)
        size = path.stat().st_size
        command = [sys.executable, "-m", "preflight", "history", "--stack", "production", "--from", str(path)]
        read, replayed_, figured, reported, whole = [], [], [], [], []
        for _ in range(args.runs):
            seconds, loaded = _timed(history_file.read, path)
            read.append(seconds)
            seconds, replayed = _timed(replay, loaded, alarms, composites)
            replayed_.append(seconds)
            figured.append(_timed(figures, replayed)[0])
            reported.append(_timed(history_report, files, model, loaded, None, 6)[0])
            whole.append(_timed(subprocess.run, command, cwd=REPO, check=True, stdout=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONPATH": str(REPO)})[0])
    points = sum(len(s.datapoints) for s in history.metrics)
    one_minute = sum(1 for a in alarms if a.period == 60)
    drill_median = statistics.median(drill_seconds)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"history: {args.days} days of production, {len(alarms)} metric alarms ({one_minute} on one-minute "
          f"periods), {len(composites)} composites, {len(history.metrics)} series, {points:,} datapoints, "
          f"{size / 2**20:.1f} MiB of JSON")
    print(f"load average: {os.getloadavg()[0]:.1f}; runs {args.runs}, medians:")
    print(f"  24-hour drill ({drill.name}), simulation only: {drill_median:.2f} s")
    for what, seconds in (("read the file", read), ("replay", replayed_), ("figures", figured),
                          ("the report (replay, figures, incidents, tuning, fidelity; program run once more for "
                           "the threshold keys)", reported), ("whole `history --from` process", whole)):
        median = statistics.median(seconds)
        print(f"  {what}: {median:.2f} s ({median / drill_median:.1f}x the drill; min {min(seconds):.2f}, "
              f"max {max(seconds):.2f})")


if __name__ == "__main__":
    main()
