"""The preflight's two outputs: a readable summary and the `--json` document."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, TextIO

from preflight.model.stack import Resource, StackModel
from preflight.program.engine import UNKNOWN_OUTPUT
from stackconfig.secrets import set_secret_command

# An output longer than this is cut in the summary (the cost assumptions run to kilobytes).
LONG_OUTPUT = 1000


def component_of(registration: Resource, by_urn: dict[str, Resource]) -> str:
    """The nearest component ancestor's `type name`, or `(stack)` for top-level resources."""
    parent = by_urn.get(registration.parent)
    while parent is not None and parent.custom:
        parent = by_urn.get(parent.parent)
    return f"{parent.type} {parent.name}" if parent else "(stack)"


def document(model: StackModel, violations: list[dict[str, Any]], cost: dict[str, Any]) -> dict[str, Any]:
    return {
        "project": model.project,
        "stack": model.stack,
        "resources": [
            {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent or None, "props": r.props}
            for r in model.resources
        ],
        "outputs": {k: ("<computed>" if v is UNKNOWN_OUTPUT else v) for k, v in model.outputs.items()},
        "violations": violations,
        "cost": cost,
        "secretsBlockingPreview": secrets_blocking_preview(model),
    }


def secrets_blocking_preview(model: StackModel) -> list[dict[str, str]]:
    """Required secrets the stack file does not set: this offline run stood in for them; a real
    `pulumi preview` fails on each until it is set."""
    return [{"key": key, "command": set_secret_command(key.split(":", 1)[1])} for key in model.unset_secrets]


def secrets_section(model: StackModel) -> str:
    blocking = secrets_blocking_preview(model)
    if not blocking:
        return "Secrets: every required secret is set"
    lines = [f"Secrets blocking a real `pulumi preview`: {len(blocking)} required and unset "
             "(this offline run stood in an opaque value)"]
    lines += [f"  {entry['key']}: {entry['command']}" for entry in blocking]
    return "\n".join(lines)


def write_json(doc: dict[str, Any], out: TextIO) -> None:
    json.dump(doc, out, indent=2, sort_keys=False, default=str)
    out.write("\n")


def write_summary(model: StackModel, extra_sections: list[str], out: TextIO, source: str = "offline") -> None:
    by_urn = {r.urn: r for r in model.resources}
    custom = [r for r in model.resources if r.custom]
    mode = "preview" if model.preview else "update"
    out.write(f"Preflight of {model.project} / {model.stack} ({mode} fidelity, {source})\n")
    out.write(f"{len(custom)} resources in {len(model.resources) - len(custom)} components\n\n")
    grouped: dict[str, Counter[str]] = defaultdict(Counter)
    for r in custom:
        grouped[component_of(r, by_urn)][r.type] += 1
    for component in sorted(grouped):
        counts = grouped[component]
        out.write(f"{component}  ({sum(counts.values())})\n")
        for type_, count in sorted(counts.items()):
            out.write(f"    {count:4d}  {type_}\n")
    for section in [*extra_sections, secrets_section(model)]:
        out.write("\n" + section.rstrip() + "\n")
    out.write("\nOutputs\n")
    for name, value in sorted(model.outputs.items()):
        shown = "<computed>" if value is UNKNOWN_OUTPUT else json.dumps(value, default=str)
        if len(shown) > LONG_OUTPUT:
            shown = f"{shown[:LONG_OUTPUT]}... ({len(shown):,} characters; --json shows it whole)"
        out.write(f"    {name}: {shown}\n")


def discovery_section(found: dict[str, Any]) -> str:
    """What discovery took in, and how many of the account's functions it left out (the program's
    `discovery` output)."""
    outside = int(found.get("outsidePrefix") or 0)
    covered = found.get("outsidePrefixCoveredBy")
    fate = (f"contributors of the catch-all fleet group {covered} unless another group lists them" if covered
            else "not alarmed by this stack")
    own = int(found.get("stackOwn") or 0)
    line = (f"Discovery (prefix {found.get('functionPrefix')}): {found.get('accountFunctions')} functions in the "
            f"account, {found.get('joinedGroup')} joined group {found.get('group')}"
            + (f", {own} this stack's own (alarmed by it)" if own else "")
            + f", {outside} outside the prefix")
    return line + (f" ({fate})" if outside else "")


def violations_section(violations: list) -> str:
    """Mandatory first; each with its rule, resource and the fix the rule names."""
    if not violations:
        return "Policy pack: no violations"
    order = {"mandatory": 0, "remediate": 0, "advisory": 1}
    lines = [f"Policy pack: {sum(v.level == 'mandatory' for v in violations)} mandatory, "
             f"{sum(v.level == 'advisory' for v in violations)} advisory"]
    for v in sorted(violations, key=lambda v: (order.get(v.level, 2), v.policy, v.urn)):
        resource = v.urn.split("::")[-1] if v.urn else "(stack)"
        detail = v.message.split("\n", 1)[-1]
        lines.append(f"  [{v.level.upper()}] {v.policy}: {resource}")
        lines.append(f"      {detail}")
    return "\n".join(lines)
