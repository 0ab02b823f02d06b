"""A history from the caller's account (read-only): the series the stack's alarms read, their anomaly
bands, the deployed definitions and the alarm history.

- GetMetricData, each series at its alarm's own statistic and period, from the alarm's evaluation range
  before the window's start. At most 500 queries a call and 100,800 datapoints an answer (API reference,
  GetMetricData): a call asks for as many series as fit in one answer, so pages (NextToken) are rare and
  every metric is billed once; NextToken is followed where they are not.
- Retention (GetMetricData): one-minute data is kept 15 days, five-minute 63 days, one-hour 455 days. A
  series is fetched from no earlier than its period's retention; what that leaves out is reported.
- A Metrics Insights alarm: its query's metrics are listed (ListMetrics) and fetched one by one at the
  statistics its functions read; the model evaluates the query. An anomaly alarm: its own queries with
  the band expression, whose two series ("the band's upper and lower values", Using CloudWatch anomaly
  detection) are kept as the band.
- DescribeAlarms gives the deployed definitions, DescribeAlarmHistory (StateUpdate, metric and composite
  alarms) the transitions.
- Throttling: botocore's adaptive retry mode (standard retries plus client-side rate limiting).
- Cost: GetMetricData is billed per metric requested (prices.json); every call's queries are counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Optional

from botocore.config import Config

from preflight.account.calls import one_line_failures
from preflight.account.deployed import deployed_alarms
from preflight.account.session import Account
from preflight.cloudwatch.cloudwatch import MetricAlarmDefinition
from preflight.cloudwatch.insights import InsightsError
from preflight.cloudwatch.store import MetricKey, metric_key
from preflight.emulator.platform import cloudwatch_definitions
from preflight.history.fidelity import deployed_definitions
from preflight.history.history_file import Band, History, Series, StateChange, state_at
from preflight.history.sources import (
    Source,
    alarm_sources,
    band_source,
    evaluation_range_minutes,
    insights_sources,
)
from preflight.model.stack import StackModel
from preflight.preview.cost import load_prices

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
# Retention by period (GetMetricData, API reference): (period divisible by, kept for).
RETENTION = ((3600, dt.timedelta(days=455)), (300, dt.timedelta(days=63)), (60, dt.timedelta(days=15)))
# The newest minutes are still arriving: the window ends this long before now.
SETTLING = dt.timedelta(minutes=10)
HISTORY_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10}, connect_timeout=5, read_timeout=60)


def retention(period: int) -> dt.timedelta:
    return next(kept for divisor, kept in RETENTION if period % divisor == 0)


def floor(moment: dt.datetime, seconds: int) -> dt.datetime:
    stamp = int(moment.timestamp())
    return dt.datetime.fromtimestamp(stamp - stamp % seconds, dt.UTC)


def _metric_stat(key: MetricKey, stat: str, period: int) -> dict[str, Any]:
    namespace, name, dims = key
    return {"Metric": {"Namespace": namespace, "MetricName": name,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims)]},
            "Period": period, "Stat": stat}


@dataclasses.dataclass
class Fetched:
    history: History
    calls: int = 0  # GetMetricData calls, pages included
    metrics_requested: int = 0
    history_calls: int = 0  # DescribeAlarmHistory calls
    retention_notes: list[str] = dataclasses.field(default_factory=list)
    price_per_metric: float = 0.0
    price_source: str = ""

    def summary(self) -> dict[str, Any]:
        cost = self.metrics_requested * self.price_per_metric
        series = len(self.history.metrics)
        points = sum(len(s.datapoints) for s in self.history.metrics)
        return {
            "summary": (f"{series} series ({points:,} datapoints) and {len(self.history.bands)} bands in "
                        f"{self.calls} GetMetricData calls ({self.metrics_requested} metrics requested: "
                        f"{cost:.4f} USD at {self.price_per_metric * 1000:g} USD per 1,000, {self.price_source}); "
                        f"{len(self.history.alarm_history)} state changes in {self.history_calls} "
                        "DescribeAlarmHistory calls"),
            "getMetricDataCalls": self.calls, "metricsRequested": self.metrics_requested,
            "costUsd": round(cost, 6), "priceSource": self.price_source,
            "retention": self.retention_notes,
        }


class Fetcher:
    """GetMetricData (and the alarm history) over [start, end) as seen at `now`, which retention counts from."""

    def __init__(self, account: Account, model: StackModel, start: dt.datetime, end: dt.datetime,
                 now: dt.datetime) -> None:
        self.account, self.model = account, model
        self.cloudwatch = one_line_failures(account.session.client("cloudwatch", region_name=account.region,
                                                                   config=HISTORY_CONFIG))
        self.start, self.end = start, end
        self.now = now
        prices = load_prices()
        self.fetched = Fetched(History(model.stack, account.region, f"aws account {account.account_id}",
                                       self.start, self.end, []),
                               price_per_metric=prices["prices"]["get_metric_data"]["usd"],
                               price_source=f"{prices['source']}, retrieved {prices['retrieved']}")

    # -- series --------------------------------------------------------------------------------

    def _from(self, period: int, lead_minutes: int) -> dt.datetime:
        wanted = floor(self.start - dt.timedelta(minutes=lead_minutes), period)
        oldest = floor(self.now - retention(period), period) + dt.timedelta(seconds=period)
        return max(wanted, oldest)

    def _get(self, queries: list[dict[str, Any]], start: dt.datetime) -> dict[str, list[dict[str, Any]]]:
        """Results by query id over [start, end), all pages."""
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        pages = self.cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=self.end, ScanBy="TimestampAscending")
        for page in pages:
            self.fetched.calls += 1
            self.fetched.metrics_requested += sum(1 for q in queries if "MetricStat" in q)
            for result in page["MetricDataResults"]:
                found[result["Id"]].append(result)
        return found

    def series(self, wanted: dict[Source, int]) -> None:
        """Each source from its lead (minutes of evaluation range before the start)."""
        groups: dict[tuple[int, dt.datetime], list[Source]] = defaultdict(list)
        for source, lead in wanted.items():
            groups[(source[2], self._from(source[2], lead))].append(source)
        for (period, start), sources in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1])):
            points = max(1, int((self.end - start).total_seconds()) // period)
            batch = max(1, min(MAX_QUERIES, MAX_DATAPOINTS // points))
            for first in range(0, len(sources), batch):
                chunk = sources[first:first + batch]
                queries = [{"Id": f"q{i}", "MetricStat": _metric_stat(*source), "ReturnData": True}
                           for i, source in enumerate(chunk)]
                results = self._get(queries, start)
                for i, source in enumerate(chunk):
                    pairs = {int(t.timestamp()): float(v) for r in results.get(f"q{i}", [])
                             for t, v in zip(r.get("Timestamps", []), r.get("Values", []), strict=True)}
                    self.fetched.history.metrics.append(Series(*source, sorted(pairs.items())))
        self._note_retention(wanted)

    def _note_retention(self, wanted: dict[Source, int]) -> None:
        short: dict[int, int] = defaultdict(int)
        for (_, _, period), lead in wanted.items():
            if self._from(period, lead) > floor(self.start - dt.timedelta(minutes=lead), period):
                short[period] += 1
        for period, count in sorted(short.items()):
            oldest = self._from(period, 0)
            kept = retention(period).days
            self.fetched.retention_notes.append(
                f"{count} series at {period} s periods: CloudWatch keeps them {kept} days, so nothing before "
                f"{oldest.isoformat()} (those periods replay as missing data)")

    def bands(self, alarms: Iterable[MetricAlarmDefinition]) -> None:
        for alarm in alarms:
            found = band_source(alarm)
            if found is None:
                continue
            queries = []
            for q in alarm.props["metricQueries"]:
                query: dict[str, Any] = {"Id": q["id"], "ReturnData": q["id"] == found.query_id}
                if q.get("metric"):
                    m = q["metric"]
                    query["MetricStat"] = _metric_stat(metric_key(m["namespace"], m["metricName"], m.get("dimensions")),
                                                       m["stat"], int(m["period"]))
                else:
                    query["Expression"] = q["expression"]
                    if q.get("period"):
                        query["Period"] = int(q["period"])
                queries.append(query)
            start = self._from(alarm.period, evaluation_range_minutes(alarm))
            # "The band consists of two time series": per timestamp, the lower and the upper value.
            sides: dict[int, list[float]] = defaultdict(list)
            for result in self._get(queries, start).get(found.query_id, []):
                for t, v in zip(result.get("Timestamps", []), result.get("Values", []), strict=True):
                    sides[int(t.timestamp())].append(float(v))
            points = [(t, min(v), max(v)) for t, v in sorted(sides.items()) if len(v) == 2]
            self.fetched.history.bands.append(Band(*found.source, found.deviations, points))

    def listed(self, namespace: str, name: str) -> list[MetricKey]:
        pages = self.cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace, MetricName=name)
        return [metric_key(namespace, name, {d["Name"]: d["Value"] for d in m.get("Dimensions", [])})
                for page in pages for m in page["Metrics"]]

    # -- what CloudWatch did -------------------------------------------------------------------

    def alarm_history(self, names: Iterable[str], lead_minutes: int) -> None:
        since = self.start - dt.timedelta(minutes=lead_minutes)
        paginator = self.cloudwatch.get_paginator("describe_alarm_history")
        for name in names:
            for page in paginator.paginate(AlarmName=name, AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                                           HistoryItemType="StateUpdate", StartDate=since, EndDate=self.end,
                                           ScanBy="TimestampAscending"):
                self.fetched.history_calls += 1
                for item in page["AlarmHistoryItems"]:
                    change = _state_change(item)
                    if change is not None:
                        self.fetched.history.alarm_history.append(change)
        self.fetched.history.alarm_history.sort(key=lambda c: c.time)


def _state_change(item: dict[str, Any]) -> Optional[StateChange]:
    """A StateUpdate item: HistoryData is JSON with oldState and newState, each with its stateValue."""
    try:
        data = json.loads(item.get("HistoryData") or "{}")
        old, new = data["oldState"]["stateValue"], data["newState"]["stateValue"]
    except (ValueError, KeyError, TypeError):
        return None
    return StateChange(item["AlarmName"], item["Timestamp"].astimezone(dt.UTC), old, new)


def fetch_history(account: Account, model: StackModel, window: dt.timedelta,
                  now: Optional[dt.datetime] = None) -> Fetched:
    """The `window` that ends 10 minutes before `now` (default: the clock), rounded to 5 minutes."""
    now = now or dt.datetime.now(dt.UTC)
    end = floor(now - SETTLING, 300)
    fetcher = Fetcher(account, model, end - window, end, now)
    alarms, _ = cloudwatch_definitions(model)
    wanted: dict[Source, int] = {}
    listed: dict[tuple[str, str], list[MetricKey]] = {}
    for alarm in alarms:
        lead = evaluation_range_minutes(alarm)
        try:
            query = alarm.insights
        except InsightsError:
            continue  # the replay names the query it cannot read
        if query is not None:
            where = (query.namespace, query.metric)
            if where not in listed:
                listed[where] = fetcher.listed(*where)
            sources = insights_sources(alarm, listed[where])
        else:
            sources = alarm_sources(alarm)
        for source in sources:
            wanted[source] = max(wanted.get(source, 0), lead)
    fetcher.series(wanted)
    fetcher.bands(alarms)
    described = deployed_alarms(account, model)
    history = fetcher.fetched.history
    history.deployed = deployed_definitions(described)
    longest = max((evaluation_range_minutes(a) for a in alarms), default=0)
    fetcher.alarm_history(sorted(history.deployed), longest)
    history.states_at_start = states_at_start(described, history)
    return fetcher.fetched


def states_at_start(described: list[dict[str, Any]], history: History) -> dict[str, str]:
    """Each deployed alarm's state at the window's start: by its history, or, when it has not changed
    since before the start, the state DescribeAlarms gives."""
    found = {}
    for alarm in described:
        name = alarm["AlarmName"]
        state = state_at(history.alarm_history, name, history.start)
        since = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
        if state is None and since is not None and since <= history.start:
            state = alarm["StateValue"]
        if state is not None:
            found[name] = state
    return found
