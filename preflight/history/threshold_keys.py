"""Which stack-file key sets each alarm's threshold, and the factor between the two.

The components compute thresholds from the config (a percentage of max_connections, MiB to bytes,
milliseconds to seconds, the smaller of two limits): rather than repeat those rules here, the program
is run once more with every threshold setting nudged by its own small factor (and every setting at 0
given its own small value), and each alarm whose threshold moved is traced to the setting that moved
it. Settings: `thresholds.<service>.<key>`, a listed function's own `thresholds.<key>`, a critical
endpoint's `latencyP99Ms`. Integer settings (windows, days) are left alone: they set no threshold.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional

import yaml

from preflight.model.stack import StackModel, build_model
from preflight.program.engine import ProgramFailed, run_program
from preflight.program.stack_files import StackFiles
from stackconfig.publish import stack_file_schema
from stackconfig.slos import replaced_alarms
from stackconfig.thresholds import SECTIONS
from stackconfig.types import camel

# The k-th nudged setting is multiplied by (1 - k * STEP): small enough to stay in every range (a
# percentage of 100 stays <= 100), far apart enough for a ratio to name one setting.
STEP = 1e-6
# The list each kind of entry is in: a function (by name) in a group's functions, an endpoint (by path).
LISTS = {"name": "functions", "path": "criticalEndpoints"}


@dataclasses.dataclass(frozen=True)
class ThresholdKey:
    """An alarm's threshold = `scale` x the setting at `path` (config keys from the project namespace)."""

    path: tuple[str, ...]  # ("thresholds", "rds", "cpuPercent"), or a function's or endpoint's own key
    value: float  # the setting now
    scale: float
    project: str
    entry: Optional[tuple[str, str]] = None  # a list entry the path goes through: (key, its name or path)

    @property
    def label(self) -> str:
        if self.entry is None:
            return ".".join(self.path)
        key, name = self.entry
        at = self.path.index(LISTS[key]) + 1
        return f"{'.'.join(self.path[:at])}[{key}: {name}]." + ".".join(self.path[at:])

    def setting(self, threshold: float) -> float:
        return threshold / self.scale

    def yaml(self, value: float) -> str:
        """The stack file's lines that set the key to `value` (merge into the file's own entries)."""
        leaf: Any = {self.path[-1]: _number(value)}
        if self.entry is not None:
            key, name = self.entry
            # inventory.lambdaGroups.<group>.functions[] or inventory.api.criticalEndpoints[]
            inner = self.path[-2] if self.path[-2] == "thresholds" else None
            item = {key: name, **({inner: leaf} if inner else leaf)}
            outer = self.path[:-2] if inner else self.path[:-1]
            tree: Any = [item]
        else:
            outer, tree = self.path[:-1], leaf
        for part in reversed(outer[1:]):
            tree = {part: tree}
        document = {"config": {f"{self.project}:{outer[0]}": tree}}
        return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _integer_keys(section_class: str) -> set[str]:
    """The keys the stack-file schema types as integers."""
    properties = stack_file_schema()["$defs"][section_class]["properties"]
    return {key for key, spec in properties.items()
            if any(option.get("type") == "integer" for option in spec.get("anyOf", [spec]))}


class _Nudges:
    def __init__(self) -> None:
        self.paths: list[tuple[tuple[str, ...], float, Optional[tuple[str, str]]]] = []
        self.zero: dict[float, int] = {}

    def nudge(self, path: tuple[str, ...], value: float, entry: Optional[tuple[str, str]] = None) -> float:
        k = len(self.paths)
        self.paths.append((path, value, entry))
        if value == 0:
            given = float(len(self.zero) + 1)  # each setting at 0 gets its own value: 1, 2, 3, ...
            self.zero[given] = k
            return given
        return value * (1 - (k + 1) * STEP)

    def which(self, before: float, after: float) -> Optional[int]:
        if before == 0:
            return self.zero.get(after)
        ratio = after / before
        k = round((1 - ratio) / STEP) - 1
        if 0 <= k < len(self.paths) and abs(ratio - (1 - (k + 1) * STEP)) < STEP / 4:
            return k
        return None


def _fields(values: Any, nudges: _Nudges, path: tuple[str, ...], integers: set[str],
            entry: Optional[tuple[str, str]] = None) -> dict[str, float]:
    return {camel(f.name): nudges.nudge((*path, camel(f.name)), float(getattr(values, f.name)), entry)
            for f in dataclasses.fields(values) if camel(f.name) not in integers}


def _nudged_config(files: StackFiles, model: StackModel, nudges: _Nudges) -> dict[str, str]:
    settings = model.settings
    assert settings is not None
    project = model.project
    config = dict(files.config)
    thresholds = {}
    # A threshold whose alarm an SLO replaces may not be set (the config refuses it): not nudged.
    replaced = {camel(key) for _, _, key in replaced_alarms(settings.slos).values()}
    for section, attr in SECTIONS.items():
        values = getattr(settings.thresholds, attr)
        fields = _fields(values, nudges, ("thresholds", section), _integer_keys(f"{type(values).__name__}Section"))
        thresholds[section] = {k: v for k, v in fields.items() if section != "business" or k not in replaced}
    config[f"{project}:thresholds"] = json.dumps(thresholds)
    inventory = json.loads(config[f"{project}:inventory"])
    own = {fn.name: fn.thresholds for fn in settings.inventory.functions}
    lambda_integers = _integer_keys("LambdaThresholdsSection")
    for group, section in (inventory.get("lambdaGroups") or {}).items():
        if section.get("fleet"):
            continue  # a fleet's functions are plain names: the group's thresholds
        entries = []
        for entry in section.get("functions") or []:
            entry = {"name": entry} if isinstance(entry, str) else dict(entry)
            if entry["name"] in own:
                entry["thresholds"] = _fields(own[entry["name"]], nudges,
                                              ("inventory", "lambdaGroups", group, "functions", "thresholds"),
                                              lambda_integers, ("name", entry["name"]))
            entries.append(entry)
        section["functions"] = entries
    api = inventory.get("api")
    if api and settings.inventory.api:
        latency = {e.path: e.latency_p99_ms for e in settings.inventory.api.critical_endpoints}
        entries = []
        for entry in api.get("criticalEndpoints") or []:
            entry = {"path": entry} if isinstance(entry, str) else dict(entry)
            entry["latencyP99Ms"] = nudges.nudge(("inventory", "api", "criticalEndpoints", "latencyP99Ms"),
                                                 latency[entry["path"]], ("path", entry["path"]))
            entries.append(entry)
        api["criticalEndpoints"] = entries
    config[f"{project}:inventory"] = json.dumps(inventory)
    return config


def threshold_keys(files: StackFiles, model: StackModel) -> tuple[dict[str, ThresholdKey], Optional[str]]:
    """Alarm name -> the key that sets its threshold; and why there are none, when the run failed."""
    if model.settings is None:
        return {}, "not this project's program: no stack settings to trace thresholds to"
    nudges = _Nudges()
    config = _nudged_config(files, model, nudges)
    try:
        nudged = build_model(run_program(dataclasses.replace(files, config=config), preview=True))
    except ProgramFailed as failed:
        return {}, f"the program refused the nudged settings ({failed.cause}): no stack keys for the suggestions"
    before = {a.name: a.props.get("threshold") for a in model.alarms}
    found = {}
    for alarm in nudged.alarms:
        old, new = before.get(alarm.name), alarm.props.get("threshold")
        if not isinstance(old, (int, float)) or not isinstance(new, (int, float)) or old == new:
            continue
        k = nudges.which(float(old), float(new))
        if k is None:
            continue
        path, value, entry = nudges.paths[k]
        if value == 0 and old != 0:
            continue
        scale = float(old) / value if value else 1.0
        found[alarm.name] = ThresholdKey(path, value, scale, model.project, entry)
    return found, None
