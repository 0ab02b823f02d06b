"""Where drill metrics come from: the real health handler behind the probe boundary, the real
security event log through the program's metric filters."""

from __future__ import annotations

import contextlib
import io
import json
import random

import pg8000.native
import redis

from preflight.cloudwatch.emf import documents
from preflight.cloudwatch.log_filters import matches
from preflight.cloudwatch.store import MetricStore
from preflight.emulator.health_probes import DependencyAnswers, StoreCloudWatch, probe_boundary

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
    answers.slow_ms = {"database": 500.0}
    report, emf = health_report(monkeypatch, answers)
    checks = report["checks"]
    # The library's own rules: refused -> unhealthy; a 500 ms connect -> degraded; Razorpay's 401 -> up.
    assert checks["redis"]["status"] == "unhealthy" and "refused" in checks["redis"]["error"]
    assert checks["database"]["status"] == "degraded" and checks["database"]["details"]["connect_ms"] >= 500
    assert checks["payment_gateway"]["status"] == "healthy"
    published = {d.get("Dependency"): d for d in emf if "Dependency" in d}
    assert set(published) == {"database", "redis", "payment_gateway"}
    assert published["payment_gateway"]["DependencyHealthy"] in (1, [1], 1.0, [1.0])


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
