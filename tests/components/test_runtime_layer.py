"""The runtime library reaches platform Lambdas: an installable distribution,
a layer the stack publishes (Python 3.12, arm64 and x86_64) whose ARN is a stack output, and a
sample handler running from that layer alone (with boto3, as the Lambda runtime provides) in a clean
interpreter with tracing on, sending its segments to a loopback X-Ray daemon."""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
import zipfile
from pathlib import Path

import boto3
import pytest
from packaging.requirements import Requirement

import observability
from components.runtime_bytecode import runtime_interpreter
from tests.components.test_health_monitor_deploy import _lambda_runtime
from tests.support.stack import REPO, by_name, props, raw, run

SAMPLE_HANDLER = '''
from observability import metrics, tracing

@tracing.lambda_handler
def handler(event, context):
    if event.get("card"):
        return tracing.trace_rfid_operation(event["student"], event["card"], "verification", "school-3",
                                            lambda: lookup(event))
    return tracing.trace_payment_operation(event["payment"], "verify", event["user"], event["amount"],
                                           event["method"], lambda: metrics.track_payment_metrics(
                                               event["order"], event["amount"], "captured", event["method"]))

def lookup(event):
    raise LookupError(f"no card {event['card']} for student Asha Kumar phone +919876543210")
'''
INVOKE = '''
import json, sys
from sample import handler
handler({"payment": "pay_Q1", "user": "parent-7781", "amount": 125.0, "method": "UPI", "order": "ord-9"}, None)
try:
    handler({"student": "student-7", "card": "CARD-QZ-XKWV"}, None)
except LookupError:
    print("RAISED LookupError")
'''


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    """The layer the program publishes, unpacked as Lambda does (into /opt; `python/` is on sys.path)."""
    registered = raw(by_name(run(), "runtime-library-layer"))
    opt = tmp_path_factory.mktemp("opt")
    with zipfile.ZipFile(registered["code"]["path"]) as archive:
        archive.extractall(opt)
    return opt / "python"


def _clean_interpreter(layer: Path, tmp_path: Path, code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # The runtime's Python (3.12), -S: no site-packages; only the layer, the runtime's boto3 and the
    # function's own directory. No bytecode written: the runtime's boto3 here is this venv's.
    task = tmp_path / "task"
    task.mkdir(exist_ok=True)
    (task / "sample.py").write_text(SAMPLE_HANDLER)
    path = f"{task}:{layer}:{_lambda_runtime(tmp_path)}"
    return subprocess.run([runtime_interpreter().executable, "-S", "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=task, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": path,
                                                     "PYTHONDONTWRITEBYTECODE": "1", **env})


def test_the_stack_publishes_the_layer_and_exports_its_arn():
    result = run()
    layer = props(by_name(result, "runtime-library-layer"))
    assert layer["layerName"] == "production-hasivu-observability"
    assert layer["compatibleRuntimes"] == ["python3.12"]
    assert sorted(layer["compatibleArchitectures"]) == ["arm64", "x86_64"]
    assert result.outputs["observabilityLayerArn"].startswith("arn:aws:lambda:")
    assert result.outputs["pseudonymKeyParameter"] == "/production/hasivu-monitoring/pseudonym-key"


def test_the_pseudonym_key_is_a_generated_secure_string_the_health_monitor_reads():
    result = run()
    parameter = by_name(result, "runtime-library-pseudonym-key")
    assert props(parameter)["type"] == "SecureString"
    assert raw(parameter)["value"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    function = props(by_name(result, "health-monitor-lambda-function"))
    variables = function["environment"]["variables"]
    assert variables["HASIVU_PSEUDONYM_KEY_PARAMETER"] == "/production/hasivu-monitoring/pseudonym-key"
    assert "HASIVU_PSEUDONYM_KEY" not in variables
    policy = json.loads(props(by_name(result, "health-monitor-lambda-policy"))["policy"])
    [read] = [s for s in policy["Statement"] if s["Action"] == ["ssm:GetParameter"]]
    assert read["Resource"].startswith("arn:aws:ssm:") and read["Resource"].endswith("pseudonym-key")


@pytest.mark.slow
def test_the_distribution_builds_offline_with_bounded_dependencies(tmp_path, layer):
    source = tmp_path / "observability"
    shutil.copytree(REPO / "observability", source, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(tmp_path / "wheels"), str(source)], check=True, capture_output=True, timeout=120)
    [wheel] = (tmp_path / "wheels").glob("hasivu_observability-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA"))).decode()
        top_level = archive.read(next(n for n in archive.namelist() if n.endswith("top_level.txt"))).decode()
        modules = {n for n in archive.namelist() if n.startswith("observability/")}

    assert f"Version: {observability.__version__}" in metadata
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist")]
    assert requires and all("<" in r and ">=" in r for r in requires)
    assert modules == {f"observability/{p.name}" for p in (REPO / "observability").glob("*.py")}
    pyproject = tomllib.loads((REPO / "observability" / "pyproject.toml").read_text())
    pinned = [line for line in (REPO / "observability" / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    assert set(pinned) <= set(pyproject["project"]["dependencies"])
    # The layer's dist-info says what the built wheel's says (setuptools writes the requirements in
    # its own normal form, so they are compared as requirements).
    [info] = layer.glob("hasivu_observability-*.dist-info")
    assert info.name == wheel.name.split("-py3")[0] + ".dist-info"
    assert (info / "top_level.txt").read_text() == top_level
    ours, built = (email.parser.HeaderParser().parsestr(text) for text in ((info / "METADATA").read_text(), metadata))
    for field in ("Name", "Version", "Summary", "Requires-Python"):
        assert ours[field] == built[field], field
    assert ({str(Requirement(r)) for r in ours.get_all("Requires-Dist")}
            == {str(Requirement(r)) for r in built.get_all("Requires-Dist")})


def test_every_module_imports_from_the_layer_with_only_boto3_beside_it(layer, tmp_path):
    modules = sorted(p.stem for p in (layer / "observability").glob("*.py") if p.stem != "__init__")
    # The X-Ray SDK loads when a tracer is made, not at import: import it too, as Powertools' Tracer will.
    code = "import importlib, sys\n" + "".join(f"importlib.import_module('observability.{m}')\n" for m in modules) + (
        "import aws_xray_sdk.core, wrapt, importlib.metadata\n"
        "print(importlib.metadata.version('hasivu-observability'))\n"
        "print(sorted(m.split('.')[0] for m in sys.modules if not m.startswith('_')))")
    result = _clean_interpreter(layer, tmp_path, code, {"HASIVU_ENVIRONMENT": "production"})
    assert result.returncode == 0, result.stderr
    version, modules_loaded = result.stdout.splitlines()[-2:]
    assert {"observability", "aws_lambda_powertools", "aws_xray_sdk", "boto3"} <= set(json.loads(
        modules_loaded.replace("'", '"')))
    # The library's own distribution metadata travels in the layer, as `pip install` would leave it.
    assert version == observability.__version__


class XrayDaemon:
    """The X-Ray daemon's UDP port on 127.0.0.1: each datagram is a header line and one segment."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.datagrams: list[bytes] = []
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                self.datagrams.append(self.sock.recv(65536))
            except OSError:
                return

    def segments(self) -> list[dict]:
        found = []
        for datagram in self.datagrams:
            header, body = datagram.decode().split("\n", 1)
            assert json.loads(header) == {"format": "json", "version": 1}
            found.append(json.loads(body))
        return found


def test_a_sample_handler_from_the_layer_traces_to_a_loopback_daemon_without_personal_data(layer, tmp_path, aws):
    boto3.client("ssm").put_parameter(Name="/production/hasivu-monitoring/pseudonym-key", Type="SecureString",
                                      Value="k" * 43, Overwrite=True)
    daemon = XrayDaemon()
    try:
        env = {
            "AWS_LAMBDA_FUNCTION_NAME": "production-payments-verify", "LAMBDA_TASK_ROOT": str(tmp_path / "task"),
            "_X_AMZN_TRACE_ID": "Root=1-6b0c09c4-fa0344bc1467b0c9590e03a8;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": daemon.address, "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "ap-south-1", "HASIVU_ENVIRONMENT": "production",
            "HASIVU_PSEUDONYM_KEY_PARAMETER": "/production/hasivu-monitoring/pseudonym-key",
            "POWERTOOLS_SERVICE_NAME": "payments",
            **{k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
        }
        result = _clean_interpreter(layer, tmp_path, INVOKE, env)
        assert result.returncode == 0, result.stderr
        assert "RAISED LookupError" in result.stdout
        deadline = 50
        while len(daemon.datagrams) < 2 and deadline:
            threading.Event().wait(0.1)
            deadline -= 1
    finally:
        daemon.sock.close()
    segments = daemon.segments()
    subsegments = {s["name"]: s for seg in segments for s in [seg, *seg.get("subsegments", [])]}
    payment = subsegments["## payment.verify"]
    assert payment["annotations"]["operation_type"] == "payment"
    assert payment["annotations"]["payment_method"] == "upi" and payment["annotations"]["amount_bucket"] == "100-500"
    rfid = subsegments["## rfid.verification"]
    assert rfid["annotations"]["error_type"] == "LookupError" and rfid["fault"] is True
    handler_errors = [e["type"] for s in subsegments.values() if s["name"] == "## handler"
                      for e in (s.get("cause") or {}).get("exceptions", [])]
    assert "LookupError" in handler_errors
    sent = b"".join(daemon.datagrams).decode()
    for personal in ("Asha", "Kumar", "9876543210", "CARD-QZ", "XKWV", "parent-7781", "student-7", "k" * 43):
        assert personal not in sent, personal
    emf = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"_aws"')]
    assert emf[0]["Revenue"] == [125.0] and emf[0]["PaymentMethod"] == "upi"
