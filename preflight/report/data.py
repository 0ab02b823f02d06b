"""Where a report's metrics come from: the caller's account for a calendar month, or a drill's simulation.

From the account, the SLIs' series are fetched as the history fetch fetches an alarm's
(preflight/history/account_fetch.py): GetMetricData at the window's period, as many series a call as fit
in one answer of 100,800 datapoints (at most 500 queries), every page followed, every metric requested
counted and priced; a metric read at two statistics is two series.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Optional

from preflight.cloudwatch.store import MetricStore
from preflight.history.recorded_store import RecordedStore
from preflight.model.stack import StackModel
from preflight.program.stack_files import StackFiles
from preflight.report.measure import Store, sources
from preflight.report.window import Window


@dataclasses.dataclass
class ReportData:
    store: Store
    window: Window
    source: str  # `aws account 123456789012`, `drill redis-down`
    fetch: Optional[dict[str, Any]] = None  # the calls, metrics requested and cost of --aws


def from_account(files: StackFiles, model: StackModel, slos: list[dict[str, Any]], window: Window,
                 now: dt.datetime, session: Any = None) -> ReportData:
    """`window` as `month_window` made it at `now` (retention counts from `now`)."""
    from preflight.account.session import connect
    from preflight.history.account_fetch import Fetcher  # boto3 clients: only with --aws

    account = connect(files, session)
    fetcher = Fetcher(account, model, window.start, window.end, now)
    fetcher.series({source: 0 for source in sources(slos, window.period)})
    fetched = fetcher.fetched
    summary = fetched.summary()
    fetch = {"getMetricDataCalls": summary["getMetricDataCalls"], "metricsRequested": summary["metricsRequested"],
             "costUsd": summary["costUsd"], "priceSource": summary["priceSource"],
             "periodSeconds": window.period, "retention": summary["retention"]}
    return ReportData(RecordedStore(fetched.history.metrics), window, fetched.history.source, fetch)


def from_drill(path: Path, stack: str, program: Path) -> tuple[StackModel, ReportData]:
    """The drill's own span, one-minute periods, its budget that of its minutes."""
    from preflight.drill.cli import drill_platform
    from preflight.drill.drill_file import load_drill
    from preflight.drill.runner import play_metrics

    drill = load_drill(path)
    model, platform = drill_platform(drill, stack, program)
    store: MetricStore = play_metrics(drill, platform)
    start = drill.start.astimezone(dt.UTC)
    window = Window(f"drill {drill.name}", start, start + dt.timedelta(minutes=drill.minutes), drill.minutes, 60)
    return model, ReportData(store, window, f"drill {drill.name} ({path})")
