"""The diff's pull-request comment, rendered as GitHub renders it (cmark-gfm, GitHub's own fork of
cmark, with its table extension; raw HTML kept for <details>) and opened in headless Chromium: every
table whole, every section's count its rows, and the comment under GitHub's 65,536-character limit."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from preflight.diff.markdown import markdown
from preflight.diff.sections import sections, summary_rows
from tests.support.chromium import dump_dom
from tests.support.program_repo import (
    ORDERS_FUNCTION,
    blunt_razorpay_detection,
    commit,
    diff,
    edit_config,
    edit_source,
    function_entry,
    groups,
    program_repo,
)

# GitHub refuses a comment body of 65,536 characters or more ("Body is too long (maximum is 65536 characters)").
GITHUB_LIMIT = 65_536


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A change with something in most sections: a function added, a threshold changed, an alarm
    renamed, and Razorpay's detection blunted so that the Razorpay drill fails."""
    def change(config: dict[str, Any]) -> None:
        groups(config)["orders"]["functions"].append(ORDERS_FUNCTION)
        function_entry(config, "payments", "hasivu-production-payments-verify")["thresholds"] = {"errorsPerMinute": 3}
        blunt_razorpay_detection(config)

    repo = program_repo(tmp_path_factory.mktemp("diff"))
    edit_config(repo, change)
    edit_source(repo, "components/alarms/business.py", 'metric_key="payment-errors"',
                'metric_key="payment-error-count"')
    commit(repo, "the change")
    result = diff(repo, "--base", "HEAD~1", "--json", "--drills", "drills/razorpay-outage-at-lunch.yaml")
    assert result.returncode == 3, result.stderr
    return json.loads(result.stdout)


class Tables(HTMLParser):
    """The tables of a page as the browser built them: per table, its header cells and each row's cells,
    with the <summary> text of the <details> around it; and the text outside any table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self.summary = ""
        self.outside: list[str] = []
        self._in: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._in.append(tag)
        if tag == "table":
            self.tables.append({"summary": self.summary, "header": [], "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")
        elif tag == "summary":
            self.summary = ""

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            table = self.tables[-1]
            text = "".join(self._cell).strip()
            (table["header"] if tag == "th" else table["rows"][-1]).append(text)
            self._cell = None
        if tag == "tr" and not self.tables[-1]["rows"][-1]:
            self.tables[-1]["rows"].pop()  # the header row
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif "summary" in self._in:
            self.summary += data
        elif "table" not in self._in:
            self.outside.append(data)


def browser_tables(text: str, tmp_path: Path) -> Tables:
    body = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    page = tmp_path / "comment.html"
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>")
    dom = dump_dom(page, tmp_path / "profile")
    assert "<table>" in dom, dom[:500]
    parsed = Tables()
    parsed.feed(dom)
    return parsed


def _whole(tables: Tables) -> None:
    """Every row has its header's cells; each folded section's count is its table's rows; no table
    text leaked out of a table (a broken table renders as a paragraph of pipes)."""
    for table in tables.tables:
        assert table["header"], table
        for row in table["rows"]:
            assert len(row) == len(table["header"]), (table["summary"], row)
        counted = re.search(r"\((\d+)\)$", table["summary"].strip())
        if counted:
            assert int(counted.group(1)) >= len(table["rows"])
    leaked = [t for t in tables.outside if "| ---" in t or t.strip().startswith("|")]
    assert leaked == []


# A value with what Markdown and HTML would read: a pipe, emphasis, a code span, a link, an entity, a tag.
TRICKY = "a|b *c* _d_ `e` [f](g) &amp; <computed> \\ ~~h~~\nsecond line"


def test_the_comment_renders_with_whole_tables(doc: dict[str, Any], tmp_path: Path, chromium: str):
    doc = copy.deepcopy(doc)
    doc["resources"]["changed"].append({"name": "sns TopicPolicy alerts",
                                        "changes": {"policy": ["<computed>", TRICKY]}})
    text = markdown(doc)
    assert len(text) < GITHUB_LIMIT
    tables = browser_tables(text, tmp_path)
    _whole(tables)
    # Every cell reads in the browser as the text it stands for: nothing split at a pipe, nothing
    # turned into emphasis, a link or a tag.
    assert tables.tables[0]["rows"] == summary_rows(doc)
    assert [t["rows"] for t in tables.tables[1:]] == [s.rows for s in sections(doc)]
    assert ["sns TopicPolicy alerts", "policy", "<computed>", TRICKY] in tables.tables[-1]["rows"]
    folded = [t for t in tables.tables if t["summary"]]
    # One summary table, then one folded table per section with rows; each shows all its rows.
    assert len(tables.tables) == len(folded) + 1 == text.count("<details>") + 1
    for table in folded:
        assert int(re.search(r"\((\d+)\)$", table["summary"].strip()).group(1)) == len(table["rows"])
    alarms = next(t for t in folded if t["summary"].startswith("Alarms"))
    renamed = [r for r in alarms["rows"] if r[1] == "renamed"]
    assert renamed == [["production-payments-payment-errors", "renamed", "production-payments-payment-errors",
                        "production-payments-payment-error-count"]]
    added = sorted(r[0] for r in alarms["rows"] if r[1] == "added")
    assert added == sorted(doc["alarms"]["added"]) and len(added) == 4
    drills = next(t for t in folded if t["summary"].startswith("Drills"))
    [(name, before, after, why)] = drills["rows"]
    assert (name, before, after) == ("razorpay-outage-at-lunch", "passed", "failed")
    # The failure text reaches the reader as the drill wrote it: its glob's stars are not emphasis.
    assert why == doc["drills"]["changed"][0]["failures"][0]
    assert why.startswith("fires production-payments-*: ")


def test_a_comment_over_the_limit_is_cut_with_a_note_and_stays_whole(doc: dict[str, Any], tmp_path: Path,
                                                                    chromium: str):
    limit = 4_000
    text = markdown(doc, limit)
    assert len(text) < limit
    note = re.search(r"_Cut to stay under GitHub's 65,536-character comment limit; rows not shown: (.+)\. "
                     r"`python -m preflight diff --stack production --json` lists everything\._\n$", text)
    assert note, text[-400:]
    tables = browser_tables(text, tmp_path)
    _whole(tables)
    cut = {title: int(n) for title, n in re.findall(r"([^;]+) (\d+)(?:; |$)", note.group(1))}
    assert cut
    for table in tables.tables[1:]:
        title, total = re.fullmatch(r"(.+) \((\d+)\)", table["summary"].strip()).groups()
        assert len(table["rows"]) + cut.get(title, 0) == int(total), title


@pytest.mark.slow
def test_the_default_cap_is_under_githubs_limit_for_a_huge_change(doc: dict[str, Any]):
    huge = copy.deepcopy(doc)
    facts = huge["alarms"]["facts"][huge["alarms"]["added"][0]]
    names = [f"production-fleet-{i:05d}-errors" for i in range(5000)]
    huge["alarms"]["added"] = names
    huge["alarms"]["facts"] |= dict.fromkeys(names, facts)
    huge["coverage"]["lost"] = [{"resource": f"lambda {name}", "alarm": "Errors"} for name in names]
    huge["worse"] = [f"coverage lost: lambda {name} no longer has a Errors alarm" for name in names]
    text = markdown(huge)
    assert f"- and {len(names) - 20} more: the sections below list them" in text
    assert len(text) < GITHUB_LIMIT
    total = int(re.search(r"<summary>Alarms \((\d+)\)</summary>", text).group(1))
    section = text.split("<summary>Alarms")[1].split("</details>")[0]
    shown = len(re.findall(r"^\| `production-[\w-]+` \|", section, re.M))
    cut = int(re.search(r"rows not shown: Alarms (\d+)", text).group(1))
    assert shown > 0 and shown + cut == total >= len(names)
