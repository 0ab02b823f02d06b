"""How much of the preflight's time is the Pulumi SDK's own: the same program and stack file run
under Pulumi's plain mock runtime (`pulumi.runtime.Mocks`, every resource answered with its inputs,
preview mode), with no recording, no policy pack and no report, against the whole preflight.

The plain run is what any `pulumi preview` of the program costs on the program's side before the
engine does anything: the SDK serializes every resource's inputs, creates an Output for each of its
type's output properties and walks the stack for its source position. It is the floor under the
preflight, whatever the preflight does beside it. Stack files as in bench/scale.py (N functions
alarmed one by one in one group).

Usage: venv/bin/python -m bench.sdk_floor [--sizes 100 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.scale import _program, measure

REPO = Path(__file__).resolve().parent.parent


def plain_run(directory: Path) -> dict[str, float]:
    """Runs the program in this process under Pulumi's plain mocks; resources, wall and CPU seconds."""
    import asyncio
    import runpy

    import pulumi
    from pulumi.runtime import mocks, settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from preflight.program.engine import OFFLINE_INVOKES
    from preflight.program.stack_files import load_stack_files

    files = load_stack_files(directory, "bench")
    registered = 0

    class PlainMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
            nonlocal registered
            registered += 1
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: mocks.MockCallArgs) -> dict:
            return OFFLINE_INVOKES[args.token](args.args)

    asyncio.set_event_loop(asyncio.new_event_loop())
    settings.reset_options()
    mocks.set_mocks(PlainMocks(), project=files.project, stack=files.stack, preview=True)
    set_all_config(files.config, list(files.secret_keys))
    sys.path.insert(0, str(directory))
    os.chdir(directory)
    wall, cpu = time.perf_counter(), time.process_time()
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(files.main), run_name="__main__")))
    return {"resources": registered, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def floor(size: int) -> dict[str, float]:
    """The plain run of N functions in a process of its own; its resources, wall and CPU seconds, and
    `process`: the whole process's wall seconds (interpreter start and imports included)."""
    with tempfile.TemporaryDirectory() as tmp:
        _program(Path(tmp), size, fleet=False)
        start = time.perf_counter()
        inner = subprocess.run([sys.executable, "-m", "bench.sdk_floor", "--inner", tmp], check=True,
                               capture_output=True, text=True, cwd=REPO)
        process = time.perf_counter() - start
    return {**json.loads(inner.stdout.splitlines()[-1]), "process": process}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(plain_run(args.inner)))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'functions':>9} {'custom resources':>16} {'SDK only s':>10} {'SDK cpu s':>9} {'preflight s':>11}")
    for size in args.sizes:
        plain = floor(size)
        _, preflight_wall, _, _ = measure(size, fleet=False)
        print(f"{size:>9} {plain['resources']:>16} {plain['wall']:>10.1f} {plain['cpu']:>9.1f} {preflight_wall:>11.1f}")


if __name__ == "__main__":
    main()
