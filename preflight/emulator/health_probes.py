"""Runs the real health handler with the drill answering at the dependency-probe boundary.

The handler, the monitor and every check are the runtime library's own code, configured from the
environment of the registered Function. Only what sits beyond the network is answered by the drill:
Secrets Manager (connection details), the PostgreSQL connection (pg8000), the Redis client, the
payment gateway's HTTP answer and CloudWatch GetMetricData (from the simulated metric store).
The monitor's pool runs its checks inline. A slow dependency advances the probe's clock by its
latency instead of sleeping, so the checks' own thresholds decide healthy or degraded; a down
dependency refuses the connection. The monitor's `datetime.now()` is the simulated minute, so it judges
the RFID readers by the drill's hour. Each drill is a fresh Lambda container for the library's caches.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Optional

from preflight.cloudwatch.store import MetricStore, metric_key

PROBE_TARGETS = {"database": "database.drill.invalid", "redis": "redis.drill.invalid"}


# What a probe costs on a healthy day from a Lambda in the VPC (ms): a floor plus an exponential tail.
# A fresh PostgreSQL connection includes TCP, TLS and SCRAM authentication; Redis's first PING
# includes connect, TLS and AUTH; Razorpay is an HTTPS round trip from ap-south-1.
BASELINE_MS = {"database": (40.0, 20.0), "redis": (12.0, 10.0), "payment_gateway": (120.0, 60.0)}
COMMAND_MS = 0.5  # a query or PING on an open connection: floor and mean tail


class DependencyAnswers:
    """The drill's state of each dependency this minute: healthy, down, or slow by N ms on top of
    the baseline cost of a probe (seeded, so drills are deterministic)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.down: set[str] = set()
        self.slow_ms: dict[str, float] = {}

    def check(self, dependency: str) -> None:
        """A new connection (or an HTTPS request): the baseline cost plus the drill's slowness."""
        if dependency in self.down:
            raise ConnectionRefusedError(f"{dependency} refused the connection (drill: dependency-down)")
        floor, tail = BASELINE_MS.get(dependency, (0.0, 0.0))
        baseline = floor + (self.rng.expovariate(1 / tail) if tail else 0.0)
        VirtualClock.advance(baseline + self.slow_ms.get(dependency, 0.0))

    def command(self, dependency: str) -> None:
        """A command on an open connection: a round trip in the VPC plus the drill's slowness."""
        VirtualClock.advance(COMMAND_MS + self.rng.expovariate(1 / COMMAND_MS) + self.slow_ms.get(dependency, 0.0))


class VirtualClock:
    """`time` for the health library (observability.health_checks, .health and its handler): only simulated
    time passes. `perf_counter` is the latency the probes were given, so a drill measures the same
    latencies on every run; `monotonic()` stands still through an invocation, as no real time passes in a
    probe run inline, so the monitor waits for each check exactly the check's timeout (or what is left of
    the invocation's deadline), and a verdict never depends on how busy the machine playing the drill is."""

    _local = threading.local()

    @classmethod
    def advance(cls, milliseconds: float) -> None:
        cls._local.offset = getattr(cls._local, "offset", 0.0) + milliseconds / 1000

    @classmethod
    def perf_counter(cls) -> float:
        return getattr(cls._local, "offset", 0.0)

    @staticmethod
    def monotonic() -> float:
        return 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class VirtualFuture(Future):
    """A task run inline, which took `elapsed` seconds of virtual time. Waiting less than that for it
    times out, as waiting for a thread still in its probe does: a dependency slower than the time the
    monitor gives its check is a timed-out check, whatever the drill's latency (a probe that answers
    after the wait is never seen)."""

    def __init__(self, elapsed: float) -> None:
        super().__init__()
        self.elapsed = elapsed

    def result(self, timeout: Optional[float] = None) -> Any:
        if timeout is not None and self.elapsed > timeout:
            raise FutureTimeout()
        return super().result(timeout)


class InlineExecutor:
    """The monitor's thread pool, run inline: no real time passes in a probe, so the concurrency
    changes nothing but costs thread starts; each task gets a fresh virtual clock, and its future
    the time that clock ran."""

    def __init__(self, max_workers: Optional[int] = None, thread_name_prefix: str = "") -> None:
        pass

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        VirtualClock._local.offset = 0.0
        try:
            value, error = fn(*args, **kwargs), None
        except Exception as failure:  # noqa: BLE001 - handed to the caller through the future
            value, error = None, failure
        future = VirtualFuture(VirtualClock.perf_counter())
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def simulated_datetime(now_minute: Callable[[], int]) -> type[dt.datetime]:
    """`datetime` for observability.health: `now()` is the start of the simulated minute being played (the
    monitor judges the RFID readers by the hour), everything else is the real class."""

    class SimulatedDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: Optional[dt.tzinfo] = None) -> dt.datetime:  # type: ignore[override]
            return dt.datetime.fromtimestamp((now_minute() - 1) * 60, tz or dt.UTC)

    return SimulatedDatetime


class FakeSecrets:
    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        dependency = "redis" if "redis" in SecretId else "database"
        details = {"host": PROBE_TARGETS[dependency], "port": 6379 if dependency == "redis" else 5432,
                   "username": "health", "password": "drill", "dbname": "hasivu", "ssl": True}
        return {"SecretString": json.dumps(details)}


class StoreCloudWatch:
    """GetMetricData answered from the simulated store at the simulated time."""

    def __init__(self, store: MetricStore, now_minute: Callable[[], int]) -> None:
        self.store, self.now_minute = store, now_minute

    def get_metric_data(self, MetricDataQueries: list[dict], StartTime: Any, EndTime: Any) -> dict:
        results = []
        for query in MetricDataQueries:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            key = metric_key(metric["Namespace"], metric["MetricName"],
                             {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])})
            minutes = int(stat["Period"]) // 60
            value = self.store.window_statistic(key, stat["Stat"], self.now_minute() - minutes, minutes)
            results.append({"Id": query["Id"], "Values": [] if value is None else [value]})
        return {"MetricDataResults": results}


class FakeBoto3:
    def __init__(self, cloudwatch: StoreCloudWatch) -> None:
        self.cloudwatch = cloudwatch

    def client(self, service: str, config: Any = None) -> Any:
        return FakeSecrets() if service == "secretsmanager" else self.cloudwatch


def _fake_pg_connection(answers: DependencyAnswers) -> type:
    import pg8000

    class Connection:
        def __init__(self, **_: Any) -> None:
            try:
                answers.check("database")
            except ConnectionRefusedError as error:
                raise pg8000.InterfaceError(f"Can't create a connection to host database: {error}") from None

        def run(self, sql: str) -> list[list[Any]]:
            answers.command("database")
            if sql.startswith("SHOW max_connections"):
                return [["400"]]
            if "pg_stat_activity" in sql:
                return [[40]]
            return [[1]]

        def close(self) -> None:
            pass

    return Connection


def _fake_redis(answers: DependencyAnswers) -> type:
    import redis

    class Redis:
        def __init__(self, **_: Any) -> None:
            self.connected = False

        def ping(self) -> bool:
            if self.connected:
                answers.command("redis")
                return True
            try:
                answers.check("redis")
            except ConnectionRefusedError as error:
                raise redis.ConnectionError(str(error)) from None
            self.connected = True
            return True

        def info(self, section: str) -> dict[str, int]:
            answers.command("redis")
            if section == "memory":
                return {"used_memory": 400 * 2**20, "maxmemory": 1024 * 2**20}
            return {"keyspace_hits": 9500, "keyspace_misses": 500}

        def close(self) -> None:
            pass

    return Redis


def _fake_urlopen(answers: DependencyAnswers) -> Callable[..., Any]:
    def urlopen(request: Any, timeout: Optional[float] = None) -> Any:
        url = request.full_url if hasattr(request, "full_url") else str(request)
        try:
            answers.check("payment_gateway")
        except ConnectionRefusedError as error:
            raise urllib.error.URLError(str(error)) from None
        # Razorpay's API root answers 401 without credentials: reachable.
        raise urllib.error.HTTPError(url, 401, "Unauthorized", {}, io.BytesIO(b"{}"))  # type: ignore[arg-type]

    return urlopen


def fresh_container(modules: list[Any]) -> None:
    """Empties the `functools.cache`s of the library's module-level functions."""
    for module in modules:
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == module.__name__:
                value.cache_clear()


@functools.cache
def _shared_tls_context(create: Callable[[], Any]) -> Callable[..., Any]:
    context = create()
    return lambda *args, **kwargs: context


@contextlib.contextmanager
def probe_boundary(answers: DependencyAnswers, cloudwatch: StoreCloudWatch) -> Iterator[None]:
    """Swaps the network clients the health library reaches for; restores them afterwards.

    AWS clients are answered wherever the library makes them: a module's `boto3` (`boto3.client`) or
    its `deadline_client(service)` factory. Database, Redis and HTTP clients are the libraries'
    own entry points (pg8000.native.Connection, redis.Redis, urllib.request.urlopen)."""
    import ssl

    import pg8000.native
    import redis

    import observability.health
    import observability.health_checks
    import observability.health_handler

    fake = FakeBoto3(cloudwatch)
    saved: list[tuple[Any, str, Any]] = []
    library = [m for name, m in list(sys.modules.items())
               if name == "observability" or name.startswith("observability.")]
    # A drill is a fresh Lambda container: per-container caches (the monitor, its clients, secrets)
    # start empty, and nothing made with the drill's clients outlives it.
    fresh_container(library)

    def swap(owner: Any, attribute: str, value: Any) -> None:
        if hasattr(owner, attribute):
            saved.append((owner, attribute, getattr(owner, attribute)))
            setattr(owner, attribute, value)

    for module in library:
        swap(module, "boto3", fake)
        swap(module, "deadline_client", fake.client)
    swap(observability.health, "ThreadPoolExecutor", InlineExecutor)
    swap(observability.health, "datetime", simulated_datetime(cloudwatch.now_minute))
    for module in (observability.health_checks, observability.health, observability.health_handler):
        swap(module, "time", VirtualClock())
    swap(pg8000.native, "Connection", _fake_pg_connection(answers))
    swap(redis, "Redis", _fake_redis(answers))
    swap(urllib.request, "urlopen", _fake_urlopen(answers))
    # Loading the CA bundle costs ~25 ms a call; the fake connection never reads the context.
    swap(ssl, "create_default_context", _shared_tls_context(ssl.create_default_context))
    try:
        yield
    finally:
        for owner, attribute, value in reversed(saved):
            setattr(owner, attribute, value)
        fresh_container(library)
