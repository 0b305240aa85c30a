"""--control-token: every /__mock call but health needs X-Mock-Token; the APIs do not."""

from __future__ import annotations

import pytest
from helpers import COLLECT_KEY, basic

TOKEN = "s3cret-token"
CALLS = [
    ("POST", "/__mock/reset"),
    ("GET", "/__mock/faults"),
    ("POST", "/__mock/faults"),
    ("DELETE", "/__mock/faults"),
    ("DELETE", "/__mock/faults/flt_1"),
    ("GET", "/__mock/requests"),
    ("DELETE", "/__mock/requests"),
    ("GET", "/__mock/clock"),
    ("POST", "/__mock/clock"),
    ("GET", "/__mock/rate-limits"),
    ("PUT", "/__mock/rate-limits"),
    ("GET", "/__mock/state"),
    ("GET", "/__mock/state/collect/contacts"),
    ("POST", "/__mock/state/collect/contacts"),
    ("GET", "/__mock/scenarios"),
    ("POST", "/__mock/scenarios/slow-network"),
    ("GET", "/__mock/openapi.json"),
    ("GET", "/__mock/nope"),
]


@pytest.fixture
def settings() -> dict:
    return {"store": "memory", "seed": 42, "control_token": TOKEN}


@pytest.mark.parametrize("method, path", CALLS)
@pytest.mark.parametrize("token", [None, "wrong", TOKEN[:-1]], ids=["missing", "wrong", "prefix"])
def test_control_token__required_on_every_call(client, method, path, token):
    headers = {"X-Mock-Token": token} if token else {}
    response = client.open(path, method=method, headers=headers, json={})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_control_token__health_is_open(client):
    assert client.get("/__mock/health").status_code == 200


def test_control_token__right_token_passes(client):
    headers = {"X-Mock-Token": TOKEN}
    assert client.get("/__mock/faults", headers=headers).status_code == 200
    added = client.post("/__mock/faults", json={"status": 503}, headers=headers)
    assert added.status_code == 201


def test_control_token__not_needed_by_the_apis(client):
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
    assert client.post("/v1/requests", json=body, headers=basic(COLLECT_KEY)).status_code == 200


def test_control_token__off_by_default():
    from mockserver.app import create_app

    assert create_app({"store": "memory"}).test_client().get("/__mock/faults").status_code == 200
