"""How the Pulumi CLI starts a Python policy pack, so the preflight starts it the same way.

Read from github:pulumi/pulumi: `pkg/resource/plugin/analyzer_plugin.go` (NewPolicyAnalyzer: a
directory with PulumiPolicy.yaml is run through its runtime's language host, args = [engine
address]), `pkg/resource/plugin/plugin.go` (ExecPlugin: ProgramInfo(root = program = the absolute
pack directory)), `sdk/python/cmd/pulumi-language-python/main.go` (RunPlugin for kind analyzer:
`<python> -u -m pulumi.policy <engine address> <pack directory>` with the working directory set to
the pack directory; parseOptions: no `venv` default for analyzers, so without `virtualenv` the
ambient interpreter runs it) and `sdk/python/toolchain/pip.go` / `toolchain.go` (the virtualenv
option is joined to the pack directory unless absolute; the command is `<venv>/bin/python` with
the venv activated: its bin first on PATH, PYTHONHOME dropped, VIRTUAL_ENV set; without a
virtualenv, PULUMI_PYTHON_CMD or the first of python3, python on PATH).

The environment: RunPlugin appends the engine's whole environment (RunPluginRequest.Env, built
from os.Environ() in plugin.go ExecPlugin) after the activated one, and Go's os/exec keeps the last
value of a duplicated key, so the engine's PATH and PYTHONHOME win and the activation adds only
VIRTUAL_ENV where the environment has none. The engine's constructEnv (analyzer_plugin.go) and the
language host's PolicyProxy also put the stack config into that environment as PULUMI_CONFIG, and
the engine hands it over again in ConfigureStack: preflight/preview/analyzer.py does both.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


class LaunchError(Exception):
    """The pack cannot be started the way the CLI would start it (one line)."""


@dataclasses.dataclass(frozen=True)
class PackLaunch:
    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str]
    virtualenv: Path | None


def _runtime(pack_dir: Path) -> tuple[str, dict[str, Any]]:
    project = pack_dir / "PulumiPolicy.yaml"
    if not project.is_file():
        raise LaunchError(f"{pack_dir}: no PulumiPolicy.yaml (expected a policy pack directory)")
    try:
        document = yaml.safe_load(project.read_text())
    except yaml.YAMLError as error:
        raise LaunchError(f"{project}: not valid YAML ({str(error).splitlines()[0]})") from None
    runtime = document.get("runtime") if isinstance(document, dict) else None
    if isinstance(runtime, str):
        return runtime, {}
    if isinstance(runtime, dict) and isinstance(runtime.get("name"), str):
        options = runtime.get("options") or {}
        if not isinstance(options, dict):
            raise LaunchError(f"{project} runtime.options: got {options!r}; expected a mapping")
        return runtime["name"], options
    raise LaunchError(f"{project} runtime: got {runtime!r}; expected python or a mapping with name: python")


def _activated(environ: Mapping[str, str], virtualenv: Path) -> dict[str, str]:
    """toolchain.ActivateVirtualEnv: the venv's bin first on PATH, no PYTHONHOME, VIRTUAL_ENV set."""
    env = {k: v for k, v in environ.items() if k.upper() not in ("PYTHONHOME", "VIRTUAL_ENV")}
    bin_dir = str(virtualenv / "bin")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}" if env.get("PATH") else bin_dir
    env["VIRTUAL_ENV"] = str(virtualenv)
    return env


def _run_plugin_env(environ: Mapping[str, str], virtualenv: Path) -> dict[str, str]:
    """The activated environment with the engine's environment appended: the engine's values win."""
    return {**_activated(environ, virtualenv), **environ}


def pack_launch(pack_dir: Path, engine_address: str, environ: Mapping[str, str]) -> PackLaunch:
    """The command, working directory and environment the Python language host uses for this pack."""
    pack_dir = pack_dir.resolve()
    name, options = _runtime(pack_dir)
    if name != "python":
        raise LaunchError(f"{pack_dir / 'PulumiPolicy.yaml'} runtime: got {name!r}; the preflight runs python packs")
    toolchain = options.get("toolchain", "pip")
    if toolchain != "pip":
        raise LaunchError(f"{pack_dir / 'PulumiPolicy.yaml'} runtime.options.toolchain: got {toolchain!r}; "
                          "the preflight starts pip (virtualenv) packs")
    args = ("-u", "-m", "pulumi.policy", engine_address, str(pack_dir))
    virtualenv = options.get("virtualenv")
    if virtualenv is None:
        command = environ.get("PULUMI_PYTHON_CMD")
        found = next((p for p in ([command] if command else ["python3", "python"])
                      if shutil.which(p, path=environ.get("PATH"))), None)
        if found is None:
            raise LaunchError("failed to locate any of python3, python on your PATH")
        return PackLaunch((shutil.which(found, path=environ.get("PATH")) or found, *args), pack_dir,
                          dict(environ), None)
    if not isinstance(virtualenv, str):
        raise LaunchError(f"{pack_dir / 'PulumiPolicy.yaml'} runtime.options.virtualenv: got {virtualenv!r}; "
                          "expected a string")
    venv = pack_dir / virtualenv
    venv = Path(os.path.normpath(venv))
    return PackLaunch((str(venv / "bin" / "python"), *args), pack_dir, _run_plugin_env(environ, venv), venv)
