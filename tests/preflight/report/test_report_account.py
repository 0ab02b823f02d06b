"""`report --aws`: a month of the production stack's SLIs in a moto account (server mode), fetched and
reported, against figures computed by hand.

What the account holds is what CloudWatch answers for an old month: once 1-minute data is older than 15
days only its 5-minute aggregates remain, and after 63 days only hourly ones (GetMetricData, API
reference). The health monitor's once-a-minute checks are put as those aggregates (PutMetricData
statistic sets: SampleCount, Sum, Minimum, Maximum), which is also what keeps moto fast enough: its
GetMetricData scans every stored datapoint of the range for every period of every query
(moto/cloudwatch/models.py `get_metric_data`), so a month of one-minute datapoints would take minutes.

moto 5.2 answers Sum, Average, Minimum, Maximum and SampleCount and no percentile or percentile rank
(`Statistics.get_statistics_for_type` returns None for anything else): the latency SLO's `PR(:3000)`
query is answered here, from a recorded response validated against botocore's output shape of
GetMetricData, and every other query goes to moto over HTTP.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any, Optional

import pytest
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from preflight.history.account_fetch import MAX_DATAPOINTS, MAX_QUERIES
from preflight.report.cli import build
from preflight.report.render import document
from tests.support import moto_account
from tests.support.stack import REPO

UTC = dt.UTC
NOVEMBER = dt.datetime(2026, 11, 1, tzinfo=UTC)
DECEMBER = dt.datetime(2026, 12, 1, tzinfo=UTC)
MINUTES = 30 * 1440
HEALTH = "HASIVU/Health"
API = "AWS/ApiGateway"
STAGE = [{"Name": "ApiName", "Value": "hasivu-production-api"}, {"Name": "Stage", "Value": "prod"}]
# The database unreachable 30 minutes on the 4th and 13 on the 17th: 43 bad minutes of November.
OUTAGES = [(dt.datetime(2026, 11, 4, 6, 30, tzinfo=UTC), 30), (dt.datetime(2026, 11, 17, 10, 2, tzinfo=UTC), 13)]


def _dependency(name: str) -> list[dict[str, str]]:
    return [{"Name": "Dependency", "Value": name}, {"Name": "Environment", "Value": "production"}]


def _bad_minutes(start: dt.datetime, seconds: int) -> int:
    end = start + dt.timedelta(seconds=seconds)
    return sum(max(0, int((min(end, a + dt.timedelta(minutes=n)) - max(start, a)).total_seconds()) // 60)
               for a, n in OUTAGES)


def _set(start: dt.datetime, seconds: int) -> dict[str, Any]:
    """The database's checks (1 healthy, 0 not, one a minute) of `seconds` from `start` as one statistic set."""
    count, bad = seconds // 60, _bad_minutes(start, seconds)
    return {"MetricName": "DependencyHealthy", "Dimensions": _dependency("database"), "Timestamp": start,
            "StatisticValues": {"SampleCount": count, "Sum": count - bad, "Minimum": 0 if bad else 1,
                                "Maximum": 1 if bad < count else 0}}


def _checks(period: int) -> list[dict[str, Any]]:
    """November's checks as CloudWatch answers them at `period`: a set per period in the first and the
    last hour and in the outages' hours, and one set of 60 checks for every other hour (whose periods
    after the first then hold nothing: healthy minutes spend nothing either way, and moto stays fast)."""
    found = []
    for hour in range(720):
        start = NOVEMBER + dt.timedelta(hours=hour)
        if hour in (0, 719) or _bad_minutes(start, 3600):
            found += [_set(start + dt.timedelta(seconds=s), period) for s in range(0, 3600, period)]
        else:
            found.append(_set(start, 3600))
    return found


def _put(cloudwatch: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    for first in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[first:first + 1000])


@pytest.fixture(scope="module", autouse=True)
def endpoint(moto_endpoint):
    """The account connection's clients, made without an endpoint, talk to moto."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", moto_endpoint)
        yield moto_endpoint


def _args() -> argparse.Namespace:
    return argparse.Namespace(stack="production", program=REPO, drill=None, aws=True, month="2026-11")


def _record_requests(session: Any) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    session.events.register("before-parameter-build.cloudwatch.GetMetricData",
                            lambda params, **_: requests.append(dict(params)))
    return requests


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["slos"]}


@pytest.fixture(scope="module")
def five_minute(moto_endpoint):
    """November on 6 December: its first minute is 35 days old, so CloudWatch answers at 300 s periods."""
    session = moto_account.fresh_account(moto_endpoint)
    _put(session.client("cloudwatch", endpoint_url=moto_endpoint), HEALTH, _checks(300))
    requests = _record_requests(session)
    model, data, figures = build(_args(), session, now=dt.datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
    return {"doc": document(model.stack, data, figures), "requests": requests}


@pytest.mark.slow
def test_43_bad_database_minutes_in_november(five_minute):
    """43 bad minutes of 43,200: 100 x (1 - 43 / 43,200) = 99.9005 % attained; the budget is 0.1 % of
    43,200 = 43.2 minutes, of which 43 are 99.5 % spent."""
    database = _by_name(five_minute["doc"])["database"]
    assert database["attained"] == pytest.approx(99.9005, abs=5e-5)
    assert round(database["budgetSpent"], 1) == 99.5
    assert database["badMinutes"] == 43
    assert database["over"] == {"what": "month", "start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z",
                                "minutes": MINUTES}
    # At 5-minute periods, the second outage (10:02-10:15) is the periods 10:00-10:15.
    assert [(w["start"], w["end"], w["minutes"], w["badMinutes"]) for w in database["badWindows"]] == [
        ("2026-11-04T06:30:00Z", "2026-11-04T07:00:00Z", 30, 30),
        ("2026-11-17T10:00:00Z", "2026-11-17T10:15:00Z", 15, 13)]


@pytest.mark.slow
def test_the_revenue_at_risk_is_the_health_reports_per_bad_minute(five_minute):
    """production's monitor: Rs 450,000 a day and 12,000 users (HASIVU_DAILY_REVENUE_INR,
    HASIVU_ACTIVE_USERS); the database carries all revenue and users (observability/health.py)."""
    database = _by_name(five_minute["doc"])["database"]
    assert [w["revenueAtRiskInr"] for w in database["badWindows"]] == [450_000 * 30 / 1440, 450_000 * 13 / 1440]
    assert database["revenueAtRiskInr"] == round(450_000 * 43 / 1440, 2)
    assert database["usersAffected"] == 12_000


@pytest.mark.slow
def test_an_old_month_is_read_at_five_minutes_within_the_api_limits(five_minute):
    requests = five_minute["requests"]
    assert requests
    for params in requests:
        assert params["StartTime"] == NOVEMBER and params["EndTime"] == DECEMBER
        queries = params["MetricDataQueries"]
        assert {q["MetricStat"]["Period"] for q in queries} == {300}
        assert len(queries) <= MAX_QUERIES
        assert len(queries) * MINUTES // 5 <= MAX_DATAPOINTS
    assert five_minute["doc"]["window"]["periodSeconds"] == 300
    # A metric with no datapoint in the month: no attainment, not a perfect one.
    assert _by_name(five_minute["doc"])["redis"]["attained"] is None


# -- a month more than 63 days old: hourly data, request-based SLOs -----------------------------------

# Every hour 1,000 API requests, except 20:00 on the 20th: 30. 5XX errors: 100 in each of 05:00 and
# 06:00 on the 10th (10 %: a bad window of two hours), 3 of the 30 at 20:00 on the 20th (under the
# 50-request guard: never judged bad, no budget spent), 1 at 03:00 on the 25th (0.1 %: budget spent,
# but not above the 0.1 % the target allows, so no bad window).
QUIET = dt.datetime(2026, 11, 20, 20, tzinfo=UTC)
ERRORS = {dt.datetime(2026, 11, 10, 5, tzinfo=UTC): 100, dt.datetime(2026, 11, 10, 6, tzinfo=UTC): 100,
          QUIET: 3, dt.datetime(2026, 11, 25, 3, tzinfo=UTC): 1}
REQUESTS = 719 * 1000 + 30
# The latency SLO's PR(:3000) of each hour: 99.5 % answered within 3 s, 80 % from 05:00 to 07:00 on the 10th.
SLOW = {dt.datetime(2026, 11, 10, 5, tzinfo=UTC), dt.datetime(2026, 11, 10, 6, tzinfo=UTC)}


def _hours() -> list[dt.datetime]:
    return [NOVEMBER + dt.timedelta(hours=h) for h in range(720)]


def _sums(name: str, values: dict[dt.datetime, float]) -> list[dict[str, Any]]:
    return [{"MetricName": name, "Dimensions": STAGE, "Timestamp": at,
             "StatisticValues": {"SampleCount": value, "Sum": value, "Minimum": 1, "Maximum": 1}}
            for at, value in values.items() if value]


def _latency_answer(params: dict[str, Any]) -> Optional[dict[str, Any]]:
    """GetMetricData as CloudWatch answers the percentile-rank query (the others from moto)."""
    hours = [h for h in _hours() if params["StartTime"] <= h < params["EndTime"]]
    return {"Timestamps": hours, "Values": [80.0 if h in SLOW else 99.5 for h in hours], "StatusCode": "Complete"}


class PercentileRanks:
    """Answers GetMetricData: PR queries here, the rest from moto; the answer validated against botocore's shape."""

    def __init__(self, session: Any, endpoint: str) -> None:
        credentials = session.get_credentials()
        own = type(session)(aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
                            aws_session_token=credentials.token, region_name=session.region_name)
        self.moto = own.client("cloudwatch", endpoint_url=endpoint)
        self.shape = self.moto.meta.service_model.operation_model("GetMetricData").output_shape
        self.answered = 0
        session.events.register("before-parameter-build.cloudwatch.GetMetricData", self._keep)
        session.events.register("before-call.cloudwatch.GetMetricData", self._answer)

    @staticmethod
    def _keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    def _answer(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context["api_params"]
        ranks = [q for q in params["MetricDataQueries"] if q["MetricStat"]["Stat"].startswith("PR(")]
        others = [q for q in params["MetricDataQueries"] if q not in ranks]
        results = []
        if others:
            results = self.moto.get_metric_data(**{**params, "MetricDataQueries": others})["MetricDataResults"]
        for q in ranks:
            self.answered += 1
            results.append({"Id": q["Id"], "Label": q["Id"], **_latency_answer(params)})
        answer = {"MetricDataResults": results, "Messages": []}
        validate_parameters(answer, self.shape)
        return AWSResponse(None, 200, {}, None), answer


@pytest.fixture(scope="module")
def hourly(moto_endpoint):
    """November on 10 February 2027: 101 days old, so hourly periods."""
    session = moto_account.fresh_account(moto_endpoint)
    cloudwatch = session.client("cloudwatch", endpoint_url=moto_endpoint)
    _put(cloudwatch, HEALTH, _checks(3600))
    _put(cloudwatch, API, _sums("Count", {h: 30 if h == QUIET else 1000 for h in _hours()}))
    _put(cloudwatch, API, _sums("5XXError", ERRORS))
    ranks = PercentileRanks(session, moto_endpoint)
    requests = _record_requests(session)
    model, data, figures = build(_args(), session, now=dt.datetime(2027, 2, 10, tzinfo=UTC))
    return {"doc": document(model.stack, data, figures), "requests": requests, "ranks": ranks}


def test_hourly_data_gives_the_same_43_minutes(hourly):
    database = _by_name(hourly["doc"])["database"]
    assert database["attained"] == pytest.approx(99.9005, abs=5e-5)
    assert [(w["start"], w["end"], w["badMinutes"]) for w in database["badWindows"]] == [
        ("2026-11-04T06:00:00Z", "2026-11-04T07:00:00Z", 30), ("2026-11-17T10:00:00Z", "2026-11-17T11:00:00Z", 13)]
    assert {q["MetricStat"]["Period"] for p in hourly["requests"] for q in p["MetricDataQueries"]} == {3600}


def test_api_availability_counts_bad_requests_only_where_the_window_has_enough_traffic(hourly):
    """201 bad requests count (200 + 1), the 3 of the quiet hour do not: 100 x (1 - 201 / 719,030)
    = 99.97205 % attained, and 201 of a budget of 0.1 % x 719,030 = 719.03 requests: 27.95 % spent."""
    api = _by_name(hourly["doc"])["api-availability"]
    assert api["requests"] == REQUESTS
    assert api["badRequests"] == 201
    assert api["ignoredBadRequests"] == 3
    assert api["attained"] == pytest.approx(99.97205, abs=5e-5)
    assert api["budgetSpent"] == pytest.approx(27.95, abs=5e-3)
    assert api["windowMinutes"] == 60
    assert [(w["start"], w["end"], w["minutes"], w["badRequests"], w["requests"]) for w in api["badWindows"]] == [
        ("2026-11-10T05:00:00Z", "2026-11-10T07:00:00Z", 120, 200, 2000)]


def test_the_latency_slo_reads_the_percentile_rank_weighted_by_the_requests(hourly):
    """0.5 % slow of every hour's requests, 20 % of 05:00-07:00 on the 10th: 5 x 717 + 2 x 200 = 3,985 slow
    requests of 719,030 count (the quiet hour's 0.15 is under the guard): 99.44578 % attained, 55.42 % of
    the 1 % budget; the two slow hours are the one bad window (0.5 % is within the 1 % the target allows)."""
    assert hourly["ranks"].answered >= 1
    latency = _by_name(hourly["doc"])["api-latency"]
    assert latency["badRequests"] == 3985
    assert latency["ignoredBadRequests"] == 0.15
    assert latency["attained"] == pytest.approx(99.44578, abs=5e-5)
    assert latency["budgetSpent"] == pytest.approx(55.42, abs=5e-3)
    assert [(w["start"], w["end"]) for w in latency["badWindows"]] == [("2026-11-10T05:00:00Z",
                                                                        "2026-11-10T07:00:00Z")]
