"""pytest fixtures for mockserver: one server per test session, a reset client per test.

Registered through the `pytest11` entry point, so installing the package is enough. The server
is built lazily inside a fixture (never at import: plugins load before coverage starts and in
every pytest run), either in this process on a free port, or attached at `MOCKSERVER_URL`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
import pytest

if TYPE_CHECKING:
    from .client import MockServerClient
    from .testing.receiver import WebhookReceiver
    from .testing.server import ServerThread

URL_VARIABLE = "MOCKSERVER_URL"
TOKEN_VARIABLE = "MOCKSERVER_CONTROL_TOKEN"  # noqa: S105 (the variable's name, not a token)
WAIT_OPTION = "mockserver_wait"
MARKER = "mockserver_scenario"
SESSION_NONCE = pytest.StashKey[str]()
# Coverage documents gathered in this process: its own server's, or (xdist controller) the workers'.
COVERAGE_DOCS = pytest.StashKey[list[Any]]()
COVERAGE_RESULT = pytest.StashKey[dict[str, Any]]()
COVERAGE_OUTPUT = "mockserver_coverage"
REPORT_SUFFIXES = {".json": "json", ".md": "markdown", ".xml": "junit"}


@dataclass(frozen=True)
class MockServerSession:
    """The session's server: where it is, and whether tests may reset it."""

    url: str
    token: str | None
    attached: bool
    shared: bool
    server: ServerThread | None = None


@dataclass(frozen=True)
class ApiKeys:
    """API keys of one test: each key gets its own tenant, a fresh copy of the seed data."""

    collect: str
    insigner: str


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver")
    group.addoption(
        "--mockserver-coverage",
        action="store_true",
        help="print which documented answers of the emulated APIs the tests met, at the end of the session",
    )
    group.addoption(
        "--mockserver-coverage-report",
        metavar="PATH",
        help="write the coverage to PATH: .json, .md (Markdown) or .xml (JUnit), by suffix",
    )
    group.addoption(
        "--mockserver-snapshot-on-failure",
        metavar="DIR",
        help="write the mock server's snapshot to DIR/<test id>.json for each failed test that used it",
    )
    group.addoption(
        "--mockserver-receiver-host",
        metavar="HOST",
        default=None,
        help="where mockserver_webhook_receiver listens (default 127.0.0.1); a server elsewhere needs "
        "--webhook-allow for it",
    )
    group.addoption(
        "--mockserver-coverage-fail-under",
        metavar="PCT",
        type=float,
        help="fail the session when fewer than PCT percent of the documented answers were met",
    )
    parser.addini(
        WAIT_OPTION,
        default="30",
        help=f"seconds to wait for the server at {URL_VARIABLE} to answer /__mock/health (default 30)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Drawn once per session (per xdist worker): a later run against the same server gets new keys.
    config.stash[SESSION_NONCE] = secrets.token_hex(8)
    config.stash[COVERAGE_DOCS] = []
    report = config.getoption("mockserver_coverage_report", None)
    if report and Path(report).suffix.lower() not in REPORT_SUFFIXES:
        raise pytest.UsageError(f"--mockserver-coverage-report {report}: the name must end in .json, .md or .xml")
    fail_under = config.getoption("mockserver_coverage_fail_under", None)
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise pytest.UsageError(f"--mockserver-coverage-fail-under {fail_under}: a percentage from 0 to 100")
    config.addinivalue_line(
        "markers",
        f"{MARKER}(name): apply a mockserver scenario (fixtures/scenarios) after the per-test reset; "
        "the closest marker wins",
    )


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        return (
            "mockserver: in-process server, started when a test first uses the mockserver fixture "
            "(one per xdist worker), reset before each test"
        )
    workers = _xdist_workers(config)
    if workers > 1:
        return (
            f"mockserver: attached to {url}, shared by {workers} xdist workers: no reset between "
            "tests; isolate data with the mockserver_api_keys fixture"
        )
    return f"mockserver: attached to {url}, reset before each test"


def _xdist_workers(config: pytest.Config) -> int:
    """Return how many xdist workers share this run (1 without xdist)."""
    workerinput = getattr(config, "workerinput", None)  # set by xdist in each worker
    count = workerinput["workercount"] if workerinput else getattr(config.option, "numprocesses", None)
    try:
        return max(int(count or 1), 1)
    except (TypeError, ValueError):  # e.g. "-n auto" before xdist resolved it
        return 1


def _worker_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


@pytest.fixture(scope="session")
def mockserver_settings() -> dict[str, Any]:
    """Options of the in-process server (those of `mockserver serve`); override in a conftest."""
    return {}


@pytest.fixture(scope="session")
def mockserver_session(
    request: pytest.FixtureRequest,
    mockserver_settings: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MockServerSession]:
    """Start the session's server in this process, or attach to the one at MOCKSERVER_URL."""
    from .client import MockServerClient, MockServerError

    url = os.environ.get(URL_VARIABLE, "").strip()
    if url:
        token = os.environ.get(TOKEN_VARIABLE) or None
        try:
            wait = float(request.config.getini(WAIT_OPTION))
        except ValueError:
            raise pytest.UsageError(f"{WAIT_OPTION}: {request.config.getini(WAIT_OPTION)!r} is not a number") from None
        with MockServerClient(url, token=token) as probe:
            try:
                probe.wait_until_ready(timeout=wait)
            except MockServerError as exc:
                raise pytest.fail.Exception(f"{URL_VARIABLE}={url}: {exc.message}", pytrace=False) from None
        shared = _xdist_workers(request.config) > 1
        yield MockServerSession(url=url.rstrip("/"), token=token, attached=True, shared=shared)
        return

    from .config import ConfigError
    from .seeding import FixtureError
    from .store import StoreError
    from .testing.server import start_server

    settings = dict(mockserver_settings)
    if settings.get("store") == "tinydb" and not settings.get("db"):
        # Never write mockserver.json into the user's working directory.
        settings["db"] = str(tmp_path_factory.mktemp("mockserver") / "mockserver.json")
    try:
        server = start_server(settings)
    except (ConfigError, FixtureError, StoreError, ValueError, OSError) as exc:
        raise pytest.fail.Exception(f"mockserver_settings: {exc}", pytrace=False) from None
    try:
        yield MockServerSession(
            url=server.url, token=settings.get("control_token") or None, attached=False, shared=False, server=server
        )
    finally:
        try:
            if _coverage_wanted(request.config):
                # This server ends with the session: keep its coverage for the report (and the xdist controller).
                with MockServerClient(server.url, token=settings.get("control_token") or None) as client:
                    request.config.stash[COVERAGE_DOCS].append(client.coverage())
        finally:
            server.stop()


@pytest.fixture
def mockserver(request: pytest.FixtureRequest, mockserver_session: MockServerSession) -> Iterator[MockServerClient]:
    """A client of the session's server (`.url` is its base URL), reset before the test."""
    from .client import MockServerClient, MockServerError

    client = MockServerClient(mockserver_session.url, token=mockserver_session.token)
    try:
        # A reset wipes every tenant: on a server that other xdist workers are using at the
        # same moment it would pull their data from under them, so shared servers are not reset.
        if not mockserver_session.shared:
            client.reset()
        scenario = _scenario(request.node)
        if scenario is not None:
            try:
                client.apply_scenario(scenario)
            except MockServerError as exc:
                raise pytest.fail.Exception(f'{MARKER}("{scenario}"): {exc}', pytrace=False) from None
        yield client
    finally:
        client.close()


@pytest.fixture
def mockserver_api_keys(request: pytest.FixtureRequest) -> ApiKeys:
    """API keys unique to this test, xdist worker and session, so its tenant is fresh even on a shared server."""
    worker = _worker_id(request.config)
    label = f"{worker}/{request.config.stash[SESSION_NONCE]}/{request.node.nodeid}"
    digest = hashlib.sha512(label.encode()).digest()
    token = base64.urlsafe_b64encode(digest).decode("ascii")
    # inSigner keys are `isk_` plus 44 URL-safe characters; Collect documents no format.
    return ApiKeys(collect=f"collect-{worker}-{digest.hex()[:16]}", insigner="isk_" + token[:44])


@pytest.fixture
def mockserver_webhook_receiver(
    request: pytest.FixtureRequest, mockserver: MockServerClient
) -> Iterator[WebhookReceiver]:
    """A webhook receiver on a free port for this test: it records deliveries and answers as the test says.

    Point a webhook at its `url`; `answer(500, 500)` makes the next two deliveries fail;
    `wait_for(n)` waits for n deliveries; `signature_valid(received)` checks one against the
    inSigner secrets the mock reports.
    """
    from .testing.receiver import WebhookReceiver

    host = request.config.getoption("mockserver_receiver_host", None) or "127.0.0.1"
    with WebhookReceiver(host=host) as receiver:
        receiver.secrets = lambda: [hook["secret"] for hook in mockserver.webhooks(api="insigner")]
        yield receiver


def _scenario(node: pytest.Item) -> str | None:
    """Return the scenario of the closest marker: a test's own overrides its class's or module's."""
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return None
    args = list(marker.args) or [marker.kwargs.get("name")]
    if len(args) != 1 or not isinstance(args[0], str) or not args[0]:
        raise pytest.UsageError(f'use @pytest.mark.{MARKER}("name") with one scenario name, not {marker}')
    return args[0]


# -- coverage -------------------------------------------------------------------------------------
def _coverage_wanted(config: pytest.Config) -> bool:
    return bool(
        config.getoption("mockserver_coverage", False)
        or config.getoption("mockserver_coverage_report", None)
        or config.getoption("mockserver_coverage_fail_under", None) is not None
    )


def _is_worker(config: pytest.Config) -> bool:
    return getattr(config, "workerinput", None) is not None


def _attached_client() -> MockServerClient:
    from .client import MockServerClient

    return MockServerClient(os.environ[URL_VARIABLE].strip(), token=os.environ.get(TOKEN_VARIABLE) or None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Clear the coverage of the server at MOCKSERVER_URL once (by the xdist controller, not each worker)."""
    config = session.config
    if not _coverage_wanted(config) or _is_worker(config) or not os.environ.get(URL_VARIABLE, "").strip():
        return
    from .client import MockServerError

    with _attached_client() as client:
        try:
            client.wait_until_ready(timeout=float(config.getini(WAIT_OPTION)))
            client.clear_coverage()
        except (MockServerError, ValueError) as exc:
            raise pytest.UsageError(f"{URL_VARIABLE}: cannot clear its coverage: {exc}") from None


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: gather a worker's coverage (of its own in-process server)."""
    output = getattr(node, "workeroutput", None) or {}
    if COVERAGE_OUTPUT in output:
        node.config.stash[COVERAGE_DOCS].extend(json.loads(output[COVERAGE_OUTPUT]))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Gather the coverage into one document, write the report, fail under the threshold."""
    config = session.config
    if not _coverage_wanted(config):
        return
    if _is_worker(config):
        config.workeroutput[COVERAGE_OUTPUT] = json.dumps(  # type: ignore[attr-defined]  # set by pytest-xdist
            config.stash[COVERAGE_DOCS]
        )
        return
    from .client import MockServerError
    from .coverage.report import merge, render

    stored = config.stash[COVERAGE_DOCS]
    docs = list(stored)
    if os.environ.get(URL_VARIABLE, "").strip():
        with _attached_client() as client:
            try:
                docs = [client.coverage()]
            except MockServerError as exc:
                config.stash[COVERAGE_RESULT] = {"problem": f"cannot read the coverage of {URL_VARIABLE}: {exc}"}
                _fail_session(session)
                return
    if not docs:
        config.stash[COVERAGE_RESULT] = {"problem": "no test used the mockserver fixture: no coverage to report"}
        if config.getoption("mockserver_coverage_fail_under") is not None:
            _fail_session(session)
        return
    doc = merge(docs)
    result: dict[str, Any] = {"doc": doc}
    report = config.getoption("mockserver_coverage_report")
    if report:
        fmt = REPORT_SUFFIXES[Path(report).suffix.lower()]
        text = json.dumps(doc, indent=2) + "\n" if fmt == "json" else render(doc, fmt)[0]
        path = Path(report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result["report"] = str(path)
    fail_under = config.getoption("mockserver_coverage_fail_under")
    if fail_under is not None and doc["summary"]["percent"] < fail_under:
        result["failed_under"] = fail_under
        _fail_session(session)
    config.stash[COVERAGE_RESULT] = result


def _fail_session(session: pytest.Session) -> None:
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the coverage table (--mockserver-coverage) and what the threshold said."""
    result = config.stash.get(COVERAGE_RESULT, None)
    if result is None:
        return
    from .coverage.report import summary_line, to_markdown

    terminalreporter.write_sep("=", "mockserver coverage")
    if "problem" in result:
        terminalreporter.write_line(result["problem"], red=True)
        return
    doc = result["doc"]
    if config.getoption("mockserver_coverage"):
        terminalreporter.write(to_markdown(doc))
    else:
        terminalreporter.write_line(summary_line(doc))
    if "report" in result:
        terminalreporter.write_line(f"coverage report written to {result['report']}")
    if "failed_under" in result:
        terminalreporter.write_line(
            f"FAIL: {doc['summary']['percent']}% of the documented answers were met, "
            f"under --mockserver-coverage-fail-under {result['failed_under']:g}%",
            red=True,
        )


# -- snapshots of failed tests --------------------------------------------------------------------
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """After a failed test that used the mockserver fixture, keep the server's snapshot (the option's DIR)."""
    outcome = yield
    report = outcome.get_result()
    folder = item.config.getoption("mockserver_snapshot_on_failure", None)
    client = getattr(item, "funcargs", {}).get("mockserver") if folder else None
    if client is None or report.when != "call" or not report.failed:
        return
    from .client import MockServerError

    try:
        # The test's own tenant when its requests used exactly one; else the whole server.
        tenants = {entry["tenant"] for entry in client.requests() if entry.get("tenant")}
        document = client.snapshot(tenant=tenants.pop() if len(tenants) == 1 else None)
    except MockServerError as exc:
        report.sections.append(("mockserver snapshot", f"not written: {exc}"))
        return
    path = Path(folder) / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_") + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    report.sections.append(("mockserver snapshot", f"written to {path}"))
