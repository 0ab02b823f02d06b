"""The policy pack starts the way `pulumi preview --policy-pack policy` starts it, and the preflight
starts it no other way.

What the CLI does, read in github:pulumi/pulumi: pkg/resource/plugin/analyzer_plugin.go and
plugin.go (a pack directory runs through its runtime's language host with args [engine address]),
sdk/python/cmd/pulumi-language-python/main.go RunPlugin (kind analyzer: `python -u -m
pulumi.policy <engine> <absolute pack dir>`, working directory = the pack directory) and
sdk/python/toolchain/pip.go (`virtualenv: venv` joined to the pack directory; `<venv>/bin/python`
with the venv's bin first on PATH and VIRTUAL_ENV set). The pack prints its port on stdout
(pulumi-policy sdk/python/lib/pulumi_policy/policy.py, PolicyPack.__init__).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from preflight.preview.analyzer import PolicyError, PolicyPackProcess, analyze
from preflight.program.engine import run_program
from preflight.program.stack_files import load_stack_files
from tests.support.stack import PROGRAMS, REPO, preflight_cli

PACK = REPO / "policy"
COMPLIANT = PROGRAMS / "compliant"


def test_setup_leaves_the_pack_interpreter_the_language_host_runs():
    # policy/venv is made by scripts/setup.sh (CI runs it on a fresh clone before the tests), not committed.
    options = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["runtime"]["options"]
    interpreter = PACK / options["virtualenv"] / "bin" / "python"
    tracked = subprocess.run(["git", "ls-files", "policy/venv"], cwd=REPO, capture_output=True, text=True)
    assert tracked.stdout == ""
    # The engine's environment plus VIRTUAL_ENV (the activation's PATH loses to the engine's own).
    env = {"VIRTUAL_ENV": str(interpreter.parent.parent), **os.environ}
    env.pop("PYTHONPATH", None)  # the CLI adds nothing: the pack must import from its own venv
    process = subprocess.Popen([str(interpreter), "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(PACK)],
                               cwd=PACK, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert info.name == "hasivu-monitoring-policies"
        assert "alarm-coverage" in {p.name for p in info.policies}
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_preflight_fails_in_one_line_when_the_pack_interpreter_is_missing(tmp_path):
    pack = tmp_path / "policy"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    result = preflight_cli("--stack", "dev", "--program", str(COMPLIANT), "--policy-pack", str(pack))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"preflight: policy pack policy failed to start: fork/exec {pack}/venv/bin/python: "
                               "no such file or directory")
    assert "bash scripts/setup.sh" in lines[0]
    # pip reads requirements.txt's relative paths (../cloudwatch-rules) from its working directory.
    assert f"create it: cd {pack} && python3 -m venv " in lines[0]
    assert "pip install -r requirements.txt" in lines[0]


@pytest.mark.slow
def test_a_pack_that_cannot_start_is_the_error_even_when_the_program_fails_too(tmp_path):
    # The pack starts beside the program; the engine loads it before running the program, so its
    # failure to start is what `pulumi preview --policy-pack` reports, whatever the program does.
    pack = tmp_path / "policy"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    program = tmp_path / "program"
    shutil.copytree(COMPLIANT, program)
    (program / "__main__.py").write_text((COMPLIANT / "__main__.py").read_text() + "\nraise ValueError('late')\n")
    result = preflight_cli("--stack", "dev", "--program", str(program), "--policy-pack", str(pack))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"preflight: policy pack policy failed to start: fork/exec {pack}/venv/bin/python: ")
    with_pack = preflight_cli("--stack", "dev", "--program", str(program))
    assert with_pack.returncode == 2
    assert with_pack.stderr.strip() == "preflight: the program failed: ValueError: late"


def test_stack_config_reaches_the_pack_in_its_environment_as_the_engine_passes_it():
    # github:pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go constructEnv puts the
    # stack config into the pack's environment as PULUMI_CONFIG (and ConfigureStack sends it again).
    # Linux refuses one environment string over 128 KiB (MAX_ARG_STRLEN), so a config that large
    # stops the real CLI from starting the pack: the preflight must fail the same way, in one line.
    run = run_program(load_stack_files(COMPLIANT, "dev"))
    pack = PolicyPackProcess(PACK, {"compliant:marker": "seen"})
    try:
        environ = Path(f"/proc/{pack.process.pid}/environ").read_bytes().split(b"\0")
        assert b'PULUMI_CONFIG={"compliant:marker": "seen"}' in environ
    finally:
        pack.close()
    files = dataclasses.replace(run.files, config={**run.files.config, "compliant:padding": "x" * 200_000})
    with pytest.raises(PolicyError, match=r"^policy pack policy failed to start: fork/exec .*/venv/bin/python: "
                                          r"argument list too long$"):
        analyze(dataclasses.replace(run, files=files), PACK, None)


def test_a_pack_the_preflight_cannot_start_as_the_cli_would_is_refused_in_one_line(tmp_path):
    pack = tmp_path / "policy"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (pack / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    toolchain: poetry\n")
    with pytest.raises(PolicyError, match=r"runtime\.options\.toolchain: got 'poetry'; the preflight starts pip"):
        PolicyPackProcess(pack)
