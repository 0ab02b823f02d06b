"""`python -m preflight drill --stack S PATH|all [--json] [--render DIR] [--coverage]`.

Exit status: 0 every drill passed (and, with --coverage, the coverage is clean), 1 a drill failed or an
alarm is not covered and not allowlisted, 2 a bad drill or allowlist file, usage or program error.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import TextIO

from preflight.cloudwatch.cloudwatch import ModelError, subject
from preflight.cloudwatch.log_filters import UnsupportedPattern
from preflight.drill.coverage.allowlist import load_allowlist
from preflight.drill.coverage.report import CoverageReport, build_report
from preflight.drill.coverage.report import as_json as coverage_json
from preflight.drill.coverage.report import write_text as write_coverage
from preflight.drill.drill_file import COVERAGE_ALLOWLIST, Drill, DrillError, drill_paths, load_drill
from preflight.drill.runner import DrillResult, run_drill
from preflight.emulator.platform import Platform, platform_from_model
from preflight.model.stack import StackModel, build_model
from preflight.output_paths import refused
from preflight.program.engine import ProgramFailed, functions_invoke, run_program
from preflight.program.stack_files import ProgramError, load_stack_files

DRILLS = Path(__file__).resolve().parent.parent.parent / "drills"


def write_text(results: list[DrillResult], out: TextIO) -> None:
    for result in results:
        verdict = "passed" if result.passed else "FAILED"
        out.write(f"Drill {result.drill.name} ({result.drill.path}): {verdict}\n")
        if result.verdicts:
            out.write("  expectations:\n")
            for v in result.verdicts:
                out.write(f"    {'ok  ' if v.passed else 'FAIL'}  {v.expectation}; {v.shown}\n")
        else:
            out.write("  expectations: none\n")
        detection = result.detection_minutes
        if detection:
            out.write(f"  detection (first fault at minute {result.first_fault} to each tier's first page): "
                      + ", ".join(f"{tier} {minutes} min" for tier, minutes in detection.items()) + "\n")
        first = result.first_evaluation_oks
        warmup = (f" (and {len(first)} in warm-up: the first evaluation of {', '.join(first)}, "
                  "INSUFFICIENT_DATA -> OK, runs its OK actions as for a newly created alarm)") if first else ""
        out.write("  pages: " + ", ".join(f"{tier} {n}" for tier, n in result.pages.items())
                  + f"; OK notifications {len(result.ok_notifications) - len(first)}{warmup}\n")
        for page in result.notifications:
            members = f"  (in ALARM: {', '.join(page['membersInAlarm'])})" if "membersInAlarm" in page else ""
            who = subject(page["alarm"], page.get("contributor"))
            out.write(f"    page minute {page['minute']:>5}  {page['tier']}  {who}{members}\n")
            # What the Slack page adds to the notification: its headline (the probable cause), the
            # contributors it names, and what it could not read (slack_forwarder.py).
            for line in page.get("slack", "").splitlines():
                if line.startswith((":mag: ", "_In ALARM in ", "_Contributors in ALARM", "_Alarms in ALARM")):
                    out.write(f"      slack: {line}\n")
        for held in result.muted:
            who = subject(held["alarm"], held.get("contributor"))
            out.write(f"    muted minute {held['minute']:>4}  {held['tier']}  {who} {held['state']}  "
                      f"(by {held['rule']})\n")
        # In ALARM, but no page: the incident's cause already paged (docs/decisions/one-page-per-incident-per-tier.md).
        for held in result.held:
            out.write(f"    held  minute {held['minute']:>4}  {held['alarm']}  (by {held['by']})\n")
        moves = [t for t in result.transitions if "ALARM" in (t["from"], t["to"])]
        quiet = len(result.transitions) - len(moves)
        others = f" ({quiet} others, e.g. INSUFFICIENT_DATA -> OK, not shown)" if quiet else ""
        if not moves:
            out.write(f"  no transition into or out of ALARM{others}\n")
            continue
        out.write(f"  transitions into or out of ALARM{others}:\n")
        for t in moves:
            reason = f"  ({t['reason']})" if "reason" in t else ""
            who = subject(t["alarm"], t.get("contributor"))
            out.write(f"    minute {t['minute']:>5}  {who}  {t['from']} -> {t['to']}{reason}\n")
    passed = sum(r.passed for r in results)
    out.write(f"\n{passed} of {len(results)} drills passed\n")


def write_summary(results: list[DrillResult], out: TextIO) -> None:
    """One line per drill (verdict, pages, detection per tier) and the failures of those that failed."""
    for result in results:
        detection = ", ".join(f"{tier} {minutes} min" for tier, minutes in result.detection_minutes.items())
        pages = ", ".join(f"{tier} {n}" for tier, n in result.pages.items())
        out.write(f"{'passed' if result.passed else 'FAILED'}  {result.drill.name}  pages: {pages}"
                  + (f"; detection: {detection}" if detection else "") + "\n")
        for failure in result.failures:
            out.write(f"    {failure}\n")
    out.write(f"{sum(r.passed for r in results)} of {len(results)} drills passed\n\n")


def allowlist_path(target: str) -> Path:
    """The allowlist beside the drills: in the folder played (drills/ for `all`), or a drill file's folder."""
    path = DRILLS if target == "all" else Path(target)
    return (path if path.is_dir() else path.parent) / COVERAGE_ALLOWLIST


def check_discovery(drill: Drill, model: StackModel) -> None:
    """`account.functions` only means something to a stack whose inventory discovers functions:
    otherwise no function of the account joins it, and the drill's targets would be blamed instead."""
    discovery = model.settings.discovery if model.settings else None
    if discovery is None:
        raise DrillError(f"{drill.path}: account.functions: expected a drill stack with inventory.discovery "
                         f"(stack {model.stack} has none, so no function of the account would join it)")
    prefix = discovery.function_prefix
    if not any(name.startswith(prefix) for name in drill.account_functions):
        raise DrillError(f"{drill.path}: account.functions.prefix: expected names that stack {model.stack}'s "
                         f"discovery takes in (functionPrefix {prefix!r}; got {drill.account_functions[0]!r} ...)")


def drill_platform(drill: Drill, stack: str, program: Path) -> tuple[StackModel, Platform]:
    """The program run on the drill's stack (its own stack file, or --stack's) with the drill's account."""
    files = load_stack_files(program, drill.stack_name or stack, stack_file=drill.stack_file)
    invokes = (functions_invoke(list(drill.account_functions), files.config.get("aws:region", "ap-south-1"))
               if drill.account_functions else None)
    model = build_model(run_program(files, preview=True, invokes=invokes))
    if drill.account_functions:
        check_discovery(drill, model)
    return model, platform_from_model(model)


def save_histories(worlds: dict, out: Path, results: list[DrillResult]) -> None:
    """Each drill's series in the history format: to `out` for one drill, `out/<drill>.json` for several."""
    from preflight.history.drill_export import drill_history
    from preflight.history.history_file import save

    if len(results) > 1:
        out.mkdir(parents=True, exist_ok=True)
    for model, _, world_results in worlds.values():
        for result in world_results:
            save(drill_history(result, model.stack), out / f"{result.drill.name}.json" if len(results) > 1 else out)
    print(f"preflight: --save-history: wrote {out / '<drill>.json' if len(results) > 1 else out}; replay with "
          f"`python -m preflight history --stack STACK --from FILE`", file=sys.stderr)


World = tuple[Path | None, tuple[str, ...]]


def world_of(drill: Drill) -> World:
    """The program run a drill plays on: its own stack file (or --stack's), and its account's functions."""
    return drill.stack_file, drill.account_functions


# The platforms the drills of one `play` are played on, inherited by the processes it forks.
_PLATFORMS: dict[World, Platform] = {}
# What stops one drill (a bad target, an alarm the model cannot evaluate), not the others.
PLAY_ERRORS = (DrillError, ModelError, UnsupportedPattern)


def _play_one(drill: Drill) -> DrillResult | Exception:
    """One drill, in a forked process: its result without the platform, which the caller has, or what
    stopped it."""
    try:
        result = run_drill(drill, _PLATFORMS[world_of(drill)])
    except PLAY_ERRORS as error:
        return error
    return dataclasses.replace(result, platform=None)


def play_each(drills: list[Drill], platforms: dict[World, Platform],
              processes: int | None = None) -> list[DrillResult | Exception]:
    """Each drill's result, or what stopped it, in the drills' order. Drills are independent, so several
    are played at once, one process per core (`processes`, default the cores this process may use);
    each result is the same as one played alone, since a drill's randomness comes from its own seed."""
    # Forked processes inherit the platforms; elsewhere than Linux forking a Python process is not safe
    # (macOS's system libraries), and the drills are played one by one.
    forks = sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()
    cores = processes or (len(os.sched_getaffinity(0)) if forks else 1)
    _PLATFORMS.clear()
    _PLATFORMS.update(platforms)
    try:
        if cores < 2 or len(drills) < 2 or not forks:
            played = [_play_one(drill) for drill in drills]
        else:
            with concurrent.futures.ProcessPoolExecutor(min(cores, len(drills)),
                                                        mp_context=multiprocessing.get_context("fork")) as pool:
                played = list(pool.map(_play_one, drills))
    finally:
        _PLATFORMS.clear()
    return [outcome if isinstance(outcome, Exception)
            else dataclasses.replace(outcome, platform=platforms[world_of(drill)])
            for drill, outcome in zip(drills, played, strict=True)]


def play(drills: list[Drill], platforms: dict[World, Platform], processes: int | None = None) -> list[DrillResult]:
    """Each drill's result, in the drills' order (`play_each`); the first drill's error that stops it."""
    outcomes = play_each(drills, platforms, processes)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    return outcomes  # type: ignore[return-value]


def drill_main(stack: str, program: Path, target: str, as_json: bool, render_dir: Path | None,
               save_history: Path | None = None, coverage: bool = False) -> int:
    try:
        drills = [load_drill(path) for path in drill_paths(target, DRILLS)]
    except DrillError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    if save_history is not None:
        several = len(drills) > 1
        problem = refused({"--save-history": (save_history, several)})
        if problem is not None:
            what = f"{len(drills)} drills write a folder of <drill>.json" if several else "one drill writes a file"
            print(f"preflight: {problem} ({what})", file=sys.stderr)
            return 2
    # Drills that name the same stack file and account share one program run.
    worlds: dict[World, tuple[StackModel, Platform, list[DrillResult]]] = {}
    try:
        for drill in drills:
            if world_of(drill) not in worlds:
                worlds[world_of(drill)] = (*drill_platform(drill, stack, program), [])
        # Pictures and history exports read the band model, which stays in the process that played.
        results = play(drills, {world: platform for world, (_, platform, _) in worlds.items()},
                       processes=1 if render_dir is not None or save_history is not None else None)
        for drill, result in zip(drills, results, strict=True):
            worlds[world_of(drill)][2].append(result)
    except ProgramError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        return failed.refuse()
    except (DrillError, ModelError, UnsupportedPattern) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    report: CoverageReport | None = None
    if coverage:
        # The stack's own catalogue, from the drills played on --stack's file and account.
        own = worlds.get((None, ()))
        if own is None:
            print(f"preflight: --coverage: expected drills on stack {stack} among {target} (every drill names "
                  "its own stack file or account)", file=sys.stderr)
            return 2
        try:
            report = build_report(own[0], own[1], own[2], load_allowlist(allowlist_path(target), stack))
        except DrillError as error:
            print(f"preflight: {error}", file=sys.stderr)
            return 2
    if render_dir is not None:
        from preflight.pictures.drill_charts import render_drills

        pages, indexes = [], []
        for model, _, world_results in worlds.values():
            # Drills on another stack than --stack's are drawn in a folder of that stack.
            folder = render_dir if model.stack == stack else render_dir / model.stack
            pages += render_drills(model, world_results, folder, model.stack)
            indexes.append(str(folder / "index.html"))
        print(f"preflight: rendered {len(pages)} dashboard pages; open {', '.join(indexes)}", file=sys.stderr)
    if save_history is not None:
        try:
            save_histories(worlds, save_history, results)
        except OSError as error:
            print(f"preflight: --save-history {save_history}: cannot write it: {error.strerror or error}",
                  file=sys.stderr)
            return 2
    if as_json:
        document = {"drills": [r.as_json() for r in results]}
        if report is not None:
            document["coverage"] = coverage_json(report)
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif report is not None:
        write_summary(results, sys.stdout)
        write_coverage(report, sys.stdout)
    else:
        write_text(results, sys.stdout)
    clean = report is None or report.passed
    return 0 if all(r.passed for r in results) and clean else 1
