"""`python -m preflight diff`: the program run on both sides of a change, compared in reviewer terms.

Both sides are judged by the working tree's tools: the preflight, the policy pack and its config, the
prices and the drill files. Only the program (its `__main__.py`, components, stackconfig and stack
file) is taken from the base, so every difference shown is what the change to the program does.

Exit status: 0 nothing got worse; 3 coverage lost, a drill that passed on the base fails, or the
monthly cost rises by more than --max-cost-increase; 2 a usage, config, drill file or program error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

from preflight.diff import compare
from preflight.diff.base import BaseError, checkout, resolve
from preflight.diff.drills import DrillSide, Verdict, changed
from preflight.diff.facts import SNAPSHOT_VERSION, snapshot
from preflight.diff.markdown import markdown
from preflight.diff.report import text_report
from preflight.drill.cli import DRILLS
from preflight.drill.drill_file import Drill, DrillError, drill_paths, load_drill
from preflight.model.stack import StackModel, build_model
from preflight.preview.analyzer import PolicyError, run_and_analyze
from preflight.preview.report import write_json
from preflight.program.engine import ProgramFailed
from preflight.program.stack_files import ProgramError, load_stack_files

WORSE = 3
# What a saved side must hold for the comparison (facts.snapshot writes each).
SNAPSHOT_KEYS = ("alarms", "coverage", "dashboards", "resources", "access", "cost", "policy")
TOOL = Path(__file__).resolve().parents[2]


class SnapshotError(Exception):
    """A saved side that cannot be used (usage error, exit 2)."""


@dataclasses.dataclass
class Side:
    label: str
    commit: Optional[str]
    model: StackModel
    facts: dict[str, Any]
    drills: DrillSide


def _git(program: Path, *args: str) -> Optional[str]:
    result = subprocess.run(["git", "-C", str(program), *args], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def _uncommitted(program: Path) -> bool:
    return bool(_git(program, "status", "--porcelain", "--untracked-files=no", "--", "."))


def run_side(program: Path, stack: str, label: str, commit: Optional[str], pack: Path,
             policy_config: Optional[Path]) -> Side:
    """The program run as the preview runs it (preview fidelity, the pack streaming), read into facts."""
    files = load_stack_files(program, stack)
    run, violations = run_and_analyze(files, True, pack.resolve(), policy_config)
    model = build_model(run)
    return Side(label, commit, model, snapshot(model, violations), DrillSide(program, stack, model))


def read_snapshot(path: Path, stack: str) -> dict[str, Any]:
    expected = f"expected what `python -m preflight diff --stack {stack} --save-json FILE` writes"
    try:
        doc = json.loads(path.read_text())
    except OSError as error:
        raise SnapshotError(f"--base-json {path}: {error.strerror}") from None
    except ValueError as error:
        raise SnapshotError(f"--base-json {path}: not valid JSON ({error}); {expected}") from None
    if not isinstance(doc, dict) or doc.get("snapshot") != SNAPSHOT_VERSION:
        got = doc.get("snapshot") if isinstance(doc, dict) else type(doc).__name__
        raise SnapshotError(f"--base-json {path}: snapshot version {got!r}, this preflight reads "
                            f"{SNAPSHOT_VERSION}; {expected}")
    if doc.get("stack") != stack:
        raise SnapshotError(f"--base-json {path}: a side of stack {doc.get('stack')!r}, not {stack!r}; {expected}")
    missing = [key for key in SNAPSHOT_KEYS if not isinstance(doc.get(key), (dict, list))]
    if missing:
        raise SnapshotError(f"--base-json {path}: no {', '.join(missing)}; {expected}")
    return doc


def _load_drills(target: str) -> list[Drill]:
    try:
        return [] if target == "none" else [load_drill(p) for p in drill_paths(target, DRILLS)]
    except DrillError as error:
        raise DrillError(f"--drills {error}") from None


def drills_against_side(drills: list[Drill], base: Side, head: Side) -> tuple[list[dict[str, Any]], int]:
    """Each drill whose inputs differ, run on both sides: (verdicts that changed, drills not run)."""
    entries, unchanged = [], 0
    rerun = [d for d in drills if (f := head.drills.fingerprint(d)) is None or f != base.drills.fingerprint(d)]
    _playing(rerun, len(drills), "on both sides")
    base.drills.play(rerun)
    head.drills.play(rerun)
    rerun_paths = {d.path for d in rerun}
    for drill in drills:
        if drill.path not in rerun_paths:
            unchanged += 1
            continue
        if entry := changed(drill.name, base.drills.verdict(drill), head.drills.verdict(drill)):
            entries.append(entry)
    return entries, unchanged


def _playing(drills: list[Drill], given: int, where: str) -> None:
    """The drills take a minute or two: say how many before playing them, rather than sit silent."""
    if drills:
        print(f"preflight: diff: playing {len(drills)} drill{'s' if len(drills) != 1 else ''} {where} "
              f"({given - len(drills)} of {given} unchanged)", file=sys.stderr, flush=True)


def drills_against_saved(drills: list[Drill], saved: dict[str, Any], head: Side,
                         whole_suite: bool) -> tuple[list[dict[str, Any]], int]:
    """`whole_suite`: the drills are all of drills/, so a saved drill that is not among them is gone
    (`absent` now); with a subset or none, the saved drills outside it are not compared."""
    entries, unchanged = [], 0

    def same(drill: Drill) -> bool:
        before, fingerprint = saved.get(drill.name), head.drills.fingerprint(drill)
        return before is not None and fingerprint is not None and before.get("fingerprint") == fingerprint

    rerun = [d for d in drills if not same(d)]
    _playing(rerun, len(drills), "on this side")
    head.drills.play(rerun)
    for drill in drills:
        before = saved.get(drill.name)
        if same(drill):
            unchanged += 1
            continue
        if entry := changed(drill.name, before, head.drills.verdict(drill)):
            entries.append(entry)
    if whole_suite:
        names = {d.name for d in drills}
        entries += [entry for name in sorted(saved.keys() - names) if (entry := changed(name, saved[name], None))]
    return entries, unchanged


def _save(path: Path, head: Side, uncommitted: bool, drills: list[Drill]) -> None:
    # The whole drill suite takes a minute or two: say so before, rather than sit silent.
    print(f"preflight: --save-json {path}: playing {len(drills)} drill{'s' if len(drills) != 1 else ''} on this "
          "side", file=sys.stderr, flush=True)
    head.drills.play(drills)
    verdicts: dict[str, Verdict] = {d.name: head.drills.verdict(d) for d in drills}
    doc = {**head.facts, "commit": head.commit, "uncommitted": uncommitted,
           "drills": {name: v.as_json() for name, v in verdicts.items()}}
    with path.open("w") as out:
        write_json(doc, out)
    print(f"preflight: --save-json {path}: saved; compare a change with --base-json {path}", file=sys.stderr)


def _failed(side: str, error: ProgramFailed) -> list[str]:
    """As the preview says it, a line each (a config error names every problem of the stack file), each
    naming the side when it is the base."""
    return [f"{side}: {line}" if side != "this change" else line for line in error.lines()]


@dataclasses.dataclass
class Compared:
    """The base's facts and where they come from, and the drills whose verdict changed."""

    facts: dict[str, Any]
    side: dict[str, Any]
    drills: list[dict[str, Any]]
    unchanged: int


def against_saved(saved: dict[str, Any], path: Path, drills: list[Drill], head: Side, whole_suite: bool) -> Compared:
    changes, unchanged = drills_against_saved(drills, saved.get("drills") or {}, head, whole_suite)
    side = {"label": f"saved {path.name}", "commit": saved.get("commit"), "uncommitted": bool(saved.get("uncommitted"))}
    return Compared(saved, side, changes, unchanged)


def against_commit(args: argparse.Namespace, policy_config: Optional[Path], drills: list[Drill],
                   head: Side) -> Compared:
    label = f"base {args.base}"
    with checkout(args.program, args.base) as (program, commit):
        base = run_side(program, args.stack, label, commit, args.policy_pack, policy_config)
        changes, unchanged = drills_against_side(drills, base, head)
    return Compared(base.facts, {"label": label, "commit": commit, "uncommitted": False}, changes, unchanged)


def diff_main(args: argparse.Namespace) -> int:
    config = args.policy_pack / "config" / f"{args.stack}.json"
    policy_config = config if config.is_file() else None
    side = "this change"
    try:
        if args.base is not None:
            resolve(args.program, args.base)  # a bad REF is said before any program runs
        drills = _load_drills(args.drills)
        saved = read_snapshot(args.base_json, args.stack) if args.base_json else None
        head = run_side(args.program, args.stack, side, _git(args.program, "rev-parse", "HEAD"), args.policy_pack,
                        policy_config)
        uncommitted = _uncommitted(args.program)
        if args.save_json is not None:
            _save(args.save_json, head, uncommitted, drills)
        if saved is not None:
            base = against_saved(saved, args.base_json, drills, head, whole_suite=args.drills == "all")
        elif args.base is not None:
            side = f"base {args.base}"
            base = against_commit(args, policy_config, drills, head)
        else:
            return 0
    except (ProgramError, PolicyError, BaseError, DrillError, SnapshotError) as error:
        where = f"{side}: " if side != "this change" and isinstance(error, ProgramError) else ""
        print(f"preflight: {where}{error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        for line in _failed(side, failed):
            print(f"preflight: {line}", file=sys.stderr)
        return 2
    doc = compare.diff(base.facts, head.facts, base.drills, base.unchanged, args.max_cost_increase)
    doc["base"] = base.side
    doc["head"] = {"label": head.label, "commit": head.commit, "uncommitted": uncommitted}
    if args.json:
        write_json(doc, sys.stdout)
    elif args.markdown:
        sys.stdout.write(markdown(doc, args.markdown_limit))
    else:
        sys.stdout.write(text_report(doc))
    return WORSE if doc["worse"] else 0
