"""Paths a command writes to, checked before its work: a path it cannot write is one line and exit 2
before minutes of drills or account calls, never a traceback after them."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Optional


def directory_problem(path: Path) -> Optional[str]:
    """Why `path` cannot be the folder a command writes its files into, or None. Nothing is created: the
    command creates the folder once it has something to write, so a run that fails leaves no empty one."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            return os.strerror(errno.ENOENT)
        existing = existing.parent
    if not existing.is_dir():
        return os.strerror(errno.ENOTDIR)
    return None if os.access(existing, os.W_OK | os.X_OK) else os.strerror(errno.EACCES)


def file_problem(path: Path) -> Optional[str]:
    """Why the file `path` cannot be written, or None."""
    if path.is_dir():
        return os.strerror(errno.EISDIR)
    parent = path.parent
    if not parent.is_dir():
        return os.strerror(errno.ENOTDIR if parent.exists() else errno.ENOENT)
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return os.strerror(errno.EACCES)
    return None


def refused(outputs: dict[str, tuple[Optional[Path], bool]]) -> Optional[str]:
    """`outputs`: flag -> (its path or None when not given, whether it names a folder). The first one that
    cannot be written, as the command's one line of error, or None."""
    for flag, (path, folder) in outputs.items():
        if path is None:
            continue
        problem = directory_problem(path) if folder else file_problem(path)
        if problem is not None:
            return f"{flag} {path}: cannot write it: {problem}"
    return None
