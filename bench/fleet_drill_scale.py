"""Wall time and peak memory of the fleet drill at several account sizes.

The drill is drills/fleet/one-failing-function-among-300.yaml with `account.functions.count` replaced,
run as a user runs it (`python -m preflight drill --stack production FILE`, program run included), one process per size,
smallest first (the children's peak RSS is a running maximum, so each figure is that size's peak).

Usage: venv/bin/python -m bench.fleet_drill_scale [--counts 300,2000,5000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLEET = REPO / "drills" / "fleet"
DRILL = FLEET / "one-failing-function-among-300.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="300,2000,5000")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        stack = FLEET / "Pulumi.fleet-drill.yaml"
        (Path(folder) / stack.name).write_text(stack.read_text())
        for count in sorted(int(c) for c in args.counts.split(",")):
            drill = Path(folder) / f"fleet-{count}.yaml"
            drill.write_text(DRILL.read_text().replace("count: 300}", f"count: {count}}}"))
            start = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "preflight", "drill", "--stack", "production", str(drill)],
                                 cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
            wall = time.perf_counter() - start
            peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            verdict = "passed" if run.returncode == 0 else f"exit {run.returncode}: {run.stderr.strip()[-200:]}"
            print(f"functions {count:>6}: wall {wall:6.1f} s  peak {peak_mib:6.0f} MiB  {verdict}")


if __name__ == "__main__":
    main()
