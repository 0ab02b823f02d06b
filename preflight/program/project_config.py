"""The `config:` block of `Pulumi.yaml` applied to a stack's config as the CLI does before a run.

pkg/workspace/config.go (mergeConfig, validateStackConfigValue) and
sdk/go/common/workspace/project.go (ValidateConfigValue): a declared key of the project's
namespace that the stack does not set takes its `default` (or `value`), and without one the stack
is "missing configuration value"; an explicitly typed key's stack value must be of that type
(scalars arrive as text, so "100" is an integer); a `secret: true` key must be encrypted.
"""

from __future__ import annotations

import difflib
import json
import math
from typing import Any


class ProjectConfigError(Exception):
    """What the CLI would refuse before starting the program."""


def _missing(stack: str, keys: list[str], undeclared: list[str], elsewhere: list[str], project: str) -> str:
    """The CLI's words; then, for a missing key that a key the stack sets but the project does not
    declare resembles (a misspelling: `undeclared`, of the project's namespace, without it), or that a
    full key of another namespace resembles (a misspelt namespace: `elsewhere`), that key and the guess."""
    keys = sorted(keys)
    quoted = [f"'{k}'" for k in keys]
    listed = quoted[0] if len(keys) == 1 else ", ".join([*quoted[:-2], f"{quoted[-2]} and {quoted[-1]}"])
    text = f"Stack '{stack}' is missing configuration {'value' if len(keys) == 1 else 'values'} {listed}"
    guesses = []
    for key in keys:
        near = difflib.get_close_matches(key, undeclared, n=1, cutoff=0.6)
        if near:
            guesses.append(f"it sets '{near[0]}', which the project does not declare: did you mean '{key}'?")
            continue
        near = difflib.get_close_matches(f"{project}:{key}", elsewhere, n=1, cutoff=0.8)
        if near:
            guesses.append(f"it sets '{near[0]}', outside the project's namespace: did you mean '{project}:{key}'?")
    return text + ("; " + "; ".join(guesses) if guesses else "")


def config_value_is(type_name: str, items: Any, value: Any) -> bool:
    """ValidateConfigValue: the CLI's check of one value against a declared type."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value == math.trunc(value)):
            return True
        if isinstance(value, str):
            try:
                int(value, 10)
                return True
            except ValueError:
                return False
        return False
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(config_value_is(items.get("type", ""), items.get("items"), item) for item in value)


def _type_name(type_name: str, items: Any) -> str:
    return f"array<{_type_name(items.get('type', ''), items.get('items'))}>" if isinstance(items, dict) else type_name


def apply_project_config(project: dict[str, Any], stack: str, config: dict[str, str], values: dict[str, Any]) -> None:
    """Adds declared defaults to `config` (full key -> CLI text); raises what the CLI would refuse.

    `values` holds the stack file's plaintext values as YAML gave them (secure ones are absent).
    """
    declared = project.get("config") or {}
    if not isinstance(declared, dict):
        return
    name = str(project["name"])
    missing: list[str] = []
    for key in sorted(declared):
        spec = declared[key] if isinstance(declared[key], dict) else {"default": declared[key]}
        full = key if ":" in key else f"{name}:{key}"
        if full in config:
            continue
        fallback = spec.get("value", spec.get("default"))
        if fallback is None:
            if full.split(":", 1)[0] == name:
                missing.append(key)
            continue
        config[full] = json.dumps(fallback) if isinstance(fallback, (dict, list)) else (
            str(fallback).lower() if isinstance(fallback, bool) else str(fallback))
        values[full] = fallback
    if missing:
        known = {key if ":" in key else f"{name}:{key}" for key in declared}
        undeclared = [full.split(":", 1)[1] for full in config if full.startswith(f"{name}:") and full not in known]
        elsewhere = [full for full in config if not full.startswith(f"{name}:") and full not in known]
        raise ProjectConfigError(_missing(stack, missing, undeclared, elsewhere, name))
    for key in sorted(declared):
        spec = declared[key]
        full = key if ":" in key else f"{name}:{key}"
        if not isinstance(spec, dict) or "type" not in spec or full not in config:
            continue
        if spec.get("secret") and full in values:
            raise ProjectConfigError(f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret")
        value = values.get(full, config[full])
        content = value if isinstance(value, (dict, list)) else config[full]
        if not config_value_is(spec["type"], spec.get("items"), content):
            raise ProjectConfigError(f"Stack '{stack}' with configuration key '{key}' must be of type "
                                     f"'{_type_name(spec['type'], spec.get('items'))}'")
