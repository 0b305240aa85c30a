"""Shared fixtures: the Flask `app`/`client` trio, run against both stores (helpers live in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import INSTALL, find_chromium, launch_args, missing_message
from flask import Flask
from flask.testing import FlaskClient
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer
from playwright.sync_api import Browser, sync_playwright

from mockserver.app import create_app
from mockserver.testing.server import ServerThread

# pytester drives the pytest plugin in tests/test_pytest_plugin.py. The plugin itself is
# registered by the pytest11 entry point: listing it here too would register it twice.
pytest_plugins = ["pytester"]


@pytest.fixture(params=["memory", "tinydb"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Every API test runs against both stores."""
    return request.param


@pytest.fixture
def settings(store_kind: str, tmp_path) -> dict:
    """Settings of the app under test; override in a module to change them."""
    values = {"store": store_kind, "seed": 42}
    if store_kind == "tinydb":
        values["db"] = str(tmp_path / "mock.json")
    return values


@pytest.fixture
def app(settings: dict) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["mockserver"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def memory_client() -> FlaskClient:
    """A client of an in-memory app, for tests where the store makes no difference (control-plane checks)."""
    return create_app({"store": "memory", "seed": 42}).test_client()


@pytest.fixture
def live_server(app: Flask) -> Iterator[ServerThread]:
    """The app on a real socket in a thread, for what only the network shows (delays, dropped connections)."""
    server = ServerThread(app).start()
    yield server
    server.stop()


@pytest.fixture
def collect_auth() -> dict[str, str]:
    return basic(COLLECT_KEY)


@pytest.fixture
def insigner_auth() -> dict[str, str]:
    """The Authorization header of the fixture organization's full-access key."""
    return bearer(INSIGNER_KEY)


@pytest.fixture
def freeze(client: FlaskClient):
    """Freeze the mock's clock at an instant."""

    def _freeze(at: str) -> None:
        response = client.post("/__mock/clock", json={"freeze": at})
        assert response.status_code == 200, response.get_data(as_text=True)

    return _freeze


# The distribution's Chromium for the tests of pages (the dashboard, the documentation site).
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        pytest.fail(missing_message(), pytrace=False)
    try:
        playwright = sync_playwright().start()
    except Exception as exc:  # noqa: BLE001 - its driver's own error says what is missing
        pytest.fail(f"Playwright's driver did not start ({exc}); `{INSTALL}` installs what it needs", pytrace=False)
    try:
        launched = playwright.chromium.launch(executable_path=executable, args=launch_args())
        yield launched
        launched.close()
    finally:
        playwright.stop()
