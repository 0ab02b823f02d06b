"""A generated fleet: the production stack with N functions in the account, most alarmed as a fleet.

The functions are not listed in the stack file (N names inline would pass Linux's 128 KiB limit
for the PULUMI_CONFIG environment string the language host and the engine set): the named
critical groups stay listed, a catch-all fleet group covers the rest, and discovery
(`aws:lambda/getFunctions`) finds them, answered here with the generated names.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from preflight.program.engine import InvokeHandler
from preflight.program.stack_files import StackFiles
from tests.support.stack import PROJECT, stack_files

INVENTORY = f"{PROJECT}:inventory"
CRITICAL_GROUPS = ("payments", "auth")


def function_names(count: int) -> list[str]:
    return [f"hasivu-production-svc{i // 50:03d}-fn{i % 50:02d}" for i in range(count)]


def fleet_files(base: StackFiles | None = None) -> StackFiles:
    """Production's stack file with every group but the critical ones folded into one catch-all fleet."""
    files = base or stack_files()
    inventory: dict[str, Any] = json.loads(files.config[INVENTORY])
    groups = {name: body for name, body in inventory["lambdaGroups"].items() if name in CRITICAL_GROUPS}
    groups["platform"] = {"tier": "warning", "timeoutSeconds": 30, "fleet": True}
    inventory["lambdaGroups"] = groups
    inventory["discovery"] = {"functionPrefix": "hasivu-production-", "group": "platform"}
    return dataclasses.replace(files, config={**files.config, INVENTORY: json.dumps(inventory)})


def account_with(names: list[str]) -> dict[str, InvokeHandler]:
    """The offline answer to `aws:lambda/getFunctions`: these functions exist in the account."""
    return {"aws:lambda/getFunctions:getFunctions": lambda _: {
        "functionNames": names, "functionArns": [f"arn:aws:lambda:ap-south-1:123456789012:function:{n}" for n in names],
        "id": "ap-south-1"}}
