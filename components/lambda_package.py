"""Reproducible Lambda archives (function code and layers) from this repo's own code and its
installed dependencies.

The dependencies are pure-Python distributions (checked here), copied file by file from the
environment that runs the program, so packaging needs no network, no pip and no build step. The
same code and dependency versions give the same archive, byte for byte, from any machine: only the
importable files and their METADATA go in (no RECORD, INSTALLER, REQUESTED, direct_url.json or
WHEEL, which describe the build venv, installer and platform; none of the venv's `__pycache__`,
which holds another Python's bytecode or none), entries are sorted, every entry has the same
timestamp and permissions, and entries are stored uncompressed so no zlib version can change the
bytes. This repo's packages that are distributions of their own get the dist-info `pip install`
would leave (`dist_info`). An archive for a read-only place (a layer's /opt) also carries bytecode
for the runtime's Python, compiled from the archived sources by `runtime_bytecode`. The archive's
SHA-256 is handed to Lambda as `sourceCodeHash`, so only a real change redeploys.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import importlib.metadata
import os
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

import pulumi

from components.dist_info import dist_info_files
from components.runtime_bytecode import compile_bytecode, compile_step, find_early

# A program that imports this builds archives with bytecode: python3.12 is looked for meanwhile.
find_early()

REPO = Path(__file__).resolve().parent.parent
# Zip's epoch; what the archive says about every entry, whatever the files on disk say.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
# Metadata about the build environment, not the code: written by the installer (RECORD, INSTALLER,
# REQUESTED, direct_url.json) or naming the wheel's platform tag (WHEEL: wrapt's differs per machine).
INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL"})
# Distributions whose compiled extension is optional: without it they run their pure-Python code
# (wrapt falls back when `wrapt._wrappers` cannot be imported).
OPTIONAL_EXTENSIONS = frozenset({"wrapt"})
COMPILED = (".so", ".pyd", ".dylib")
# How write_zip lays entries out; a change to it must change every archive key (`_archive_key`).
ARCHIVE_FORMAT = (1, FIXED_DATE_TIME, FILE_MODE, zipfile.ZIP_STORED)


class PackagingError(pulumi.RunError):
    """Reported by Pulumi as one line, without a traceback."""


@dataclasses.dataclass(frozen=True)
class BuiltArchive:
    path: Path
    # Base64 SHA-256 of the zip: the form of Lambda's CodeSha256 and of `sourceCodeHash`.
    sha256: str

    def archive(self) -> pulumi.FileArchive:
        return pulumi.FileArchive(str(self.path))


def _find(name: str, search_path: Optional[Sequence[str]]) -> importlib.metadata.Distribution:
    found: Optional[importlib.metadata.Distribution] = None
    if search_path is None:
        try:
            found = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    else:
        found = next(iter(importlib.metadata.distributions(name=name, path=list(search_path))), None)
    if found is None:
        raise PackagingError(f"the Lambda package needs {name!r}, which is not installed (run scripts/setup.sh)")
    return found


def _kept(path: str) -> bool:
    # The venv's own caches stay out: their bytecode is the build venv's Python's (or stale); the
    # runtime's is compiled from the archived sources (write_zip's `bytecode_root`).
    parts = path.split("/")
    return not (path.startswith("..") or "__pycache__" in parts or path.endswith((".pyc", ".pth", ".c"))
                or "bin" in parts[:-1] or (parts[-1] in INSTALL_RECORDS and parts[0].endswith(".dist-info")))


def distribution_files(name: str, search_path: Optional[Sequence[str]] = None) -> dict[str, Path]:
    """Archive name -> file for one installed distribution (`search_path`: where to look, default sys.path)."""
    distribution = _find(name, search_path)
    files: dict[str, Path] = {}
    for file in distribution.files or []:
        path = str(file).replace(os.sep, "/")
        if not _kept(path):
            continue
        if path.endswith(COMPILED):
            if distribution.metadata["Name"].lower() in OPTIONAL_EXTENSIONS:
                continue
            raise PackagingError(f"{name} ships a compiled extension ({path}); the Lambda package takes "
                                 "pure-Python distributions only")
        files[path] = Path(str(distribution.locate_file(file)))
    return files


def source_files(packages: Sequence[str], repo: Path = REPO) -> dict[str, Path]:
    """The packages' modules, without what `pip install ./observability` leaves behind (build/, *.egg-info)."""
    found = {}
    for package in packages:
        for source in sorted((repo / package).rglob("*.py")):
            inner = source.relative_to(repo / package).parts
            if not any(part in ("__pycache__", "build") or part.endswith(".egg-info") for part in inner):
                found[str(source.relative_to(repo)).replace(os.sep, "/")] = source
    return found


def write_zip(files: Mapping[str, Path | bytes], directory: Optional[Path] = None,
              bytecode_root: Optional[str] = None) -> BuiltArchive:
    """The archive, content-addressed in `directory` (default: a folder in the system's temp dir).
    `bytecode_root`: where Lambda unpacks it (/opt for a layer); given, the archive also holds the
    runtime Python's bytecode for every module, compiled for the paths the modules will have there
    (and cached in `directory`). An archive of the same entries built before, by any process, is
    reused: every preview builds the same two archives, and writing them costs more than hashing
    their contents."""
    directory = directory or Path(tempfile.gettempdir()) / "hasivu-lambda-archives"
    contents = {name: content if isinstance(content, bytes) else content.read_bytes()
                for name, content in files.items()}
    compiled = compile_step(bytecode_root) if bytecode_root is not None else None
    key = directory / f"archive-{_archive_key(contents, compiled)}.sha256"
    built = _cached(key)
    if built is not None:
        return built
    if bytecode_root is not None:
        contents.update({name: pyc.read_bytes()
                         for name, pyc in compile_bytecode(files, bytecode_root, directory).items()})
    directory.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=directory, suffix=".partial")
    with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(contents):
            entry = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            entry.create_system = 3  # Unix, so the permission bits below are honoured
            entry.external_attr = FILE_MODE << 16
            archive.writestr(entry, contents[name])
    digest = hashlib.sha256(Path(partial).read_bytes()).digest()
    final = directory / f"{digest.hex()}.zip"
    os.replace(partial, final)
    # Written after the archive, and whole (renamed into place): a key names only a complete archive.
    handle, partial = tempfile.mkstemp(dir=directory, suffix=".partial")
    with os.fdopen(handle, "w") as index:
        index.write(digest.hex())
    os.replace(partial, key)
    return BuiltArchive(final, base64.b64encode(digest).decode())


def _archive_key(contents: Mapping[str, bytes], compiled: Optional[list[str]]) -> str:
    """Everything the archive's bytes are made of: each entry's name and content, in archive order;
    how entries are written (this module's constants, the zip writer's Python); and, for an archive
    with bytecode, how the modules are compiled (`compile_step`: the pycs follow from that and the
    modules, as `compile_bytecode`'s own cache has it), so a reused archive needs no compiling."""
    key = hashlib.sha256(repr((ARCHIVE_FORMAT, sys.version_info[:2], compiled)).encode())
    for name in sorted(contents):
        key.update(name.encode() + b"\0" + hashlib.sha256(contents[name]).digest())
    return key.hexdigest()


def _cached(key: Path) -> Optional[BuiltArchive]:
    """The archive a build with the same key wrote, if it is still there as written: the zip is
    named by its SHA-256, checked again here (reading 16 MB is cheap; writing the zip is not)."""
    try:
        expected = bytes.fromhex(key.read_text())
        path = key.parent / f"{expected.hex()}.zip"
        digest = hashlib.sha256(path.read_bytes()).digest()
    except (OSError, ValueError):
        return None
    return BuiltArchive(path, base64.b64encode(digest).decode()) if digest == expected else None


def package_files(packages: Sequence[str], distributions: Sequence[str], prefix: str = "", repo: Path = REPO,
                  search_path: Optional[Sequence[str]] = None) -> dict[str, Path | bytes]:
    """`packages`: this repo's top-level package directories (with the dist-info of those that are
    distributions of their own); `distributions`: installed ones; `prefix`: the folder inside the
    archive (`python/` for a layer)."""
    files: dict[str, Path | bytes] = {**source_files(packages, repo)}
    for package in packages:
        files.update(dist_info_files(repo / package))
    for name in distributions:
        files.update(distribution_files(name, search_path))
    return {f"{prefix}{name}": path for name, path in files.items()}


def lambda_package(packages: Sequence[str], distributions: Sequence[str], prefix: str = "",
                   bytecode_root: Optional[str] = None) -> BuiltArchive:
    return _built(tuple(packages), tuple(distributions), prefix, bytecode_root)


@functools.cache
def _built(packages: tuple[str, ...], distributions: tuple[str, ...], prefix: str,
           bytecode_root: Optional[str]) -> BuiltArchive:
    """Once per program run (a `pulumi up` is one process): the tests run the program many times."""
    return write_zip(package_files(packages, distributions, prefix), bytecode_root=bytecode_root)
