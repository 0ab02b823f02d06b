"""Drives the policy pack through its real analyzer interface, as the Pulumi CLI does.

The pack is started the way the CLI's Python language host starts it (preflight/pack_launch.py:
the interpreter PulumiPolicy.yaml names, resolved from the pack directory, running
`-u -m pulumi.policy <engine> <pack dir>` in that directory), its port read from stdout, then the
engine's own gRPC calls are made with Pulumi's protobuf types: GetAnalyzerInfo, Configure,
ConfigureStack, Analyze per resource, AnalyzeStack once. Deserialization, unknowns, secrets,
config and enforcement levels are therefore the pack's own, exactly as under
`pulumi preview --policy-pack`.

The stack (project, stack, dry run, config, secret keys) reaches the pack only through
ConfigureStack, as the engine sends it (pkg/resource/plugin/analyzer_plugin.go), never through the
child's environment or arguments. (The Python language host's PolicyProxy, sdk/policy_proxy.go in
pulumi/pulumi, also copies it into PULUMI_CONFIG for packs that read `pulumi.Config`; this pack's
rules read only their policy config, so nothing of that is needed here.)
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from preflight.engine import ProgramRun, Registration
from preflight.pack_launch import LaunchError, pack_launch

LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
          "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
START_TIMEOUT = 30.0


class PolicyError(Exception):
    """The pack or its config cannot be used (exit status 2)."""


@dataclasses.dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str

    def as_json(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def read_policy_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        config = json.loads(path.read_text())
    except OSError as error:
        raise PolicyError(f"policy config {path}: {error.strerror}") from None
    except ValueError as error:
        raise PolicyError(f"policy config {path}: not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise PolicyError(f"policy config {path}: expected a JSON object of policy name -> level or settings")
    return config


def effective_config(
    info: analyzer_pb2.AnalyzerInfo, file_config: dict[str, Any]
) -> dict[str, analyzer_pb2.PolicyConfig]:
    """Each policy's level and settings: its default, then the file's `all`, then the file's own entry;
    settings get their schema defaults and are checked against the schema, as the CLI does."""
    known = {p.name: p for p in info.policies}
    for name in file_config:
        if name != "all" and name not in known:
            raise PolicyError(f"policy config: unknown policy {name!r}; the pack has {', '.join(sorted(known))}")
    result = {}
    for name, policy in known.items():
        level = policy.enforcementLevel
        settings: dict[str, Any] = {}
        schema = json_format.MessageToDict(policy.configSchema)
        for prop, prop_schema in (schema.get("properties") or {}).items():
            if "default" in prop_schema:
                settings[prop] = prop_schema["default"]
        for entry in (file_config.get("all"), file_config.get(name)):
            if isinstance(entry, str):
                entry = {"enforcementLevel": entry}
            if entry is None:
                continue
            if not isinstance(entry, dict):
                raise PolicyError(f"policy config {name}: got {entry!r}; expected a level or an object")
            entry = dict(entry)
            if "enforcementLevel" in entry:
                if entry["enforcementLevel"] not in LEVELS:
                    raise PolicyError(f"policy config {name}.enforcementLevel: got {entry['enforcementLevel']!r}; "
                                      f"expected one of {', '.join(LEVELS)}")
                level = LEVELS[entry.pop("enforcementLevel")]
            settings.update(entry)
        if settings and schema:
            try:
                jsonschema.validate(settings, {"type": "object", **schema})
            except jsonschema.ValidationError as error:
                where = ".".join(str(p) for p in error.absolute_path)
                raise PolicyError(f"policy config {name}.{where}: {error.message}") from None
        result[name] = analyzer_pb2.PolicyConfig(enforcementLevel=level, properties=_struct(settings))
    return result


def _options(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(parent=r.parent, additionalSecretOutputs=r.additional_secret_outputs)


class PolicyPackProcess:
    """The pack as a child process serving the Analyzer gRPC service on 127.0.0.1."""

    # The preflight has no engine to offer; pulumi.policy only dials it when PULUMI_PROJECT,
    # PULUMI_STACK and PULUMI_DRY_RUN are set, which they are not.
    ENGINE_ADDRESS = "127.0.0.1:0"

    def __init__(self, pack_dir: Path, config: Mapping[str, str] | None = None) -> None:
        # The engine also puts the stack config into the pack's environment (analyzer_plugin.go
        # constructEnv: PULUMI_CONFIG, "similar to how config is passed to each language runtime
        # plugin"), so a config over Linux's 128 KiB limit for one environment string stops
        # `pulumi preview --policy-pack` from starting the pack; the preflight does the same.
        environ = dict(os.environ)
        if config:
            environ["PULUMI_CONFIG"] = json.dumps(dict(config))
        try:
            launch = pack_launch(pack_dir, self.ENGINE_ADDRESS, environ)
        except LaunchError as error:
            raise PolicyError(str(error)) from None
        try:
            self.process = subprocess.Popen(
                launch.argv, cwd=launch.cwd, env=launch.env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
        except OSError as error:
            # What `pulumi preview --policy-pack` reports as "fork/exec <python>: no such file or directory".
            hint = ""
            if launch.virtualenv is not None and error.errno == errno.ENOENT:
                hint = (f" (PulumiPolicy.yaml names virtualenv {launch.virtualenv}; create it: python3 -m venv "
                        f"{launch.virtualenv} && {launch.virtualenv}/bin/pip install -r "
                        f"{launch.cwd}/requirements.txt, or run bash scripts/setup.sh)")
            raise PolicyError(f"policy pack {launch.cwd.name} failed to start: fork/exec {launch.argv[0]}: "
                              f"{(error.strerror or str(error)).lower()}{hint}") from None
        port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _read_port(self) -> int:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        text = line[0].strip() if line else ""
        if not text.isdigit():
            self.process.kill()
            stderr = self.process.communicate(timeout=5)[1]
            last = stderr.strip().splitlines()[-1] if stderr.strip() else f"no port on stdout (got {text!r})"
            raise PolicyError(f"the policy pack did not start: {last}")
        return int(text)

    def close(self) -> None:
        self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def analyze(run: ProgramRun, pack_dir: Path, config_path: Path | None) -> list[Violation]:
    file_config = read_policy_config(config_path)
    pack = PolicyPackProcess(pack_dir, run.files.config)
    try:
        stub = pack.stub
        info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=effective_config(info, file_config)))
        stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=run.files.stack, project=run.files.project, organization="organization", dry_run=run.preview,
            config=run.files.config, config_secret_keys=list(run.files.secret_keys),
        ))
        violations: list[Violation] = []
        for r in run.registrations:
            response = stub.Analyze(analyzer_pb2.AnalyzeRequest(
                type=r.type, properties=r.object, urn=r.urn, name=r.name, options=_options(r)))
            violations += _violations(response, r.urn)
        response = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type, properties=r.state, urn=r.urn, name=r.name, options=_options(r), parent=r.parent,
                dependencies=r.dependencies,
                propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                                      for k, v in r.property_dependencies.items() if v},
            )
            for r in run.registrations
        ]))
        violations += _violations(response, "")
    except grpc.RpcError as error:
        raise PolicyError(f"the policy pack failed: {error.details()}") from None
    finally:
        pack.close()
    return violations


def _violations(response: analyzer_pb2.AnalyzeResponse, urn: str) -> list[Violation]:
    return [
        Violation(d.policyName, LEVEL_NAMES.get(d.enforcementLevel, "advisory"), d.urn or urn, d.message)
        for d in response.diagnostics
    ]
