"""The drill suite on one side of a diff: each drill's world (the program run it plays against), its
verdict, and a fingerprint of everything the verdict depends on.

A drill is deterministic: the platform emulator is seeded, and the CloudWatch model, the emulator and
the runtime library it runs are the working tree's on both sides. So two sides whose fingerprints
are equal (the same drill file, the same platform built from the program run, the same tool
sources) give the same verdict, and the drill is not run again: only drills whose inputs differ run,
on both sides.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Optional

import pulumi

import cloudwatch_rules
from preflight.drill.cli import World, drill_platform, play_each, world_of
from preflight.drill.drill_file import Drill
from preflight.drill.runner import DrillResult
from preflight.emulator.platform import Platform, platform_from_model
from preflight.model.stack import StackModel
from preflight.program.engine import ProgramFailed
from preflight.program.stack_files import ProgramError

TOOL = Path(__file__).resolve().parents[2]
# What a verdict is computed by: the preflight (model, emulator, CloudWatch model, drill runner), the
# runtime library the emulator runs, and CloudWatch's rules.
TOOL_SOURCES = (TOOL / "preflight", TOOL / "observability", Path(cloudwatch_rules.__file__).resolve().parent)
# What stops a drill on one side: its program fails, or the drill does not fit that side's stack (DrillError,
# ModelError, UnsupportedPattern and a program that is not this project's are ValueErrors).
WORLD_ERRORS = (ProgramError, ProgramFailed, ValueError)


@functools.cache
def tools_digest() -> str:
    digest = hashlib.sha256()
    for root in TOOL_SOURCES:
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(map(str, value))
    return str(value)


def platform_json(platform: Platform) -> str:
    """The platform as canonical JSON: alarms and composites by name, and every other list of resources
    in one order (the SDK registers resources from several threads, so two runs of one program list
    them in different orders)."""
    plain = dataclasses.asdict(platform)
    for key in ("alarms", "composites"):
        plain[key] = sorted(plain[key], key=lambda a: a["name"])
    for key in ("log_filters", "pagers", "mute_rules"):
        plain[key] = sorted(plain[key], key=lambda item: json.dumps(item, sort_keys=True, default=_plain))
    return json.dumps(plain, sort_keys=True, default=_plain)


def _error_text(error: BaseException) -> str:
    if isinstance(error, ProgramFailed):
        cause = error.cause
        return f"the program failed: {cause if isinstance(cause, pulumi.RunError) else repr(cause)}"
    return str(error)


@dataclasses.dataclass
class Verdict:
    verdict: str  # passed | failed | error (the drill cannot run on this side)
    failures: list[str]
    fingerprint: Optional[str]

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class DrillSide:
    """One side's drill worlds, each built once: the side's own program run for drills on its stack,
    another run for drills that bring their own stack file or account."""

    def __init__(self, program: Path, stack: str, model: StackModel) -> None:
        self.program, self.stack, self.model = program, stack, model
        self._worlds: dict[World, tuple[Optional[Platform], str]] = {}
        self._verdicts: dict[Path, Verdict] = {}

    def _world(self, drill: Drill) -> tuple[Optional[Platform], str]:
        """(the platform or None, its JSON or the error that stops the drill on this side)."""
        key = world_of(drill)
        if key not in self._worlds:
            try:
                if key == (None, ()):
                    platform = platform_from_model(self.model)
                else:
                    platform = drill_platform(drill, self.stack, self.program)[1]
                self._worlds[key] = (platform, platform_json(platform))
            except WORLD_ERRORS as error:
                self._worlds[key] = (None, _error_text(error))
        return self._worlds[key]

    def fingerprint(self, drill: Drill) -> Optional[str]:
        platform, text = self._world(drill)
        if platform is None:
            return None
        digest = hashlib.sha256(tools_digest().encode() + drill.path.read_bytes() + text.encode())
        return digest.hexdigest()

    def play(self, drills: list[Drill]) -> None:
        """Plays these drills on this side, several at once (`play_each`), for `verdict` to read."""
        playable = [d for d in drills if d.path not in self._verdicts and self._world(d)[0] is not None]
        platforms = {world_of(d): platform for d in playable if (platform := self._world(d)[0]) is not None}
        for drill, outcome in zip(playable, play_each(playable, platforms), strict=True):
            self._verdicts[drill.path] = self._verdict_of(drill, outcome)

    def verdict(self, drill: Drill) -> Verdict:
        platform, text = self._world(drill)
        if platform is None:
            return Verdict("error", [text], None)
        if drill.path not in self._verdicts:
            self.play([drill])
        return self._verdicts[drill.path]

    def _verdict_of(self, drill: Drill, outcome: DrillResult | Exception) -> Verdict:
        if isinstance(outcome, Exception):
            return Verdict("error", [str(outcome)], self.fingerprint(drill))
        return Verdict("passed" if outcome.passed else "failed", list(outcome.failures), self.fingerprint(drill))


def changed(name: str, before: Verdict | dict[str, Any] | None, after: Verdict | None) -> Optional[dict[str, Any]]:
    """The entry of a drill whose verdict changed (None when it did not): the failures of the side that
    does not pass, the change's where both fail or error."""
    before_json = before.as_json() if isinstance(before, Verdict) else before
    was = before_json["verdict"] if before_json else "absent"
    now = after.verdict if after else "absent"
    if was == now:
        return None
    failing = after.failures if after and now != "passed" else (before_json or {}).get("failures", [])
    return {"name": name, "before": was, "after": now, "failures": failing}
