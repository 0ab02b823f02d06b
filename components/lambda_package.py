"""A Lambda deployment package from this repo's own code and its installed dependencies.

The dependencies are pure-Python distributions (checked here), copied file by file from the
environment that runs the program, so packaging needs no network, no pip and no build step, and
the same inputs always give the same archive.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from pathlib import Path

import pulumi

REPO = Path(__file__).resolve().parent.parent


class PackagingError(pulumi.RunError):
    """Reported by Pulumi as one line, without a traceback."""


def _distribution_files(name: str) -> dict[str, pulumi.Asset]:
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise PackagingError(f"the Lambda package needs {name!r}, which is not installed "
                             "(run scripts/setup.sh)") from None
    assets: dict[str, pulumi.Asset] = {}
    for file in distribution.files or []:
        path = str(file)
        if path.startswith("..") or "__pycache__" in path or path.endswith((".pyc", ".pth")) or "/bin/" in path:
            continue
        if path.endswith((".so", ".pyd", ".dylib")):
            raise PackagingError(f"{name} ships a compiled extension ({path}); the Lambda package takes "
                                 "pure-Python distributions only")
        assets[path] = pulumi.FileAsset(str(distribution.locate_file(file)))
    return assets


def lambda_package(packages: Sequence[str], distributions: Sequence[str]) -> pulumi.AssetArchive:
    """`packages`: this repo's top-level package directories; `distributions`: installed ones."""
    assets: dict[str, pulumi.Asset] = {}
    for package in packages:
        for source in sorted((REPO / package).rglob("*.py")):
            assets[str(source.relative_to(REPO))] = pulumi.FileAsset(str(source))
    for name in distributions:
        assets.update(_distribution_files(name))
    return pulumi.AssetArchive(dict(sorted(assets.items())))
