"""Wall time of a 24-hour drill of the production stack.

Two figures: the whole `python -m preflight drill --stack production drills/normal-school-day.yaml`
process as a user runs it (program in preview fidelity + 24 h + 60 min warm-up simulated), and the
simulation alone in this process (program run excluded).

Usage: venv/bin/python -m bench.drill_time [--runs 3] [--drill drills/normal-school-day.yaml]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drill", type=Path, default=REPO / "drills" / "normal-school-day.yaml")
    args = parser.parse_args()

    from preflight.drill.drill_file import load_drill
    from preflight.drill.runner import run_drill
    from preflight.emulator.platform import platform_from_run
    from preflight.program.engine import run_program
    from preflight.program.stack_files import load_stack_files

    drill = load_drill(args.drill)
    command = [sys.executable, "-m", "preflight", "drill", "--stack", "production", str(args.drill)]
    process_times, simulation_times, process_cpu, simulation_cpu = [], [], [], []
    platform_ = platform_from_run(run_program(load_stack_files(REPO, "production"), preview=True))
    for _ in range(args.runs):
        start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        ran = subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.DEVNULL,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
        if ran.returncode not in (0, 1):  # 1: a drill failed, still a whole run; anything else timed no drill
            raise SystemExit(f"drill_time: {' '.join(command[1:])} exited {ran.returncode}")
        process_times.append(time.perf_counter() - start)
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        process_cpu.append(used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime)
        start, cpu_start = time.perf_counter(), time.process_time()
        run_drill(drill, platform_)
        simulation_times.append(time.perf_counter() - start)
        simulation_cpu.append(time.process_time() - cpu_start)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"drill: {drill.name}, {drill.minutes} minutes, {len(platform_.alarms)} metric alarms, "
          f"{len(platform_.composites)} composites")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    for what, times, cpu in (("whole process", process_times, process_cpu),
                             ("simulation only", simulation_times, simulation_cpu)):
        print(f"{what}: runs {args.runs}  wall min {min(times):.2f} s  median {statistics.median(times):.2f} s  "
              f"max {max(times):.2f} s; CPU median {statistics.median(cpu):.2f} s")


if __name__ == "__main__":
    main()
