"""Runs this repo's Pulumi program under Pulumi's mock runtime with a stack file plus overrides."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

from google.protobuf import json_format

from preflight.program.engine import InvokeHandler, ProgramRun, Registration, run_program
from preflight.program.props import struct_to_props
from preflight.program.stack_files import StackFiles, load_stack_files

REPO = Path(__file__).resolve().parents[2]
# The small Pulumi programs the tests run besides this repository's own.
PROGRAMS = Path(__file__).resolve().parent / "programs"
PROJECT = "hasivu-monitoring"
# Fake credentials, assembled so that no line holds a whole webhook URL (secret scanners grep for them).
PAGERDUTY = "https://events.pagerduty.com/integration/" + "0123456789abcdef" * 2 + "/enqueue"
SLACK = "https://hooks.slack.com/services/" + "TTEST/BTEST/not-a-real-token"


def stack_files(
    stack: str = "production",
    set_: Optional[dict[str, Any]] = None,
    secrets: Optional[dict[str, str]] = None,
    remove: tuple[str, ...] = (),
    directory: Path = REPO,
) -> StackFiles:
    """The stack's files with keys replaced (`set_`, plaintext), added as secrets, or removed."""
    files = load_stack_files(directory, stack)
    config = dict(files.config)
    secret_keys = set(files.secret_keys)
    default_secrets = {"pagerdutyEndpoint": PAGERDUTY, "slackWebhookUrl": SLACK}
    for key, value in {**default_secrets, **(secrets or {})}.items():
        full = f"{PROJECT}:{key}"
        if full in config or key in (secrets or {}):
            config[full] = value
            secret_keys.add(full)
    for key, value in (set_ or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        config[full] = value if isinstance(value, str) else json.dumps(value)
        secret_keys.discard(full)
    for key in remove:
        full = key if ":" in key else f"{PROJECT}:{key}"
        config.pop(full, None)
        secret_keys.discard(full)
    return dataclasses.replace(files, config=config, secret_keys=tuple(sorted(secret_keys)))


def run(
    stack: str = "production",
    preview: bool = False,
    invokes: Optional[dict[str, InvokeHandler]] = None,
    **changes: Any,
) -> ProgramRun:
    """The program run on a stack's config; runs of the unchanged config are shared (tests only read them)."""
    if not changes and invokes is None:
        return _unchanged(stack, preview)
    return run_program(stack_files(stack, **changes), preview=preview, invokes=invokes)


@functools.cache
def _unchanged(stack: str, preview: bool) -> ProgramRun:
    return run_program(stack_files(stack), preview=preview)


def props(registration: Registration) -> dict[str, Any]:
    return struct_to_props(registration.object)


def raw(registration: Registration) -> dict[str, Any]:
    return json_format.MessageToDict(registration.object)


def of_type(run_: ProgramRun, type_: str) -> list[Registration]:
    return [r for r in run_.registrations if r.type == type_]


def by_name(run_: ProgramRun, name: str) -> Registration:
    matches = [r for r in run_.registrations if r.name == name]
    assert len(matches) == 1, f"{len(matches)} resources named {name}"
    return matches[0]


def program_copy(directory: Path, edits: list[tuple[str, str]], stack: str = "production") -> Path:
    """A copy of the program in `directory` whose stack file has these edits (each must match the committed
    file)."""
    text = (REPO / f"Pulumi.{stack}.yaml").read_text()
    for old, new in edits:
        assert old in text, "the edit no longer matches the committed stack file"
        text = text.replace(old, new, 1)
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        (directory / name).write_text((REPO / name).read_text())
    (directory / f"Pulumi.{stack}.yaml").write_text(text)
    return directory


def inventory_section(stack: str = "production") -> dict[str, Any]:
    return json.loads(load_stack_files(REPO, stack).config[f"{PROJECT}:inventory"])


def preflight_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m preflight ARGS` as a user runs it: a separate process from the repo root."""
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
