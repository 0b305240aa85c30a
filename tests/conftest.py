"""Shared fixtures: the Flask `app`/`client` trio, run against both stores."""
from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import create_app
from mockserver.testing.server import ServerThread

# pytester drives the pytest plugin in tests/test_pytest_plugin.py. The plugin itself is
# registered by the pytest11 entry point: listing it here too would register it twice.
pytest_plugins = ["pytester"]

COLLECT_KEY = "collect_test_key"
GOLDEN_COLLECT_TIME = "2022-07-04T07:20:06Z"
# inSigner fixture keys (fixtures/insigner/apiKeys.json): "isk_" + 44 URL-safe characters.
INSIGNER_KEY = "isk_TestFullAccessKey___________________00000000"
INSIGNER_KEYS = {
    "full": INSIGNER_KEY,
    "bulk_sends.*": "isk_TestBulkSendsWildcardKey____________00000000",
    "read": "isk_TestBulkSendsReadOnlyKey____________00000000",
    "create": "isk_TestBulkSendsCreateOnlyKey__________00000000",
    "delete": "isk_TestBulkSendsDeleteOnlyKey__________00000000",
    "documents": "isk_TestDocumentsOnlyKey________________00000000",
    "revoked": "isk_TestRevokedKey______________________00000000",
    "expired": "isk_TestExpiredKey______________________00000000",
}
GOLDEN_INSIGNER_TIME = "2026-05-28T12:00:00.000Z"


def basic(key: str) -> dict[str, str]:
    """Return Collect's Authorization header for `key`."""
    return {"Authorization": "Basic " + base64.b64encode(f":{key}".encode()).decode()}


def bearer(key: str) -> dict[str, str]:
    """Return inSigner's Authorization header for `key`."""
    return {"Authorization": f"Bearer {key}"}


def insigner_key(name: str) -> str:
    """Return a well-formed inSigner key that no fixture lists (its own organization), made from `name`."""
    return "isk_" + name.ljust(44, "0")[:44]


def fuzz_examples(default: int) -> int:
    """Examples per property test: `default` in `make test`, MOCKSERVER_FUZZ_EXAMPLES in `make fuzz`."""
    return int(os.environ.get("MOCKSERVER_FUZZ_EXAMPLES") or default)


# -- each API's error envelope, checked on any answer ----------------------------------------------
def assert_collect_error(response) -> None:
    """Collect's error body: `{"error": reason, "message": text, "details"?: [{field, message}]}`."""
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert set(body) <= {"error", "message", "details"} and {"error", "message"} <= set(body), body
    assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"], body
    for detail in body.get("details", []):
        assert set(detail) == {"field", "message"}, detail


def assert_insigner_problem(response) -> None:
    """inSigner's RFC 9457 problem: type, title, status (the answer's), detail; `errors` on 422 only."""
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body) <= {"type", "title", "status", "detail", "errors"}
    assert body["status"] == response.status_code, body
    assert body["type"].startswith("https://docs.insigner.com/errors/"), body
    assert ("errors" in body) == (response.status_code == 422), body
    for error in body.get("errors", []):
        assert set(error) == {"field", "message"}, error
    assert response.headers["X-Request-Id"].startswith("req_")


def assert_control_error(response) -> None:
    """The control plane's error body: `{"error": {"code", "message"}}`."""
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message"}, body


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


def start_serve(*options: str, cwd=None, env=None):
    """Start `python -m mockserver serve --port 0 OPTIONS` as users do; return the process and its URL."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
    line = process.stdout.readline()
    if "http://" not in line:
        process.kill()
        process.wait()
        pytest.fail(f"no ready line: {line!r} {process.stderr.read()!r}")
    return process, line.split("serving ", 1)[1].split()[0]
