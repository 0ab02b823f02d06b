"""The docs stay true: generated pages match their sources, links resolve, and the wording names
requirements rather than the project's history.

Links are resolved as GitHub renders Markdown: a relative target is a path from the page's folder, and
`#anchor` is a heading's slug (lower case, punctuation other than `-` and `_` dropped, spaces to `-`;
github/cmark-gfm's anchor filter in html-pipeline, `TableOfContentsFilter`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from docs.generate import BEGIN, END, PAGES, alarm_catalogue, production_model, with_region
from preflight.model.stack import build_model
from stackconfig.schema import StackConfig
from tests.support.stack import REPO, run

DOCS = REPO / "docs"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]


def slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(page: Path) -> Iterator[str]:
    text = page.read_text()
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:: not files
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            yield f"{target}: no file {file}"
        elif anchor and file.suffix == ".md" and anchor not in {slug(h) for h in HEADING.findall(file.read_text())}:
            yield f"{target}: no heading with the anchor #{anchor} in {file.name}"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_generated_page_is_what_its_source_gives_now(name):
    committed = (DOCS / name).read_text()
    assert with_region(committed, PAGES[name]()) == committed, f"docs/{name} is stale: run python -m docs.generate"


def test_a_changed_threshold_makes_the_committed_catalogue_stale():
    committed = (DOCS / "alarms.md").read_text()
    changed = build_model(run("production", preview=True, set_={"thresholds": {"api": {"latencyP99Ms": 8000}}}))
    fresh = with_region(committed, alarm_catalogue(changed))
    lines = set(fresh.splitlines()) - set(committed.splitlines())
    assert [line.split(" | ")[0] for line in lines] == ["| `production-api-latency-p99`"]
    assert "| > 8000, 2 of 3; missing data notBreaching |" in next(iter(lines))


def test_the_catalogue_names_every_alarm_the_production_stack_registers():
    text = (DOCS / "alarms.md").read_text()
    model = production_model()
    names = [a.name for a in model.alarms] + [c.name for c in model.composites]
    # 208 metric alarms (170 after the rfid-verification SLO replaced the verification-rate alarm, a
    # "down recently" hold per dependency, and 44 SLO burn-rate windows: 8 for each of the 4
    # request-based SLOs, the 4 ticket windows of the database, Redis and Razorpay; 7 inventory
    # functions and the project's own 2 judged by a low-volume error rate alone have no count of errors
    # a minute) and 38 composites: 27 pagers
    # (10 critical, 14 warning of which 5 hold a scope's SLO tickets, 3 business), the 9 holds between
    # them (the RFID and payment pages have their own, by the dependencies they use) and the 2 status
    # roll-ups (payment system health; system health).
    assert len(names) == 246
    assert [n for n in names if f"| `{n}` |" not in text] == []
    counts = model.output("alarmCountByTier")
    for tier, count in counts.items():
        assert f"| {tier} | {count} |" in text


def _all_keys(model: type[BaseModel], seen: set[type]) -> Iterator[str]:
    """Every key the stack config accepts, from the pydantic models themselves (not their JSON Schema)."""
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        yield field.alias or name
        for cls in _models(field.annotation):
            yield from _all_keys(cls, seen)


def _models(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _models(arg)
    for meta in getattr(annotation, "__metadata__", ()) or ():
        yield from _models(getattr(meta, "json_schema_input_type", None))


def test_the_config_reference_lists_every_key_the_schema_accepts():
    text = (DOCS / "config.md").read_text()
    keys = set(_all_keys(StackConfig, set()))
    assert {"functionPrefix", "errorsPerMinute", "retentionDays", "workspaceId", "latencyP99Ms"} <= keys
    listed = set(re.findall(r"\| `(?:[\w<>\[\].]*\.)?(\w+)` \|", text))
    assert sorted(keys - listed) == []


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_the_policy_page_shows_the_level_each_stack_file_sets(stack):
    text = (DOCS / "policy.md").read_text()
    table = text[text.index("| policy | checks each |"):].split("\n\n")[0].splitlines()
    column = table[0].split(" | ").index(f"{stack} level")
    rows = {line.split(" | ")[0]: line.split(" | ") for line in table[2:]}
    for policy, setting in json.loads((REPO / "policy" / "config" / f"{stack}.json").read_text()).items():
        level = setting if isinstance(setting, str) else setting["enforcementLevel"]
        assert rows[f"| `{policy}`"][column] == level, policy


def test_a_page_without_the_markers_is_refused_and_text_outside_them_is_kept():
    with pytest.raises(ValueError, match="expected the markers"):
        with_region("# a page\n", "generated")
    page = f"# title\n\nprose\n{BEGIN}\nold\n{END}\n\nmore prose\n"
    assert with_region(page, "new") == f"# title\n\nprose\n{BEGIN}\nnew\n{END}\n\nmore prose\n"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_points_at_an_existing_file_and_heading(page):
    assert list(broken_links(page)) == []


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## Known heading\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#known-heading) [gone](gone.md) [bad](other.md#unknown) [web](https://x.org)\n"
                    "![picture](other.md)\n")
    assert [b.split(":")[0] for b in broken_links(page)] == ["gone.md", "other.md#unknown"]


# The repository's folders: a word starting with one of them and a slash is a path in the repository.
FOLDERS = ("bench", "cloudwatch-rules", "components", "docs", "drills", "observability", "policy", "preflight",
           "scripts", "stackconfig", "tests", ".github", ".ci")
REPO_PATH = re.compile(r"(?<![\w/.-])(?:{})/[^\s`'\"()\[\],;:|]*".format("|".join(map(re.escape, FOLDERS))))


def repo_paths(text: str) -> set[str]:
    """The repository paths a text names; placeholders (`<name>`, `*`, `...`) are patterns, not paths."""
    found = (m.group(0).split("#")[0].rstrip(".") for m in REPO_PATH.finditer(text))
    return {p for p in found if not re.search(r"[<>*]|\.\.\.", p)}


# Files a recipe tells the reader to write.
TO_BE_WRITTEN = {"drills/orders-create-failing-at-lunch.yaml"}


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_path_of_the_repository_a_page_names_exists(page):
    named = repo_paths(page.read_text()) - TO_BE_WRITTEN
    assert sorted(p for p in named if not (REPO / p).exists()) == []


def test_the_path_check_reads_paths_in_prose_code_and_commands():
    text = "see `preflight/cli.py`, run venv/bin/python bench/scale.py; not tests/x/<name>.py nor tests/*.py"
    assert repo_paths(text) == {"preflight/cli.py", "bench/scale.py"}


# The drill key `seed:` and Python's hash seed are randomness, not the project's history.
ALLOWED_SEED = re.compile(r"hash seed|`seed:?`|^seed: 0|random-number seed|drill's `seed`", re.M)
HISTORY = re.compile(r"\bseed\b|\bissue \d+|#\d+\b|\bfinding \d+|a run just before|before the program set", re.I)


def _prose(text: str) -> str:
    """The page without its generated region, whose wording is its source's."""
    head, begin, rest = text.partition(BEGIN)
    return head + rest.partition(END)[2] if begin else text


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_docs_name_the_requirement_not_the_history(page):
    text = ALLOWED_SEED.sub("", _prose(page.read_text()))
    assert HISTORY.findall(text) == []


def test_generated_pages_name_the_requirement_not_the_history():
    found = []
    for name in PAGES:
        text = (DOCS / name).read_text()
        found += HISTORY.findall(ALLOWED_SEED.sub("", text.partition(BEGIN)[2].partition(END)[0]))
    assert found == []
