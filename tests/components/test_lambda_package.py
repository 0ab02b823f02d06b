"""Reproducible Lambda archives: the same code and dependency versions give
the same archive hash from any machine, whatever the venv is called, which installer wrote it, or
what timestamps, permissions and bytecode caches its files have; the layer's python3.12 bytecode
included, compiled by the build from the archived sources."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from components import lambda_package
from components.lambda_package import BuiltArchive, PackagingError, distribution_files, package_files, write_zip
from components.runtime_bytecode import pyc_name
from components.runtime_layer import LAYER_DISTRIBUTIONS, LAYER_ROOT
from tests.support.stack import REPO


def _clone_environment(root: Path, site_name: str, installer: str, mode: int, mtime: int) -> tuple[Path, Path]:
    """A copy of this repo's `observability/` and of the layer's installed distributions, as another
    machine's checkout and venv would hold them: other paths, installer, caches, times and modes."""
    repo, site = root / "checkout", root / site_name
    shutil.copytree(REPO / "observability", repo / "observability",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in LAYER_DISTRIBUTIONS:
        files = distribution_files(name)
        for relative, source in files.items():
            target = site / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        info = site / next(r for r in files if r.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        (info / "INSTALLER").write_text(installer + "\n")
        (info / "direct_url.json").write_text(f'{{"url": "file://{root}/wheels/{name}.whl"}}')
        # RECORD as each installer writes it: its own order, script paths and caches.
        listed = [*sorted(files, reverse=installer == "uv"), f"../../../bin/{name}-{installer}",
                  f"{info.name}/INSTALLER", f"{info.name}/RECORD"]
        (info / "RECORD").write_text("".join(f"{line},,\n" for line in listed))
    for tree in (repo, site):
        cache = tree / "observability" / "__pycache__" if tree == repo else tree / "jmespath" / "__pycache__"
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "x.cpython-311.pyc").write_bytes(os.urandom(16))
        for path in tree.rglob("*"):
            if path.is_file():
                path.chmod(mode)
                os.utime(path, (mtime, mtime))
    return repo, site


def _build(repo: Path, site: Path, out: Path, bytecode_root: str | None = None) -> BuiltArchive:
    return write_zip(package_files(["observability"], LAYER_DISTRIBUTIONS, "python/", repo=repo,
                                   search_path=[str(site)]), out, bytecode_root)


@pytest.fixture(scope="module")
def two_layers(tmp_path_factory) -> tuple[BuiltArchive, BuiltArchive]:
    """The layer, bytecode included, built from two differently built environments; each build runs
    under another inherited hash seed, which the compile step must not pass on."""
    root = tmp_path_factory.mktemp("layers")
    repo_a, site_a = _clone_environment(root / "dev-qx7", "venv-a7q/lib/python3.11/site-packages", "pip",
                                        0o644, 1_600_000_000)
    repo_b, site_b = _clone_environment(root / "ci-zz9", ".venv-b3w/lib/site-packages", "uv", 0o755,
                                        1_800_000_000)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PYTHONHASHSEED", "1")
        a = _build(repo_a, site_a, root / "out-a", LAYER_ROOT)
        env.setenv("PYTHONHASHSEED", "2")
        b = _build(repo_b, site_b, root / "out-b", LAYER_ROOT)
    return a, b


@pytest.mark.slow
def test_same_code_and_versions_give_the_same_archive_from_differently_built_environments(two_layers):
    a, b = two_layers
    assert a.sha256 == b.sha256 and a.path.read_bytes() == b.path.read_bytes()
    with zipfile.ZipFile(a.path) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644}
        content = b"".join(archive.read(n) for n in names)
    assert not [n for n in names if n.rsplit("/", 1)[-1] in ("RECORD", "INSTALLER", "direct_url.json", "WHEEL")]
    # The venvs' own caches (the planted cpython-311 files) stay out; the only bytecode is the
    # runtime's, one file per module where the import system looks for it.
    modules = [n for n in names if n.endswith(".py")]
    assert sorted(n for n in names if n.endswith(".pyc")) == sorted(pyc_name(n) for n in modules)
    assert "python/observability/__pycache__/metrics.cpython-312.pyc" in names
    for machine_specific in (b"dev-qx7", b"ci-zz9", b"venv-a7q", b"venv-b3w"):
        assert machine_specific not in content
    assert "python/observability/metrics.py" in names and "python/aws_xray_sdk/__init__.py" in names
    # wrapt's optional C extension stays out: its pure-Python fallback serves arm64 and x86_64.
    assert not [n for n in names if n.endswith((".so", ".c"))]


def test_a_changed_source_changes_the_hash(tmp_path):
    repo, site = _clone_environment(tmp_path / "m", "site", "pip", 0o644, 1_700_000_000)
    before = _build(repo, site, tmp_path / "out")
    metrics = repo / "observability" / "metrics.py"
    metrics.write_text(metrics.read_text() + "\n# changed\n")
    assert _build(repo, site, tmp_path / "out").sha256 != before.sha256


def test_a_changed_source_gets_new_bytecode_not_the_cached_one(tmp_path):
    repo = tmp_path / "checkout"
    shutil.copytree(REPO / "observability", repo / "observability",
                    ignore=shutil.ignore_patterns("__pycache__"))

    def layer_pycs() -> dict[str, bytes]:
        built = write_zip(package_files(["observability"], [], "python/", repo=repo), tmp_path / "out", LAYER_ROOT)
        with zipfile.ZipFile(built.path) as archive:
            return {n: archive.read(n) for n in archive.namelist() if n.endswith(".pyc")}

    before = layer_pycs()
    assert layer_pycs() == before  # the cache in the archive folder gives the same bytes
    metrics = repo / "observability" / "metrics.py"
    metrics.write_text(metrics.read_text() + "\nCHANGED = True\n")
    after = layer_pycs()
    changed = "python/observability/__pycache__/metrics.cpython-312.pyc"
    assert after[changed] != before[changed]
    assert {n: b for n, b in after.items() if n != changed} == {n: b for n, b in before.items() if n != changed}


def _no_zip_written(*args, **kwargs):
    raise AssertionError("the archive was written again")


@pytest.mark.slow
def test_an_archive_built_before_is_reused_and_has_the_bytes_of_a_fresh_build(tmp_path, monkeypatch):
    repo, site = _clone_environment(tmp_path / "m", "site", "pip", 0o644, 1_700_000_000)
    cache = tmp_path / "cache"
    first = _build(repo, site, cache, LAYER_ROOT)
    with monkeypatch.context() as no_zip:
        no_zip.setattr(lambda_package.zipfile, "ZipFile", _no_zip_written)
        again = _build(repo, site, cache, LAYER_ROOT)
    assert again == first
    # Built afresh: the archive and its key gone (the compiled bytecode, cached on its own, stays).
    content = first.path.read_bytes()
    for built in [first.path, *cache.glob("archive-*")]:
        built.unlink()
    fresh = _build(repo, site, cache, LAYER_ROOT)
    assert fresh == first and fresh.path.read_bytes() == content

    # A changed source is another archive, the one a fresh build of the changed sources gives.
    before = _build(repo, site, cache)
    metrics = repo / "observability" / "metrics.py"
    metrics.write_text(metrics.read_text() + "\nCHANGED = True\n")
    changed = _build(repo, site, cache)
    fresh = _build(repo, site, tmp_path / "empty")
    assert changed.sha256 != before.sha256
    assert (changed.sha256, changed.path.read_bytes()) == (fresh.sha256, fresh.path.read_bytes())


def test_a_damaged_or_removed_archive_is_built_again_not_reused(tmp_path):
    repo, site = _clone_environment(tmp_path / "m", "site", "pip", 0o644, 1_700_000_000)
    first = _build(repo, site, tmp_path / "cache")
    content = first.path.read_bytes()
    first.path.write_bytes(content[:-100])
    assert _build(repo, site, tmp_path / "cache") == first and first.path.read_bytes() == content
    first.path.unlink()  # a temp-folder cleaner
    assert _build(repo, site, tmp_path / "cache") == first and first.path.read_bytes() == content


def test_packaging_refuses_compiled_or_missing_distributions():
    with pytest.raises(PackagingError, match="grpcio ships a compiled extension"):
        distribution_files("grpcio")
    with pytest.raises(PackagingError, match="'no-such-dist', which is not installed"):
        distribution_files("no-such-dist")
