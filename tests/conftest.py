"""Shared fixtures: the Flask `app`/`client` trio, run against both stores."""
from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import create_app

COLLECT_KEY = "collect_test_key"
GOLDEN_COLLECT_TIME = "2022-07-04T07:20:06Z"


def basic(key: str) -> dict[str, str]:
    """Return Collect's Authorization header for `key`."""
    return {"Authorization": "Basic " + base64.b64encode(f":{key}".encode()).decode()}


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
def collect_auth() -> dict[str, str]:
    return basic(COLLECT_KEY)


@pytest.fixture
def freeze(client: FlaskClient):
    """Freeze the mock's clock at an instant."""

    def _freeze(at: str) -> None:
        response = client.post("/__mock/clock", json={"freeze": at})
        assert response.status_code == 200, response.get_data(as_text=True)

    return _freeze
