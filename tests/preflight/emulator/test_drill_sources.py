"""Where drill metrics come from: the real health handler behind the probe boundary, the real
security event log through the program's metric filters, AWS metrics for the inventory's resources."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import random

import pg8000.native
import pytest
import redis

from observability.school_hours import IST, SchoolHours
from preflight.cloudwatch.emf import documents
from preflight.cloudwatch.log_filters import matches
from preflight.cloudwatch.series import insights_queries, read_metrics, widget_series
from preflight.cloudwatch.store import MetricStore, metric_key
from preflight.drill.drill_file import load_drill
from preflight.drill.runner import play_metrics, run_drill
from preflight.emulator.health_probes import DependencyAnswers, StoreCloudWatch, probe_boundary
from preflight.emulator.platform import Platform, platform_from_run
from preflight.emulator.publishers import publisher
from preflight.model.stack import build_model
from stackconfig.traffic import API_4XX_SHARE
from tests.support.stack import REPO, run

DRILLS = REPO / "drills"

ENV = {
    "HASIVU_ENVIRONMENT": "production",
    "HASIVU_DB_SECRET_ARN": "arn:aws:secretsmanager:ap-south-1:123456789012:secret:db-Ab12Cd",
    "HASIVU_REDIS_SECRET_ARN": "arn:aws:secretsmanager:ap-south-1:123456789012:secret:redis-Ef34Gh",
    "HASIVU_PAYMENT_GATEWAY_URL": "https://api.razorpay.com/v1/",
}


def health_report(monkeypatch, answers: DependencyAnswers) -> tuple[dict, list[dict]]:
    from observability.health_handler import handler

    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HASIVU_RFID_READER_IDS", raising=False)
    out = io.StringIO()
    with probe_boundary(answers, StoreCloudWatch(MetricStore(), lambda: 1000)), contextlib.redirect_stdout(out):
        report = handler({"source": "aws.events"}, None)
    return report, documents(out.getvalue())


def test_the_real_checks_decide_from_what_the_boundary_answers(monkeypatch):
    answers = DependencyAnswers(random.Random(0))
    answers.down = {"redis"}
    answers.slow_ms = {"database": 300.0}
    report, emf = health_report(monkeypatch, answers)
    checks = report["checks"]
    # The library's own rules: refused -> unhealthy; a 300 ms connect -> degraded; Razorpay's 401 -> up.
    assert checks["redis"]["status"] == "unhealthy" and "refused" in checks["redis"]["error"]
    assert checks["database"]["status"] == "degraded" and checks["database"]["details"]["connect_ms"] >= 300
    assert checks["payment_gateway"]["status"] == "healthy"
    published = {d.get("Dependency"): d for d in emf if "Dependency" in d}
    assert set(published) == {"database", "redis", "payment_gateway"}
    assert published["payment_gateway"]["DependencyHealthy"] in (1, [1], 1.0, [1.0])


def test_a_probe_slower_than_the_monitor_waits_is_a_timed_out_check(monkeypatch):
    """The monitor waits for each check its timeout (observability/health.py `run_checks`: database 2 s,
    Redis 1 s, Razorpay 3 s) and then reports it unhealthy, "timed out after N s", whatever the probe
    would have answered later (tests/observability/test_health_monitor_bounded.py, with real threads).
    The drill's inline probes must not see the late answer: the database's connection and three queries
    at 600 ms each, and Redis's five round trips at 300 ms, are over; Razorpay 2.5 s late is not."""
    answers = DependencyAnswers(random.Random(0))
    answers.slow_ms = {"database": 600.0, "redis": 300.0, "payment_gateway": 2500.0}
    report, emf = health_report(monkeypatch, answers)
    checks = report["checks"]
    assert (checks["database"]["status"], checks["database"]["error"]) == ("unhealthy", "timed out after 2 s")
    assert (checks["redis"]["status"], checks["redis"]["error"]) == ("unhealthy", "timed out after 1 s")
    assert checks["payment_gateway"]["status"] == "degraded" and checks["payment_gateway"]["latency_ms"] > 2500
    published = {d.get("Dependency"): d for d in emf if "Dependency" in d}
    assert [published[name]["DependencyHealthy"] in (0, [0], 0.0, [0.0]) for name in ("database", "redis")] == [
        True, True]


@pytest.mark.parametrize(("ist_hour", "judged"), [(10, True), (22, False)])
def test_the_monitor_judges_the_readers_by_the_drills_hour_not_the_wall_clock(monkeypatch, ist_hour, judged):
    from observability.health_handler import handler

    school = SchoolHours(dt.time(7, 30), dt.time(15, 0), 6)
    for key, value in {"HASIVU_ENVIRONMENT": "production", "HASIVU_RFID_READER_IDS": "reader-001",
                       "HASIVU_SCHOOL_HOURS": school.as_variable()}.items():
        monkeypatch.setenv(key, value)
    # Monday 7 December 2026 at the hour (IST); the handler runs in the minute before `now_minute`.
    minute = int(dt.datetime(2026, 12, 7, ist_hour, 0, tzinfo=IST).timestamp()) // 60 + 1
    out = io.StringIO()
    with probe_boundary(DependencyAnswers(random.Random(0)), StoreCloudWatch(MetricStore(), lambda: minute)), \
            contextlib.redirect_stdout(out):
        report = handler({"source": "aws.events"}, None)
    assert ("rfid" in report["checks"]) is judged
    assert ("rfid" in report.get("not_checked", {})) is not judged
    assert any(d.get("Dependency") == "rfid" for d in documents(out.getvalue())) is judged


def test_the_boundary_is_lifted_afterwards(monkeypatch):
    before = (pg8000.native.Connection, redis.Redis)
    health_report(monkeypatch, DependencyAnswers(random.Random(0)))
    assert (pg8000.native.Connection, redis.Redis) == before


def test_security_events_are_counted_by_the_programs_filter_pattern():
    from observability.security_events import SecurityEventLog

    class Logs:
        class exceptions:
            ResourceAlreadyExistsException = Exception

        def __init__(self) -> None:
            self.events: list[dict] = []

        def create_log_stream(self, **_: str) -> None:
            pass

        def put_log_events(self, logEvents: list[dict], **_: str) -> None:
            self.events.extend(logEvents)

    logs = Logs()
    log = SecurityEventLog("/hasivu/production/security-events", client=logs)
    log.record("LOGIN_FAILED", {"reason": "bad_password"})
    log.record("FRAUD_ATTEMPT", {"reason": "velocity"})
    log.flush()
    pattern = '{ $.event = "LOGIN_FAILED" }'
    assert [matches(pattern, e["message"]) for e in logs.events] == [True, False]
    assert json.loads(logs.events[0]["message"])["event"] == "LOGIN_FAILED"
    assert matches('{ $.reason = "bad*" && $.event != "FRAUD_ATTEMPT" }', logs.events[0]["message"])


@pytest.fixture(scope="module")
def platform() -> Platform:
    return platform_from_run(run("production", preview=True))


@pytest.fixture(scope="module")
def school_day(platform: Platform) -> tuple[int, int, MetricStore]:
    """A normal school day's metrics (no alarm evaluated): the drill's first minute, its length, the store."""
    drill = load_drill(DRILLS / "normal-school-day.yaml")
    return int(drill.start.timestamp()) // 60, drill.minutes, play_metrics(drill, platform)


def _over(result, key, stat: str, first: int, last: int) -> list[float]:
    """The per-minute `stat` of a metric over drill minutes [first, last)."""
    values = [result.store.datapoint(key, stat, result.start_minute + m + 1, 60) for m in range(first, last)]
    return [v for v in values if v is not None]


def test_a_redis_outage_shows_on_the_cache_nodes_metrics(platform):
    """drills/redis-down.yaml: the cache refuses every client from minute 30 to 60. ElastiCache goes on
    publishing for each node ("Metrics for Valkey and Redis OSS", ElastiCache user guide): CacheHits and
    CacheMisses count key lookups, which stop; CurrConnections counts client connections, of which only
    the ones ElastiCache itself keeps to monitor the cluster ("4 to 6") remain; EngineCPUUtilization is
    the engine thread's CPU, which falls to its idle cycle. Memory use does not change: the data stays."""
    result = run_drill(load_drill(DRILLS / "redis-down.yaml"), platform)
    assert platform.redis_nodes
    for node in platform.redis_nodes:
        dims = {"CacheClusterId": node}
        cpu, hits, misses, connections, memory = (metric_key("AWS/ElastiCache", name, dims) for name in (
            "EngineCPUUtilization", "CacheHits", "CacheMisses", "CurrConnections", "DatabaseMemoryUsagePercentage"))
        before, during, after = (0, 30), (31, 60), (65, 120)
        assert min(_over(result, hits, "Sum", *before)) > 0 and min(_over(result, misses, "Sum", *before)) > 0
        assert set(_over(result, hits, "Sum", *during)) == {0.0} and set(_over(result, misses, "Sum", *during)) == {0.0}
        assert min(_over(result, hits, "Sum", *after)) > 0
        assert 4 <= min(_over(result, connections, "Maximum", *during)) <= max(
            _over(result, connections, "Maximum", *during)) <= 6
        assert min(_over(result, connections, "Maximum", *before)) > 20
        assert max(_over(result, cpu, "Average", *during)) < min(_over(result, cpu, "Average", *before)) / 3
        assert set(_over(result, memory, "Average", *during)) == set(_over(result, memory, "Average", *before))
        assert result.store.units[cpu] == "Percent" and result.store.units[hits] == "Count"


@pytest.mark.slow
def test_every_metric_the_dashboards_read_comes_on_a_normal_school_day(platform, school_day):
    """A metric a dashboard line reads and production publishes arrives in a normal school-day drill; one
    that does not arrive is one nothing in the stack publishes (the line stays empty in production too),
    and the publisher catalogue says why. Whatever arrives, production would publish as well."""
    program = run("production", preview=True)
    start, minutes, store = school_day
    read, empty_queries = set(), []
    for body in (d.body for d in build_model(program).dashboards):
        for widget in body["widgets"]:
            p = widget.get("properties", {})
            read.update(read_metrics(p))
            drawn = {s.expression for s in widget_series(p, store, start, minutes) if s.key is None}
            empty_queries += [q for q in insights_queries(p) if q not in drawn]
    assert len(read) > 50
    assert empty_queries == []
    absent = {key: publisher(platform, key[0], key[1], dict(key[2])) for key in read
              if not any(start <= m < start + minutes for m in store.series.get(key, {}))}
    assert {(key[0], key[1]) for key in absent} == {("AWS/ApiGateway", "CacheHitCount"),
                                                  ("AWS/ApiGateway", "CacheMissCount")}
    assert all(not who.publishes and "API caching" in who.explanation for who in absent.values())
    present = read - set(absent)
    assert metric_key("HASIVU/Business", "ActiveUsers", {"Environment": "production"}) in present
    assert metric_key("HASIVU/Business", "OrdersCancelled", {"Environment": "production"}) in present
    unpublished = [key for key in present if not publisher(platform, key[0], key[1], dict(key[2])).publishes]
    assert unpublished == []


@pytest.mark.slow
def test_anomaly_bands_follow_the_school_day_the_emulator_plays(platform, school_day):
    """The drill's stand-in for a trained anomaly model (docs/cloudwatch-model.md): a gauge's band is
    centred on the level the emulator publishes with no fault (ActiveUsers, the sessions of the last 30
    minutes), and a band on a ratio of two metrics on the ratio of their expectations (the cancelled
    share of the orders finished at the counter: 1 % expire, so 1 / 101)."""
    from preflight.cloudwatch.cloudwatch import query_sources
    from preflight.drill.runner import band_model
    from stackconfig.traffic import profile

    start, _, store = school_day
    band = band_model(profile("school-day", platform.active_users, platform.daily_revenue_inr), platform)
    users = metric_key(platform.business_namespace, "ActiveUsers", {"Environment": "production"})
    for minute in (8 * 60, 10 * 60, 12 * 60 + 30):  # IST breakfast, morning, lunch
        end = start + minute + 5
        published = store.datapoint(users, "Average", end, 300)
        lower, upper = band((users, "Average", 300), 2, end)
        assert lower < published < upper
        assert (lower + upper) / 2 == pytest.approx(published, rel=0.01)
    alarm = next(a for a in platform.alarms if a.name == "production-orders-cancellation-rate")
    lunch = start + 13 * 60
    lower, upper = band(query_sources(alarm)["e1"], 2, lunch)
    assert (lower + upper) / 2 == pytest.approx(100 / 101)
    assert upper < 4  # a lunch with 4 % more of the meals refused is out of the band
    breakfast = start + 8 * 60
    assert band(query_sources(alarm)["e1"], 2, breakfast) is None  # the volume guard: no judgement


def test_refused_meals_are_cancelled_instead_of_completed(platform):
    """An `orders-cancelled` fault moves that share of the counter's finished orders from completed to
    cancelled; the pickups themselves stay as many."""
    result = run_drill(load_drill(DRILLS / "cancellations-surge-at-lunch.yaml"), platform)
    dims = {"Environment": "production"}
    completed, cancelled = (metric_key(platform.business_namespace, name, dims)
                            for name in ("OrdersCompleted", "OrdersCancelled"))

    def share(first: int, last: int) -> float:
        done = sum(_over(result, completed, "Sum", first, last))
        refused = sum(_over(result, cancelled, "Sum", first, last))
        return 100 * refused / (done + refused)

    assert share(60, 75) < 2.5  # 12:00-12:15: the usual 1 % expire
    assert 4 < share(75, 135) < 6.5  # 12:15-13:15: 4 % more refused


ENDPOINT_FAULTS = """\
name: orders-endpoint-failing
start: "2026-07-01T07:15:00+05:30"
minutes: 60
traffic: school-day
faults:
  - {kind: api-5xx, rate: 0.5, endpoint: /orders, at: 20, for: 30}
  - {kind: api-4xx, rate: 0.4, endpoint: /orders, at: 20, for: 30}
  - {kind: api-latency, endpoint: /orders, p99Ms: 9000, at: 20, for: 30}
expect: {}
"""


def test_an_endpoints_faults_are_the_stages_too(platform, tmp_path):
    """API Gateway's stage metrics (ApiName, Stage) count every resource's requests ("Amazon API Gateway
    dimensions and metrics", API Gateway developer guide): half of POST /orders answered with a 5XX are that
    many 5XX more for the stage, its 4XX likewise, and its slow answers are the stage's slow answers."""
    path = tmp_path / "drill.yaml"
    path.write_text(ENDPOINT_FAULTS)
    result = run_drill(load_drill(path), platform)
    stage = {"ApiName": "hasivu-production-api", "Stage": "prod"}
    orders = {**stage, "Resource": "/orders", "Method": "POST"}

    def total(name: str, dims: dict, first: int, last: int) -> float:
        return sum(_over(result, metric_key("AWS/ApiGateway", name, dims), "Sum", first, last))

    before, during = (0, 20), (20, 50)
    others = total("Count", stage, *during) - total("Count", orders, *during)
    assert total("5XXError", orders, *during) > 0.45 * total("Count", orders, *during)
    assert total("4XXError", orders, *during) > 0.35 * total("Count", orders, *during)
    # The stage's other resources answer as ever: no 5XX of their own, the usual share of 4XX; the
    # endpoint's errors come on top of theirs.
    assert total("5XXError", stage, *during) - total("5XXError", orders, *during) <= 0.01 * others
    assert (total("4XXError", stage, *during) - total("4XXError", orders, *during)) / others == pytest.approx(
        API_4XX_SHARE, rel=0.3)
    slow = metric_key("AWS/ApiGateway", "IntegrationLatency", stage)
    assert max(_over(result, slow, "Maximum", *during)) == 9000
    assert max(_over(result, slow, "Maximum", *before)) < 9000
