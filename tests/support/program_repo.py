"""A copy of this repository's program in a git repository of its own, edited as a user would, and
`python -m preflight diff` run on it: the helpers of the diff tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.support.stack import PROJECT, REPO

# What a copy of the program needs: its entry point, project and stack files, and its own packages.
PROGRAM = ("__main__.py", "Pulumi.yaml", "Pulumi.production.yaml", "components", "stackconfig", "observability")
GIT = ["git", "-c", "user.name=diff test", "-c", "user.email=diff@example.com", "-c", "init.defaultBranch=main"]
ORDERS_FUNCTION = "hasivu-production-orders-refund"


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def program_repo(tmp_path: Path) -> Path:
    """A copy of the program in a git repository of its own, committed once (the base)."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in PROGRAM:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    git(root, "init", "-q")
    commit(root, "base")
    return root


def edit_config(repo: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edits Pulumi.production.yaml's config as a user would (the values, not the comments)."""
    path = repo / "Pulumi.production.yaml"
    doc = yaml.safe_load(path.read_text())
    change(doc["config"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def edit_source(repo: Path, relative: str, old: str, new: str) -> None:
    path = repo / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{relative} no longer has {old!r}: update this test's edit"
    path.write_text(text.replace(old, new))


def diff(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m preflight diff` as a user runs it, from this repository, on the copy."""
    return subprocess.run(
        [sys.executable, "-m", "preflight", "diff", "--stack", "production", "--program", str(repo), *args],
        cwd=REPO, capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(REPO)})


def diff_json(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = diff(repo, "--json", *args)
    assert result.returncode in (0, 3), result.stderr
    return result.returncode, json.loads(result.stdout)


def blunt_razorpay_detection(config: dict[str, Any]) -> None:
    """A change that makes the Razorpay drill fail: the payment errors alarms blunted (the count and the
    rate), and the health monitor's gateway probe and the payment-success SLO switched off (its
    connectivity alarm would still catch the outage in 2 minutes, the SLO's burn-rate page within 5)."""
    business = config[f"{PROJECT}:thresholds"].setdefault("business", {})
    business["paymentErrorsPer5min"] = 100000
    business["paymentErrorRateMinErrors"] = 100000
    config[f"{PROJECT}:healthMonitor"]["paymentGatewayUrl"] = None
    config.setdefault(f"{PROJECT}:slos", {})["paymentSuccess"] = {"enabled": False}


def groups(config: dict[str, Any]) -> dict[str, Any]:
    return config[f"{PROJECT}:inventory"]["lambdaGroups"]


def function_entry(config: dict[str, Any], group: str, name: str) -> dict[str, Any]:
    """The function's entry in its group, turned into a mapping where it is a bare name."""
    functions = groups(config)[group]["functions"]
    index = next(i for i, f in enumerate(functions) if f == name or (isinstance(f, dict) and f["name"] == name))
    if isinstance(functions[index], str):
        functions[index] = {"name": name}
    return functions[index]


