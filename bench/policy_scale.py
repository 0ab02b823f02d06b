"""Policy evaluation time through the analyzer, against stack size.

Runs this repo's program with the production config but N generated functions in the inventory
(each with its 4 alarms), in preview fidelity, then the policy pack over the analyzer interface.
Also reports what the pack adds to the preflight of the production stack itself.

Usage: venv/bin/python -m bench.policy_scale [--sizes 100 300 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from preflight.preview.analyzer import analyze
from preflight.program.engine import run_program
from preflight.program.stack_files import load_stack_files

REPO = Path(__file__).resolve().parent.parent

KEY = "hasivu-monitoring:inventory"


def files_with(functions: int):
    files = load_stack_files(REPO, "production")
    inventory = json.loads(files.config[KEY])
    inventory["lambdaGroups"] = {
        "payments": {"tier": "critical", "functions": [f"hasivu-production-fn-{i:04d}" for i in range(functions)]}
    }
    return dataclasses.replace(files, config={**files.config, KEY: json.dumps(inventory)})


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)},
                   check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    base = [sys.executable, "-m", "preflight", "--stack", "production"]
    without = min(wall([*base, "--no-policy"]) for _ in range(3))
    with_pack = min(wall(base) for _ in range(3))
    print(f"production preflight: {without:.2f} s without the pack, {with_pack:.2f} s with it "
          f"(+{with_pack - without:.2f} s)")
    print(f"{'functions':>9} {'resources':>9} {'program s':>9} {'policy s':>9} {'ms/resource':>11}")
    for size in args.sizes:
        start = time.perf_counter()
        run = run_program(files_with(size))
        program = time.perf_counter() - start
        start = time.perf_counter()
        found = analyze(run, REPO / "policy", REPO / "policy" / "config" / "production.json")
        policy = time.perf_counter() - start
        assert not [v for v in found if v.level == "mandatory"], found[:3]
        count = len(run.registrations)
        print(f"{size:>9} {count:>9} {program:>9.2f} {policy:>9.2f} {1000 * policy / count:>11.2f}")


if __name__ == "__main__":
    main()
