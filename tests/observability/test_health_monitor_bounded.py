"""The health handler is bounded and never crashes: one deadline for
the run; secrets and the SLA history read with short timeouts and at most 2 attempts, their failures
report entries; secrets and clients cached per container; bad variables one line; nothing
configured is `unconfigured`. Against real PostgreSQL and Redis, moto, and loopback endpoints that
accept connections and never answer."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import boto3
import pytest

from observability import aws as library_aws
from observability import health
from observability.health_handler import handler
from observability.settings import ConfigurationError
from preflight.cloudwatch.emf import metrics_in

BASE_ENV = {"HASIVU_ENVIRONMENT": "production", "HASIVU_DAILY_REVENUE_INR": "500000", "HASIVU_ACTIVE_USERS": "12000"}
FAKE_SECRET = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:hasivu/production/health-{}-Ab12Cd"


class HungEndpoint:
    """Accepts TCP connections on 127.0.0.1 and never answers; counts the connections."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def hung() -> Iterator[HungEndpoint]:
    endpoint = HungEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(autouse=True)
def fresh_container():
    """Each test is a new Lambda container: no cached clients, secrets or monitor."""
    for cached in (library_aws.deadline_client, health.read_secret, health.container_monitor):
        cached.cache_clear()
    yield
    for cached in (library_aws.deadline_client, health.read_secret, health.container_monitor):
        cached.cache_clear()


class LambdaContext:
    def __init__(self, timeout_seconds: float) -> None:
        self.end = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.end - time.monotonic()) * 1000)


def _set(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in {**BASE_ENV, **env}.items():
        monkeypatch.setenv(key, value)


@pytest.mark.slow
def test_hung_secrets_manager_cloudwatch_and_gateway_give_a_report_within_the_deadline(monkeypatch, capsys):
    secrets, cloudwatch, gateway = HungEndpoint(), HungEndpoint(), HungEndpoint()
    try:
        _set(monkeypatch, {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets.url, "AWS_ENDPOINT_URL_CLOUDWATCH": cloudwatch.url,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ap-south-1",
            "HASIVU_DB_SECRET_ARN": FAKE_SECRET.format("db"), "HASIVU_REDIS_SECRET_ARN": FAKE_SECRET.format("redis"),
            "HASIVU_PAYMENT_GATEWAY_URL": gateway.url + "/v1/", "HASIVU_PAYMENT_GATEWAY_TIMEOUT": "1",
        })
        start = time.monotonic()
        report = handler({}, LambdaContext(30))
        elapsed = time.monotonic() - start
        # Checks: 2 s (database), 1 s (redis, gateway); the SLA history gets 3 s; the Lambda had 30 s.
        assert elapsed < health.SLA_HISTORY_TIMEOUT_SECONDS + 0.5, elapsed
        assert report["status"] == "unhealthy" and report["score"] == 0
        for name in ("database", "redis", "payment_gateway"):
            assert report["checks"][name]["status"] == "unhealthy" and "timed out" in report["checks"][name]["error"]
        assert report["sla_history_error"] == "CloudWatch did not answer in time"
        emitted = {m[1] for m, _ in metrics_in(capsys.readouterr().out, strict=True)}
        assert emitted >= {"SystemHealthScore", "DependencyHealthy"}
        # botocore gives up after 2 attempts of 1 s connect + 2 s read each: both secrets, then the history.
        time.sleep(2 * 2 + 0.8 - (time.monotonic() - start))
        assert len(secrets.connections) == 2 * 2
        assert len(cloudwatch.connections) == 2
    finally:
        for endpoint in (secrets, cloudwatch, gateway):
            endpoint.close()


def test_the_deadline_follows_the_lambdas_remaining_time(monkeypatch, hung):
    _set(monkeypatch, {"HASIVU_PAYMENT_GATEWAY_URL": hung.url, "HASIVU_PAYMENT_GATEWAY_TIMEOUT": "20",
                       "AWS_ENDPOINT_URL_CLOUDWATCH": hung.url, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ap-south-1"})
    start = time.monotonic()
    report = handler({}, LambdaContext(2.5))
    # 2.5 s left, 1 s kept back for publishing: the 20 s gateway timeout is cut to 1.5 s.
    assert time.monotonic() - start < 2.5 - 0.5
    assert report["checks"]["payment_gateway"]["error"].startswith("timed out after 1.")


def _secret(body: dict) -> str:
    return boto3.client("secretsmanager").create_secret(
        Name=f"health-{time.monotonic_ns()}", SecretString=json.dumps(body))["ARN"]


def test_real_servers_with_secrets_read_once_per_container(aws, monkeypatch, postgres_server, redis_server):
    db = _secret({"host": postgres_server["host"], "port": postgres_server["port"], "dbname": "postgres",
                  "username": postgres_server["user"], "password": postgres_server["password"], "sslmode": "disable"})
    cache = _secret({"host": redis_server["host"], "port": redis_server["port"], "password": redis_server["password"],
                     "ssl": "false"})
    _set(monkeypatch, {"HASIVU_DB_SECRET_ARN": db, "HASIVU_REDIS_SECRET_ARN": cache})
    reads = []
    library_aws.deadline_client("secretsmanager").meta.events.register(
        "before-call.secrets-manager.GetSecretValue", lambda **_: reads.append(1))
    for _ in range(2):
        report = handler({}, LambdaContext(30))
        # "ssl": "false" is false: a TLS handshake with this plain Redis would fail.
        assert {n: c["error"] for n, c in report["checks"].items()} == {"database": None, "redis": None}
    assert len(reads) == 2


@pytest.mark.parametrize(("db_secret", "error"), [
    ({"port": 5432, "username": "app", "password": "x"}, "SecretError: secret health-"),
    ({"host": "127.0.0.1", "port": "five", "username": "app", "password": "x"}, "port 'five' is not a port number"),
])
def test_a_bad_secret_is_a_report_entry(aws, monkeypatch, db_secret, error):
    arn = _secret(db_secret)
    _set(monkeypatch, {"HASIVU_DB_SECRET_ARN": arn})
    check = handler({}, LambdaContext(30))["checks"]["database"]
    assert check["status"] == "unhealthy" and error in check["error"]
    if "host" not in db_secret:
        assert check["error"].endswith("has no 'host'")


def test_a_bad_ssl_flag_is_a_report_entry(aws, monkeypatch):
    _set(monkeypatch, {"HASIVU_REDIS_SECRET_ARN": _secret({"host": "127.0.0.1", "ssl": "maybe"})})
    check = handler({}, LambdaContext(30))["checks"]["redis"]
    assert check["status"] == "unhealthy" and "ssl: got 'maybe'; expected true or false" in check["error"]


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("HASIVU_DB_TIMEOUT", "abc", "HASIVU_DB_TIMEOUT: got 'abc'; expected a number of seconds > 0"),
    ("HASIVU_REDIS_TIMEOUT", "-1", "HASIVU_REDIS_TIMEOUT: got '-1'; expected a number of seconds > 0"),
    ("HASIVU_ACTIVE_USERS", "many", "HASIVU_ACTIVE_USERS: got 'many'; expected a number >= 0"),
    ("HASIVU_DAILY_REVENUE_INR", "nan", "HASIVU_DAILY_REVENUE_INR: got 'nan'; expected a number >= 0"),
    ("HASIVU_PAYMENT_GATEWAY_URL", "api.razorpay.com", "HASIVU_PAYMENT_GATEWAY_URL: got 'api.razorpay.com'"),
])
def test_bad_variables_give_one_line_naming_the_variable(monkeypatch, variable, value, message):
    _set(monkeypatch, {"HASIVU_DB_SECRET_ARN": FAKE_SECRET.format("db"), "HASIVU_REDIS_SECRET_ARN":
                       FAKE_SECRET.format("redis"), "AWS_DEFAULT_REGION": "ap-south-1", variable: value})
    with pytest.raises(ConfigurationError) as error:
        handler({}, LambdaContext(30))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_nothing_configured_is_unconfigured_not_healthy(monkeypatch, capsys):
    _set(monkeypatch, {"AWS_DEFAULT_REGION": "ap-south-1"})
    response = handler({"rawPath": "/health", "requestContext": {}}, LambdaContext(30))
    report = json.loads(response["body"])
    assert response["statusCode"] == 503
    assert (report["status"], report["score"], report["checks"]) == ("unconfigured", None, {})
    assert "HASIVU_DB_SECRET_ARN" in report["error"]
    # No score: the health-score alarm treats missing data as breaching.
    assert not [m for m, _ in metrics_in(capsys.readouterr().out, strict=True) if m[1] == "SystemHealthScore"]
