"""`--functions FILE`: the account's Lambda function names, one a line, checked as Lambda checks them.

The name rule is the Lambda API's (botocore's lambda service-2.json, shape `FunctionName`: a name
of letters, digits, hyphens and underscores, `[a-zA-Z0-9-_]+`, at most 64 characters when given
without an ARN). A full function ARN (shape `FunctionArn`, optionally with a version or alias) is
taken as the name it ends in, as ListFunctions would list it; any other form is refused.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from preflight.program.stack_files import ProgramError

MAX_NAME = 64
NAME = re.compile(rf"[a-zA-Z0-9_-]{{1,{MAX_NAME}}}")


@functools.cache
def _arn_pattern() -> re.Pattern[str]:
    """Lambda's own FunctionArn pattern, from the botocore in this venv (no network); imported here, so
    that a preview without a function list does not pay for botocore."""
    from botocore.loaders import create_loader

    model = create_loader().load_service_model("lambda", "service-2")
    return re.compile(model["shapes"]["FunctionArn"]["pattern"])


def function_name(line: str) -> str | None:
    """The function a line names, or None when Lambda would not take it as a name or function ARN."""
    if NAME.fullmatch(line):
        return line
    if _arn_pattern().fullmatch(line):
        name = line.split(":function:", 1)[1].split(":", 1)[0]
        return name if NAME.fullmatch(name) else None
    return None


def arn_region(line: str) -> str | None:
    """The Region of a function ARN (arn:<partition>:lambda:<region>:...), None for a bare name."""
    parts = line.split(":")
    return parts[3] if line.startswith("arn:") and len(parts) > 3 else None


def read_function_names(path: Path, region: str) -> list[str]:
    """The names in the file; one line naming the file, line and value for anything else, and for an
    ARN of another Region (the stack's `getFunctions` lists only its own Region's functions)."""
    try:
        # utf-8-sig: a byte-order mark, as editors on Windows write, is not part of the first name.
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ProgramError(f"--functions {path}: {getattr(error, 'strerror', None) or error}") from None
    names = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        name = function_name(text)
        if name is None:
            raise ProgramError(
                f"--functions {path}, line {number}: got {text[:80]!r}; expected one Lambda function name a line "
                f"(1-{MAX_NAME} letters, digits, hyphens or underscores) or a function ARN "
                "(arn:aws:lambda:<region>:<account>:function:<name>)")
        if (arn_in := arn_region(text)) not in (None, region):
            raise ProgramError(
                f"--functions {path}, line {number}: got a function of Region {arn_in!r}; expected "
                f"functions of the stack's Region {region!r} (aws:region), the only ones discovery lists")
        names.append(name)
    if not names:
        raise ProgramError(f"--functions {path}: no function names in the file; expected one Lambda function name "
                           "a line (the account's functions, which discovery would find)")
    return names
