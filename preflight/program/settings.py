"""The typed stack config of a run of this project's program, read through `stackconfig` only."""

from __future__ import annotations

from typing import Optional

from stackconfig import load_settings
from stackconfig.discovery import account_functions
from stackconfig.errors import PROJECT
from stackconfig.model import StackSettings


def program_settings(project: str) -> Optional[StackSettings]:
    """The settings the program loaded, as `__main__.py` loads them; None for another project's program.
    Call it inside the program's runtime, after the program ran (its config and invoke answers)."""
    if project != PROJECT:
        return None
    return load_settings(discover=account_functions)
