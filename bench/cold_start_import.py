"""Cold-start import of observability.metrics and observability.tracing from the stack's layer:
a fresh `python -S` per run with only the layer (unpacked as Lambda does) and the runtime's boto3
on the path, in a Lambda-like environment. Target: under 150 ms.

Two cases, because Lambda's /opt is read-only: the layer as built (sources only, so every cold
start compiles them) and the same files with bytecode beside them (what a layer carrying .pyc
for the runtime's Python would give). Also, for context, the first tracer: Powertools' Tracer
loads the X-Ray SDK at the first traced call, not at import.

Usage: venv/bin/python bench/cold_start_import.py [runs]
"""

from __future__ import annotations

import compileall
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from components.lambda_package import lambda_package  # noqa: E402
from components.runtime_layer import LAYER_DISTRIBUTIONS  # noqa: E402

RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six.py")
IMPORT = ("import time; start = time.perf_counter(); import observability.metrics, observability.tracing; "
          "print((time.perf_counter() - start) * 1000)")
FIRST_TRACER = ("import time; import observability.tracing as t; start = time.perf_counter(); t.business_tracer(); "
                "print((time.perf_counter() - start) * 1000)")


def timed(code: str, env: dict[str, str], runs: int) -> list[float]:
    return [float(subprocess.run([sys.executable, "-S", "-c", code], env=env, check=True, capture_output=True,
                                 text=True).stdout.splitlines()[-1]) for _ in range(runs)]


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms"


def main(runs: int) -> None:
    import boto3

    with tempfile.TemporaryDirectory() as scratch:
        opt, runtime = Path(scratch) / "opt", Path(scratch) / "runtime"
        with zipfile.ZipFile(lambda_package(["observability"], LAYER_DISTRIBUTIONS, prefix="python/").path) as z:
            z.extractall(opt)
        runtime.mkdir()
        site = Path(boto3.__file__).parent.parent
        for name in RUNTIME_PACKAGES:
            (runtime / name).symlink_to(site / name)
        compileall.compile_dir(runtime, quiet=1)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{opt / 'python'}:{runtime}", "PYTHONDONTWRITEBYTECODE": "1",
               "AWS_LAMBDA_FUNCTION_NAME": "bench", "LAMBDA_TASK_ROOT": scratch, "AWS_REGION": "ap-south-1",
               "_X_AMZN_TRACE_ID": "Root=1-6b0c09c4-fa0344bc1467b0c9590e03a8;Sampled=1",
               "HASIVU_ENVIRONMENT": "production",
               "HASIVU_PSEUDONYM_KEY_PARAMETER": "/production/hasivu-monitoring/pseudonym-key"}
        from_source = timed(IMPORT, env, runs)
        compileall.compile_dir(opt, quiet=1)
        with_bytecode = timed(IMPORT, env, runs)
        first_tracer = timed(FIRST_TRACER, env, runs)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; {runs} cold processes each")
    print(f"import observability.metrics + tracing, layer as built (compiled at cold start): {summary(from_source)}")
    print(f"import observability.metrics + tracing, with bytecode: {summary(with_bytecode)} (target < 150 ms)")
    print(f"first tracer (loads the X-Ray SDK) at the first traced call: {summary(first_tracer)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
