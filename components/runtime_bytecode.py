"""Bytecode for the Lambda python3.12 runtime, compiled into an archive at build time.

Lambda unpacks a layer into /opt, which is read-only: a module without a valid cached .pyc beside
it is compiled from source at every cold start and the result thrown away. So the archive carries
`__pycache__/<module>.cpython-312.pyc` for every module, where the import system looks for it
(`importlib.util.cache_from_source` with the runtime's cache tag).

The bytecode must come from CPython 3.12 itself (the project's own venv may be another Python): the
interpreter is found deterministically - `python3.12` on PATH if it runs, else the newest pyenv
3.12.x - and checked for 3.12's magic number, or the build stops with one line saying what to
install. No silent fallback to a sources-only archive: that would be another archive with
another hash.

The archive stays reproducible (same sources and same 3.12.x -> same bytes; a different 3.12 patch
release may compile differently): the pycs are hash-based (PEP 552), so they record a hash of the
source, never its mtime; `dfile` is the path the source will have in Lambda, never the build
machine's; every file is compiled the same way, in archive order, by one fresh interpreter with a
fixed hash seed and no inherited environment.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import pulumi

CACHE_TAG = "cpython-312"
# Every 3.12 release from 3.12b1 on writes magic 3531: CPython v3.12.1 Lib/importlib/_bootstrap_external.py
# lists "Python 3.12b1 3531 (Add PEP 695 changes)" as the last 3.12 entry and "Python 3.13 will start
# with 3550"; python/cpython main's Include/internal/pycore_magic_number.h (00e7800e) goes from 3531
# straight to 3.13a1's 3550. The import system rejects a pyc whose magic differs (_classify_pyc) and
# compiles the source instead: were a 3.12 maintenance release ever to bump it (3.5.2 did so for
# 3.5), the runtime would run as slowly as without these files, never run mismatched bytecode.
RUNTIME_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"
PYENV_VERSION = re.compile(r"3\.12\.(\d+)")

PROBE = ("import importlib.util, json, sys; print(json.dumps({'executable': sys.executable, 'version': "
         "sys.version.split()[0], 'implementation': sys.implementation.name, 'cache_tag': "
         "sys.implementation.cache_tag, 'magic': importlib.util.MAGIC_NUMBER.hex()}))")
# Runs in the 3.12 interpreter; reads [[source, pyc, dfile], ...] from stdin.
COMPILE = """
import json, py_compile, sys
for source, pyc, dfile in json.load(sys.stdin):
    try:
        # UNCHECKED_HASH: /opt is read-only and a layer version never changes, so the source cannot
        # drift from its pyc; the loader then only stats the source (SourceLoader.get_code) and never
        # reads or hashes it. CHECKED_HASH would read and SipHash every source at each cold start;
        # TIMESTAMP would compare the source's mtime, which is whatever Lambda's unpacking leaves, not
        # the build's, so the pyc would be rejected and the module compiled again.
        py_compile.compile(source, cfile=pyc, dfile=dfile, doraise=True, optimize=0,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as error:
        print(f"{dfile}: {error.exc_type_name}: {error.exc_value}", file=sys.stderr)
        sys.exit(1)
"""


class BytecodeError(pulumi.RunError):
    """Reported by Pulumi (and the preflight) as one line, without a traceback."""


@dataclasses.dataclass(frozen=True)
class Interpreter:
    executable: str
    version: str


def _candidates() -> list[str]:
    """`python3.12` on PATH, then each pyenv root's 3.12.x, newest first. The roots: pyenv's own
    (${PYENV_ROOT:-$HOME/.pyenv}) and the one a pyenv shim on PATH belongs to (<root>/shims/python3.12,
    which fails when the selected pyenv version is not a 3.12, even with 3.12 installed)."""
    on_path = shutil.which("python3.12")
    found = [on_path] if on_path else []
    roots = [Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")]
    if on_path and Path(on_path).parent.name == "shims":
        roots.append(Path(on_path).parent.parent)
    for versions in dict.fromkeys(root / "versions" for root in roots):
        installed = [(int(match.group(1)), path) for path in (versions.iterdir() if versions.is_dir() else [])
                     if (match := PYENV_VERSION.fullmatch(path.name))]
        found += [str(path / "bin" / "python3.12") for _, path in sorted(installed, reverse=True)]
    return list(dict.fromkeys(found))


def _probe(candidate: str) -> tuple[Optional[Interpreter], str]:
    """The interpreter, or why not (a pyenv shim whose selected version lacks python3.12 fails)."""
    try:
        ran = subprocess.run([candidate, "-S", "-c", PROBE], capture_output=True, text=True, timeout=60)
        found = json.loads(ran.stdout) if ran.returncode == 0 else None
    except OSError as error:
        return None, f"{candidate}: {error.strerror}"
    except subprocess.TimeoutExpired:
        return None, f"{candidate}: no answer within 60 s"
    except ValueError:
        return None, f"{candidate}: not a Python (printed {ran.stdout[:60]!r})"
    if found is None:
        first = (ran.stderr.strip().splitlines() or [f"exit status {ran.returncode}"])[0]
        return None, f"{candidate}: {first}"
    if (found["implementation"], found["cache_tag"], found["magic"]) != ("cpython", CACHE_TAG, RUNTIME_MAGIC.hex()):
        return None, f"{candidate} is {found['implementation']} {found['version']}"
    return Interpreter(found["executable"], found["version"]), ""


# What the choice depends on besides the files: where `python3.12` is looked for, where pyenv keeps
# its versions, and how a pyenv shim picks one (PYENV_VERSION, or .python-version files from
# PYENV_DIR or the working directory up).
SEARCH_VARIABLES = ("PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION", "PYENV_DIR")


def _environment() -> tuple[Optional[str], ...]:
    return (os.getcwd(), *(os.environ.get(name) for name in SEARCH_VARIABLES))


# (environment, finding) of the search `find_early` started, if it did.
_early: Optional[tuple[tuple[Optional[str], ...], concurrent.futures.Future[Interpreter]]] = None


def find_early() -> None:
    """Starts the search on a thread of its own, so that the interpreters it starts (a pyenv shim
    alone takes 0.1-0.2 s) run while the program loads; `runtime_interpreter` uses its answer if the
    environment is still the same then, and searches again otherwise."""
    global _early
    if _early is None:
        finding: concurrent.futures.Future[Interpreter] = concurrent.futures.Future()

        def search() -> None:
            try:
                finding.set_result(_search())
            except BaseException as error:  # noqa: BLE001 - handed to whoever asks, as if they had searched
                finding.set_exception(error)

        _early = (_environment(), finding)
        threading.Thread(target=search, name="python3.12 search", daemon=True).start()


@functools.cache
def runtime_interpreter() -> Interpreter:
    if _early is not None and _early[0] == _environment():
        return _early[1].result()
    return _search()


def _search() -> Interpreter:
    rejected = []
    for candidate in _candidates():
        interpreter, why_not = _probe(candidate)
        if interpreter:
            return interpreter
        rejected.append(why_not)
    tried = f" (tried {'; '.join(rejected)})" if rejected else ""
    raise BytecodeError("the runtime layer's bytecode needs CPython 3.12, the Lambda python3.12 runtime's version, "
                        f"as `python3.12` on PATH or in $PYENV_ROOT/versions/3.12.*{tried}: install it, e.g. "
                        "`pyenv install 3.12`")


def pyc_name(module: str) -> str:
    """`python/observability/metrics.py` -> `python/observability/__pycache__/metrics.cpython-312.pyc`."""
    folder, _, file = module.rpartition("/")
    return f"{folder}/__pycache__/{file[:-3]}.{CACHE_TAG}.pyc".lstrip("/")


def compile_step(unpacked_at: str) -> list[str]:
    """What the pycs `compile_bytecode` gives are made of besides the modules' names and sources: the
    interpreter, this compile step, the pyc names and where the modules will be."""
    interpreter = runtime_interpreter()
    return [interpreter.executable, interpreter.version, COMPILE, CACHE_TAG, unpacked_at]


def compile_bytecode(files: Mapping[str, Path | bytes], unpacked_at: str, cache: Path) -> dict[str, Path]:
    """Archive name -> pyc for every module in `files` (modules are files on disk; generated entries
    are metadata); `unpacked_at` is where Lambda puts the archive's contents (/opt for a layer), so
    tracebacks name real paths.

    The pycs are kept in `cache`, in a folder named by everything they are made of (the
    interpreter, this compile step, each module's path and source hash): every later program run
    (each preflight, each test process) reuses them instead of compiling again. Folders appear
    whole (renamed into place) so concurrent builds never see a partial one.
    """
    interpreter = runtime_interpreter()
    modules = sorted(name for name in files if name.endswith(".py"))
    jobs = [(name, files[name], f"{unpacked_at.rstrip('/')}/{name}") for name in modules]
    key = hashlib.sha256(json.dumps([interpreter.executable, interpreter.version, COMPILE, [
        (dfile, hashlib.sha256(Path(str(source)).read_bytes()).hexdigest()) for _, source, dfile in jobs]]).encode())
    done = cache / f"bytecode-{key.hexdigest()}"
    compiled = {pyc_name(name): done / pyc_name(name) for name in modules}
    # Incomplete only if something else deleted files from it (a temp-dir cleaner): compile again.
    if not all(pyc.is_file() for pyc in compiled.values()):
        cache.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=cache, suffix=".partial"))
        _compile(interpreter, [[str(source), str(partial / pyc_name(name)), dfile] for name, source, dfile in jobs])
        shutil.rmtree(done, ignore_errors=True)
        try:
            partial.rename(done)
        except OSError:  # another process put the same folder there meanwhile
            shutil.rmtree(partial)
    return compiled


def _compile(interpreter: Interpreter, jobs: list[list[str]]) -> None:
    # A fixed hash seed and nothing inherited (no PYTHONPATH, PYTHONSTARTUP, -O via PYTHONOPTIMIZE):
    # 3.12's marshal already writes set constants in a sorted order (python/cpython#27926, 3.11), and
    # the fixed hash seed keeps any other hash-ordered step of the compiler from varying between builds.
    try:
        ran = subprocess.run([interpreter.executable, "-S", "-W", "ignore", "-c", COMPILE], input=json.dumps(jobs),
                             capture_output=True, text=True, timeout=600, env={"PYTHONHASHSEED": "0"})
    except subprocess.TimeoutExpired:
        raise BytecodeError(f"Python {interpreter.version} did not compile the Lambda package within 600 s") from None
    if ran.returncode != 0:
        detail = (ran.stderr.strip().splitlines() or [f"exit status {ran.returncode}"])[-1]
        raise BytecodeError(f"Python {interpreter.version} cannot compile the Lambda package: {detail}")
