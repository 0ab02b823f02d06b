"""The typed stack config of a run of this project's program, read through `stackconfig` only."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Optional

from stackconfig.errors import PROJECT
from stackconfig.model import StackSettings


def program_settings(project: str, program_globals: Mapping[str, Any]) -> Optional[StackSettings]:
    """The settings the program loaded, as `__main__.py` loads them; None for another project's program.
    Call it inside the program's runtime, after the program ran (its config and invoke answers).
    Read with the program's own `stackconfig` (another checkout's, for the base of a diff), as loaded
    now, so the settings are what that program made of its config: the very object its `__main__.py`
    left in `settings` when that is one, else loaded again."""
    if project != PROJECT:
        return None
    model = importlib.import_module("stackconfig.model")
    kept = program_globals.get("settings")
    if isinstance(kept, getattr(model, "StackSettings", ())):
        return kept
    load = getattr(importlib.import_module("stackconfig"), "load_settings", None)
    discover = getattr(importlib.import_module("stackconfig.discovery"), "account_functions", None)
    if load is None or discover is None:
        return None  # a checkout older than this reading of its config: the tools that need settings say so
    return load(discover=discover)
