"""The one documented list of what the coverage report accepts (drills/coverage-allowlist.yaml):
per stack, alarm-name globs with the criteria they are excused from and why, and tiers whose second
incident may go unheard, with why. Strict: a bad file is one line naming the file, the key and the
expected form; an entry that excuses nothing any more is a finding, so the list only shrinks."""

from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path
from typing import Any

import yaml

from preflight.drill.coverage.targets import CRITERIA, TIER_CRITERIA, TIERS
from preflight.drill.drill_file import DrillError


@dataclasses.dataclass(frozen=True)
class AlarmExcuse:
    globs: tuple[str, ...]
    criteria: tuple[str, ...]
    reason: str
    key: str  # where it is in the file, like production.alarms[3]

    @property
    def glob(self) -> str:
        return ", ".join(self.globs)

    def matches(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, glob) for glob in self.globs)


@dataclasses.dataclass(frozen=True)
class TierExcuse:
    tier: str
    criteria: tuple[str, ...]
    reason: str
    key: str


@dataclasses.dataclass(frozen=True)
class Allowlist:
    path: Path
    alarms: tuple[AlarmExcuse, ...] = ()
    tiers: tuple[TierExcuse, ...] = ()


def _fail(path: Path, key: str, expected: str, value: Any = None) -> DrillError:
    shown = "" if value is None else f" (got {value!r})"
    return DrillError(f"{path}: {key}: expected {expected}{shown}")


def _mapping(path: Path, key: str, data: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(path, key, "a mapping with " + ", ".join(allowed), data)
    for name in data:
        if name not in allowed:
            raise _fail(path, f"{key}.{name}", "one of the keys " + ", ".join(allowed))
    for name in allowed:
        if name not in data:
            raise _fail(path, f"{key}.{name}", "a value (the key is required)")
    return data


def _text(path: Path, key: str, value: Any, expected: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, expected, value)
    return value.strip()


def _globs(path: Path, key: str, value: Any) -> tuple[str, ...]:
    globs = [value] if isinstance(value, str) else value
    if not isinstance(globs, list) or not globs or not all(isinstance(g, str) and g.strip() for g in globs):
        raise _fail(path, key, "an alarm-name glob or a list of them", value)
    return tuple(g.strip() for g in globs)


def _criteria(path: Path, key: str, value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(c, str) and c in known for c in value):
        raise _fail(path, key, "a non-empty list of " + ", ".join(known), value)
    return tuple(value)


def load_allowlist(path: Path, stack: str) -> Allowlist:
    """The stack's section of the file; a missing file or section excuses nothing."""
    if not path.is_file():
        return Allowlist(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise DrillError(f"{path}: {where}: expected valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise _fail(path, "(file)", "a mapping of stack name -> {alarms, tiers}", data)
    section = data.get(stack)
    if section is None:
        return Allowlist(path)
    if not isinstance(section, dict) or set(section) - {"alarms", "tiers"}:
        raise _fail(path, stack, "a mapping with alarms and/or tiers", section)
    alarms = []
    for i, item in enumerate(section.get("alarms") or []):
        key = f"{stack}.alarms[{i}]"
        _mapping(path, key, item, ("alarm", "criteria", "reason"))
        alarms.append(AlarmExcuse(_globs(path, f"{key}.alarm", item["alarm"]),
                                  _criteria(path, f"{key}.criteria", item["criteria"], CRITERIA),
                                  _text(path, f"{key}.reason", item["reason"], "why, in a sentence"), key))
    tiers = []
    for i, item in enumerate(section.get("tiers") or []):
        key = f"{stack}.tiers[{i}]"
        _mapping(path, key, item, ("tier", "criteria", "reason"))
        if item["tier"] not in TIERS:
            raise _fail(path, f"{key}.tier", "one of " + ", ".join(TIERS), item["tier"])
        tiers.append(TierExcuse(item["tier"], _criteria(path, f"{key}.criteria", item["criteria"], TIER_CRITERIA),
                                _text(path, f"{key}.reason", item["reason"], "why, in a sentence"), key))
    return Allowlist(path, tuple(alarms), tuple(tiers))
