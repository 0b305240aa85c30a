"""The documentation site: built strictly and offline, its reference made from the code, read in Chromium.

`mkdocs build --strict` runs once for the module (as `make docs` runs it); the tests read what it
built. A broken link fails the build (shown on a copy of the pages with one), every option of
the CLI and every path of the OpenAPI document has its entry in the built reference, and the
site opened from file:// in the distribution's Chromium asks no other host for anything and
finds pages with its search.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from mockserver.app import create_app
from mockserver.cli import build_parser, serve_options
from mockserver.openapi.document import document

ROOT = Path(__file__).resolve().parent.parent
MKDOCS = Path(sys.executable).with_name("mkdocs")
REFERENCE = ("reference/cli.html", "reference/control-plane.html", "reference/collect.html", "reference/insigner.html")
README_LIMIT = 12_000
# Each section the README had before it became a front page, and the built page that holds it now.
DROPPED = {
    "Running it: mockserver serve": "reference/cli.html",
    "Docker": "how-to/docker-and-ci.html",
    "Use it in CI": "how-to/docker-and-ci.html",
    "docker compose": "how-to/docker-and-ci.html",
    "Test with pytest": "how-to/pytest.html",
    "Verify: a client that retries on 503": "how-to/verify-a-retrying-client.html",
    "Gate CI on coverage of the documented answers": "how-to/coverage-gate.html",
    "The dashboard: /__mock/ui": "how-to/dashboard.html",
    "Snapshots: replay a CI failure on a laptop": "how-to/replay-a-ci-failure.html",
    "From a shell script": "how-to/shell-scripts.html",
    "Collect: POST /v1/requests": "reference/collect.html",
    "inSigner: /api/v1/bulk-sends": "reference/insigner.html",
    "The control plane: /__mock": "reference/control-plane.html",
    "Fault rules": "reference/control-plane.html",
    "The journal": "reference/control-plane.html",
    "Scenarios": "reference/control-plane.html",
    "The control token": "how-to/control-token.html",
    "Browsers are not trusted callers": "how-to/control-token.html",
    "Keep state in a file": "how-to/file-store.html",
    "Speed and size": "explanation/speed.html",
    "Tenants": "explanation/tenants.html",
    "Mock-defined behaviour": "reference/mock-defined.html",
    "Dependencies and why": "explanation/dependencies.html",
    "Architecture and its contracts": "explanation/architecture.html",
    "How a request flows": "explanation/request-flow.html",
    "Non-goals": "explanation/non-goals.html",
}


def build(config_dir: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(site)],
        cwd=config_dir,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(MKDOCS.parent) + ":/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    built = tmp_path_factory.mktemp("site")
    result = build(ROOT, built)
    assert result.returncode == 0, result.stderr[-4000:]
    return built


def text_of(page: Path) -> str:
    """The words of a built page, without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_docs__every_serve_option_and_its_variable_is_in_the_reference(site):
    page = text_of(site / "reference" / "cli.html")
    # The parser's own options, so an option added to it but not to the table fails here.
    [serve] = next(action for action in build_parser()._actions if action.dest == "command").choices.values()
    options = [action.option_strings[0] for action in serve._actions if action.option_strings and action.dest != "help"]
    assert options == [flag for flag, _, _ in serve_options()]
    assert len(options) > 15
    for option in options:
        assert option in page, option
        assert "MOCKSERVER_" + option.removeprefix("--").replace("-", "_").upper() in page, option


def test_docs__every_path_of_the_openapi_document_is_in_the_reference(site):
    app = create_app({"store": "memory", "seed": 42})
    with app.app_context():
        paths = document(app)["paths"]
    built = "\n".join(text_of(site / page) for page in REFERENCE)
    assert len(paths) > 15
    for path, item in paths.items():
        for method in ("get", "put", "post", "patch", "delete"):
            if method in item:
                assert f"{method.upper()} {path}" in built, f"{method.upper()} {path}"


def test_docs__the_python_client_and_the_plugin_are_documented_from_their_docstrings(site):
    client = text_of(site / "reference" / "python-client.html")
    for name in ("MockServerClient", "add_fault", "verify", "snapshot", "restore"):
        assert name in client, name
    assert "mockserver" in text_of(site / "reference" / "pytest-plugin.html")


def test_docs__the_mock_defined_table_shows_each_choice_beside_the_vendors_words(site):
    rows = tomllib.loads((ROOT / "docs" / "reference" / "mock-defined.toml").read_text())["choice"]
    built = text_of(site / "reference" / "mock-defined.html")
    assert built.count("\n") > len(rows)
    for row in rows:
        for _, quote in row.get("said", []):
            assert f"“{quote}”" in built, quote
        if "silent" in row:
            assert row["silent"].replace("`", "") in built, row["silent"]


def test_docs__a_broken_link_fails_the_build(tmp_path):
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    page = tmp_path / "docs" / "getting-started.md"
    page.write_text(page.read_text() + "\nSee [the missing page](how-to/no-such-page.md).\n")
    result = build(tmp_path, tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stderr


def test_docs__the_readme_is_a_front_page_and_each_section_it_dropped_has_a_page(site):
    readme = (ROOT / "README.md").read_text()
    assert len(readme) <= README_LIMIT, len(readme)
    for title, page in DROPPED.items():
        assert title in text_of(site / page), (title, page)


def test_docs__offline_from_file_no_other_host_asked_and_search_finds_pages(site, browser: Browser):
    asked: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: asked.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((site / "index.html").as_uri())
    expect(page.locator("h1")).to_have_text(re.compile("mockserver"))
    # The search's worker loads the index on each page; a query typed before then is dropped.
    with page.expect_request_finished(lambda request: request.url.endswith("/search/search_index.js")):
        page.get_by_role("link", name="Getting started").first.click()
    expect(page.locator("h1")).to_have_text(re.compile("Getting started"))
    page.locator(".md-search__input").fill("fault rules")
    expect(page.locator(".md-search-result__meta")).to_contain_text("matching document", timeout=15_000)
    assert page.locator(".md-search-result__item").count() > 0
    page.close()
    foreign = [url for url in asked if not url.startswith(("file://", "data:", "blob:", "about:"))]
    assert foreign == []
    assert errors == []


def test_docs__the_mock_defined_table_reads_in_chromium_each_row_beside_its_words(site, browser: Browser):
    rows = tomllib.loads((ROOT / "docs" / "reference" / "mock-defined.toml").read_text())["choice"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((site / "reference" / "mock-defined.html").as_uri())
    table = page.locator("article table")
    expect(table.locator("thead th")).to_have_text(["API", "behaviour", "the vendor's words", "choice"])
    expect(table.locator("tbody tr")).to_have_count(len(rows))
    first = table.locator("tbody tr").first.locator("td")
    expect(first.nth(2)).to_contain_text(rows[0]["said"][0][1])
    expect(first.nth(3)).to_contain_text("a username, if sent, is ignored")
    assert table.locator("tbody tr").nth(len(rows) - 1).locator("td").nth(2).inner_text().startswith("none:")
    page.close()
    assert errors == []
