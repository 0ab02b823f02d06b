"""Drives the policy pack through its real analyzer interface, as the Pulumi CLI does.

The pack is started the way the CLI's Python language host starts it (preflight/preview/pack_launch.py:
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

import concurrent.futures
import contextlib
import dataclasses
import errno
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from preflight.preview.analyze_feeder import FAILED, read_frame, write_frame
from preflight.preview.pack_launch import LaunchError, pack_launch
from preflight.program.engine import InvokeHandler, ProgramRun, Registration, run_program
from preflight.program.stack_files import StackFiles

LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
          "remediate": analyzer_pb2.REMEDIATE, "disabled": analyzer_pb2.DISABLED}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
START_TIMEOUT = 30.0
REPO = Path(__file__).resolve().parents[2]


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


def check_pack(pack_dir: Path, config_path: Path | None) -> None:
    """What would stop the pack from starting, said before any slower work (an account's calls): its
    PulumiPolicy.yaml and runtime, and its config file."""
    try:
        pack_launch(pack_dir, PolicyPackProcess.ENGINE_ADDRESS, os.environ)
    except LaunchError as error:
        raise PolicyError(str(error)) from None
    read_policy_config(config_path)


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
                # From the pack's folder, as the language host runs pip: requirements.txt's relative
                # paths (../cloudwatch-rules) are read from pip's working directory.
                hint = (f" (PulumiPolicy.yaml names virtualenv {launch.virtualenv}; create it: cd {launch.cwd} && "
                        f"python3 -m venv {launch.virtualenv} && {launch.virtualenv}/bin/pip install -r "
                        "requirements.txt, or run bash scripts/setup.sh)")
            raise PolicyError(f"policy pack {launch.cwd.name} failed to start: fork/exec {launch.argv[0]}: "
                              f"{(error.strerror or str(error)).lower()}{hint}") from None
        port = self._read_port()
        self.address = f"127.0.0.1:{port}"
        self.channel = grpc.insecure_channel(self.address)
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


def _configured_pack(files: StackFiles, preview: bool, pack_dir: Path,
                     file_config: dict[str, Any]) -> PolicyPackProcess:
    """The pack started and configured as the engine does before it analyzes anything."""
    pack = PolicyPackProcess(pack_dir, files.config)
    try:
        info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty())
        pack.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=effective_config(info, file_config)))
        pack.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=files.stack, project=files.project, organization="organization", dry_run=preview,
            config=files.config, config_secret_keys=list(files.secret_keys),
        ))
    except grpc.RpcError as error:
        pack.close()
        raise PolicyError(f"the policy pack failed: {error.details()}") from None
    except PolicyError:
        pack.close()
        raise
    return pack


def analyze_request(r: Registration) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(type=r.type, properties=r.object, urn=r.urn, name=r.name, options=_options(r))


def stack_request(registrations: list[Registration]) -> analyzer_pb2.AnalyzeStackRequest:
    """What the engine sends AnalyzeStack: every resource's state, parent and dependencies."""
    return analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(
            type=r.type, properties=r.state, urn=r.urn, name=r.name, options=_options(r), parent=r.parent,
            dependencies=r.dependencies,
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                                  for k, v in r.property_dependencies.items() if v},
        )
        for r in registrations
    ])


def _analyze_stack(pack: PolicyPackProcess, registrations: list[Registration]) -> list[Violation]:
    return _violations(pack.stub.AnalyzeStack(stack_request(registrations)), "")


def analyze(run: ProgramRun, pack_dir: Path, config_path: Path | None) -> list[Violation]:
    """The sequential analysis: one Analyze call after another once the program has finished."""
    pack = _configured_pack(run.files, run.preview, pack_dir, read_policy_config(config_path))
    try:
        violations = [v for r in run.registrations for v in _violations(pack.stub.Analyze(analyze_request(r)), r.urn)]
        return violations + _analyze_stack(pack, run.registrations)
    except grpc.RpcError as error:
        raise PolicyError(f"the policy pack failed: {error.details()}") from None
    finally:
        pack.close()


class StreamingAnalysis:
    """The pack analyzing resources while the program registers them, as the engine does.

    The pack is started as the program starts, on a thread of its own: its interpreter starts on
    the second core while the program runs, and no Analyze call is made before the pack has been
    configured, as the engine configures it before analyzing anything. Each registration is
    handed, as it arrives, to a feeder process (preflight/preview/analyze_feeder.py) that makes the Analyze
    calls one at a time, in order, as the engine's step generator does; those that arrive before
    the feeder is up wait here, in order. The program only writes bytes to a pipe, so it goes on
    registering while the feeder and the pack work on the second core. The verdicts are those of
    the sequential `analyze`; AnalyzeStack follows once the program has finished.
    """

    def __init__(self, files: StackFiles, preview: bool, pack_dir: Path, config_path: Path | None) -> None:
        file_config = read_policy_config(config_path)
        self.urns: list[str] = []
        # Frames registered before the feeder is up; None once they have been handed to it.
        self.waiting: list[bytes] | None = []
        self.pack: PolicyPackProcess | None = None
        self.feeder: subprocess.Popen | None = None
        # Raised in the caller's thread (`started`) when the pack or the feeder could not start.
        self.failure: PolicyError | OSError | None = None
        # The SDK registers from several threads: a URN and its frame go out together.
        self.lock = threading.Lock()
        # Resolved here: the program changes the working directory while the pack starts.
        self.starting = threading.Thread(target=self._start, args=(files, preview, pack_dir.resolve(), file_config),
                                         daemon=True)
        self.starting.start()

    def _start(self, files: StackFiles, preview: bool, pack_dir: Path, file_config: dict[str, Any]) -> None:
        try:
            self.pack = _configured_pack(files, preview, pack_dir, file_config)
            feeder = subprocess.Popen(
                [sys.executable, "-m", "preflight.preview.analyze_feeder", self.pack.address],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        except (PolicyError, OSError) as error:
            self.failure = error
            return
        with self.lock:
            self.feeder = feeder
        # The waiting frames go out in order, the lock free meanwhile: a pipe write waits for the feeder
        # to start reading, and the program goes on registering (into `waiting`) all the while.
        while True:
            with self.lock:
                batch = self.waiting or []
                self.waiting = [] if batch else None
            if not batch:
                return
            try:
                for frame in batch:
                    write_frame(feeder.stdin, frame)
            except OSError:
                # A feeder that stopped at once fails the next frame, or `finish`, as without the wait.
                with self.lock:
                    self.waiting = None
                return

    def submit(self, r: Registration) -> None:
        frame = analyze_request(r).SerializeToString()
        with self.lock:
            self.urns.append(r.urn)
            if self.waiting is not None:
                self.waiting.append(frame)
            elif self.feeder is not None and self.feeder.stdin is not None:
                write_frame(self.feeder.stdin, frame)

    def started(self) -> None:
        """Waits for the pack and the feeder; a pack that could not start is the run's error."""
        self.starting.join()
        if self.failure is not None:
            raise self.failure

    def finish(self, registrations: list[Registration]) -> list[Violation]:
        """The per-resource verdicts in registration order, then the whole stack's."""
        try:
            self.started()
            assert self.feeder is not None and self.pack is not None
            stdin, stdout = self.feeder.stdin, self.feeder.stdout
            assert stdin is not None and stdout is not None
            write_frame(stdin, b"")
            stdin.close()
            violations: list[Violation] = []
            for urn in self.urns:
                length, answer = read_frame(stdout)
                if length == FAILED:
                    raise PolicyError(f"the policy pack failed: {answer.decode().strip()}")
                violations += _violations(analyzer_pb2.AnalyzeResponse.FromString(answer), urn)
            return violations + _analyze_stack(self.pack, registrations)
        except grpc.RpcError as error:
            raise PolicyError(f"the policy pack failed: {error.details()}") from None
        except (EOFError, OSError):
            raise PolicyError("the policy pack failed: the process feeding it resources stopped") from None
        finally:
            self.close()

    def close(self) -> None:
        self.starting.join()
        if self.feeder is not None:
            self.feeder.kill()
            self.feeder.wait(timeout=10)
            for stream in (self.feeder.stdin, self.feeder.stdout):
                if stream:
                    # On the failed-program path frames may still be buffered for the feeder just killed.
                    with contextlib.suppress(BrokenPipeError):
                        stream.close()
        if self.pack is not None:
            self.pack.close()


def run_and_analyze(files: StackFiles, preview: bool, pack_dir: Path, config_path: Path | None,
                    invokes: dict[str, InvokeHandler] | None = None) -> tuple[ProgramRun, list[Violation]]:
    """The program and the pack in a pipeline: each resource analyzed as it is registered."""
    run, verdicts = run_with_analysis(files, preview, pack_dir, config_path, invokes)
    return run, verdicts.result()


def run_with_analysis(files: StackFiles, preview: bool, pack_dir: Path, config_path: Path | None,
                      invokes: dict[str, InvokeHandler] | None = None,
                      ) -> tuple[ProgramRun, concurrent.futures.Future[list[Violation]]]:
    """`run_and_analyze`, returning once the program has run: the pack's last answers (the per-resource
    ones still under way, then AnalyzeStack) are awaited on a thread of their own, so the caller can
    build its report from the run meanwhile; the future raises the pack's failure (PolicyError)."""
    analysis = StreamingAnalysis(files, preview, pack_dir, config_path)
    try:
        run = run_program(files, preview=preview, invokes=invokes, on_register=analysis.submit)
    except BaseException:
        try:
            # A pack that cannot start is reported before what the program did, as when it started first.
            analysis.started()
        finally:
            analysis.close()
        raise
    verdicts: concurrent.futures.Future[list[Violation]] = concurrent.futures.Future()

    def finish() -> None:
        try:
            verdicts.set_result(analysis.finish(run.registrations))
        except BaseException as error:  # noqa: BLE001 - raised where the caller asks for the verdicts
            verdicts.set_exception(error)

    threading.Thread(target=finish, name="policy verdicts", daemon=True).start()
    return run, verdicts


def _violations(response: analyzer_pb2.AnalyzeResponse, urn: str) -> list[Violation]:
    return [
        Violation(d.policyName, LEVEL_NAMES.get(d.enforcementLevel, "advisory"), d.urn or urn, d.message)
        for d in response.diagnostics
    ]
