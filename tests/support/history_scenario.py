"""The production platform's metrics over a window with two real incidents and one noisy alarm, for the
history tests: as a moto account (one-minute data through PutMetricData) or as a history file.

Every metric the production stack's alarms read gets one-minute data: the platform emulator's normal
school day (the drills' traffic, nobody paged) where it publishes the metric, 0 where it does not (a
count of nothing). Over it:

- the database is unreachable for DATABASE_DOWN_MINUTES (the health monitor's DependencyHealthy is 0);
- Razorpay fails: PAYMENT_ERRORS_PER_MINUTE payment errors a minute for PAYMENT_MINUTES;
- the noisy alarm: RDS CPU at NOISY_CPU % for NOISE_MINUTES at a time, outside both incidents.

moto 5.2 answers GetMetricData without percentiles (moto/cloudwatch/models.py `Statistics.get_statistics_for_type`
returns None for a pNN or a PR(n:m) statistic, which its serializer cannot write), without ANOMALY_DETECTION_BAND,
and has no DescribeAlarmHistory (`describe_alarm_history` is not implemented) nor composite alarms. Those
answers are computed here from the same one-minute data and validated against botocore's output shape
of the operation, as tests/support/moto_account.py does; every other metric query goes to moto over HTTP.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Optional

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.validate import validate_parameters

from preflight.cloudwatch.store import MetricKey, metric_key
from preflight.drill.drill_file import Drill, Expectations
from preflight.drill.runner import run_drill
from preflight.emulator.platform import Platform
from preflight.history.history_file import Band, History, Series
from preflight.history.sources import band_source, every_source
from preflight.program.stack_files import load_stack_files
from tests.support.stack import REPO

DATABASE = metric_key("HASIVU/Health", "DependencyHealthy", {"Environment": "production", "Dependency": "database"})
PAYMENT_ERRORS = metric_key("HASIVU/Business", "PaymentErrors", {"Environment": "production"})
CPU = metric_key("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "hasivu-production-db"})
DATABASE_DOWN_MINUTES = 15
PAYMENT_ERRORS_PER_MINUTE = 4.0
PAYMENT_MINUTES = 15
NOISY_CPU = 85.0
NOISE_MINUTES = 30
Samples = list[tuple[float, float]]


@dataclasses.dataclass
class Scenario:
    start: int  # the window, Unix minutes
    minutes: int
    lead: int  # minutes of data before the window
    database_down: list[int]  # first minute of each stretch
    payment_errors: list[int]
    noise: list[int]
    day: dict[MetricKey, dict[int, Samples]]  # one emulated day: minute of the day -> samples
    day_start: int
    sources: list[tuple[MetricKey, str, int]]

    @property
    def first(self) -> int:
        return self.start - self.lead

    @property
    def end(self) -> int:
        return self.start + self.minutes

    def samples(self, key: MetricKey, minute: int) -> Samples:
        """The one-minute samples of a metric: the emulated day repeated, with the incidents and the noise."""
        if key == DATABASE and any(s <= minute < s + DATABASE_DOWN_MINUTES for s in self.database_down):
            return [(0.0, 1.0)]
        if key == PAYMENT_ERRORS and any(s <= minute < s + PAYMENT_MINUTES for s in self.payment_errors):
            return [(PAYMENT_ERRORS_PER_MINUTE, 1.0)]
        if key == CPU and any(s <= minute < s + NOISE_MINUTES for s in self.noise):
            return [(NOISY_CPU, 1.0)]
        return self.day.get(key, {}).get((minute - self.day_start) % 1440) or [(0.0, 1.0)]

    def keys(self) -> list[MetricKey]:
        return list(dict.fromkeys(key for key, _, _ in self.sources))


def scenario(platform: Platform, start: int, minutes: int, database_down: list[int], payment_errors: list[int],
             noise: list[int], lead: int = 60) -> Scenario:
    """The emulated day that starts at the IST midnight before `start`."""
    ist_midnight = start - (start + 330) % 1440
    drill = Drill(path=Path("scenario"), name="scenario", start=dt.datetime.fromtimestamp(ist_midnight * 60, dt.UTC),
                  minutes=1440, traffic="school-day", seed=0, faults=[],
                  expect=Expectations(pages={}, fires=[], silent=[]))
    result = run_drill(drill, platform)
    assert result.pages == {"critical": 0, "warning": 0, "business": 0}  # the baseline pages nobody
    sources = every_source(platform.alarms, result.store.keys())
    day = {}
    for key in dict.fromkeys(k for k, _, _ in sources):
        by_minute = result.store.series.get(key, {})
        day[key] = {(m - ist_midnight) % 1440: list(s) for m, s in by_minute.items()
                    if ist_midnight <= m < ist_midnight + 1440}
    return Scenario(start, minutes, lead, database_down, payment_errors, noise, day, ist_midnight, sources)


# -- statistics, as the CloudWatch concepts page defines them (independent of the model's store) -------

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
    if stat.startswith("PR("):
        # "PR(:300) returns the percentage of data points that have a value of 300 or less ... exclusive on
        # the lower bound and inclusive on the upper bound" (user guide, "CloudWatch statistics definitions").
        low, high = (float(bound) if bound else None for bound in stat[3:-1].split(":"))
        inside = sum(c for v, c in samples if (low is None or v > low) and (high is None or v <= high))
        return 100 * inside / count
    # pNN: the smallest value with at least NN % of the samples at or below it.
    rank, seen = max(math.ceil(count * float(stat[1:]) / 100 - 1e-9), 1), 0.0
    for value, weight in sorted(samples):
        seen += weight
        if seen >= rank:
            return value
    return max(v for v, _ in samples)


def period_values(s: Scenario, key: MetricKey, stat: str, period: int, first: int, end: int) -> list[tuple[int, float]]:
    """(period start in Unix seconds, value) for the periods that start in [first, end)."""
    step = period // 60
    found = []
    for begin in range(-(-first // step) * step, end, step):
        value = statistic([x for m in range(begin, begin + step) for x in s.samples(key, m)], stat)
        if value is not None:
            found.append((begin * 60, value))
    return found


def m_of_n_changes(s: Scenario, key: MetricKey, stat: str, step: int, breach: Callable[[float], bool], m: int,
                   n: int) -> list[tuple[int, str]]:
    """(minute, new state) of an M-of-N alarm on one metric from the scenario's one-minute data, by the user
    guide's rule (ALARM when M of the last N periods breach), evaluated as each period closes from the
    window's start, starting OK."""
    state, changes = "OK", []
    for end in range(-(-(s.start + 1) // step) * step, s.end + 1, step):
        values = [statistic([x for minute in range(e - step, e) for x in s.samples(key, minute)], stat)
                  for e in range(end - (n - 1) * step, end + 1, step)]
        new = "ALARM" if sum(1 for v in values if v is not None and breach(v)) >= m else "OK"
        if new != state:
            changes.append((end, new))
            state = new
    return changes


def band_of(values: Iterable[tuple[int, float]]) -> list[tuple[int, float, float]]:
    """The band the scenario's anomaly detector gives: wide around the value, never breached."""
    return [(t, v * 0.5 - 10, v * 2 + 10) for t, v in values]


def history(s: Scenario, platform: Platform, stack: str = "production") -> History:
    """The scenario as a history file holds it (what `--aws --save` would write). Every day of a metric
    the incidents and the noise leave alone is the emulated day: its periods are computed once and
    repeated (every period divides a day)."""
    overlaid = {DATABASE, PAYMENT_ERRORS, CPU}
    metrics = []
    for key, stat, period in s.sources:
        if key in overlaid:
            values = period_values(s, key, stat, period, s.first, s.end)
        else:
            day = period_values(s, key, stat, period, s.day_start, s.day_start + 1440)
            values = sorted((t + shift * 86400, v) for t, v in day
                            for shift in range((s.first - s.day_start) // 1440 - 1, (s.end - s.day_start) // 1440 + 1)
                            if s.first * 60 <= t + shift * 86400 < s.end * 60)
        metrics.append(Series(key, stat, period, values))
    bands = []
    for alarm in platform.alarms:
        found = band_source(alarm)
        if found is not None:
            key, stat, period = found.source
            bands.append(Band(key, stat, period, found.deviations,
                              band_of(period_values(s, key, stat, period, s.first, s.end))))
    return History(stack, "ap-south-1", "the history scenario", dt.datetime.fromtimestamp(s.start * 60, dt.UTC),
                   dt.datetime.fromtimestamp(s.end * 60, dt.UTC), metrics, bands)


# -- the moto account ---------------------------------------------------------------------------------

def put_metrics(s: Scenario, cloudwatch: Any) -> int:
    """Every metric's one-minute data as PutMetricData StatisticValues (1,000 datums a call); the number of calls."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for key in s.keys():
        namespace, name, dims = key
        for minute in range(s.first, s.end):
            samples = s.samples(key, minute)
            by_namespace.setdefault(namespace, []).append({
                "MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims)],
                "Timestamp": dt.datetime.fromtimestamp(minute * 60, dt.UTC),
                "StatisticValues": {"SampleCount": statistic(samples, "SampleCount"),
                                    "Sum": statistic(samples, "Sum"), "Minimum": statistic(samples, "Minimum"),
                                    "Maximum": statistic(samples, "Maximum")}})
    calls = 0
    for namespace, data in by_namespace.items():
        for first in range(0, len(data), 1000):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[first:first + 1000])
            calls += 1
    return calls


def put_alarm(cloudwatch: Any, name: str, props: dict[str, Any], **changes: Any) -> None:
    """PutMetricAlarm with a registered alarm's props (camelCase), as the provider would send them."""
    params: dict[str, Any] = {"AlarmName": name, "EvaluationPeriods": props["evaluationPeriods"],
                              "DatapointsToAlarm": props.get("datapointsToAlarm") or props["evaluationPeriods"],
                              "ComparisonOperator": props["comparisonOperator"],
                              "TreatMissingData": props.get("treatMissingData") or "missing"}
    if props.get("threshold") is not None:
        params["Threshold"] = props["threshold"]
    if props.get("thresholdMetricId"):
        params["ThresholdMetricId"] = props["thresholdMetricId"]
    if props.get("metricName"):
        params.update(Namespace=props["namespace"], MetricName=props["metricName"], Period=props["period"],
                      Dimensions=[{"Name": k, "Value": v} for k, v in sorted((props.get("dimensions") or {}).items())])
        stat = props.get("extendedStatistic") or props["statistic"]
        params["ExtendedStatistic" if stat.startswith("p") else "Statistic"] = stat
    else:
        params["Metrics"] = [_query(q) for q in props["metricQueries"]]
    cloudwatch.put_metric_alarm(**{**params, **changes})


def _query(q: dict[str, Any]) -> dict[str, Any]:
    query: dict[str, Any] = {"Id": q["id"], "ReturnData": bool(q.get("returnData"))}
    if q.get("expression"):
        query["Expression"] = q["expression"]
    if q.get("metric"):
        m = q["metric"]
        query["MetricStat"] = {"Metric": {"Namespace": m["namespace"], "MetricName": m["metricName"],
                                          "Dimensions": [{"Name": k, "Value": v}
                                                         for k, v in sorted((m.get("dimensions") or {}).items())]},
                               "Period": m["period"], "Stat": m["stat"]}
    return query


class Answers:
    """GetMetricData (percentiles and the band computed here, everything else from moto, in pages of at
    most `page_datapoints`, as AWS splits an answer) and DescribeAlarmHistory (the recorded items)."""

    def __init__(self, session: boto3.Session, endpoint: str, s: Scenario, history: dict[str, list[dict[str, Any]]],
                 page_datapoints: int = 100_800) -> None:
        credentials = session.get_credentials()
        # A client of its own, outside the session's hooks: moto's own answers.
        own = boto3.Session(aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
                            aws_session_token=credentials.token, region_name=session.region_name)
        # moto scans every stored datapoint per query: on a loaded 2-core machine one call of a fortnight's
        # series can outlast botocore's 60-second read timeout.
        self.moto = own.client("cloudwatch", endpoint_url=endpoint,
                               config=Config(read_timeout=600, retries={"max_attempts": 1}))
        self.scenario, self.history, self.page_datapoints = s, history, page_datapoints
        self.shapes = {op: self.moto.meta.service_model.operation_model(op).output_shape
                       for op in ("GetMetricData", "DescribeAlarmHistory")}
        self.pages: dict[str, list[dict[str, Any]]] = {}
        self.percentile_queries = 0
        session.events.register("before-parameter-build.cloudwatch", self._keep_params)
        # The general event: record_operations' register_first handler still sees every call first.
        session.events.register("before-call", self._answer)

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> Optional[tuple[AWSResponse, dict]]:
        params = context.get("api_params", {})
        if model.service_model.service_name != "cloudwatch":
            return None
        if model.name == "DescribeAlarmHistory":
            answer = {"AlarmHistoryItems": self.history.get(params["AlarmName"], [])}
        elif model.name == "GetMetricData":
            answer = self._metric_data(params)
        else:
            return None
        validate_parameters(answer, self.shapes[model.name])
        return AWSResponse(None, 200, {}, None), answer

    def _metric_data(self, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("NextToken")
        if token:
            pages = self.pages.pop(token)
        else:
            pages = self._paged(self._results(params))
        answer: dict[str, Any] = {"MetricDataResults": pages[0], "Messages": []}
        if len(pages) > 1:
            token = f"page-{len(self.pages)}-{id(pages)}"
            self.pages[token] = pages[1:]
            answer["NextToken"] = token
        return answer

    def _results(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        queries = params["MetricDataQueries"]
        start, end = params["StartTime"], params["EndTime"]
        plain = [q for q in queries if "MetricStat" in q and not q["MetricStat"]["Stat"].startswith(("p", "PR("))
                 and q.get("ReturnData", True)]
        found: dict[str, dict[str, Any]] = {}
        if plain:
            answer = self.moto.get_metric_data(MetricDataQueries=plain, StartTime=start, EndTime=end,
                                               ScanBy="TimestampAscending")
            found = {r["Id"]: r for r in answer["MetricDataResults"]}
        first, last = int(start.timestamp()) // 60, int(end.timestamp()) // 60
        results = []
        for q in queries:
            if not q.get("ReturnData", True):
                continue
            if q["Id"] in found:
                results.append(found[q["Id"]])
                continue
            if "MetricStat" in q:
                self.percentile_queries += 1
                stat = q["MetricStat"]
                values = period_values(self.scenario, _key(stat["Metric"]), stat["Stat"], stat["Period"], first, last)
                results.append(_result(q["Id"], values))
            else:  # ANOMALY_DETECTION_BAND(e1, k) over FILL(m1, 0): the band's two series
                metric = next(m for m in queries if "MetricStat" in m)["MetricStat"]
                values = period_values(self.scenario, _key(metric["Metric"]), metric["Stat"], metric["Period"],
                                       first, last)
                band = band_of(values)
                results.append(_result(q["Id"], [(t, low) for t, low, _ in band], "Low"))
                results.append(_result(q["Id"], [(t, high) for t, _, high in band], "High"))
        return results

    def _paged(self, results: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """The results cut into pages of at most `page_datapoints` datapoints, in order."""
        pages: list[list[dict[str, Any]]] = [[]]
        room = self.page_datapoints
        for result in results:
            stamps, values = list(result.get("Timestamps", [])), list(result.get("Values", []))
            while True:
                taken = min(room, len(stamps))
                pages[-1].append({**result, "Timestamps": stamps[:taken], "Values": values[:taken],
                                  "StatusCode": "Complete"})
                stamps, values, room = stamps[taken:], values[taken:], room - taken
                if not stamps:
                    break
                pages.append([])
                room = self.page_datapoints
        return pages


def _key(metric: dict[str, Any]) -> MetricKey:
    return metric_key(metric["Namespace"], metric["MetricName"],
                      {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])})


def _result(query_id: str, values: list[tuple[int, float]], label: str = "") -> dict[str, Any]:
    return {"Id": query_id, "Label": label or query_id, "StatusCode": "Complete",
            "Timestamps": [dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in values], "Values": [v for _, v in values]}


def state_item(alarm: str, when: dt.datetime, old: str, new: str) -> dict[str, Any]:
    """A StateUpdate item as DescribeAlarmHistory returns it (HistoryData as CloudWatch writes it)."""
    return {"AlarmName": alarm, "AlarmType": "MetricAlarm", "Timestamp": when, "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old} to {new}",
            "HistoryData": json.dumps({"version": "1.0", "oldState": {"stateValue": old, "stateReason": "recorded"},
                                       "newState": {"stateValue": new, "stateReason": "recorded"}})}


# The stack config that turns off every SLO, and with them their burn-rate alarms: the scenario's
# incidents and pages are counted by hand from the threshold alarms' own M of N; a burn-rate pair's
# windows (up to three days, read as one-minute series) are drilled (drills/payment-errors-*.yaml) and
# replayed from a drill's export (tests/preflight/history/test_history_replay.py).
WITHOUT_SLOS = {"slos": {name: {"enabled": False} for name in (
    "database", "redis", "payments", "rfid", "apiAvailability", "paymentSuccess", "rfidVerification", "apiLatency")}}
# The scenario's settings: without the SLOs, and without the payment outage and payment error-rate alarms
# (their floors of errors out of reach). The scenario's Razorpay failure writes payment errors over the
# attempts rather than failing those attempts, and its pages are counted by hand from the 5-minute count of
# errors alone; the two rates have their drills (drills/payments-broken-*.yaml,
# drills/payments-erroring-in-the-evening.yaml).
SCENARIO_SETTINGS = {**WITHOUT_SLOS, "thresholds": {
    **json.loads(load_stack_files(REPO, "production").config["hasivu-monitoring:thresholds"]),
    "business": {"paymentOutageMinErrors": 10**9, "paymentErrorRateMinErrors": 10**9}}}
