"""Reads a program's `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the CLI hands them to a program."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import yaml

from preflight.program.environment_limits import config_too_large
from preflight.program.project_config import ProjectConfigError, apply_project_config
from preflight.program.secure_values import SecureValueError, StackSecrets
from stackconfig.errors import PROJECT
from stackconfig.secrets import OPAQUE_SECRET, required_secrets
from stackconfig.types import did_you_mean


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
    # Secrets the program requires that the stack file does not set: the offline run stands in an
    # opaque value for them, but a real `pulumi preview` fails until they are set.
    unset_secrets: tuple[str, ...] = ()
    stack_file: Path = Path()  # the Pulumi.<stack>.yaml read (a drill's own stack file, or the stack's)


class UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice in one mapping (`_unique_keys`): the stack files, and
    the drill files."""


class _CliLoader(UniqueKeyLoader):
    """YAML as the Pulumi CLI reads it (go-yaml): a timestamp-like scalar (`2026-10-02`) decoded into an
    untyped value stays its text ("It looks like a timestamp but for backward compatibility reasons we
    set it as a string", go-yaml decode.go), so the program receives the date as written."""


def _unique_keys(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """A key written twice in one mapping is refused, in go-yaml v3's words ("mapping key %#v already
    defined at line %d", decode.go, which refuses it by default). The CLI reads stack files through
    sdk/go/common/encoding (marshal.go); where that is go-yaml v2, the later value silently wins. Either
    way the earlier value is a mistake the strict config would never see, so the preflight refuses it."""
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"mapping key {key!r} already defined at line {seen[key].line + 1}", key_node.start_mark)
        seen[key] = key_node.start_mark
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


UniqueKeyLoader.construct_mapping = _unique_keys  # type: ignore[method-assign]
_CliLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_CliLoader) or {}  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError as error:
        raise ProgramError(f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start}); "
                           "expected a YAML stack or project file") from None
    except yaml.YAMLError as error:
        raise ProgramError(f"{path}: not valid YAML {_yaml_problem(error)}") from None


# The keys of a stack file the CLI reads (sdk/go/common/workspace/project.go, `ProjectStack`).
STACK_FILE_KEYS = ["secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment"]


def _stack_document(path: Path) -> dict[str, Any]:
    """The stack file's top level: a mapping of the keys the CLI reads, `config` a mapping of keys."""
    doc = _read_yaml(path)
    if not isinstance(doc, dict):
        raise ProgramError(f"{path}: expected a mapping with {', '.join(STACK_FILE_KEYS)} at the top "
                           f"(got {type(doc).__name__} {doc!r:.60})")
    for key in doc:
        if key not in STACK_FILE_KEYS:
            raise ProgramError(f"{path}: unknown top-level key {key!r}: expected one of "
                               f"{', '.join(STACK_FILE_KEYS)}{did_you_mean(str(key), STACK_FILE_KEYS)}")
    if not isinstance(doc.get("config") or {}, dict):
        raise ProgramError(f"{path}: config: expected a mapping of config keys to values "
                           f"(got {type(doc['config']).__name__})")
    return doc


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _yaml_problem(error: yaml.YAMLError) -> str:
    """The parser's own reason, where it found it, and what it was parsing (from where), in one line."""
    problem, mark = getattr(error, "problem", None), getattr(error, "problem_mark", None)
    if not problem or mark is None:
        return ": " + " ".join(str(error).split())
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    text = f"at {_at(mark)}: {problem}"
    if context:
        text += f" ({context}" + (f" that starts at {_at(context_mark)})" if context_mark else ")")
    return text


def _stack_names(directory: Path) -> list[str]:
    """The stacks with a stack file in the program directory, as `pulumi stack select` names them."""
    return sorted(path.name[len("Pulumi."):-len(".yaml")] for path in directory.glob("Pulumi.*.yaml"))


def _config_string(value: Any) -> str:
    """Pulumi passes scalars as their YAML text and objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def load_stack_files(directory: Path, stack: str, environ: Optional[Mapping[str, str]] = None,
                     stack_file: Optional[Path] = None) -> StackFiles:
    """The config a program receives from the CLI: stack values (secure ones decrypted when the
    passphrase is at hand), project defaults applied, declared types checked. `stack_file` is read
    instead of the program directory's Pulumi.<stack>.yaml, as `pulumi preview --config-file` does."""
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
    if stack_file is not None and not stack_file.is_file():
        raise ProgramError(f"{stack_file}: no such stack file")
    stack_file = stack_file or directory / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        names = _stack_names(directory)
        here = f"stacks here: {', '.join(names)}" if names else "no Pulumi.<stack>.yaml here"
        raise ProgramError(f"no stack {stack!r}: {stack_file.name} not found in {directory}; {here}")
    doc = _stack_document(stack_file)
    raw = doc.get("config") or {}
    try:
        secrets = StackSecrets(doc, os.environ if environ is None else environ)
    except SecureValueError as error:
        raise ProgramError(f"{stack_file}: {error}") from None
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            try:
                plain = secrets.plaintext(full, value["secure"])
            except SecureValueError as error:
                raise ProgramError(f"{stack_file}: {error}") from None
            # Undecryptable offline (no passphrase, or a service or cloud KMS backend): an opaque secret.
            config[full] = OPAQUE_SECRET if plain is None else plain
            secret_keys.append(full)
        else:
            config[full] = _config_string(value)
            values[full] = value
    try:
        apply_project_config(project, stack, config, values)
    except ProjectConfigError as error:
        # The stack file lacks or mistypes a value that Pulumi.yaml declares.
        raise ProgramError(f"{stack_file}: {error} (declared in {project_file.name})") from None
    unset: list[str] = []
    if name == PROJECT:
        for secret in required_secrets(values.get(f"{name}:alerting")):
            full = f"{name}:{secret}"
            if full not in config:
                config[full] = OPAQUE_SECRET
                secret_keys.append(full)
                unset.append(full)
    too_large = config_too_large(config)
    if too_large:
        raise ProgramError(f"{stack_file}: {too_large}")
    return StackFiles(directory, name, stack, main, config, tuple(secret_keys), tuple(unset), stack_file)
