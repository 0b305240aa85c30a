"""inSigner's Bearer keys, scopes and X-Request-Id."""

from __future__ import annotations

import re

import pytest
from helpers import INSIGNER_KEY, INSIGNER_KEYS, bearer, insigner_key
from test_insigner_create import PROBLEM, TYPES, valid

from mockserver.app import create_app

REQUEST_ID = re.compile(r"req_[A-Za-z0-9_-]{20}")
OPERATIONS = {
    "list": ("GET", "/api/v1/bulk-sends", None),
    "create": ("POST", "/api/v1/bulk-sends", valid()),
    "get": ("GET", "/api/v1/bulk-sends/bs_abc123", None),
    "delete": ("DELETE", "/api/v1/bulk-sends/bs_abc123", None),
}
SUCCESS = {"list": 200, "create": 201, "get": 200, "delete": 204}
SCOPE_OF = {
    "list": "bulk_sends.read",
    "create": "bulk_sends.create",
    "get": "bulk_sends.read",
    "delete": "bulk_sends.delete",
}


def call(client, operation, headers):
    method, path, body = OPERATIONS[operation]
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": ""}, id="empty"),
        pytest.param({"Authorization": "Bearer"}, id="no-token"),
        pytest.param({"Authorization": "Bearer   "}, id="blank-token"),
        pytest.param({"Authorization": f"Basic {INSIGNER_KEY}"}, id="basic-scheme"),
        pytest.param({"Authorization": INSIGNER_KEY}, id="no-scheme"),
        pytest.param(bearer("isk_YOUR_API_KEY"), id="docs-placeholder"),
        pytest.param(bearer("sk_" + "a" * 44), id="wrong-prefix"),
        pytest.param(bearer("ISK_" + "a" * 44), id="prefix-case"),
        pytest.param(bearer("isk_" + "a" * 43), id="43-characters"),
        pytest.param(bearer("isk_" + "a" * 45), id="45-characters"),
        pytest.param(bearer("isk_" + "a" * 43 + "="), id="base64-padding"),
        pytest.param(bearer("isk_" + "a" * 43 + "+"), id="not-url-safe"),
        pytest.param(bearer("isk_" + "a" * 43 + "é"), id="non-ascii"),
        pytest.param(bearer(INSIGNER_KEYS["revoked"]), id="revoked"),
        pytest.param(bearer(INSIGNER_KEYS["expired"]), id="expired"),
    ],
)
def test_create_bulk_send__unauthorized(client, headers):
    response = call(client, "create", headers)
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert (problem["type"], problem["title"], problem["status"]) == (TYPES + "unauthorized", "Unauthorized", 401)
    assert problem["detail"]
    assert REQUEST_ID.fullmatch(response.headers["X-Request-Id"])
    # Mock-defined: no key to count against, so no RateLimit-* headers on 401.
    assert not [name for name, _ in response.headers if name.lower().startswith("ratelimit")]


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_bulk_sends__every_operation_needs_a_key(client, operation):
    response = call(client, operation, bearer(INSIGNER_KEYS["revoked"]))
    assert response.status_code == 401
    assert response.get_json()["type"] == TYPES + "unauthorized"
    assert client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY)).status_code == 200


def test_bulk_sends__scheme_is_case_insensitive(client):
    assert client.get("/api/v1/bulk-sends", headers={"Authorization": f"bearer {INSIGNER_KEY}"}).status_code == 200


def test_bulk_sends__documentation_example_key_is_a_fixture_key(client):
    headers = bearer("isk_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2")
    assert client.get("/api/v1/bulk-sends/bs_abc123", headers=headers).status_code == 200
    tenants = client.get("/__mock/state").get_json()["apis"]["insigner"]
    assert list(tenants) == ["org_abc123"]


def test_bulk_sends__unknown_key_gets_its_own_organization_with_full_scopes(client):
    key = insigner_key("lenient")
    for operation in ("list", "create", "get", "delete"):
        assert call(client, operation, bearer(key)).status_code == SUCCESS[operation]
    keys = client.get("/__mock/state/insigner/apiKeys", query_string={"tenant": key}).get_json()["items"]
    assert keys == [{"key": key, "name": None, "scopes": ["*"], "revoked": False, "expiresAt": None}]


def test_bulk_sends__strict_auth_rejects_unknown_keys():
    client = create_app({"strict_auth": True}).test_client()
    assert client.get("/api/v1/bulk-sends", headers=bearer(insigner_key("unknown"))).status_code == 401
    assert client.get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY)).status_code == 200


@pytest.mark.parametrize(
    "key_name, allowed",
    [
        pytest.param("full", {"list", "create", "get", "delete"}, id="star"),
        pytest.param("bulk_sends.*", {"list", "create", "get", "delete"}, id="bulk-sends-wildcard"),
        pytest.param("read", {"list", "get"}, id="read"),
        pytest.param("create", {"create"}, id="create"),
        pytest.param("delete", {"delete"}, id="delete"),
        pytest.param("documents", set(), id="other-resources-only"),
    ],
)
def test_bulk_sends__scopes(client, key_name, allowed):
    for operation in OPERATIONS:  # in this order: list, create, get, delete (bs_abc123 goes last)
        response = call(client, operation, bearer(INSIGNER_KEYS[key_name]))
        if operation in allowed:
            assert response.status_code == SUCCESS[operation], operation
            continue
        assert response.status_code == 403, operation
        assert response.mimetype == PROBLEM
        assert response.get_json() == {
            "type": TYPES + "forbidden",
            "title": "Forbidden",
            "status": 403,
            "detail": f"Missing required scope: {SCOPE_OF[operation]}",
        }
        assert response.headers["RateLimit-Limit"] == "120"
    # A refused call changed nothing.
    bulk_sends = client.get("/__mock/state").get_json()["apis"]["insigner"]["org_abc123"]["bulkSends"]
    assert bulk_sends == 21 + ("create" in allowed)
    deleted = client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY)).status_code == 404
    assert deleted == ("delete" in allowed)


@pytest.mark.parametrize(
    "scopes, operation, status",
    [
        pytest.param(["bulk_sends.read"], "get", 200, id="read-get"),
        pytest.param(["bulk_sends.read"], "delete", 403, id="read-delete"),
        pytest.param(["bulk_sends.delete", "bulk_sends.read"], "delete", 204, id="two-scopes"),
        pytest.param(["documents.*"], "list", 403, id="documents-wildcard"),
        pytest.param([], "list", 403, id="no-scopes"),
    ],
)
def test_bulk_sends__key_added_through_the_control_plane(client, scopes, operation, status):
    key = insigner_key("added-" + "-".join(scopes).replace(".", "").replace("*", "all"))
    added = client.post("/__mock/state/insigner/apiKeys", json={"key": key, "scopes": scopes})
    assert added.status_code == 201
    assert added.get_json() == {"key": key, "name": None, "scopes": scopes, "revoked": False, "expiresAt": None}
    assert call(client, operation, bearer(key)).status_code == status


def test_bulk_sends__added_key_defaults_and_generated_key(client):
    added = client.post("/__mock/state/insigner/apiKeys", json={"name": "CI"}).get_json()
    assert re.fullmatch(r"isk_[A-Za-z0-9_-]{44}", added["key"]) and added["scopes"] == ["*"]
    assert call(client, "get", bearer(added["key"])).status_code == 200


def test_bulk_sends__added_key_joins_the_named_tenant(client):
    owner = insigner_key("owner")
    second = insigner_key("second-key-of-owner")
    client.post("/__mock/state/insigner/apiKeys", json={"key": second}, query_string={"tenant": owner})
    created = call(client, "create", bearer(second)).get_json()["data"]["id"]
    assert client.get(f"/api/v1/bulk-sends/{created}", headers=bearer(owner)).get_json()["data"]["name"]


def test_bulk_sends__key_expiry_follows_the_mock_clock(client, freeze):
    freeze("2026-06-01T00:00:00Z")
    key = insigner_key("expiring")
    client.post("/__mock/state/insigner/apiKeys", json={"key": key, "expiresAt": "2026-06-01T00:01:00Z"})
    assert call(client, "list", bearer(key)).status_code == 200
    client.post("/__mock/clock", json={"advance": 60})
    assert call(client, "list", bearer(key)).status_code == 401


def test_bulk_sends__revoked_key_added_through_the_control_plane(client):
    key = insigner_key("revoked-added")
    client.post("/__mock/state/insigner/apiKeys", json={"key": key, "revoked": True})
    assert call(client, "list", bearer(key)).status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        pytest.param({"key": "isk_short"}, "key", id="malformed-key"),
        pytest.param({"key": "sk_" + "a" * 45}, "key", id="wrong-prefix"),
        pytest.param({"scopes": ["bulk_sends.write"]}, "scopes.0", id="unknown-scope"),
        pytest.param({"scopes": "*"}, "scopes", id="scopes-not-list"),
        pytest.param({"revoked": "no"}, "revoked", id="revoked-not-boolean"),
        pytest.param({"expiresAt": "soon"}, "expiresAt", id="bad-expiry"),
    ],
)
def test_add_api_key__invalid_is_400(memory_client, body, field):
    client = memory_client
    response = client.post("/__mock/state/insigner/apiKeys", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid-entity" and error["message"].startswith(field + ":")


def test_add_api_key__duplicate_is_409(client):
    response = client.post("/__mock/state/insigner/apiKeys", json={"key": INSIGNER_KEY})
    assert response.status_code == 409


def test_request_id__on_every_answer_and_deterministic(client, insigner_auth):
    def ids():
        answers = [
            client.get("/api/v1/bulk-sends", headers=insigner_auth),
            client.get("/api/v1/bulk-sends/nope", headers=insigner_auth),
            client.get("/api/v1/bulk-sends"),
            client.put("/api/v1/bulk-sends", headers=insigner_auth),
            client.post("/api/v1/bulk-sends", data="{", headers=insigner_auth),
        ]
        return [a.headers["X-Request-Id"] for a in answers]

    first = ids()
    assert all(REQUEST_ID.fullmatch(i) for i in first) and len(set(first)) == len(first)
    client.post("/__mock/reset")
    assert ids() == first


def test_request_id__not_on_collect_or_control_answers(client, collect_auth):
    assert "X-Request-Id" not in client.post("/v1/requests", json={}, headers=collect_auth).headers
    assert "X-Request-Id" not in client.get("/__mock/health").headers
