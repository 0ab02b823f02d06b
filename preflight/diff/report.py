"""The diff as text for a terminal: the summary, what needs attention, each section's rows."""

from __future__ import annotations

from typing import Any

from preflight.diff.sections import sections, summary_line, summary_rows


def text_report(doc: dict[str, Any]) -> str:
    base, head = doc["base"], doc["head"]
    lines = [f"Monitoring diff of stack {doc['stack']}: {base['label']} -> {head['label']}",
             summary_line(doc), ""]
    width = max(len(label) for label, _ in summary_rows(doc))
    lines += [f"  {label.ljust(width)}  {change}" for label, change in summary_rows(doc)]
    if doc["worse"]:
        lines += ["", "Needs attention (exit status 3):"] + [f"  {reason}" for reason in doc["worse"]]
    for section in sections(doc):
        lines += ["", f"{section.title} ({' | '.join(section.columns)})"]
        for row in section.rows:
            lines.append("  " + " | ".join(v.replace("\n", "; ") for v in row if v))
    return "\n".join(lines) + "\n"
