"""The Slack forwarder's archive runs on its own: Lambda unpacks it into /var/task, first on sys.path, and
imports the handler from there, with only the runtime's own packages (boto3) beside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.stack import of_type, props, run


def _forwarder() -> dict:
    [function] = [r for r in of_type(run(), "aws:lambda/function:Function") if "slack" in r.name]
    return props(function)


def test_the_handler_imports_from_its_archive_alone(tmp_path: Path) -> None:
    function = _forwarder()
    for name, asset in function["code"]["assets"].items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset["path"], target)
    module, handler = function["handler"].rsplit(".", 1)
    probe = (f"import importlib, sys; m = importlib.import_module({module!r}); "
             f"assert callable(getattr(m, {handler!r})); "
             "print('\\n'.join(sorted(v.__file__ for k, v in sys.modules.items() if k.startswith('observability'))))")
    # As Lambda runs it: the archive's folder first on the path, the repository nowhere on it.
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert {Path(f).name for f in loaded} == {"__init__.py", "page_causes.py", "slack_forwarder.py"}
    assert all(Path(f).is_relative_to(tmp_path) for f in loaded), loaded
