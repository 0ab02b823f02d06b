"""The layer the stack publishes carries bytecode the Lambda python3.12 runtime uses as it is
(cold start): hash-based pycs (PEP 552) that a 3.12 interpreter imports from a read-only
/opt without compiling, or reading, a single source; and a machine without Python 3.12 gets one
line saying what to install, never a sources-only layer with another hash.

The import system's side is CPython v3.12.1 Lib/importlib/_bootstrap_external.py: `cache_from_source`
names `__pycache__/<module>.<cache_tag>.pyc`, `_classify_pyc` checks the magic number and flags,
and `SourceLoader.get_code` reads the source of a hash-based pyc only when its check_source flag
(0b10) is set; a pyc it rejects makes it compile the source instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from components.runtime_bytecode import BytecodeError, runtime_interpreter
from tests.components.test_health_monitor_deploy import _lambda_runtime
from tests.support.stack import by_name, preflight_cli, raw, run

# Run by the runtime's interpreter over the unpacked layer: each pyc's header and code object.
INSPECT = """
import importlib.util, json, marshal, pathlib, sys
layer = pathlib.Path(sys.argv[1])
found = {}
for source in sorted(layer.rglob("*.py")):
    pyc = pathlib.Path(importlib.util.cache_from_source(str(source)))
    data = pyc.read_bytes()
    found[str(source.relative_to(layer))] = {
        "magic": data[:4] == importlib.util.MAGIC_NUMBER,
        "flags": int.from_bytes(data[4:8], "little"),
        "hash": data[8:16] == importlib.util.source_hash(source.read_bytes()),
        "filename": marshal.loads(data[16:]).co_filename,
    }
print(json.dumps(found))
"""
IMPORT = """
import json, sys
import observability.metrics, observability.tracing
from observability.tracing import business_tracer
business_tracer()
layer = sys.argv[1]
print(json.dumps({name: module.__cached__ for name, module in sys.modules.items()
                  if (getattr(module, "__file__", None) or "").startswith(layer)}))
"""
LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "production-payments-verify", "AWS_REGION": "ap-south-1",
              "_X_AMZN_TRACE_ID": "Root=1-6b0c09c4-fa0344bc1467b0c9590e03a8;Sampled=1",
              "HASIVU_ENVIRONMENT": "production",
              "HASIVU_PSEUDONYM_KEY_PARAMETER": "/production/hasivu-monitoring/pseudonym-key"}


def _unpacked_layer(into: Path) -> Path:
    """The layer the program publishes, unpacked as Lambda does (`python/` goes on sys.path)."""
    with zipfile.ZipFile(raw(by_name(run(), "runtime-library-layer"))["code"]["path"]) as archive:
        archive.extractall(into)
    return into / "python"


def _unpacked_health_monitor(into: Path) -> Path:
    """The health monitor's function archive, unpacked as Lambda does into its task directory."""
    with zipfile.ZipFile(raw(by_name(run(), "health-monitor-lambda-function"))["code"]["path"]) as archive:
        archive.extractall(into)
    return into


@pytest.mark.parametrize(("unpack", "root", "module"), [
    (lambda tmp: _unpacked_layer(tmp / "opt"), "/opt/python", "aws_lambda_powertools/metrics/__init__.py"),
    (lambda tmp: _unpacked_health_monitor(tmp / "task"), "/var/task", "observability/health_handler.py"),
], ids=["layer", "health-monitor"])
def test_every_module_has_an_unchecked_hash_pyc_for_its_path_where_lambda_unpacks_it(tmp_path, unpack, root, module):
    unpacked = unpack(tmp_path)
    inspected = subprocess.run([runtime_interpreter().executable, "-S", "-c", INSPECT, str(unpacked)], check=True,
                               capture_output=True, text=True, timeout=120, env={}, cwd=tmp_path).stdout
    pycs = json.loads(inspected)
    assert "observability/metrics.py" in pycs and module in pycs
    for name, pyc in pycs.items():
        # flags 0b01: hash-based, check_source off (PEP 552); the hash is still the source's own.
        assert pyc == {"magic": True, "flags": 0b01, "hash": True, "filename": f"{root}/{name}"}, name


def test_python312_imports_from_the_shipped_pycs_without_reading_a_source(tmp_path):
    layer = _unpacked_layer(tmp_path / "opt")
    # Every source now raises if run: an import that compiled (or hash-checked) a source fails.
    for source in layer.rglob("*.py"):
        source.write_text(f"raise ImportError('compiled from source: {source.name}')\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{layer}:{_lambda_runtime(tmp_path)}", **LAMBDA_ENV,
           # /opt is read-only in Lambda; and the runtime's boto3 here is this venv's.
           "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([runtime_interpreter().executable, "-S", "-c", IMPORT, str(layer)], capture_output=True,
                            text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cached = json.loads(result.stdout.splitlines()[-1])
    assert {"observability.metrics", "observability.tracing", "aws_lambda_powertools.metrics",
            "aws_xray_sdk.core"} <= set(cached)
    assert all(Path(pyc).is_file() and Path(pyc).parent.name == "__pycache__" for pyc in cached.values())


@pytest.fixture
def no_python312(tmp_path, monkeypatch):
    """A machine whose PATH has no working `python3.12` and whose pyenv holds no 3.12."""
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    (tmp_path / "bin").mkdir()
    (tmp_path / "pyenv" / "versions" / "3.11.7").mkdir(parents=True)
    runtime_interpreter.cache_clear()
    yield tmp_path / "bin"
    runtime_interpreter.cache_clear()


def test_without_python312_the_build_names_what_to_install(no_python312):
    with pytest.raises(BytecodeError, match=r"needs CPython 3\.12.*`pyenv install 3\.12`$"):
        runtime_interpreter()
    # A `python3.12` that is another Python (a misconfigured shim or link) is named, not used.
    (no_python312 / "python3.12").symlink_to(sys.executable)
    version = ".".join(map(str, sys.version_info[:3]))
    with pytest.raises(BytecodeError, match=rf"tried .*python3\.12 is cpython {version}\)"):
        runtime_interpreter()


@pytest.fixture
def python312() -> Path:
    return Path(runtime_interpreter().executable)


def test_a_pyenv_shim_selecting_another_version_leads_to_its_installed_312(python312, no_python312, tmp_path,
                                                                           monkeypatch):
    # pyenv's shim for python3.12 fails when the selected version is not a 3.12 (as on this machine
    # image, global 3.11); the 3.12 installed beside it, in <root>/versions, is the one to use.
    root = tmp_path / "elsewhere" / ".pyenv"
    (root / "shims").mkdir(parents=True)
    (root / "versions" / "3.12.1" / "bin").mkdir(parents=True)
    (root / "versions" / "3.12.1" / "bin" / "python3.12").symlink_to(python312)
    shim = root / "shims" / "python3.12"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{root / 'shims'}:/usr/bin:/bin")
    found = runtime_interpreter()
    assert Path(found.executable).resolve() == python312.resolve() and found.version.startswith("3.12.")


def test_the_preflight_without_python312_fails_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", ":".join(p for p in os.environ["PATH"].split(":") if ".pyenv" not in p))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    result = preflight_cli("--stack", "production")
    assert result.returncode == 2
    assert result.stderr.startswith("preflight: the runtime layer's bytecode needs CPython 3.12")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_the_search_started_early_answers_only_in_the_environment_it_ran_in(python312, monkeypatch):
    """The program looks for python3.12 as it loads (components.lambda_package); what it found then
    is the answer while the environment is unchanged, and a changed PATH (another shim, another
    .python-version) is searched again."""
    import components.runtime_bytecode as runtime_bytecode

    searched = []
    monkeypatch.setattr(runtime_bytecode, "_search", lambda: searched.append(os.environ["PATH"]) or "searched")
    runtime_interpreter.cache_clear()
    try:
        assert Path(runtime_interpreter().executable).resolve() == python312.resolve() and searched == []
        runtime_interpreter.cache_clear()
        monkeypatch.setenv("PATH", "/usr/bin:/bin")
        assert runtime_interpreter() == "searched" and searched == ["/usr/bin:/bin"]
    finally:
        runtime_interpreter.cache_clear()
