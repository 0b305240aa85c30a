"""The table of mock-defined behaviour: each choice beside the vendor's words it stands by.

The rows live in docs/reference/mock-defined.toml and the site's hook renders them. Here each
row is checked to name its vendor's words, or to say why none apply; each quote is compared
with the vendors' pages in ../shared/reference (when they are beside the project), so a quote
that is not the vendor's own words, or a page that changed under it, fails.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference"
PAGES = {"collect": "collect-send-multiple-requests.txt", "insigner": "insigner-bulk-send.txt"}
FACT_SHEET = "api-facts.md"
SECTION = re.compile(r"[AB]\.\d+(\.\d+)?")


def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOKS = load_hooks()
CHOICES = HOOKS.mock_defined_choices()


def words(text: str) -> str:
    """`text` with every run of white space made one space (the pages' copies differ in layout)."""
    return re.sub(r"\s+", " ", text).strip()


def section_of(sheet: str, name: str) -> str:
    """The text of the fact sheet's section `name` (A.2, B.6.2, ...), up to the next one of its level."""
    found = re.search(rf"^(#+) {re.escape(name)} .*$", sheet, re.M)
    assert found is not None, f"the fact sheet has no section {name}"
    level = len(found.group(1))
    rest = sheet[found.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def source(where: str) -> str:
    """The text a quote marked `where` must be found in."""
    if not REFERENCE.is_dir():
        pytest.skip(f"the vendors' pages ({REFERENCE}) are not beside the project")
    if where in PAGES:
        return words((REFERENCE / PAGES[where]).read_text(encoding="utf-8"))
    return words(section_of((REFERENCE / FACT_SHEET).read_text(encoding="utf-8"), where))


def test_mock_defined__every_row_names_the_vendors_words_or_why_there_are_none():
    assert len(CHOICES) >= 88
    for row in CHOICES:
        label = (row["api"], row["behaviour"])
        assert row["choice"].strip(), label
        assert ("said" in row) != ("silent" in row), label
        if row["api"] in ("Collect", "inSigner"):
            # A choice about an emulated API always stands beside something its vendor says.
            assert "said" in row, label
        for where, quote in row.get("said", []):
            assert where in PAGES or SECTION.fullmatch(where), (label, where)
            assert quote.strip(), label


@pytest.mark.parametrize("row", CHOICES, ids=[f"{row['api']}: {row['behaviour']}"[:60] for row in CHOICES])
def test_mock_defined__each_quote_is_the_vendors_words_as_written(row):
    for where, quote in row.get("said", []):
        assert words(quote) in source(where), (where, quote)


def test_mock_defined__a_quote_that_is_not_the_vendors_fails():
    # The comparison itself: the documented 401 text is found, a reworded one is not.
    assert words("Unauthorized -- Your API key is wrong.") in source("collect")
    assert words("Unauthorized -- Your API key is invalid.") not in source("collect")
    assert words("120 requests per minute") in source("B.4")
    assert words("120 requests per minute") not in source("B.5")


def test_mock_defined__the_page_shows_every_row_with_its_words():
    table = HOOKS.mock_defined()
    lines = table.splitlines()
    assert lines[0] == "| API | behaviour | the vendor's words | choice |"
    assert len(lines) == len(CHOICES) + 2
    for line, row in zip(lines[2:], CHOICES, strict=True):
        for where, _ in row.get("said", []):
            assert f"({HOOKS.quoted_from(where)})" in line
        if "silent" in row:
            assert "*none*:" in line
        assert row["choice"].replace("|", "\\|") in line
