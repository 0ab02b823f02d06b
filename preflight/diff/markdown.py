"""The diff as GitHub-flavoured Markdown, for a pull-request comment and `$GITHUB_STEP_SUMMARY`.

A hidden marker first (how the workflow finds its comment again), a title, the summary line and
table, what needs attention, then one folded table per section. GitHub refuses a comment body of
65,536 characters or more: rows are cut from the end to fit, and a note says how many of which.
"""

from __future__ import annotations

import re
from typing import Any

from preflight.diff.sections import Section, sections, summary_line, summary_rows

LIMIT = 65_535
MARKER = "<!-- hasivu-monitoring diff: {stack} -->"
# What Markdown or HTML would read in a cell's text; a backslash makes each literal (CommonMark:
# any ASCII punctuation may be backslash-escaped; GFM: `\|` keeps a pipe inside a table cell).
SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
NAME = re.compile(r"^[\w./:=+@-]+$")
# The longest note about cut rows, kept free while rows are added.
RESERVE = 600
# Reasons for status 3 listed at the top; the rest are rows of their sections.
ATTENTION = 20


def cell(text: str) -> str:
    return SPECIAL.sub(r"\\\1", text).replace("\n", "<br>")


def code(text: str) -> str:
    """A name in a code span where it is a plain name, else escaped text."""
    return f"`{text}`" if NAME.match(text) else cell(text)


def _row(values: list[str]) -> str:
    return "| " + " | ".join(values) + " |\n"


def _table(columns: list[str], rows: list[list[str]]) -> str:
    return _row(columns) + _row(["---"] * len(columns)) + "".join(_row(r) for r in rows)


def _short(commit: Any) -> str:
    return f" `{commit[:12]}`" if isinstance(commit, str) and re.fullmatch(r"[0-9a-f]{7,64}", commit) else ""


def _side(side: dict[str, Any]) -> str:
    uncommitted = " with uncommitted changes" if side.get("uncommitted") else ""
    return f"{cell(side['label'])}{_short(side['commit'])}{uncommitted}"


def header(doc: dict[str, Any]) -> str:
    base, head = doc["base"], doc["head"]
    lines = [
        MARKER.format(stack=doc["stack"]),
        f"### Monitoring diff: stack `{doc['stack']}`",
        "",
        f"{_side(base)} -> {_side(head)}",
        "",
        f"**{cell(summary_line(doc))}**",
        "",
        _table(["What", "Change"], [[cell(a), cell(b)] for a, b in summary_rows(doc)]),
    ]
    if doc["worse"]:
        lines += ["**Needs attention** (the diff exits with status 3):", ""]
        lines += [f"- {cell(reason)}" for reason in doc["worse"][:ATTENTION]]
        if len(doc["worse"]) > ATTENTION:
            lines.append(f"- and {len(doc['worse']) - ATTENTION} more: the sections below list them")
        lines.append("")
    return "\n".join(lines) + "\n"


def _cells(section: Section, row: list[str]) -> list[str]:
    return [code(row[0]) if section.named else cell(row[0]), *(cell(v) for v in row[1:])]


def markdown(doc: dict[str, Any], limit: int = LIMIT) -> str:
    out = header(doc)
    cut: list[tuple[str, int]] = []
    for section in sections(doc):
        opening = (f"<details><summary>{cell(section.title)} ({len(section.rows)})</summary>\n\n"
                   + _row(section.columns) + _row(["---"] * len(section.columns)))
        closing = "\n</details>\n\n"
        shown: list[str] = []
        size = len(out) + len(opening) + len(closing)
        for row in section.rows:
            line = _row(_cells(section, row))
            if size + len(line) > limit - RESERVE:
                break
            shown.append(line)
            size += len(line)
        if len(shown) < len(section.rows):
            cut.append((section.title, len(section.rows) - len(shown)))
        if shown:
            out += opening + "".join(shown) + closing
    if cut:
        listed = "; ".join(f"{title} {n}" for title, n in cut)
        out += (f"_Cut to stay under GitHub's 65,536-character comment limit; rows not shown: {cell(listed)}. "
                f"`python -m preflight diff --stack {doc['stack']} --json` lists everything._\n")
    return out
