"""Runs a Pulumi program under Pulumi's own mock runtime and records what the engine would see.

In preview fidelity the monitor answers every registration with the resource's inputs only, as
`pulumi preview` does: ids, ARNs and other computed outputs stay unknown for every dependent.
The recorded `RegisterResourceRequest`s (object with unknowns and secrets, dependencies,
property dependencies, parent) are exactly what the engine hands a policy analyzer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import runpy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks, settings
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from preflight.program.settings import program_settings
from preflight.program.stack_files import StackFiles
from stackconfig.model import StackSettings

PLACEHOLDER_ACCOUNT = "123456789012"


@dataclasses.dataclass
class Registration:
    """One resource as registered: the engine's view of it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    object: struct_pb2.Struct
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    additional_secret_outputs: list[str]
    # The resource's state after the step: the inputs in preview, inputs plus outputs in an update.
    state: struct_pb2.Struct = dataclasses.field(default_factory=struct_pb2.Struct)


# An invoke answered offline: token -> function(args) -> result.
InvokeHandler = Callable[[dict[str, Any]], dict[str, Any]]

OFFLINE_INVOKES: dict[str, InvokeHandler] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
        "accountId": PLACEHOLDER_ACCOUNT,
        "arn": f"arn:aws:iam::{PLACEHOLDER_ACCOUNT}:user/preflight",
        "id": PLACEHOLDER_ACCOUNT,
        "userId": "PREFLIGHT",
    },
    "aws:index/getRegion:getRegion": lambda args: {"name": args.get("name") or "ap-south-1", "id": "ap-south-1"},
    "aws:index/getPartition:getPartition": lambda _: {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"},
    # Discovery cannot ask AWS offline: no extra functions are found.
    "aws:lambda/getFunctions:getFunctions": lambda _: {"functionNames": [], "functionArns": [], "id": "none"},
}


def functions_invoke(names: list[str], region: str) -> dict[str, InvokeHandler]:
    """`aws:lambda/getFunctions` answered offline: these functions exist in the account."""
    arns = [f"arn:aws:lambda:{region}:{PLACEHOLDER_ACCOUNT}:function:{name}" for name in names]
    return {"aws:lambda/getFunctions:getFunctions": lambda _: {
        "functionNames": list(names), "functionArns": arns, "id": "functions"}}


# ARN shapes of the types whose ARNs programs commonly pass on: "{name}" is the resource name.
ARN_FORMATS = {
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:aws:events:{region}:{account}:rule/{name}",
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:kms/key:Key": "arn:aws:kms:{region}:{account}:key/{name}",
    "aws:lambda/function:Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
    "aws:ssm/parameter:Parameter": "arn:aws:ssm:{region}:{account}:parameter/{name}",
}


class ComputedOutputs(mocks.Mocks):
    """Update fidelity: fills what AWS computes at create time (id, arn, name) with stable fakes."""

    def __init__(self, invokes: Optional[dict[str, InvokeHandler]] = None) -> None:
        self.invokes = {**OFFLINE_INVOKES, **(invokes or {})}

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[Optional[str], dict]:
        module = args.typ.split(":")[1].split("/")[0]
        name = args.inputs.get("name") or f"{args.name}-0000000"
        arn = ARN_FORMATS.get(args.typ, "arn:aws:" + module + ":{region}:{account}:{name}")
        outputs = {
            **args.inputs,
            "name": name,
            "arn": arn.format(region="ap-south-1", account=PLACEHOLDER_ACCOUNT, name=str(name).lstrip("/")),
        }
        if args.typ == "aws:kms/key:Key":
            outputs["keyId"] = f"{args.name}-key-id"
        if args.typ == "aws:rds/instance:Instance":
            outputs.setdefault("identifier", f"{args.name}-0000000")
        return f"{args.name}-id", outputs

    def call(self, args: mocks.MockCallArgs) -> dict:
        handler = self.invokes.get(args.token)
        if handler is None:
            raise pulumi.RunError(f"the preflight cannot answer the invoke {args.token} offline")
        return handler(args.args)


class RecordingMonitor(mocks.MockMonitor):
    """Records every registration; in preview, answers with the inputs only."""

    def __init__(self, mocks_: mocks.Mocks, preview: bool,
                 on_register: Optional[Callable[[Registration], None]] = None) -> None:
        super().__init__(mocks_)
        self.preview = preview
        self.registrations: list[Registration] = []
        self.on_register = on_register

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: the parent's whole type chain, and none for children of the stack."""
        qualified = parent.split("::")[2] if parent else ""
        if qualified and qualified != "pulumi:pulumi:Stack":
            type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=request.custom,
            parent=request.parent,
            object=request.object,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            additional_secret_outputs=list(request.additionalSecretOutputs),
            state=request.object,
        )
        self.registrations.append(registration)
        if self.on_register is not None:
            # The engine hands each resource to the analyzer as its registration arrives.
            self.on_register(registration)
        if not self.preview or not request.custom:
            response = super().RegisterResource(request)
            if request.custom:
                registration.state = response.object
            return response
        # What a provider's preview returns: the inputs; the id and computed outputs unknown.
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, "", {})
        return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=request.object)


class ProgramFailed(Exception):
    """The program raised; `registrations` is what it had registered by then."""

    def __init__(self, cause: BaseException, registrations: list[Registration]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.registrations = registrations

    def lines(self) -> list[str]:
        """What to tell the user, a line each: a RunError's own message (a config error names every problem
        of the stack file, one a line, as `config KEY: ...`), otherwise that the program failed, with the
        exception's type and message."""
        cause = self.cause
        if isinstance(cause, pulumi.RunError):
            return str(cause).splitlines()
        return f"the program failed: {type(cause).__name__}: {cause}".splitlines()

    def refuse(self) -> int:
        """Prints `lines()` to stderr as every subcommand does, and returns the exit status of a config or
        program error (2)."""
        for line in self.lines():
            print(f"preflight: {line}", file=sys.stderr)
        return 2


@dataclasses.dataclass
class ProgramRun:
    files: StackFiles
    preview: bool
    registrations: list[Registration]
    outputs: dict[str, Any]
    # The typed stack config the program loaded, for this project's programs (None for others).
    settings: Optional[StackSettings] = None


class _Unknown:
    def __repr__(self) -> str:
        return "<computed>"


UNKNOWN_OUTPUT = _Unknown()


async def _resolve(value: Any) -> Any:
    output = pulumi.Output.from_input(value)
    if not await output.is_known():
        return UNKNOWN_OUTPUT
    if await output.is_secret():
        return "[secret]"
    return await output.future()


def _drop_program_modules(directory: Path, before: set[str]) -> None:
    """Forget modules the program imported, so another program with the same names can run next."""
    for name in set(sys.modules) - before:
        origin = getattr(sys.modules[name], "__file__", None) or ""
        # The program's virtualenv may sit inside its directory: installed packages stay loaded.
        if origin.startswith(str(directory)) and "site-packages" not in origin:
            del sys.modules[name]


def _shadowed_modules(directory: Path) -> dict[str, ModuleType]:
    """Takes out of `sys.modules` the loaded modules that the program's own files shadow: a package or
    module of its directory loaded from elsewhere (another checkout of the same project, as the base
    of a diff). In its own process the program would import its own; the running tool stays itself."""
    names = {p.name for p in directory.iterdir() if (p / "__init__.py").is_file()}
    names |= {p.stem for p in directory.glob("*.py")}
    names -= {"__main__", __name__.split(".")[0]}
    inside = str(directory) + os.sep
    shadowed = [name for name, module in list(sys.modules.items())
                if name.split(".")[0] in names and not (getattr(module, "__file__", None) or "").startswith(inside)]
    return {name: sys.modules.pop(name) for name in shadowed}


def _run_main(files: StackFiles, loaded: list[StackSettings]) -> None:
    program_globals = runpy.run_path(str(files.main), run_name="__main__")
    # The settings of the program's own run (same config, same invoke answers; the outputs they hold
    # settle with the program's), so the tools read the inventory the program used, through stackconfig.
    settings_ = program_settings(files.project, program_globals)
    if settings_ is not None:
        loaded.append(settings_)


@contextlib.contextmanager
def _without_source_positions() -> Iterator[None]:
    """The SDK walks the Python stack at every registration to tell the engine where the program declared
    the resource (`RegisterResourceRequest.sourcePosition`, `stackTrace`: the CLI shows them in its own
    messages). Nothing a policy pack or these tools read depends on them, and reading the source files'
    lines for every frame is about a tenth of a program run, so the run records none."""
    capture = getattr(sdk_resource, "_get_stack_trace", None)
    if capture is None:
        yield
        return
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = capture


def run_program(
    files: StackFiles, preview: bool = True, invokes: Optional[dict[str, InvokeHandler]] = None,
    on_register: Optional[Callable[[Registration], None]] = None,
) -> ProgramRun:
    """Runs `files.main` as `pulumi preview` (or `up`, with preview=False) would, offline;
    `on_register` sees each registration as it arrives (the streaming policy analysis)."""
    with _without_source_positions():
        return _run(files, preview, invokes, on_register)


def _run(files: StackFiles, preview: bool, invokes: Optional[dict[str, InvokeHandler]],
         on_register: Optional[Callable[[Registration], None]]) -> ProgramRun:
    asyncio.set_event_loop(asyncio.new_event_loop())
    monitor = RecordingMonitor(ComputedOutputs(invokes), preview, on_register)
    settings.reset_options()
    mocks.set_mocks(monitor.mocks, project=files.project, stack=files.stack, preview=preview, monitor=monitor)
    set_all_config(files.config, list(files.secret_keys))
    loaded: list[StackSettings] = []
    shadowed = _shadowed_modules(files.directory)
    before = set(sys.modules)
    cwd = os.getcwd()
    sys.path.insert(0, str(files.directory))
    os.chdir(files.directory)
    try:
        try:
            _sync_await(run_pulumi_func(lambda: _run_main(files, loaded)))
        except Exception as error:
            raise ProgramFailed(error, monitor.registrations) from error
        root = settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})
        outputs = {name: _sync_await(_resolve(value)) for name, value in exported.items()}
    finally:
        os.chdir(cwd)
        sys.path.remove(str(files.directory))
        _drop_program_modules(files.directory, before)
        sys.modules.update(shadowed)
        asyncio.get_event_loop().close()
        asyncio.set_event_loop(None)
    return ProgramRun(files, preview, monitor.registrations, outputs, loaded[0] if loaded else None)
