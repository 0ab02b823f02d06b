"""Drives the policy pack through its real analyzer interface, as the Pulumi CLI does.

The pack is started the way the CLI's Python language host starts it (preflight/pack_launch.py:
the interpreter PulumiPolicy.yaml names, resolved from the pack directory, running
`-u -m pulumi.policy <engine> <pack dir>` in that directory), its port read from stdout, then the
engine's own gRPC calls are made with Pulumi's protobuf types: GetAnalyzerInfo, Configure,
ConfigureStack, Analyze per resource, AnalyzeStack once. Deserialization, unknowns, secrets,
config and enforcement levels are therefore the pack's own, exactly as under
`pulumi preview --policy-pack`.

The stack (project, stack, dry run, config, secret keys) reaches the pack through ConfigureStack,
as the engine sends it (pkg/resource/plugin/analyzer_plugin.go), and, like the engine's
constructEnv, also as PULUMI_CONFIG in its environment. Resources are analyzed while the program
registers them (StreamingAnalysis), as the engine analyzes each step as it happens.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import queue
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from preflight.engine import InvokeHandler, ProgramRun, Registration, run_program
from preflight.pack_launch import LaunchError, pack_launch
from preflight.stack_files import StackFiles

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


class StreamingAnalysis:
    """The pack analyzing resources while the program registers them, as the engine does.

    The pack is started and configured before the program runs; each registration is queued and a
    worker thread makes its Analyze call, so the pack (its own process, on the second core) works
    while the program goes on registering. Analyze calls keep registration order, so the verdicts
    are those of the sequential `analyze`; AnalyzeStack follows once the program has finished.
    """

    def __init__(self, files: StackFiles, preview: bool, pack_dir: Path, config_path: Path | None) -> None:
        file_config = read_policy_config(config_path)
        self.pack = PolicyPackProcess(pack_dir, files.config)
        self.violations: list[Violation] = []
        self.error: PolicyError | None = None
        self.queue: queue.SimpleQueue[Registration | None] = queue.SimpleQueue()
        try:
            stub = self.pack.stub
            info = stub.GetAnalyzerInfo(empty_pb2.Empty())
            stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=effective_config(info, file_config)))
            stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=files.stack, project=files.project, organization="organization", dry_run=preview,
                config=files.config, config_secret_keys=list(files.secret_keys),
            ))
        except grpc.RpcError as error:
            self.pack.close()
            raise PolicyError(f"the policy pack failed: {error.details()}") from None
        except PolicyError:
            self.pack.close()
            raise
        self.worker = threading.Thread(target=self._analyze_each, daemon=True)
        self.worker.start()

    def submit(self, r: Registration) -> None:
        self.queue.put(r)

    def _analyze_each(self) -> None:
        while (r := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                response = self.pack.stub.Analyze(analyzer_pb2.AnalyzeRequest(
                    type=r.type, properties=r.object, urn=r.urn, name=r.name, options=_options(r)))
            except grpc.RpcError as error:
                self.error = PolicyError(f"the policy pack failed: {error.details()}")
                continue
            self.violations += _violations(response, r.urn)

    def finish(self, registrations: list[Registration]) -> list[Violation]:
        """Waits for the queued Analyze calls, then analyzes the whole stack once."""
        try:
            self.queue.put(None)
            self.worker.join()
            if self.error is not None:
                raise self.error
            response = self.pack.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type, properties=r.state, urn=r.urn, name=r.name, options=_options(r), parent=r.parent,
                    dependencies=r.dependencies,
                    propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                                          for k, v in r.property_dependencies.items() if v},
                )
                for r in registrations
            ]))
            return self.violations + _violations(response, "")
        except grpc.RpcError as error:
            raise PolicyError(f"the policy pack failed: {error.details()}") from None
        finally:
            self.pack.close()

    def abort(self) -> None:
        self.queue.put(None)
        self.worker.join()
        self.pack.close()


def analyze(run: ProgramRun, pack_dir: Path, config_path: Path | None) -> list[Violation]:
    """The sequential analysis: every Analyze call after the program has finished."""
    analysis = StreamingAnalysis(run.files, run.preview, pack_dir, config_path)
    for r in run.registrations:
        analysis.submit(r)
    return analysis.finish(run.registrations)


def run_and_analyze(files: StackFiles, preview: bool, pack_dir: Path, config_path: Path | None,
                    invokes: dict[str, InvokeHandler] | None = None) -> tuple[ProgramRun, list[Violation]]:
    """The program and the pack in a pipeline: each resource analyzed as it is registered."""
    analysis = StreamingAnalysis(files, preview, pack_dir, config_path)
    try:
        run = run_program(files, preview=preview, invokes=invokes, on_register=analysis.submit)
    except BaseException:
        analysis.abort()
        raise
    return run, analysis.finish(run.registrations)


def _violations(response: analyzer_pb2.AnalyzeResponse, urn: str) -> list[Violation]:
    return [
        Violation(d.policyName, LEVEL_NAMES.get(d.enforcementLevel, "advisory"), d.urn or urn, d.message)
        for d in response.diagnostics
    ]
