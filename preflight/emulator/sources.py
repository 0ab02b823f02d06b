"""Where each metric of a drill minute comes from, as it would for real.

- AWS service metrics (Lambda, API Gateway per stage and per critical endpoint, RDS, ElastiCache)
  from the traffic profile and the faults, through the dependency map in `traffic`, with the units
  the service guides give (`publishers.AWS_METRICS`).
- Business metrics from the runtime library itself: the real `observability.metrics` call for each
  shape of event (Lambda environment, event kind, outcome) runs once per drill in that Lambda's
  environment, and each minute its EMF is ingested as many times as there were such events (the
  batch approximation: the output differs only in its timestamp).
- Health metrics from the real health handler (see `health_probes`), on its schedule.
- Security events through the real `SecurityEventLog`, delivered to a logs client that applies the
  program's metric filters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import math
import os
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Optional

from preflight.cloudwatch.emf import ingest, ingest_log_lines, metric_units, metrics_in
from preflight.cloudwatch.log_filters import matches, metric_value
from preflight.cloudwatch.store import MetricKey, MetricStore, metric_key
from preflight.drill.drill_file import Fault
from preflight.emulator.health_probes import DependencyAnswers, StoreCloudWatch, probe_boundary
from preflight.emulator.platform import Platform
from preflight.emulator.publishers import aws_unit
from stackconfig.traffic import (
    ACTIVE_SESSION_MINUTES,
    API_4XX_SHARE,
    AVERAGE_ORDER_INR,
    CACHE_HIT_SHARE,
    CACHE_LOOKUPS_PER_REQUEST,
    DEPENDENCY_USERS,
    HANDLED_FAILURES,
    LOGIN_FAILED_SHARE,
    ORDER_CANCELLED_SHARE,
    PAYMENT_ERROR_SHARE,
    PAYMENT_FAILED_SHARE,
    RFID_FAILED_SHARE,
    Profile,
)

COLD_START_MS = 900.0
DEPENDENCY_TIMEOUT_MS = 3000.0
# A Redis node no client reaches: ElastiCache's own monitoring connections stay open ("ElastiCache uses
# 4 to 6 of the connections to monitor the cluster", CurrConnections in "Metrics for Valkey and Redis
# OSS"), the engine thread only runs its background cycle, and no key is looked up.
MONITORING_CONNECTIONS = 4
IDLE_ENGINE_CPU_PERCENT = 1.0
# Variables the runtime library reads; set or cleared per simulated Lambda.
LIBRARY_VARIABLES = ("HASIVU_ENVIRONMENT", "HASIVU_BUSINESS_NAMESPACE", "HASIVU_HEALTH_NAMESPACE",
                     "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_METRICS_DISABLED",
                     "HASIVU_SECURITY_LOG_GROUP", "HASIVU_RFID_READER_IDS", "AWS_LAMBDA_FUNCTION_NAME")


# The drill faults that act on API Gateway's own metrics (stage-wide, or of one endpoint).
API_FAULTS = ("api-5xx", "api-4xx", "api-latency")


@dataclasses.dataclass
class ApiFigures:
    """One API scope's minute: requests, 5XX, 4XX and latency samples, and what its endpoint faults added."""

    requests: float
    errors: float
    client_errors: float
    latencies: list[tuple[float, float]]
    extra_errors: float = 0
    extra_client_errors: float = 0
    # (the scope's latency samples without its faults, with them), when a latency fault changed them.
    replaced_latencies: Optional[tuple[list[tuple[float, float]], list[tuple[float, float]]]] = None

    def add_endpoint_faults(self, endpoint: ApiFigures) -> None:
        """The stage's figures with one endpoint's faults in them: its extra 5XX and 4XX, its latency samples
        in place of the unfaulted ones."""
        self.errors = min(self.requests, self.errors + endpoint.extra_errors)
        self.client_errors = min(self.requests - self.errors, self.client_errors + round(endpoint.extra_client_errors))
        if endpoint.replaced_latencies is not None and self.replaced_latencies is None:
            unfaulted, faulted = endpoint.replaced_latencies
            left = Counter(unfaulted)
            kept = []
            for sample in self.latencies:
                if left[sample] > 0:
                    left[sample] -= 1
                else:
                    kept.append(sample)
            self.latencies = kept + faulted


class LambdaEnvironments:
    """Switches the process environment between simulated Lambdas, touching only what differs;
    `restore()` puts the original values back."""

    def __init__(self) -> None:
        self.saved: dict[str, Optional[str]] = {}
        self.current: Optional[dict[str, str]] = None

    def switch(self, variables: Mapping[str, str]) -> None:
        if self.current == variables:
            return
        for k in set(LIBRARY_VARIABLES) | set(variables) | set(self.current or {}):
            self.saved.setdefault(k, os.environ.get(k))
            if k in variables:
                if os.environ.get(k) != variables[k]:
                    os.environ[k] = variables[k]
            elif k in os.environ:
                del os.environ[k]
        self.current = dict(variables)

    def restore(self) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self.saved, self.current = {}, None


@contextlib.contextmanager
def lambda_environment(environments: LambdaEnvironments, variables: Mapping[str, str]) -> Iterator[None]:
    environments.switch(variables)
    yield


class LogsDelivery:
    """A CloudWatch Logs client for the security event log: each event goes through the filters."""

    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self, platform: Platform, store: MetricStore) -> None:
        self.platform, self.store = platform, store
        self.minute, self.repeat = 0, 1.0

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:
        pass

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list[dict]) -> None:
        for f in self.platform.log_filters:
            if f.log_group != logGroupName:
                continue
            key = metric_key(f.namespace, f.metric_name, f.dimensions)
            for event in logEvents:
                if matches(f.pattern, event["message"]):
                    value = metric_value(f.value, event["message"])
                    if value is not None:
                        self.store.put(key, self.minute, value, self.repeat)
                elif f.default_value is not None:
                    self.store.put(key, self.minute, f.default_value, self.repeat)


class Sources:
    def __init__(self, platform: Platform, profile: Profile, store: MetricStore, seed: int) -> None:
        self.platform, self.profile, self.store = platform, profile, store
        self.rng = random.Random(seed)  # noqa: S311 - a seeded simulation, not a secret
        self.answers = DependencyAnswers(random.Random(seed + 1))  # noqa: S311 - a seeded simulation
        self.now_minute = 0
        self.cloudwatch = StoreCloudWatch(store, lambda: self.now_minute)
        self.logs = LogsDelivery(platform, store)
        self._by_fragment = {name: platform.role(name) for name in platform.functions}
        self.environments = LambdaEnvironments()
        self._api_scopes: Optional[list[tuple[dict[str, str], list[str], Optional[str]]]] = None
        self._keys: dict[tuple, MetricKey] = {}
        self._lambda_keys: dict[str, dict[str, MetricKey]] = {}
        self._emitted: dict[tuple, list[tuple[MetricKey, list[float]]]] = {}
        self._functions_of: dict[str, list[str]] = {}
        for name, group in platform.functions.items():
            self._functions_of.setdefault(group, []).append(name)
        self.notifications: dict[str, int] = {}  # per tier, delivered at the end of the last minute

    def boundary(self) -> contextlib.AbstractContextManager[None]:
        """The health handler's network clients answered by the drill, for the whole run."""
        return probe_boundary(self.answers, self.cloudwatch)

    # -- helpers ---------------------------------------------------------------------------------

    def _round(self, expected: float) -> int:
        """Deterministic (seeded) stochastic rounding: counts vary, their mean is the expectation."""
        if expected <= 0:
            return 0
        whole = math.floor(expected)
        return whole + (1 if self.rng.random() < expected - whole else 0)

    def _key(self, namespace: str, name: str, dims: Mapping[str, str]) -> MetricKey:
        lookup = (namespace, name, tuple(dims.items()))
        key = self._keys.get(lookup)
        if key is None:
            key = self._keys[lookup] = metric_key(namespace, name, dims)
            self.store.set_unit(key, aws_unit(namespace, name))
        return key

    def _function_keys(self, function: str) -> dict[str, MetricKey]:
        keys = self._lambda_keys.get(function)
        if keys is None:
            dims = {"FunctionName": function}
            keys = self._lambda_keys[function] = {name: self._key("AWS/Lambda", name, dims) for name in (
                "Invocations", "Errors", "Throttles", "Duration", "AsyncEventsReceived", "AsyncEventsDropped",
                "DeadLetterErrors", "ConcurrentExecutions")}
        return keys

    def _put_samples(self, namespace: str, name: str, dims: Mapping[str, str], minute: int,
                     samples: list[tuple[float, float]]) -> None:
        self.store.put_samples(self._key(namespace, name, dims), minute, [s for s in samples if s[1] > 0])

    def _put(self, namespace: str, name: str, dims: Mapping[str, str], minute: int, value: float,
             count: float = 1) -> None:
        self.store.put(self._key(namespace, name, dims), minute, value, count)

    def _function_env(self, function: str, faults: list[Fault]) -> dict[str, str]:
        """A platform Lambda's environment as docs/runtime-library.md asks for: the stack's
        environment, namespaces, security log group and reader fleet; `env` faults on top."""
        env = {"HASIVU_ENVIRONMENT": self.platform.environment,
               "HASIVU_BUSINESS_NAMESPACE": self.platform.business_namespace,
               "HASIVU_HEALTH_NAMESPACE": self.platform.health_namespace,
               "AWS_LAMBDA_FUNCTION_NAME": function}
        if self.platform.security_log_group:
            env["HASIVU_SECURITY_LOG_GROUP"] = self.platform.security_log_group
        if self.platform.reader_ids:
            env["HASIVU_RFID_READER_IDS"] = ",".join(self.platform.reader_ids)
        for f in faults:
            if f.kind == "env" and f.target == function and f.env:
                env.update(f.env)
        return env

    def _function_for(self, fragment: str) -> str:
        for name in self.platform.functions:
            if fragment in name:
                return name
        return f"hasivu-{self.platform.environment}-{fragment}"

    def _emit(self, function: str, faults: list[Fault], minute: int, count: int, call: str, *args: Any) -> None:
        """A batch of `count` identical events in `function`: the real library emits one of them in
        that Lambda's environment and its EMF is ingested `count` times. The library's output for the
        same environment and event differs only in its timestamp, so it is produced once per drill."""
        if count <= 0:
            return
        env = self._function_env(function, faults)
        cache_key = (tuple(sorted(env.items())), call, args)
        metrics = self._emitted.get(cache_key)
        if metrics is None:
            from observability.metrics import BusinessMetrics
            from observability.settings import RuntimeSettings

            output = io.StringIO()
            with lambda_environment(self.environments, env), contextlib.redirect_stdout(output):
                getattr(BusinessMetrics(RuntimeSettings.from_env()), call)(*args)
            metrics = self._emitted[cache_key] = metrics_in(output.getvalue())
            for key, unit in metric_units(output.getvalue()).items():
                self.store.set_unit(key, unit)
        ingest(self.store, metrics, minute, count)

    # -- the minute ------------------------------------------------------------------------------

    def minute(self, minute: int, when: dt.datetime, faults: list[Fault]) -> None:
        self.now_minute = minute + 1
        down = {f.target for f in faults if f.kind == "dependency-down" and f.target}
        slow = {f.target: f.latency_ms or 0.0 for f in faults if f.kind == "dependency-slow" and f.target}
        flows = self._flows(when, faults, down)
        self._business(minute, when, faults, flows, down)
        invocations = self._lambda(minute, faults, flows, down, slow)
        self._api(minute, faults, invocations)
        self._datastores(minute, flows, down, slow, invocations, faults)
        if not any(f.kind == "health-monitor-down" for f in faults):
            self._health(minute, down, slow)

    def notified(self, minute: int, per_tier: Mapping[str, int]) -> None:
        """Alarm notifications published at the start of `minute`: SNS's own metrics per topic; each
        becomes one invocation of the tier's Slack forwarder in that minute."""
        self.notifications = dict(per_tier)
        for tier, count in per_tier.items():
            topic = self.platform.topic_names.get(tier)
            if not topic or not count:
                continue
            dims = {"TopicName": topic}
            self._put("AWS/SNS", "NumberOfMessagesPublished", dims, minute, count)
            self._put("AWS/SNS", "NumberOfNotificationsDelivered", dims, minute, count)
            self._put("AWS/SNS", "NumberOfNotificationsFailed", dims, minute, 0)

    def _flows(self, when: dt.datetime, faults: list[Fault], down: set[str]) -> dict[str, float]:
        rates = self.profile.rates(when)
        for f in faults:
            if f.kind == "traffic-spike":
                for flow in self._flows_of(f.target or "all"):
                    rates[flow] = rates.get(flow, 0) * (f.factor or 1)
        for f in faults:
            if f.kind == "traffic-stop":
                for flow in self._flows_of(f.target or "all"):
                    rates[flow] = 0.0
        silent = {f.target for f in faults if f.kind == "reader-silent"}
        online = [] if "rfid" in down else [r for r in self.platform.reader_ids if r not in silent]
        share = len(online) / len(self.platform.reader_ids) if self.platform.reader_ids else 1.0
        rates["rfid"] = rates["rfid"] * share
        rates["completions"] = rates["rfid"]
        rates["heartbeats"] = float(len(online))
        self.online_readers = online
        return rates

    @staticmethod
    def _flows_of(target: str) -> tuple[str, ...]:
        return {"orders": ("orders", "payments"), "payments": ("payments",), "rfid": ("rfid", "completions"),
                "logins": ("logins",),
                "all": ("orders", "payments", "rfid", "completions", "logins", "browsing")}[target]

    def _business(self, minute: int, when: dt.datetime, faults: list[Fault], flows: dict[str, float],
                  down: set[str]) -> None:
        db_down = "database" in down
        pay = self._function_for("payments-create-order")
        attempts = self._round(flows["payments"])
        if "payment_gateway" in down or db_down:
            self._emit(pay, faults, minute, attempts, "track_payment_metrics", "order_drill", AVERAGE_ORDER_INR,
                       "error", "upi")
        else:
            failed = self._round(attempts * PAYMENT_FAILED_SHARE)
            # A `payment-errors` fault: that share of attempts fails for Razorpay's or the platform's fault.
            error_share = max([PAYMENT_ERROR_SHARE, *(f.rate or 0 for f in faults if f.kind == "payment-errors")])
            errors = min(self._round(attempts * error_share), attempts - failed)
            self._emit(pay, faults, minute, failed, "track_payment_metrics", "order_drill", AVERAGE_ORDER_INR,
                       "failed", "upi")
            self._emit(pay, faults, minute, errors, "track_payment_metrics", "order_drill", AVERAGE_ORDER_INR,
                       "error", "upi")
            self._emit(pay, faults, minute, attempts - failed - errors, "track_payment_metrics", "order_drill",
                       AVERAGE_ORDER_INR, "success", "upi")
        if not db_down:
            counter = self._function_for("orders-update-status")
            self._emit(self._function_for("orders-create"), faults, minute, self._round(flows["orders"]),
                       "track_order_metrics", "order_drill", "created")
            # An `orders-cancelled` fault: that share of the orders finished at the counter is refused
            # (out of stock) instead of served.
            refused = max((f.rate or 0.0 for f in faults if f.kind == "orders-cancelled"), default=0.0)
            self._emit(counter, faults, minute, self._round(flows["completions"] * (1 - refused)),
                       "track_order_metrics", "order_drill", "completed")
            self._emit(counter, faults, minute, self._round(flows["completions"] * ORDER_CANCELLED_SHARE),
                       "track_order_metrics", "order_drill", "expired")
            self._emit(counter, faults, minute, self._round(flows["completions"] * refused),
                       "track_order_metrics", "order_drill", "cancelled")
        verify = self._function_for("rfid-verify-card")
        rfid = self._round(flows["rfid"])
        rfid_failed = rfid if db_down else self._round(rfid * RFID_FAILED_SHARE)
        if rfid and self.online_readers:
            # The reader id is an EMF property, not a dimension: one representative reader per minute.
            reader = self.online_readers[minute % len(self.online_readers)]
            self._emit(verify, faults, minute, rfid - rfid_failed, "track_rfid_verification", reader, True)
            self._emit(verify, faults, minute, rfid_failed, "track_rfid_verification", reader, False)
        heartbeat = self._function_for("rfid-reader-heartbeat")
        for reader in self.online_readers:
            self._emit(heartbeat, faults, minute, 1, "track_reader_heartbeat", reader)
        logins = self._round(flows["logins"])
        if db_down or "redis" in down:
            return  # the login function fails before it can tell a good password from a bad one
        # The sessions in the cache, counted once a minute: users who logged in within a session's life.
        self._emit(self._function_for("auth-login"), faults, minute, 1, "track_active_users",
                   min(self.profile.active_users, round(flows["logins"] * ACTIVE_SESSION_MINUTES)))
        failed_logins = self._round(logins * LOGIN_FAILED_SHARE)
        self._emit(self._function_for("auth-login"), faults, minute, logins - failed_logins, "track_login", True)
        # Attempts with leaked passwords fail like a wrong password, on top of the parents' own.
        attack = sum(self._round(f.per_minute or 0) for f in faults if f.kind == "login-attack")
        self._security(minute, faults, failed_logins + attack)

    def _security(self, minute: int, faults: list[Fault], failed_logins: int) -> None:
        if failed_logins <= 0 or not self.platform.security_log_group:
            return
        from observability.security_events import SecurityEventLog

        self.logs.minute, self.logs.repeat = minute, failed_logins
        function = self._function_for("auth-login")
        with lambda_environment(self.environments, self._function_env(function, faults)):
            log = SecurityEventLog(self.platform.security_log_group, client=self.logs)
            log.record("LOGIN_FAILED", {"reason": "bad_password"})
            log.flush()

    def _lambda(self, minute: int, faults: list[Fault], flows: dict[str, float], down: set[str],
                slow: dict[str, float]) -> dict[str, tuple[int, int, int, list[tuple[float, float]]]]:
        """Per function: (invocations, errors, handled failures, duration samples)."""
        result = {}
        concurrency = 0.0
        for name, group in self.platform.functions.items():
            role = self._by_fragment[name]
            if name in self.platform.forwarders:
                expected = float(self.notifications.get(self.platform.forwarders[name], 0))
            elif role.schedule_minutes:
                expected = 1.0 if minute % role.schedule_minutes == 0 else 0.0
                if name == self.platform.health_function and any(f.kind == "health-monitor-down" for f in faults):
                    expected = 0.0
            else:
                expected = flows.get(role.flow or "", 0.0) * role.per_event
            n = self._round(expected)
            throttled = 0
            for f in faults:
                if f.kind == "function-throttles" and f.target in (name, group):
                    throttled = self._round(n * (f.rate or 0))
            n -= throttled
            failing = [d for d in down if group in DEPENDENCY_USERS.get(d, ())]
            unhandled = [d for d in failing if d not in HANDLED_FAILURES]
            errors = n if unhandled else 0
            handled = n if failing and not unhandled else 0
            for f in faults:
                if f.kind == "function-errors" and f.target in (name, group):
                    errors = max(errors, self._round(n * (f.rate or 0)) if n > 1 else (n if f.rate else 0))
            base = role.base_ms + sum(ms for d, ms in slow.items() if group in DEPENDENCY_USERS.get(d, ()))
            if failing:
                base += DEPENDENCY_TIMEOUT_MS
            samples = self._durations(n, base, faults, name, group)
            if n or throttled:
                keys = self._function_keys(name)
                put = self.store.put
                put(keys["Invocations"], minute, n)
                put(keys["Errors"], minute, errors)
                put(keys["Throttles"], minute, throttled)
                self.store.put_samples(keys["Duration"], minute, samples)
                if not role.api:
                    put(keys["AsyncEventsReceived"], minute, n + throttled)
                    put(keys["AsyncEventsDropped"], minute, 0)
                    put(keys["DeadLetterErrors"], minute, 0)
            running = n * sum(v * c for v, c in samples) / max(n, 1) / 60_000
            if n:
                # Peak concurrency in a minute is a few times the average of a bursty minute.
                self.store.put(keys["ConcurrentExecutions"], minute, math.ceil(running * 3))
            concurrency += running
            result[name] = (n, errors, handled, samples)
        self._put("AWS/Lambda", "ConcurrentExecutions", {}, minute, math.ceil(concurrency * 3))
        return result

    def _durations(self, n: int, base: float, faults: list[Fault], name: str, group: str) -> list[tuple[float, float]]:
        if n <= 0:
            return []
        # Low traffic: containers go idle, so a larger share of calls pays the cold start.
        cold = self._round(n * (0.3 if n < 5 else 0.02)) if n < 50 else self._round(n * 0.005)
        warm = n - cold
        samples = [(base, warm * 0.9), (base * 2.5, warm * 0.09), (base * 4, warm * 0.01)]
        if cold:
            samples.append((base + COLD_START_MS, cold))
        for f in faults:
            if f.kind == "function-slow" and f.target in (name, group) and f.p99_ms:
                samples = [(v, c * 0.97) for v, c in samples] + [(f.p99_ms, n * 0.03)]
        return [s for s in samples if s[1] > 0]

    def _api(self, minute: int, faults: list[Fault], invocations: dict[str, tuple]) -> None:
        p = self.platform
        if not p.api_name:
            return
        stage = {"ApiName": p.api_name, "Stage": p.api_stage or ""}
        if self._api_scopes is None:
            scopes: list[tuple[dict[str, str], list[str], Optional[str]]] = [
                (stage, [n for n in p.functions if self._by_fragment[n].api and n != p.health_function], None)]
            for endpoint in p.endpoints:
                function = self._endpoint_function(endpoint.path, endpoint.method)
                scopes.append(({**stage, "Resource": endpoint.path, "Method": endpoint.method},
                               [function] if function else [], endpoint.path))
            self._api_scopes = scopes
        # Every scope's figures first, in the order they always were drawn, so that a drill's random draws
        # do not move; then the stage takes each endpoint fault's extra errors and latency, because API
        # Gateway's stage metrics count every resource's requests (a 5XX on one endpoint is a 5XX of the stage).
        figures = [(dims, path, self._api_figures(functions, faults, path, invocations))
                   for dims, functions, path in self._api_scopes]
        stage_figures = figures[0][2]
        for _, path, endpoint in figures[1:]:
            if endpoint.requests and any(f.endpoint == path for f in faults if f.kind in API_FAULTS):
                stage_figures.add_endpoint_faults(endpoint)
        for dims, _, scope in figures:
            if scope.requests <= 0:
                continue
            self._put("AWS/ApiGateway", "Count", dims, minute, 1, scope.requests)
            self._put_samples("AWS/ApiGateway", "5XXError", dims, minute,
                              [(1, scope.errors), (0, scope.requests - scope.errors)])
            self._put_samples("AWS/ApiGateway", "4XXError", dims, minute,
                              [(1, scope.client_errors), (0, scope.requests - scope.client_errors)])
            self._put_samples("AWS/ApiGateway", "IntegrationLatency", dims, minute, scope.latencies)
            self._put_samples("AWS/ApiGateway", "Latency", dims, minute, [(v + 15, c) for v, c in scope.latencies])

    def _api_figures(self, functions: list[str], faults: list[Fault], path: Optional[str],
                     invocations: dict[str, tuple]) -> ApiFigures:
        """One scope's minute (the stage when `path` is None): its functions' invocations, then the API faults
        aimed at it (a stage-wide fault at every scope, an endpoint's at that endpoint only)."""
        requests = errors = 0
        latencies: list[tuple[float, float]] = []
        for name in functions:
            n, err, handled, samples = invocations.get(name, (0, 0, 0, []))
            requests += n
            errors += err + handled
            latencies += samples
        figures = ApiFigures(requests, errors, 0, latencies)
        rejected = API_4XX_SHARE
        for f in faults:
            if f.kind not in API_FAULTS or (f.endpoint is not None and f.endpoint != path):
                continue
            if f.kind == "api-5xx":
                errors = max(errors, self._round(requests * (f.rate or 0)))
            if f.kind == "api-4xx":
                rejected = max(rejected, f.rate or 0)
            if f.kind == "api-latency" and f.p99_ms:
                latencies = [(v, c * 0.97) for v, c in latencies] + [(f.p99_ms, requests * 0.03)]
        if requests <= 0:
            return figures
        errors = min(errors, requests)
        client_errors = min(self._round(requests * rejected), requests - errors)
        return ApiFigures(requests, errors, client_errors, latencies,
                          extra_errors=errors - figures.errors,
                          extra_client_errors=max(0.0, client_errors - requests * API_4XX_SHARE),
                          replaced_latencies=(figures.latencies, latencies) if latencies is not figures.latencies
                          else None)

    def _endpoint_function(self, path: str, method: str) -> Optional[str]:
        parts = [p for p in path.strip("/").split("/") if p and not p.startswith("{")]
        if not parts:
            return None
        group = [n for n in self.platform.functions if f"-{parts[0]}-" in f"-{n.split('-', 2)[-1]}"]
        if not group:
            return None
        wanted = parts[1:] or (["create"] if method == "POST" else ["get"])
        for name in group:
            if any(w.rstrip("s") in name for w in wanted):
                return name
        return group[0]

    def _datastores(self, minute: int, flows: dict[str, float], down: set[str], slow: dict[str, float],
                    invocations: dict[str, tuple], faults: list[Fault]) -> None:
        pressure: dict[str, dict[str, float]] = {}
        for f in faults:
            if f.kind == "datastore-metrics" and f.target:
                pressure.setdefault(f.target, {}).update(f.metrics or {})
        load = min(1.0, (flows["orders"] + flows["rfid"] + flows["browsing"] / 6) / 200)
        for i, instance in enumerate(self.platform.rds_instances):
            dims = {"DBInstanceIdentifier": instance}
            unreachable = "database" in down
            extra = slow.get("database", 0.0) / 1000
            values = {
                "CPUUtilization": 12 + 30 * load, "DatabaseConnections": 0 if unreachable else 25 + 60 * load,
                "FreeableMemory": 6 * 2**30, "FreeStorageSpace": 180 * 2**30,
                "ReadLatency": 0.002 + extra, "WriteLatency": 0.004 + extra, "DiskQueueDepth": 0.2 + load,
                "ReadIOPS": 50 + 400 * load, "WriteIOPS": 30 + 200 * load,
            }
            if i > 0:
                values["ReplicaLag"] = 0.5
            values.update(pressure.get(instance, {}))
            for name, value in values.items():
                self._put("AWS/RDS", name, dims, minute, value)
        nodes = self.platform.redis_nodes
        unreachable = "redis" in down
        requests = sum(invocations.get(name, (0,))[0] for group in DEPENDENCY_USERS["redis"]
                       for name in self._functions_of.get(group, ()))
        # Reads are spread over the nodes (the replica serves reads too); a node no client reaches sees none.
        lookups = 0 if unreachable else self._round(requests * CACHE_LOOKUPS_PER_REQUEST / max(len(nodes), 1))
        hits = min(self._round(lookups * CACHE_HIT_SHARE), lookups)
        misses = lookups - hits
        for i, node in enumerate(nodes):
            dims = {"CacheClusterId": node}
            values = {"EngineCPUUtilization": IDLE_ENGINE_CPU_PERCENT if unreachable else 4 + 20 * load,
                      "DatabaseMemoryUsagePercentage": 42, "Evictions": 0,
                      "CurrConnections": MONITORING_CONNECTIONS if unreachable else 40 + 80 * load,
                      "CacheHits": hits, "CacheMisses": misses}
            if hits + misses > 0:
                values["CacheHitRate"] = 100 * hits / (hits + misses)
            if i > 0:
                values["ReplicationLag"] = 0.05
            values.update(pressure.get(node, {}))
            for name, value in values.items():
                self._put("AWS/ElastiCache", name, dims, minute, value)

    def _health(self, minute: int, down: set[str], slow: dict[str, float]) -> None:
        p = self.platform
        if not p.health_function or minute % p.health_schedule_minutes:
            return
        from observability.health_handler import handler

        self.answers.down, self.answers.slow_ms = down, slow
        output = io.StringIO()
        variables = {**p.health_environment, "AWS_LAMBDA_FUNCTION_NAME": p.health_function}
        with lambda_environment(self.environments, variables), contextlib.redirect_stdout(output):
            handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
        ingest_log_lines(self.store, output.getvalue(), minute)
