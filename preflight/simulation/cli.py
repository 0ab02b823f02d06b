"""`python -m preflight --stack S --drill PATH|all [--json] [--render DIR]`.

Exit status: 0 every drill passed, 1 a drill failed, 2 a bad drill file, usage or program error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import pulumi

from preflight.engine import ProgramFailed, run_program
from preflight.simulation.cloudwatch import ModelError
from preflight.simulation.drill_file import DrillError, drill_paths, load_drill
from preflight.simulation.log_filters import UnsupportedPattern
from preflight.simulation.platform import platform_from_run
from preflight.simulation.runner import DrillResult, run_drill
from preflight.stack_files import ProgramError, load_stack_files

DRILLS = Path(__file__).resolve().parent.parent.parent / "drills"


def write_text(results: list[DrillResult], out: TextIO) -> None:
    for result in results:
        verdict = "passed" if result.passed else "FAILED"
        out.write(f"Drill {result.drill.name} ({result.drill.path}): {verdict}\n")
        out.write("  pages: " + ", ".join(f"{tier} {n}" for tier, n in result.pages.items())
                  + f"; OK notifications {result.ok_notifications}\n")
        moves = [t for t in result.transitions if "ALARM" in (t["from"], t["to"])]
        quiet = len(result.transitions) - len(moves)
        out.write(f"  transitions into or out of ALARM ({quiet} others, e.g. INSUFFICIENT_DATA -> OK, not shown):\n")
        for t in moves:
            out.write(f"    minute {t['minute']:>5}  {t['alarm']}  {t['from']} -> {t['to']}\n")
        for failure in result.failures:
            out.write(f"  FAIL {failure}\n")
    passed = sum(r.passed for r in results)
    out.write(f"\n{passed} of {len(results)} drills passed\n")


def drill_main(stack: str, program: Path, target: str, as_json: bool, render_dir: Path | None) -> int:
    try:
        drills = [load_drill(path) for path in drill_paths(target, DRILLS)]
    except DrillError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    try:
        run = run_program(load_stack_files(program, stack), preview=True)
    except ProgramError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        cause = failed.cause
        detail = str(cause) if isinstance(cause, pulumi.RunError) else f"{type(cause).__name__}: {cause}"
        print(f"preflight: the program failed: {detail}", file=sys.stderr)
        return 2
    platform = platform_from_run(run)
    results = []
    try:
        for drill in drills:
            results.append(run_drill(drill, platform))
    except DrillError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except (ModelError, UnsupportedPattern) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    if render_dir is not None:
        from preflight.render import render_drills

        pages = render_drills(run.registrations, results, render_dir, stack)
        print(f"preflight: rendered {len(pages)} dashboard pages to {render_dir}", file=sys.stderr)
    if as_json:
        json.dump({"drills": [r.as_json() for r in results]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        write_text(results, sys.stdout)
    return 0 if all(r.passed for r in results) else 1
