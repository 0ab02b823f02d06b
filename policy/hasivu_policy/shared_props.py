"""Each resource's props read once per analyzer request, whatever the number of policies.

pulumi-policy (1.21, pulumi_policy/policy.py) turns a resource's props into a policy's view inside
its loop over the policies: in `Analyze` once per resource policy, in `AnalyzeStack` once per stack
policy for every resource of the stack, each time as
`unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(props)))`. With the
pack's 8 stack and 4 resource policies that is 12 conversions of every resource, most of the time
the pack spends on a large stack.

`share_props` makes each of the three steps give, within one `Analyze` or `AnalyzeStack` call, the
same result for the same input object: the first policy pays the conversion and the others reuse
it. Every policy still runs as pulumi-policy runs it (its own name, enforcement level, config,
`UnknownValueError` when it reads an unknown, not-applicable), so the verdicts are unchanged. The
pack's rules only read the shared view, and the plain copy the stack rules share (`once_per_call`). The cache
lives for one call on the gRPC worker thread that serves it (the engine may analyze several
resources at once) and is dropped at its end. With another pulumi-policy, whose module lacks these
names, nothing is changed: the rules run as before, only slower.

Each call also starts by reading the stack config from PULUMI_CONFIG, where the engine puts it
(`_configure_runtime_settings`: `pulumi.runtime.get_config_env()`, a `json.loads` of the whole
variable, 38 KB with 1,000 functions listed). It is parsed once per value of the variable.
"""

from __future__ import annotations

import functools
import os
import threading
import types
from collections.abc import Callable
from typing import Any

import pulumi_policy.policy as pulumi_policy_module

# The module-level names pulumi-policy's analyzer calls, and its analyzer class's entry points.
CONVERSIONS = ("deserialize_properties", "unknown_checking_proxy")
ENTRY_POINTS = ("Analyze", "AnalyzeStack")

_calls = threading.local()


def _shared(convert: Callable[..., Any], step: int) -> Callable[..., Any]:
    """`convert`, answering a repeated call with the same argument object from the call's cache.
    Calls with options (Remediate's `proxy_secrets`) or outside an analyzer call are not shared."""

    @functools.wraps(convert)
    def shared(value: Any, *args: Any, **kwargs: Any) -> Any:
        cache: list[dict[int, tuple[Any, Any]]] | None = getattr(_calls, "cache", None)
        if cache is None or args or kwargs:
            return convert(value, *args, **kwargs)
        # By identity: the argument is kept with its result, so its id cannot be reused meanwhile.
        found = cache[step].get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        result = convert(value)
        cache[step][id(value)] = (value, result)
        return result

    shared.__wrapped_by_share_props__ = True  # type: ignore[attr-defined]
    return shared


def once_per_call(value: Any, derive: Callable[[Any], Any]) -> Any:
    """`derive(value)`, computed once per analyzer call for the same `value` object (the shared view
    of a resource's props): the stack rules' plain copy of each resource (hasivu_policy.stack) is
    then made once, not once per stack policy. The result is shared: its users only read it."""
    cache: list[dict[int, tuple[Any, Any]]] | None = getattr(_calls, "cache", None)
    if cache is None:
        return derive(value)
    found = cache[-1].get(id(value))
    if found is None or found[0] is not value:
        found = cache[-1][id(value)] = (value, derive(value))
    return found[1]


def _scoped(entry: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(entry)
    def scoped(self: Any, request: Any, context: Any) -> Any:
        # One table per conversion step, and the last for `once_per_call`.
        _calls.cache = [{} for _ in range(len(CONVERSIONS) + 2)]
        try:
            return entry(self, request, context)
        finally:
            _calls.cache = None

    return scoped


def _parsed_once(read: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """`read` (pulumi.runtime.get_config_env) answered from the last parse of the same PULUMI_CONFIG;
    each caller gets its own dict (the values are strings)."""
    parsed: dict[str, dict[str, Any]] = {}

    @functools.wraps(read)
    def config_env() -> dict[str, Any]:
        raw = os.environ.get("PULUMI_CONFIG")
        if raw is None:
            return read()
        if raw not in parsed:
            parsed.clear()
            parsed[raw] = read()
        return dict(parsed[raw])

    config_env.__wrapped_by_share_props__ = True  # type: ignore[attr-defined]
    return config_env


def share_props(module: types.ModuleType = pulumi_policy_module) -> bool:
    """Installs the sharing into pulumi-policy's analyzer; False (and nothing changed) when the module
    is not shaped as expected. Installing twice changes nothing more."""
    servicer = getattr(module, "_PolicyAnalyzerServicer", None)
    json_format = getattr(module, "json_format", None)
    if (servicer is None or json_format is None or not hasattr(json_format, "MessageToDict")
            or not all(callable(getattr(module, name, None)) for name in CONVERSIONS)
            or not all(callable(getattr(servicer, name, None)) for name in ENTRY_POINTS)):
        return False
    if getattr(module.deserialize_properties, "__wrapped_by_share_props__", False):
        return True
    # pulumi-policy calls `json_format.MessageToDict` through the module name: a stand-in namespace
    # shares it for the analyzer without touching protobuf's module for everyone else.
    module.json_format = types.SimpleNamespace(**{
        name: getattr(json_format, name) for name in dir(json_format) if not name.startswith("__")})
    module.json_format.MessageToDict = _shared(json_format.MessageToDict, 0)
    for step, name in enumerate(CONVERSIONS, start=1):
        setattr(module, name, _shared(getattr(module, name), step))
    for name in ENTRY_POINTS:
        setattr(servicer, name, _scoped(getattr(servicer, name)))
    runtime = getattr(getattr(module, "pulumi", None), "runtime", None)
    if callable(getattr(runtime, "get_config_env", None)):
        runtime.get_config_env = _parsed_once(runtime.get_config_env)
    return True
