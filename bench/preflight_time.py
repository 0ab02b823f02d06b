"""Wall time of `python -m preflight --stack production` (a whole process, as a user runs it).

Usage: venv/bin/python -m bench.preflight_time [--runs 5] [--stack production] [extra preflight args]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", default="production")
    args, extra = parser.parse_known_args()
    command = [sys.executable, "-m", "preflight", "--stack", args.stack, *extra]
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
        times.append(time.perf_counter() - start)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: {' '.join(command[1:])}")
    print(f"runs: {args.runs}  min {min(times):.2f} s  median {statistics.median(times):.2f} s  max {max(times):.2f} s")


if __name__ == "__main__":
    main()
