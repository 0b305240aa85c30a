"""pytest fixtures for mockserver: one server per test session, a reset client per test.

Registered through the `pytest11` entry point, so installing the package is enough. The server
is built lazily inside a fixture (never at import: plugins load before coverage starts and in
every pytest run), either in this process on a free port, or attached at `MOCKSERVER_URL`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .client import MockServerClient
    from .testing.server import ServerThread

URL_VARIABLE = "MOCKSERVER_URL"
TOKEN_VARIABLE = "MOCKSERVER_CONTROL_TOKEN"
WAIT_OPTION = "mockserver_wait"
MARKER = "mockserver_scenario"
SESSION_NONCE = pytest.StashKey[str]()


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
    parser.addini(
        WAIT_OPTION,
        default="30",
        help=f"seconds to wait for the server at {URL_VARIABLE} to answer /__mock/health (default 30)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Drawn once per session (per xdist worker): a later run against the same server gets new keys.
    config.stash[SESSION_NONCE] = secrets.token_hex(8)
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


def _scenario(node: pytest.Item) -> str | None:
    """Return the scenario of the closest marker: a test's own overrides its class's or module's."""
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return None
    args = list(marker.args) or [marker.kwargs.get("name")]
    if len(args) != 1 or not isinstance(args[0], str) or not args[0]:
        raise pytest.UsageError(f'use @pytest.mark.{MARKER}("name") with one scenario name, not {marker}')
    return args[0]
