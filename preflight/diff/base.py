"""The base of a diff: the program directory as it is at a commit, in a temporary `git worktree`
that is removed on the way out (an error, Ctrl-C or SIGTERM included)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Optional


class BaseError(Exception):
    """The base cannot be checked out (usage error, exit 2)."""


def _git(directory: Path, *args: str) -> str:
    # Hooks are the repository owner's business, not a diff's: a post-checkout hook does not run.
    result = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-C", str(directory), *args],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BaseError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"git {args[0]} failed")
    return result.stdout.strip()


def resolve(program: Path, ref: str) -> tuple[Path, str, Path]:
    """(the repository's top folder, REF's commit, the program's folder inside the repository)."""
    try:
        top = Path(_git(program, "rev-parse", "--show-toplevel"))
    except BaseError:
        raise BaseError(f"--base {ref}: {program} is not in a git repository (use --base-json FILE)") from None
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except BaseError:
        raise BaseError(f"--base {ref}: not a commit of {top} (expected a branch, tag or commit; "
                        "in CI fetch it first, e.g. actions/checkout with fetch-depth: 0)") from None
    return top, commit, program.resolve().relative_to(top.resolve())


def _raise_on_sigterm(signum: int, frame: Optional[FrameType]) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def checkout(program: Path, ref: str) -> Iterator[tuple[Path, str]]:
    """(the program's folder at REF, the commit), checked out for the duration of the block."""
    top, commit, inside = resolve(program, ref)
    folder = Path(tempfile.mkdtemp(prefix="preflight-diff-base-"))
    worktree = folder / "base"
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        _git(top, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        yield worktree / inside, commit
    finally:
        with contextlib.suppress(BaseError):
            _git(top, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(BaseError):
            _git(top, "worktree", "prune")
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
