"""Cold-start import of observability.metrics and observability.tracing from the stack's layer:
a fresh `python3.12 -S` per run (the Lambda runtime's Python, found as the layer build finds it)
with only the layer (unpacked as Lambda does) and the runtime's boto3 on the path, in a
Lambda-like environment. Target: under 150 ms.

Two cases. The layer as built: sources with their python3.12 bytecode. For contrast, the same
layer without its bytecode: Lambda's /opt is read-only, so such a layer is compiled at every cold
start (simulated with PYTHONDONTWRITEBYTECODE, as root may write anywhere). Also, for context, the
first tracer: Powertools' Tracer loads the X-Ray SDK at the first traced call, not at import.

Usage: venv/bin/python -m bench.cold_start_import [runs]
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from components.lambda_package import lambda_package
from components.runtime_bytecode import runtime_interpreter
from components.runtime_layer import LAYER_DISTRIBUTIONS, LAYER_ROOT

REPO = Path(__file__).resolve().parent.parent

RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six.py")
IMPORT = ("import time; start = time.perf_counter(); import observability.metrics, observability.tracing; "
          "print((time.perf_counter() - start) * 1000)")
FIRST_TRACER = ("import time; import observability.tracing as t; start = time.perf_counter(); t.business_tracer(); "
                "print((time.perf_counter() - start) * 1000)")


def timed(python: str, code: str, env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    # cwd: `-c` puts the working directory first on sys.path; the repo's own observability/ must not be found.
    return [float(subprocess.run([python, "-S", "-c", code], env=env, cwd=cwd, check=True, capture_output=True,
                                 text=True).stdout.splitlines()[-1]) for _ in range(runs)]


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms"


def lambda_runtime(python: str, into: Path) -> Path:
    """The runtime's boto3, precompiled by its Python as the Lambda image ships it."""
    import boto3

    site = Path(boto3.__file__).parent.parent
    for name in RUNTIME_PACKAGES:
        if (site / name).is_dir():
            shutil.copytree(site / name, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(site / name, into / name)
    subprocess.run([python, "-m", "compileall", "-q", str(into)], check=True)
    return into


def main(runs: int) -> None:
    python = runtime_interpreter()
    built = lambda_package(["observability"], LAYER_DISTRIBUTIONS, prefix="python/", bytecode_root=LAYER_ROOT)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        as_built, sources_only = scratch / "as-built", scratch / "sources-only"
        with zipfile.ZipFile(built.path) as archive:
            archive.extractall(as_built)
            unzipped = sum(info.file_size for info in archive.infolist())
        shutil.copytree(as_built, sources_only, ignore=shutil.ignore_patterns("__pycache__"))
        runtime = lambda_runtime(python.executable, scratch / "runtime")
        env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "AWS_LAMBDA_FUNCTION_NAME": "bench",
               "LAMBDA_TASK_ROOT": scratch_dir, "AWS_REGION": "ap-south-1",
               "_X_AMZN_TRACE_ID": "Root=1-6b0c09c4-fa0344bc1467b0c9590e03a8;Sampled=1",
               "HASIVU_ENVIRONMENT": "production",
               "HASIVU_PSEUDONYM_KEY_PARAMETER": "/production/hasivu-monitoring/pseudonym-key"}

        def on_path(layer: Path) -> dict[str, str]:
            return {**env, "PYTHONPATH": f"{layer / 'python'}:{runtime}"}

        from_source = timed(python.executable, IMPORT, on_path(sources_only), scratch, runs)
        with_bytecode = timed(python.executable, IMPORT, on_path(as_built), scratch, runs)
        first_tracer = timed(python.executable, FIRST_TRACER, on_path(as_built), scratch, runs)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {python.version} ({python.executable}), "
          f"load average {os.getloadavg()[0]:.1f}; {runs} cold processes each")
    print(f"layer zip {built.path.stat().st_size / 1e6:.1f} MB, unzipped {unzipped / 1e6:.1f} MB "
          "(Lambda: 50 MB zip by direct upload, 250 MB unzipped)")
    print(f"import observability.metrics + tracing, layer as built (with bytecode): {summary(with_bytecode)} "
          "(target < 150 ms)")
    print(f"import observability.metrics + tracing, same layer without bytecode (compiled at cold start): "
          f"{summary(from_source)}")
    print(f"first tracer (loads the X-Ray SDK) at the first traced call: {summary(first_tracer)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
