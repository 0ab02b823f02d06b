"""The program run leaves Pulumi's SDK as it found it: the run records no source positions (nothing the
pack or the tools read uses them), and a program run afterwards under the SDK's own mocks, as a
project's unit tests do, gets its stack traces back, even after a program that failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.runtime import resource as sdk_resource

from preflight.program.engine import ProgramFailed, run_program
from preflight.program.stack_files import load_stack_files
from tests.support.stack import PROGRAMS


def _failing_program(directory: Path) -> Path:
    (directory / "Pulumi.yaml").write_text("name: failing\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text("config: {}\n")
    (directory / "__main__.py").write_text(
        "from pulumi_aws import sns\n"
        "sns.Topic('before-the-failure')\n"
        "raise ValueError('the program stops here')\n")
    return directory


def test_a_run_records_the_registrations_without_walking_the_stack(monkeypatch):
    walks = []

    def walk():
        walks.append(1)
        return original()

    original = sdk_resource._get_stack_trace
    monkeypatch.setattr(sdk_resource, "_get_stack_trace", walk)
    run = run_program(load_stack_files(PROGRAMS / "compliant", "dev"))
    assert len(run.registrations) > 5
    assert walks == []
    assert sdk_resource._get_stack_trace is walk


def test_the_sdk_gets_its_stack_traces_back_after_a_failed_program(tmp_path):
    captured = sdk_resource._get_stack_trace
    with pytest.raises(ProgramFailed) as failed:
        run_program(load_stack_files(_failing_program(tmp_path), "dev"))
    assert "the program stops here" in str(failed.value)
    assert [r.name for r in failed.value.registrations] == ["before-the-failure"]
    assert sdk_resource._get_stack_trace is captured
