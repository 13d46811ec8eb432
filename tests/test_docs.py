"""The project's own pages under docs/ stay true to the code that cites them.

Code, SQL, configuration and tests cite a page as ``docs/<page>.md``, and a section of it
by its heading in quotes right after the path: ``docs/warning-rules.md, "Verification
deadlines"``. Every cited page must exist and every cited section must be a heading of it;
the feed table of docs/feeds.md lists exactly the feeds of the registry, and the category
table of docs/warning-rules.md exactly the categories of the rules, with their labels.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.alerts.rules import load_rules
from pipeline.feeds.registry import load_registry

PROJECT = Path(__file__).resolve().parent.parent
DOCS = PROJECT / "docs"
# Where citations live; README.md links the pages, and the pages cite one another.
CITING = ("pipeline", "sql", "config", "tests", "docs")
SUFFIXES = {".py", ".sql", ".yaml", ".yml", ".json", ".md", ".j2"}
# A cited page, and the section quoted right after it (the line may wrap before or inside
# the quotes, in a comment too).
CITATION = re.compile(
    r"docs/(?P<page>[a-z0-9][a-z0-9_-]*\.md)"
    r'(?:`?,\s*(?:(?:#|--)\s*)?"(?P<section>[^"]{1,80})")?'
)
COMMENT_LEADER = re.compile(r"\n\s*(?:#|--)?")
HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def _citing_files() -> list[Path]:
    files = [PROJECT / "README.md"]
    for folder in CITING:
        files += sorted(
            path
            for path in (PROJECT / folder).rglob("*")
            if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts
        )
    return files


def _citations() -> list[tuple[str, str, str | None]]:
    """(file, page, section or None) for every citation of a docs page."""
    found = []
    for path in _citing_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            where = f"{path.relative_to(PROJECT)}:{text.count(chr(10), 0, match.start()) + 1}"
            section = match["section"]
            if section is not None:
                section = " ".join(COMMENT_LEADER.sub(" ", section).split())
            found.append((where, match["page"], section))
    return found


def _headings(page: Path) -> set[str]:
    """The headings of a Markdown page, code blocks left out."""
    headings, in_code = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code and (match := HEADING.match(line)):
            headings.add(match["text"])
    return headings


def _table_under(page: Path, heading: str) -> list[list[str]]:
    """The rows (cells, stripped) of the first table after ``heading``, header row and
    separator left out."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next(
        (n for n, line in enumerate(lines) if (m := HEADING.match(line)) and m["text"] == heading),
        None,
    )
    assert start is not None, f"{page.name} has no heading {heading!r}"
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if HEADING.match(line):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    assert len(rows) > 2, f"{page.name}, {heading!r}: no table"
    return rows[2:]


CITATIONS = _citations()


def test_the_code_cites_the_pages():
    pages = {page for _, page, _ in CITATIONS}
    assert {"warning-rules.md", "outputs.md", "feeds.md"} <= pages


@pytest.mark.parametrize(
    ("where", "page", "section"), CITATIONS, ids=[f"{w} {p}" for w, p, _ in CITATIONS]
)
def test_every_cited_page_and_section_exists(where, page, section):
    path = DOCS / page
    assert path.is_file(), f"{where} cites docs/{page}, which does not exist"
    if section is not None:
        assert section in _headings(path), (
            f'{where} cites docs/{page}, "{section}", which is no heading of that page'
        )


def test_no_page_cites_the_documents_a_clone_does_not_have():
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text, page.name
        assert "../domain" not in text, page.name
        assert "../contracts" not in text, page.name


def test_the_feed_table_lists_every_feed_of_the_registry():
    rows = _table_under(DOCS / "feeds.md", "The feeds")
    listed = {row[0].strip("`"): row for row in rows}
    registry = load_registry()
    assert set(listed) == set(registry)
    for feed, spec in registry.items():
        row = listed[feed]
        assert row[1] == spec.title, feed
        assert row[2] == spec.owner, feed
        assert row[3] == spec.kind, feed
        assert row[4] == spec.format, feed


def test_the_category_table_lists_every_category_with_its_label():
    rows = _table_under(DOCS / "warning-rules.md", "Categories")
    listed = {row[0].strip("`"): row[1] for row in rows}
    categories = load_rules().categories
    assert set(listed) == set(categories)
    for code, category in categories.items():
        assert listed[code] == category.label, code
