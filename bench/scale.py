"""Preflight wall time and peak memory against the number of functions (targets:
1,000 functions in under 15 s and under 1 GiB, time and memory linear in resources).

Each size is a generated stack file in a copy of this program: the production config with N
functions listed in one group (alarmed one by one: the heaviest case), and, for --fleet sizes,
the critical groups listed and every other function found by discovery into one fleet group.
`python -m preflight` runs as a user runs it (a whole process, the policy pack its child); peak
memory is the largest sum of the resident sets of both, sampled every 50 ms from /proc.

Usage: venv/bin/python -m bench.scale [--sizes 100 1000 3000] [--fleet 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
INVENTORY = "hasivu-monitoring:inventory"
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and its descendants, from /proc (each thread's `children` list, so a
    sample reads only the tree's own files and costs the measured run next to nothing)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            for task in Path(f"/proc/{pid}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def function_names(count: int) -> list[str]:
    return [f"hasivu-production-svc{i // 50:03d}-fn{i % 50:02d}" for i in range(count)]


def _stack_file(functions: int, fleet: bool) -> dict:
    doc = yaml.safe_load((REPO / "Pulumi.production.yaml").read_text())
    inventory = doc["config"][INVENTORY]
    names = function_names(functions)
    if fleet:
        groups = {k: v for k, v in inventory["lambdaGroups"].items() if k in ("payments", "auth")}
        groups["platform"] = {"tier": "warning", "timeoutSeconds": 30, "fleet": True}
        inventory["discovery"] = {"functionPrefix": "hasivu-production-", "group": "platform"}
        inventory["lambdaGroups"] = groups
    else:
        inventory["lambdaGroups"] = {"platform": {"tier": "warning", "timeoutSeconds": 30, "functions": names}}
    return doc


def _program(directory: Path, functions: int, fleet: bool) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, directory / name)
    (directory / "Pulumi.bench.yaml").write_text(json.dumps(_stack_file(functions, fleet)))


def measure(functions: int, fleet: bool) -> tuple[int, float, int, int]:
    """(resources, wall seconds, peak bytes, exit status) of one preflight."""
    with tempfile.TemporaryDirectory() as tmp:
        _program(Path(tmp), functions, fleet)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "preflight", "--program", tmp, "--stack", "bench", "--policy-config",
                   str(REPO / "policy" / "config" / "production.json")]
        if fleet:
            listing = Path(tmp) / "functions.txt"
            listing.write_text("\n".join(function_names(functions)) + "\n")
            command += ["--functions", str(listing)]
        peak = 0
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(process.pid))
                done.wait(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        out, err = process.communicate()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
    match = re.search(r"(\d+) resources", out)
    if process.returncode not in (0, 1) or match is None:
        raise SystemExit(f"preflight failed for {functions} functions: {err.strip().splitlines()[-1:]}")
    return int(match.group(1)), wall, peak, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 3000])
    parser.add_argument("--fleet", type=int, nargs="*", default=[5000])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'functions':>9} {'mode':>10} {'resources':>9} {'wall s':>7} {'peak MiB':>8} {'exit':>4}")
    for fleet, sizes in ((False, args.sizes), (True, args.fleet)):
        for size in sizes:
            resources, wall, peak, status = measure(size, fleet)
            print(f"{size:>9} {'fleet' if fleet else 'per-func':>10} {resources:>9} {wall:>7.1f} "
                  f"{peak / 2**20:>8.0f} {status:>4}")


if __name__ == "__main__":
    main()
