"""Browsers are not trusted callers: cross-origin writes to /__mock and foreign Host names are refused.

These are the rules as HTTP sees them; tests/test_dashboard.py proves them from a real page of
another origin.
"""

from __future__ import annotations

import pytest
from helpers import INSIGNER_KEY, assert_control_error, assert_insigner_problem, bearer, run_serve, start_serve, web

from mockserver.app import create_app

EVIL = "http://evil.example"
WRITES = [
    ("POST", "/__mock/faults", '{"api": "*", "status": 503}'),
    ("POST", "/__mock/clock", '{"advance": 3600}'),
    ("POST", "/__mock/reset", None),
    ("DELETE", "/__mock/faults", None),
    ("PUT", "/__mock/rate-limits", '{"insigner": {"enabled": false}}'),
    ("POST", "/__mock/scenarios/collect-reference-example", None),
    ("DELETE", "/__mock/coverage", None),
]


@pytest.fixture
def settings() -> dict:
    """One in-memory store is enough here (conftest's `app` and `client` use these settings)."""
    return {"store": "memory", "seed": 42}


def observable(client) -> tuple:
    """What the writes above would change."""
    return (
        client.get("/__mock/faults").json,
        client.get("/__mock/clock").json,
        client.get("/__mock/rate-limits").json,
        client.get("/__mock/state").json,
        client.get("/__mock/requests").json["total"],
    )


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": "http://localhost:3000"},  # another port is another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a page on another port of 127.0.0.1
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_origin_write__403_and_nothing_changes(client, method, path, body, headers):
    client.get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY))  # something to reset
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})  # a reset would unfreeze it
    before = observable(client)
    response = client.open(path, method=method, data=body, content_type="text/plain", headers=headers)
    assert response.status_code == 403
    assert_control_error(response)
    assert response.json["error"]["code"] == "cross-origin"
    assert observable(client) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts, the client
        {"Origin": "http://localhost"},  # the server's own origin (the dashboard)
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar
    ],
)
def test_writes_without_a_foreign_origin_pass(client, headers):
    response = client.post("/__mock/faults", json={"api": "*", "status": 503}, headers=headers)
    assert response.status_code == 201


def test_cross_origin_reads_pass_but_carry_no_cors_headers(client):
    for path in ("/__mock/faults", "/__mock/requests", "/__mock/health", "/__mock/coverage"):
        response = client.get(path, headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 200
        assert not [name for name, _ in response.headers if name.lower().startswith("access-control-")]
    preflight = client.options("/__mock/faults", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert not [name for name, _ in preflight.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://127.0.0.1:3000"}],
)
@pytest.mark.parametrize(
    "path", ["/__mock/state", "/__mock/state/insigner/bulkSends", "/__mock/state/collect/campaigns"]
)
def test_foreign_state_get_with_an_unseen_key__403_and_creates_no_tenant(client, headers, path):
    """An `<img src=".../__mock/state?tenant=k_N">` on another site's page would create (and evict) tenants."""
    before = client.get("/__mock/state").json
    unseen = "isk_" + "imgtag".ljust(44, "0")
    response = client.get(path, query_string={"tenant": unseen}, headers=headers)
    assert response.status_code == 403
    assert_control_error(response)
    assert response.json["error"]["code"] == "cross-origin"
    assert client.get("/__mock/state").json == before
    # A tenant that exists already is only read: a foreign page may read (it cannot see the answer).
    client.get("/api/v1/bulk-sends", headers=bearer(unseen))
    assert client.get(path, query_string={"tenant": unseen}, headers=headers).status_code == 200
    # and without the browser's headers an unseen key creates its tenant, as the spec says
    fresh = "isk_" + "script".ljust(44, "0")
    assert client.get(path, query_string={"tenant": fresh}).status_code == 200


def test_api_calls_are_not_the_control_planes_business(client):
    response = client.get("/api/v1/bulk-sends", headers={**bearer(INSIGNER_KEY), "Origin": EVIL})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io", "0.0.0.0:8080"])
def test_foreign_host_on_a_loopback_server__403_host_not_allowed(client, host):
    response = client.get("/__mock/requests", headers={"Host": host})
    assert response.status_code == 403
    assert_control_error(response)
    assert response.json["error"]["code"] == "host-not-allowed"
    api = client.get("/api/v1/bulk-sends", headers={**bearer(INSIGNER_KEY), "Host": host})
    assert api.status_code == 403
    assert_insigner_problem(api)


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:9", "[::1]", "[::1]:8080"])
def test_loopback_hosts_pass(client, host):
    assert client.get("/__mock/requests", headers={"Host": host}).status_code == 200


def test_allowed_hosts_adds_names_and_a_server_on_all_addresses_checks_none():
    allowed = create_app({"store": "memory", "allowed_hosts": "mock.test, other.test"}).test_client()
    assert allowed.get("/__mock/requests", headers={"Host": "mock.test:8080"}).status_code == 200
    assert allowed.get("/__mock/requests", headers={"Host": "OTHER.test"}).status_code == 200
    assert allowed.get("/__mock/requests", headers={"Host": "evil.example"}).status_code == 403
    everywhere = create_app({"store": "memory", "host": "0.0.0.0"}).test_client()
    assert everywhere.get("/__mock/requests", headers={"Host": "mockserver:8080"}).status_code == 200


def test_serve__allowed_hosts_from_the_command_line_and_the_environment():
    import os

    served = start_serve("--allowed-hosts", "mock.test", env={**os.environ, "MOCKSERVER_ALLOWED_HOSTS": ""})
    try:
        url = served.url + "/__mock/requests"
        assert web.get(url, headers={"Host": "mock.test"}).status_code == 200
        assert web.get(url, headers={"Host": "evil.example"}).status_code == 403
    finally:
        served.stop()
    served = start_serve(env={**os.environ, "MOCKSERVER_ALLOWED_HOSTS": "env.test"})
    try:
        assert web.get(served.url + "/__mock/health", headers={"Host": "env.test"}).status_code == 200
    finally:
        served.stop()
    assert "--allowed-hosts" in run_serve("--help").stdout
