"""Each resource's props converted once per analyzer call (hasivu_policy.shared_props), with the
verdicts pulumi-policy gives when every policy converts them itself.

The pack's policies run here in pulumi-policy's own analyzer class, `_PolicyAnalyzerServicer`
(pulumi/pulumi-policy sdk/python/lib/pulumi_policy/policy.py, 1.21), the one `PolicyPack` serves
over gRPC: its `Analyze` and `AnalyzeStack` convert a resource's props inside the loop over the
policies, `unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(...)))`.
"""

from __future__ import annotations

import contextvars
import types
from typing import Any

import pulumi.runtime
import pulumi_policy.policy as pulumi_policy_module
import pytest
from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy

import hasivu_policy.stack
from hasivu_policy.pack import PACK_NAME, POLICIES
from hasivu_policy.shared_props import CONVERSIONS, ENTRY_POINTS, share_props
from hasivu_policy.values import plain
from preflight.preview.analyzer import analyze_request, stack_request
from preflight.program.engine import run_program
from preflight.program.stack_files import load_stack_files
from tests.support.stack import PROGRAMS

SERVICER = pulumi_policy_module._PolicyAnalyzerServicer


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """pulumi-policy's module as it was after the test; the messages its analyzer converts, in order."""
    for name in ("json_format", *CONVERSIONS):
        monkeypatch.setattr(pulumi_policy_module, name, getattr(pulumi_policy_module, name))
    for name in ENTRY_POINTS:
        monkeypatch.setattr(SERVICER, name, getattr(SERVICER, name))
    monkeypatch.setattr(pulumi.runtime, "get_config_env", pulumi.runtime.get_config_env)
    converted: list[Any] = []
    message_to_dict = pulumi_policy_module.json_format.MessageToDict

    def counting(message: Any, **options: Any) -> Any:
        converted.append(message)
        return message_to_dict(message, **options)

    monkeypatch.setattr(pulumi_policy_module, "json_format", types.SimpleNamespace(MessageToDict=counting))
    return converted


def _servicer(policies: list) -> Any:
    return SERVICER(PACK_NAME, "0.0.1", policies, EnforcementLevel.MANDATORY, None, None, None, None, None, None, None)


def _requests(program: str, preview: bool) -> tuple[list, Any]:
    run = run_program(load_stack_files(PROGRAMS / program, "dev"), preview=preview)
    return [analyze_request(r) for r in run.registrations], stack_request(run.registrations)


def _verdicts(policies: list, requests: list, stack: Any) -> tuple[list[bytes], bytes]:
    servicer = _servicer(policies)
    return ([servicer.Analyze(r, None).SerializeToString(deterministic=True) for r in requests],
            servicer.AnalyzeStack(stack, None).SerializeToString(deterministic=True))


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_pack_gives_the_same_verdicts_converting_each_resource_once(counted, monkeypatch, preview):
    requests, stack = _requests("noncompliant", preview)
    stack_policies = sum(isinstance(p, StackValidationPolicy) for p in POLICIES)
    resource_policies = len(POLICIES) - stack_policies
    separately = _verdicts(POLICIES, requests, stack)
    assert len(counted) == len(requests) * resource_policies + len(stack.resources) * stack_policies
    counted.clear()

    assert share_props() is True
    copied: list[Any] = []
    monkeypatch.setattr(hasivu_policy.stack, "plain", lambda props: copied.append(props) or plain(props))
    assert _verdicts(POLICIES, requests, stack) == separately
    # One conversion per Analyze call and one per resource of the stack; the stack rules' plain copy
    # of a resource made once, whichever of them reads it first.
    assert len(counted) == len(requests) + len(stack.resources)
    assert copied and len(copied) == len({id(props) for props in copied}) <= len(stack.resources)
    # The noncompliant program breaks resource and stack rules: the comparison compares verdicts.
    assert any(separately[0]) and separately[1]


def _reads_every_prop(args: StackValidationArgs, report: Any) -> None:
    for resource in args.resources:
        for key in resource.props:
            resource.props[key]


def _names_each_resource(args: StackValidationArgs, report: Any) -> None:
    resources: list[PolicyResource] = args.resources
    report(f"{len(resources)} resources", None)


def test_a_policy_that_reads_an_unknown_cannot_run_in_preview_and_the_next_policy_still_runs(counted):
    """pulumi-policy's own case (tests/integration/unknown_values): reading an unknown in preview makes
    that policy an advisory "can't run policy ... during preview"; sharing the view must neither hide
    that nor let it stop the policies after it."""
    _, stack = _requests("noncompliant", True)
    policies = [
        StackValidationPolicy(name="reads-every-prop", description="reads every prop", validate=_reads_every_prop),
        StackValidationPolicy(name="counts", description="counts the resources", validate=_names_each_resource),
    ]
    separately = _servicer(policies).AnalyzeStack(stack, None)
    share_props()
    shared = _servicer(policies).AnalyzeStack(stack, None)
    assert shared == separately
    unknown, counts = shared.diagnostics
    assert unknown.policyName == "reads-every-prop" and "can't run policy 'reads-every-prop'" in unknown.message
    assert "during preview" in unknown.message
    assert counts.policyName == "counts" and counts.message.endswith(f"\n{len(stack.resources)} resources")


def test_the_stack_config_is_parsed_once_per_value_of_pulumi_config(counted, monkeypatch):
    """pulumi-policy reads the stack config from PULUMI_CONFIG at every call (`_configure_runtime_settings`);
    the engine sets it once for the pack's process. Each Analyze still configures the runtime with it."""
    requests, _ = _requests("compliant", True)
    parsed = []
    get_config_env = pulumi.runtime.get_config_env
    monkeypatch.setattr(pulumi.runtime, "get_config_env", lambda: parsed.append(1) or get_config_env())
    share_props()
    servicer = _servicer(POLICIES)

    def analyze() -> None:
        # The config pulumi-policy sets goes into a map of this context's own, not the other tests'.
        pulumi.runtime.set_all_config({})
        monkeypatch.setenv("PULUMI_CONFIG", '{"hasivu-monitoring:tier": "first"}')
        for request in requests:
            servicer.Analyze(request, None)
        assert len(parsed) == 1 and pulumi.runtime.get_config("hasivu-monitoring:tier") == "first"
        monkeypatch.setenv("PULUMI_CONFIG", '{"hasivu-monitoring:tier": "second"}')
        servicer.Analyze(requests[0], None)
        assert len(parsed) == 2 and pulumi.runtime.get_config("hasivu-monitoring:tier") == "second"

    contextvars.copy_context().run(analyze)
    assert "hasivu-monitoring:tier" not in pulumi.runtime.config.CONFIG.get()


def test_another_pulumi_policy_is_left_as_it_is():
    """A module without the analyzer's names (another pulumi-policy) is not changed."""
    module = types.ModuleType("pulumi_policy.policy")
    module.deserialize_properties = len
    assert share_props(module) is False
    assert module.deserialize_properties is len and not hasattr(module, "json_format")
