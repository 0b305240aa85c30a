"""The worked examples of the documentation run as shown (a client that retries, the coverage gate, the snapshot job).

An example is the code block after `<!-- example: NAME -->` in a page under docs/ (or the README).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def page_of(name: str) -> str:
    """Return the text of the one page that holds example `name`."""
    marker = f"<!-- example: {name} -->"
    [found] = [page.read_text() for page in PAGES if marker in page.read_text()]
    return found


def example(name: str) -> str:
    """Return the code block that follows `<!-- example: NAME -->`."""
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```[a-z]*\n(.*?)```", page_of(name), re.S)
    assert found, f"no example {name!r}"
    return found.group(1)


@pytest.fixture
def inner(pytester, monkeypatch):
    """An inner pytest session with an in-process server, whatever the outer environment says."""
    monkeypatch.delenv("MOCKSERVER_URL", raising=False)
    monkeypatch.delenv("MOCKSERVER_CONTROL_TOKEN", raising=False)
    pytester.makepyfile(test_example=example("verify") + "\n\n" + example("verify-failing"))
    return pytester


def test_docs_example__the_retry_example_passes_and_the_broken_client_fails_with_the_message_shown(inner):
    result = inner.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    shown = example("verify-output").splitlines()
    lines = result.stdout.lines
    start = lines.index(shown[0])
    assert lines[start : start + len(shown)] == shown


def test_docs_example__the_ci_job_writes_the_junit_coverage_and_fails_under_its_threshold(inner):
    [command] = [line.split("- run: ", 1)[1] for line in example("coverage-ci").splitlines() if "run: pytest" in line]
    arguments = shlex.split(command)[1:]
    result = inner.runpytest("-p", "no:cacheprovider", *arguments)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)
    report = inner.path / "reports" / "mockserver-coverage.xml"
    assert report.read_text().startswith("<?xml")
    said = re.search(r"`(FAIL: [^`]+)`", page_of("coverage-ci").split("<!-- example: coverage-ci -->")[1])
    assert said and said.group(1) in result.stdout.lines


def test_docs_example__the_snapshot_job_keeps_a_snapshot_of_the_failed_test(inner):
    [command] = [line.split("- run: ", 1)[1] for line in example("snapshot-ci").splitlines() if "run: pytest" in line]
    result = inner.runpytest("-p", "no:cacheprovider", *shlex.split(command)[1:])
    result.assert_outcomes(passed=1, failed=1)
    uploaded = re.search(r"path: (\S+)", example("snapshot-ci")).group(1)
    [kept] = list((inner.path / uploaded).iterdir())  # the folder the job uploads
    assert kept.name == "test_example.py_test_the_retry_keeps_the_key.json"
    assert json.loads(kept.read_text())["format"] == "mockserver-snapshot/1"
