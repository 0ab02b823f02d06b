"""The drill file (YAML), validated strictly: a bad file is one line naming the file, the key and the
expected form."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Optional

import yaml

from preflight.cloudwatch.insights import MAX_METRICS
from preflight.program.stack_files import UniqueKeyLoader
from stackconfig.maintenance import ALL, SCOPES
from stackconfig.types import did_you_mean

PROFILES = ("school-day", "school-night", "holiday")
DEPENDENCIES = ("database", "redis", "payment_gateway", "rfid")
FLOWS = ("orders", "payments", "rfid", "logins", "all")
MAINTAINED = (*SCOPES, ALL)
TIERS = ("critical", "warning", "business")
# Beside the drills, not a drill: what the coverage report accepts (preflight/drill/coverage/allowlist.py).
COVERAGE_ALLOWLIST = "coverage-allowlist.yaml"
# `account.functions.count`: a fleet alarm's Metrics Insights query processes at most 10,000 metrics
# (cloudwatch-metrics-insights-limits.html), which a larger fleet exceeds with one series per function;
# the model refuses such a query, so a larger account could not drill a fleet. Time and memory grow
# linearly (bench/fleet_drill_scale.py).
MAX_ACCOUNT_FUNCTIONS = MAX_METRICS

# kind -> {key: (required, expected form)}; every kind also takes `at` and `for`.
FAULT_KEYS: dict[str, dict[str, tuple[bool, str]]] = {
    "dependency-down": {"target": (True, "one of " + ", ".join(DEPENDENCIES))},
    "dependency-slow": {"target": (True, "one of " + ", ".join(DEPENDENCIES)), "latencyMs": (True, "a number > 0")},
    "function-errors": {"target": (True, "a function name or inventory group"), "rate": (True, "a number 0-1")},
    "function-throttles": {"target": (True, "a function name or inventory group"), "rate": (True, "a number 0-1")},
    "function-slow": {"target": (True, "a function name or inventory group"), "p99Ms": (True, "a number > 0")},
    "api-5xx": {"rate": (True, "a number 0-1"), "endpoint": (False, "a critical endpoint path")},
    "api-4xx": {"rate": (True, "a number 0-1"), "endpoint": (False, "a critical endpoint path")},
    "api-latency": {"p99Ms": (True, "a number > 0"), "endpoint": (False, "a critical endpoint path")},
    "traffic-stop": {"target": (True, "one of " + ", ".join(FLOWS))},
    "traffic-spike": {"factor": (True, "a number > 0"), "target": (False, "one of " + ", ".join(FLOWS))},
    "orders-cancelled": {"rate": (True, "a number 0-1")},
    "payment-errors": {"rate": (True, "a number 0-1")},
    "reader-silent": {"target": (True, "a reader id")},
    "login-attack": {"perMinute": (True, "a number > 0")},
    "health-monitor-down": {},
    # An ad-hoc maintenance window, as `python -m preflight maintenance start` puts it: the pagers of
    # what it maintains (default all) are muted by alarm mute rules.
    "maintenance": {"target": (False, "what it maintains: one of " + ", ".join(MAINTAINED))},
    "env": {"target": (True, "a function name"), "set": (True, "a mapping of VARIABLE: value")},
    "datastore-metrics": {"target": (True, "an RDS instance or cache node id"),
                          "set": (True, "a mapping of metric name: value in the unit AWS publishes")},
}
# What the emulator publishes for a database instance and a cache node: `datastore-metrics` may set these.
RDS_METRICS = ("CPUUtilization", "DatabaseConnections", "FreeableMemory", "FreeStorageSpace", "ReadLatency",
               "WriteLatency", "DiskQueueDepth", "ReadIOPS", "WriteIOPS", "ReplicaLag")
CACHE_METRICS = ("EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions", "CurrConnections",
                 "CacheHits", "CacheMisses", "ReplicationLag")


class DrillError(ValueError):
    """One line: file, key, expected form."""


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str
    at: int
    duration: int
    target: Optional[str] = None
    latency_ms: Optional[float] = None
    rate: Optional[float] = None
    p99_ms: Optional[float] = None
    endpoint: Optional[str] = None
    factor: Optional[float] = None
    env: Optional[dict[str, str]] = None
    per_minute: Optional[float] = None
    metrics: Optional[dict[str, float]] = None
    # A condition the drill is set in (readers switched off all day), not the incident: detection and
    # `fires ... within` count from the first fault that is not one.
    background: bool = False

    def active(self, minute: int) -> bool:
        return self.at <= minute < self.at + self.duration


@dataclasses.dataclass(frozen=True)
class Expectations:
    pages: dict[str, tuple[Optional[int], Optional[int]]]
    fires: list[tuple[str, int]]
    silent: list[str]
    # The Metrics Insights contributors (e.g. `FunctionName=x`) that go into ALARM, exactly; None: any.
    contributors: Optional[list[str]] = None
    # The contributors each page to a tier with a Slack forwarder names in its Slack text, exactly; None: any.
    page_names: Optional[list[str]] = None
    # The minutes at which each tier is paged, exactly (a tier not named: any).
    pages_at: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    # tier -> minutes: the tier's first page comes within that long of the first fault.
    detection: dict[str, int] = dataclasses.field(default_factory=dict)
    # (glob, minute): each matching alarm that entered ALARM is out of it from that drill minute on.
    clears: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    # An alarm-name glob: each page to a tier with a Slack forwarder names a matching alarm first in
    # its headline (the probable cause); None: any.
    page_cause: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Drill:
    path: Path
    name: str
    start: dt.datetime
    minutes: int
    traffic: str
    seed: int
    faults: list[Fault]
    expect: Expectations
    # The stack file the drill runs on instead of --stack's (like `pulumi preview --config-file`).
    stack_file: Optional[Path] = None
    # The functions in the account, which the program's discovery finds (`aws:lambda/getFunctions`).
    account_functions: tuple[str, ...] = ()

    @property
    def stack_name(self) -> Optional[str]:
        return None if self.stack_file is None else self.stack_file.name[len("Pulumi."):-len(".yaml")]


def _fail(path: Path, key: str, expected: str, value: Any = None) -> DrillError:
    shown = "" if value is None else f" (got {value!r})"
    return DrillError(f"{path}: {key}: expected {expected}{shown}")


def _keys(path: Path, where: str, data: Any, allowed: dict[str, bool]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(path, where or "(file)", "a mapping", data)
    for key in data:
        if key not in allowed:
            raise _fail(path, f"{where}.{key}" if where else str(key), "one of the keys " + ", ".join(allowed)
                        + did_you_mean(str(key), list(allowed)))
    for key, required in allowed.items():
        if required and key not in data:
            raise _fail(path, f"{where}.{key}" if where else key, "a value (the key is required)")
    return data


def _int(path: Path, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(path, key, f"an integer {low}-{high}", value)
    return value


def _number(path: Path, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _fail(path, key, f"a number {low:g}-{high:g}", value)
    return float(value)


def _fault(path: Path, index: int, data: Any, minutes: int) -> Fault:
    where = f"faults[{index}]"
    if not isinstance(data, dict):
        raise _fail(path, where, "a mapping with kind, at, for", data)
    kind = data.get("kind")
    if kind not in FAULT_KEYS:
        raise _fail(path, f"{where}.kind", "one of " + ", ".join(FAULT_KEYS), kind)
    spec = FAULT_KEYS[kind]
    _keys(path, where, data, {"kind": True, "at": True, "for": True, "background": False,
                              **{k: r for k, (r, _) in spec.items()}})
    at = _int(path, f"{where}.at", data["at"], 0, minutes - 1)
    duration = _int(path, f"{where}.for", data["for"], 1, minutes)
    values: dict[str, Any] = {}
    if "background" in data:
        if not isinstance(data["background"], bool):
            raise _fail(path, f"{where}.background", "true or false", data["background"])
        values["background"] = data["background"]
    for key, (_, expected) in spec.items():
        if key not in data:
            continue
        value = data[key]
        if key == "target":
            if not isinstance(value, str) or not value:
                raise _fail(path, f"{where}.target", expected, value)
            allowed = {"dependency-down": DEPENDENCIES, "dependency-slow": DEPENDENCIES,
                       "traffic-stop": FLOWS, "traffic-spike": FLOWS, "maintenance": MAINTAINED}.get(kind)
            if allowed and value not in allowed:
                raise _fail(path, f"{where}.target", expected, value)
            values["target"] = value
        elif key == "rate":
            values["rate"] = _number(path, f"{where}.rate", value, 0, 1)
        elif key in ("latencyMs", "p99Ms", "factor", "perMinute"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise _fail(path, f"{where}.{key}", expected, value)
            values[{"latencyMs": "latency_ms", "p99Ms": "p99_ms", "factor": "factor",
                    "perMinute": "per_minute"}[key]] = float(value)
        elif key == "endpoint":
            if not isinstance(value, str) or not value.startswith("/"):
                raise _fail(path, f"{where}.endpoint", expected, value)
            values["endpoint"] = value
        elif key == "set" and kind == "datastore-metrics":
            known = (*RDS_METRICS, *CACHE_METRICS)
            if not isinstance(value, dict) or not value or not all(
                    k in known and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                    for k, v in value.items()):
                raise _fail(path, f"{where}.set", f"{expected}, >= 0, of {', '.join(known)}", value)
            values["metrics"] = {k: float(v) for k, v in value.items()}
        elif key == "set":
            if not isinstance(value, dict) or not value or not all(
                    isinstance(k, str) and isinstance(v, (str, int, float)) and not isinstance(v, bool)
                    for k, v in value.items()):
                raise _fail(path, f"{where}.set", expected, value)
            values["env"] = {k: str(v) for k, v in value.items()}
    return Fault(kind=kind, at=at, duration=duration, **values)


def _bound(path: Path, key: str, value: Any) -> tuple[Optional[int], Optional[int]]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, value
    if isinstance(value, dict) and value and set(value) <= {"min", "max"}:
        low, high = value.get("min"), value.get("max")
        for k, v in (("min", low), ("max", high)):
            if v is not None:
                _int(path, f"{key}.{k}", v, 0, 100000)
        if low is not None and high is not None and low > high:
            raise _fail(path, key, "min <= max", value)
        return low, high
    raise _fail(path, key, "a count n >= 0 or {min: n, max: n}", value)


def _globs(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(path, key, "a list of alarm-name globs", value)
    return value


def _expect(path: Path, data: Any, minutes: int) -> Expectations:
    _keys(path, "expect", data, {"pages": False, "fires": False, "silent": False, "contributors": False,
                                 "pageNames": False, "pagesAt": False, "detection": False,
                                 "clears": False, "pageCause": False})
    pages = {}
    if "pages" in data:
        _keys(path, "expect.pages", data["pages"], {t: False for t in TIERS})
        pages = {tier: _bound(path, f"expect.pages.{tier}", v) for tier, v in data["pages"].items()}
    fires = []
    if "fires" in data:
        if not isinstance(data["fires"], list):
            raise _fail(path, "expect.fires", "a list of {alarm: glob, within: minutes}", data["fires"])
        for i, item in enumerate(data["fires"]):
            _keys(path, f"expect.fires[{i}]", item, {"alarm": True, "within": True})
            if not isinstance(item["alarm"], str) or not item["alarm"]:
                raise _fail(path, f"expect.fires[{i}].alarm", "an alarm-name glob", item["alarm"])
            fires.append((item["alarm"], _int(path, f"expect.fires[{i}].within", item["within"], 0, minutes)))
    silent = _globs(path, "expect.silent", data["silent"]) if "silent" in data else []
    contributors, page_names = (_contributor_list(path, key, data.get(key)) for key in ("contributors", "pageNames"))
    pages_at: dict[str, list[int]] = {}
    if "pagesAt" in data:
        _keys(path, "expect.pagesAt", data["pagesAt"], {t: False for t in TIERS})
        for tier, minutes_paged in data["pagesAt"].items():
            if not isinstance(minutes_paged, list):
                raise _fail(path, f"expect.pagesAt.{tier}", "a list of drill minutes", minutes_paged)
            pages_at[tier] = [_int(path, f"expect.pagesAt.{tier}[{i}]", m, -10_000, minutes)
                              for i, m in enumerate(minutes_paged)]
    detection = {}
    if "detection" in data:
        _keys(path, "expect.detection", data["detection"], {t: False for t in TIERS})
        detection = {tier: _int(path, f"expect.detection.{tier}", v, 0, minutes)
                     for tier, v in data["detection"].items()}
    clears = []
    if "clears" in data:
        if not isinstance(data["clears"], list):
            raise _fail(path, "expect.clears", "a list of {alarm: glob, by: minute}", data["clears"])
        for i, item in enumerate(data["clears"]):
            _keys(path, f"expect.clears[{i}]", item, {"alarm": True, "by": True})
            if not isinstance(item["alarm"], str) or not item["alarm"]:
                raise _fail(path, f"expect.clears[{i}].alarm", "an alarm-name glob", item["alarm"])
            clears.append((item["alarm"], _int(path, f"expect.clears[{i}].by", item["by"], 0, minutes)))
    page_cause = data.get("pageCause")
    if "pageCause" in data and (not isinstance(page_cause, str) or not page_cause):
        raise _fail(path, "expect.pageCause", "an alarm-name glob", page_cause)
    return Expectations(pages, fires, silent, contributors, page_names, pages_at, detection, clears, page_cause)


def _contributor_list(path: Path, key: str, value: Any) -> Optional[list[str]]:
    if value is not None and (not isinstance(value, list) or not all(
            isinstance(c, str) and "=" in c for c in value)):
        raise _fail(path, f"expect.{key}", "a list of contributors like FunctionName=<name>", value)
    return value


def _stack_file(path: Path, value: Any) -> Path:
    name = value if isinstance(value, str) else ""
    file = path.parent / name
    if not (name.startswith("Pulumi.") and name.endswith(".yaml") and len(name) > len("Pulumi..yaml")
            and "/" not in name):
        raise _fail(path, "stack", "a stack file Pulumi.<stack>.yaml beside the drill file", value)
    if not file.is_file():
        raise _fail(path, "stack", f"a stack file beside the drill file ({file} does not exist)", value)
    return file


def _account(path: Path, data: Any) -> tuple[str, ...]:
    _keys(path, "account", data, {"functions": True})
    spec = data["functions"]
    expected = "{prefix: <name prefix>, count: n}: functions <prefix>001 ... <prefix>n"
    if not isinstance(spec, dict):
        raise _fail(path, "account.functions", expected, spec)
    _keys(path, "account.functions", spec, {"prefix": True, "count": True})
    if not isinstance(spec["prefix"], str) or not spec["prefix"]:
        raise _fail(path, "account.functions.prefix", "a function name prefix", spec["prefix"])
    count = _int(path, "account.functions.count", spec["count"], 1, MAX_ACCOUNT_FUNCTIONS)
    return tuple(f"{spec['prefix']}{i:03d}" for i in range(1, count + 1))


def _other_file(data: Any) -> Optional[str]:
    """What another file of the tool's, given where a drill is expected, is: the saved history and the
    coverage allowlist are YAML (JSON) mappings too, and their keys alone would read as a drill's typos."""
    if not isinstance(data, dict) or "name" in data:
        return None
    if {"version", "stack", "metrics"} <= data.keys():
        return "a saved history: `python -m preflight history --stack STACK --from FILE` replays it"
    if data and all(isinstance(v, dict) and "alarms" in v for v in data.values()):
        return "a coverage allowlist: `drill --coverage` reads drills/coverage-allowlist.yaml"
    return None


def load_drill(path: Path) -> Drill:
    try:
        data = yaml.load(path.read_text(), Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except OSError as error:
        raise DrillError(f"{path}: cannot read the drill file ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise DrillError(f"{path}: {where}: expected valid YAML ({getattr(error, 'problem', error)})") from None
    other = _other_file(data)
    if other is not None:
        raise DrillError(f"{path}: expected a drill file (name, start, minutes, traffic, expect, ...); this is {other}")
    _keys(path, "", data, {"name": True, "description": False, "start": True, "minutes": True, "traffic": True,
                           "seed": False, "faults": False, "expect": True, "stack": False, "account": False})
    if not isinstance(data["name"], str) or not data["name"]:
        raise _fail(path, "name", "a non-empty string", data["name"])
    if "description" in data and not isinstance(data["description"], str):
        raise _fail(path, "description", "a string", data["description"])
    start = data["start"]
    try:
        parsed = start if isinstance(start, dt.datetime) else dt.datetime.fromisoformat(str(start))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _fail(path, "start", 'an ISO 8601 time with offset, like "2026-07-01T11:30:00+05:30"', start)
    if parsed.second or parsed.microsecond:
        raise _fail(path, "start", "a whole minute", start)
    minutes = _int(path, "minutes", data["minutes"], 1, 30 * 24 * 60)
    if data["traffic"] not in PROFILES:
        raise _fail(path, "traffic", "one of " + ", ".join(PROFILES), data["traffic"])
    seed = _int(path, "seed", data.get("seed", 0), 0, 2**31)
    faults_data = data.get("faults") or []
    if not isinstance(faults_data, list):
        raise _fail(path, "faults", "a list of faults", faults_data)
    faults = [_fault(path, i, f, minutes) for i, f in enumerate(faults_data)]
    stack_file = _stack_file(path, data["stack"]) if "stack" in data else None
    account = _account(path, data["account"]) if "account" in data else ()
    return Drill(path, data["name"], parsed, minutes, data["traffic"], seed, faults,
                 _expect(path, data["expect"], minutes), stack_file, account)


def drill_paths(target: str, default_folder: Path) -> list[Path]:
    """`all` (the repository's drills), a folder of drills (its subfolders too, where drills that
    bring their own stack file live), or one drill file. Stack files (`Pulumi.*.yaml`) and the coverage
    allowlist are not drills."""
    path = default_folder if target == "all" else Path(target)
    if path.is_dir():
        found = sorted(p for pattern in ("*.yaml", "*.yml") for p in path.rglob(pattern)
                       if not p.name.startswith("Pulumi.") and p.name != COVERAGE_ALLOWLIST)
        if not found:
            raise DrillError(f"{path}: expected a folder with *.yaml drill files")
        return found
    if not path.is_file():
        raise DrillError(f"{path}: expected a drill file, a folder of drill files, or all")
    return [path]
