"""Wall time of a diff of two commits of this repository against one preview, interleaved, best of N.

The head commit is checked out into a temporary worktree and diffed against the base commit by this
working tree's preflight (whole processes, as a user runs them):
    python -m preflight diff --stack S --program <head worktree> --base BASE --json
    python -m preflight preview --stack S

With --threshold-change, the head is a new commit on top of --head that changes one alarm's threshold
(payments-verify pages from 3 errors a minute), diffed against --head: every drill of the stack's own
world then has changed inputs and runs on both sides (the diff's worst case for drills).

Usage: venv/bin/python -m bench.diff_time [--base HEAD~1] [--head HEAD] [--runs 3] [--stack production]
                                          [--threshold-change]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _git(*args: str, repo: Path = REPO) -> str:
    command = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-C", str(repo), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def _threshold_commit(worktree: Path, stack: str) -> None:
    path = worktree / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(path.read_text())
    functions = doc["config"]["hasivu-monitoring:inventory"]["lambdaGroups"]["payments"]["functions"]
    index = functions.index("hasivu-production-payments-verify")
    functions[index] = {"name": functions[index], "thresholds": {"errorsPerMinute": 3}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    _git("commit", "-q", "-am", "payments-verify pages from 3 errors a minute", repo=worktree)


def _timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="HEAD~1")
    parser.add_argument("--head", default="HEAD")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stack", default="production")
    parser.add_argument("--threshold-change", action="store_true")
    args = parser.parse_args()
    base, head = _git("rev-parse", f"{args.base}^{{commit}}"), _git("rev-parse", f"{args.head}^{{commit}}")
    folder = Path(tempfile.mkdtemp(prefix="bench-diff-"))
    worktree = folder / "head"
    _git("worktree", "add", "--detach", "--quiet", str(worktree), head)
    try:
        if args.threshold_change:
            _threshold_commit(worktree, args.stack)
            base, head = head, _git("rev-parse", "HEAD", repo=worktree)
        diff = [sys.executable, "-m", "preflight", "diff", "--stack", args.stack, "--program", str(worktree),
                "--base", base, "--json"]
        preview = [sys.executable, "-m", "preflight", "preview", "--stack", args.stack]
        diffs, previews, doc = [], [], {}
        for _ in range(args.runs):
            seconds, result = _timed(diff)
            if result.returncode not in (0, 3):
                sys.exit(f"diff failed ({result.returncode}): {result.stderr.strip()}")
            diffs.append(seconds)
            doc = json.loads(result.stdout)
            seconds, result = _timed(preview)
            if result.returncode not in (0, 1):
                sys.exit(f"preview failed ({result.returncode}): {result.stderr.strip()}")
            previews.append(seconds)
    finally:
        _git("worktree", "remove", "--force", str(worktree))
        shutil.rmtree(folder, ignore_errors=True)
    alarms, drills = doc["alarms"], doc["drills"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"diff of {base[:12]} -> {head[:12]} ({args.stack}): alarms {len(alarms['added'])} added, "
          f"{len(alarms['removed'])} removed, {len(alarms['renamed'])} renamed, {len(alarms['changed'])} changed; "
          f"drills: {drills['unchanged']} with unchanged inputs not rerun, {len(drills['changed'])} verdicts changed")
    for label, times in (("diff", diffs), ("preview", previews)):
        print(f"{label:8} runs {len(times)}  min {min(times):.2f} s  median {statistics.median(times):.2f} s")
    print(f"diff / preview (best of {args.runs}): {min(diffs) / min(previews):.2f}x")


if __name__ == "__main__":
    main()
