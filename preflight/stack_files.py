"""Reads a program's `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the CLI hands them to a program."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml

from stackconfig.secrets import OPAQUE_SECRET


class ProgramError(Exception):
    """The program directory or its files cannot be used (usage error, exit 2)."""


@dataclasses.dataclass(frozen=True)
class StackFiles:
    directory: Path
    project: str
    stack: str
    main: Path
    config: dict[str, str]
    secret_keys: tuple[str, ...]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ProgramError(f"{path}: not valid YAML{where}") from None


def _config_string(value: Any) -> str:
    """Pulumi passes scalars as their YAML text and objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def load_stack_files(directory: Path, stack: str) -> StackFiles:
    directory = directory.resolve()
    project_file = directory / "Pulumi.yaml"
    if not project_file.is_file():
        raise ProgramError(f"{directory}: no Pulumi.yaml (expected a Pulumi program directory)")
    project = _read_yaml(project_file)
    name = project.get("name") if isinstance(project, dict) else None
    runtime = project.get("runtime") if isinstance(project, dict) else None
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if not name:
        raise ProgramError(f"{project_file}: no project name")
    if runtime_name != "python":
        raise ProgramError(f"{project_file}: runtime {runtime_name!r}; the preflight runs Python programs")
    main = directory / str(project.get("main") or ".") / "__main__.py"
    if not main.is_file():
        raise ProgramError(f"{directory}: no __main__.py")
    stack_file = directory / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise ProgramError(f"{directory}: no stack file Pulumi.{stack}.yaml for stack {stack!r}")
    raw = _read_yaml(stack_file).get("config") or {}
    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted with the stack's secrets provider, which the offline preflight cannot reach.
            config[full] = OPAQUE_SECRET
            secrets.append(full)
        else:
            config[full] = _config_string(value)
    return StackFiles(directory, name, stack, main, config, tuple(secrets))
