"""The `.dist-info` a repo package's own distribution would install, for archives that carry the
package as source (`observability/` in the layer): with it `importlib.metadata.version(
"hasivu-observability")` answers inside Lambda as it does after `pip install ./observability`.

Only what the package's pyproject.toml declares, so it is as reproducible as the sources: METADATA
with the core metadata fields (packaging.python.org, "Core metadata specifications") and
top_level.txt, in the folder the wheel format names `{normalized name}-{version}.dist-info`
(name runs of `-_.` as `_`, lower case). No RECORD or INSTALLER: like the installed distributions'
ones they would describe an installation, not the code (lambda_package drops them too).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path


def dist_info_files(package_dir: Path, prefix: str = "") -> dict[str, bytes]:
    """Archive name -> content; empty when the package is not a distribution of its own."""
    pyproject = package_dir / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    declared = tomllib.loads(pyproject.read_text())
    project = declared["project"]
    folder = f"{prefix}{re.sub(r'[-_.]+', '_', project['name']).lower()}-{project['version']}.dist-info"
    fields = [("Metadata-Version", "2.1"), ("Name", project["name"]), ("Version", project["version"])]
    if "description" in project:
        fields.append(("Summary", project["description"]))
    if "requires-python" in project:
        fields.append(("Requires-Python", project["requires-python"]))
    fields += [("Requires-Dist", requirement) for requirement in project.get("dependencies", [])]
    top_level = declared.get("tool", {}).get("setuptools", {}).get("packages", [package_dir.name])
    return {
        f"{folder}/METADATA": "".join(f"{key}: {value}\n" for key, value in fields).encode(),
        f"{folder}/top_level.txt": "".join(f"{name}\n" for name in top_level).encode(),
    }
