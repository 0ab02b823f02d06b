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

import pulumi

from preflight.diff import compare
from preflight.diff.base import BaseError, checkout
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


def _commit(program: Path) -> Optional[str]:
    result = subprocess.run(["git", "-C", str(program), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=False)
    return result.stdout.strip() if result.returncode == 0 else None


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
    return doc


def _load_drills(target: str) -> list[Drill]:
    return [] if target == "none" else [load_drill(p) for p in drill_paths(target, DRILLS)]


def drills_against_side(drills: list[Drill], base: Side, head: Side) -> tuple[list[dict[str, Any]], int]:
    """Each drill whose inputs differ, run on both sides: (verdicts that changed, drills not run)."""
    entries, unchanged = [], 0
    for drill in drills:
        fingerprint = head.drills.fingerprint(drill)
        if fingerprint is not None and fingerprint == base.drills.fingerprint(drill):
            unchanged += 1
            continue
        if entry := changed(drill.name, base.drills.verdict(drill), head.drills.verdict(drill)):
            entries.append(entry)
    return entries, unchanged


def drills_against_saved(drills: list[Drill], saved: dict[str, Any], head: Side) -> tuple[list[dict[str, Any]], int]:
    entries, unchanged = [], 0
    for drill in drills:
        before = saved.get(drill.name)
        fingerprint = head.drills.fingerprint(drill)
        if before is not None and fingerprint is not None and before.get("fingerprint") == fingerprint:
            unchanged += 1
            continue
        if entry := changed(drill.name, before, head.drills.verdict(drill)):
            entries.append(entry)
    names = {d.name for d in drills}
    entries += [entry for name in sorted(saved.keys() - names) if (entry := changed(name, saved[name], None))]
    return entries, unchanged


def _save(path: Path, head: Side, drills: list[Drill]) -> None:
    verdicts: dict[str, Verdict] = {d.name: head.drills.verdict(d) for d in drills}
    doc = {**head.facts, "commit": head.commit, "drills": {name: v.as_json() for name, v in verdicts.items()}}
    with path.open("w") as out:
        write_json(doc, out)


def _failed(side: str, error: ProgramFailed) -> str:
    cause = error.cause
    detail = str(cause) if isinstance(cause, pulumi.RunError) else f"{type(cause).__name__}: {cause}"
    return f"{side}: the program failed: {detail}"


def diff_main(args: argparse.Namespace) -> int:
    config = args.policy_pack / "config" / f"{args.stack}.json"
    policy_config = config if config.is_file() else None
    side = "this change"
    try:
        drills = _load_drills(args.drills)
        saved = read_snapshot(args.base_json, args.stack) if args.base_json else None
        head = run_side(args.program, args.stack, "this change", _commit(args.program), args.policy_pack,
                        policy_config)
        if args.save_json is not None:
            _save(args.save_json, head, drills)
        if saved is not None:
            base_facts, base_label = saved, f"saved {args.base_json.name}"
            base_commit = saved.get("commit")
            drill_changes, unchanged = drills_against_saved(drills, saved.get("drills") or {}, head)
        elif args.base is not None:
            side = f"base {args.base}"
            with checkout(args.program, args.base) as (program, commit):
                base = run_side(program, args.stack, f"base {args.base}", commit, args.policy_pack, policy_config)
                drill_changes, unchanged = drills_against_side(drills, base, head)
            base_facts, base_label, base_commit = base.facts, base.label, commit
        else:
            return 0
    except (ProgramError, PolicyError, BaseError, DrillError, SnapshotError) as error:
        where = f"{side}: " if side != "this change" and isinstance(error, ProgramError) else ""
        print(f"preflight: {where}{error}", file=sys.stderr)
        return 2
    except ProgramFailed as failed:
        print(f"preflight: {_failed(side, failed)}", file=sys.stderr)
        return 2
    doc = compare.diff(base_facts, head.facts, drill_changes, unchanged, args.max_cost_increase)
    doc["base"] = {"label": base_label, "commit": base_commit}
    doc["head"] = {"label": head.label, "commit": head.commit}
    if args.json:
        write_json(doc, sys.stdout)
    elif args.markdown:
        sys.stdout.write(markdown(doc, args.markdown_limit))
    else:
        sys.stdout.write(text_report(doc))
    return WORSE if doc["worse"] else 0
