"""Security: credentials never show in the journal, the logs or an error; the control token guards
every /__mock route but health; the server binds 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, INSIGNER_KEYS, insigner_key, start_serve

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.testing.server import ServerThread

TOKEN = "tok-3f9a7c1e5b2d8a64"
UNKNOWN_INSIGNER_KEY = insigner_key("secretOrganization")
SHORT_KEY = "k9"
SECRETS = [COLLECT_KEY, INSIGNER_KEY, INSIGNER_KEYS["revoked"], UNKNOWN_INSIGNER_KEY, TOKEN, "sk_cookie_secret_42"]
COLLECT_BODY = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
BULK_SEND_BODY = {"templateId": "tpl_abc123", "name": "S", "signers": [{"name": "A", "email": "a@vendor-a.com"}]}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forms(secret: str) -> list[str]:
    """The ways a credential could leak: as it is, and as the Basic header carries it."""
    return [secret, b64(":" + secret), b64(secret)]


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        for form in forms(secret):
            assert form not in text, f"{secret!r} shows in {where}"


# Every way a client sends credentials, right and wrong: (method, path, headers, body).
CALLS = [
    ("POST", "/v1/requests", {"Authorization": "Basic " + b64(":" + COLLECT_KEY)}, COLLECT_BODY),
    ("POST", "/v1/requests", {"Authorization": "Basic " + b64("user:" + COLLECT_KEY)}, COLLECT_BODY),
    ("POST", "/v1/requests", {"Authorization": "Basic " + COLLECT_KEY}, COLLECT_BODY),
    ("POST", "/v1/requests", {"Authorization": "Bearer " + COLLECT_KEY}, COLLECT_BODY),
    ("POST", "/v1/requests", {"Authorization": f"Basic {b64(':' + COLLECT_KEY)}, Bearer {INSIGNER_KEY}"}, {}),
    ("POST", "/v1/requests", {"Authorization": "Basic " + b64(":" + COLLECT_KEY), "Prefer": "code=503"}, {}),
    ("POST", "/v1/requests", {"Proxy-Authorization": "Basic " + b64(":" + COLLECT_KEY)}, COLLECT_BODY),
    ("POST", "/v1/requests", {"Cookie": "session=sk_cookie_secret_42", "X-Mock-Token": TOKEN}, COLLECT_BODY),
    ("GET", "/api/v1/bulk-sends", {"Authorization": "Bearer " + INSIGNER_KEY}, None),
    ("POST", "/api/v1/bulk-sends", {"Authorization": "Bearer " + INSIGNER_KEY}, BULK_SEND_BODY),
    ("POST", "/api/v1/bulk-sends", {"Authorization": "Bearer " + INSIGNER_KEY}, {"signers": "x"}),
    ("GET", "/api/v1/bulk-sends/bs_nope", {"Authorization": "Bearer " + INSIGNER_KEY}, None),
    ("GET", "/api/v1/bulk-sends", {"Authorization": "Bearer " + INSIGNER_KEYS["revoked"]}, None),
    ("GET", "/api/v1/bulk-sends", {"Authorization": "Bearer " + UNKNOWN_INSIGNER_KEY}, None),
    ("GET", "/api/v1/bulk-sends", {"Authorization": "Bearer " + INSIGNER_KEY[:-1]}, None),
    ("GET", "/api/v1/bulk-sends", {"Authorization": "Basic " + b64(":" + INSIGNER_KEY)}, None),
    ("GET", "/api/v1/bulk-sends", {"Authorization": "Bearer " + INSIGNER_KEY, "Prefer": "code=401"}, None),
    ("GET", "/api/v1/nowhere", {"Authorization": "Bearer " + INSIGNER_KEY}, None),
]
# Control calls that carry keys (as `tenant`, as entities) or the token, right and wrong.
CONTROL_CALLS = [
    ("GET", f"/__mock/state?tenant={INSIGNER_KEY}", {"X-Mock-Token": TOKEN}, None),
    ("GET", f"/__mock/state/insigner/templates?tenant={UNKNOWN_INSIGNER_KEY}", {"X-Mock-Token": TOKEN}, None),
    ("GET", f"/__mock/requests?tenant={COLLECT_KEY}", {"X-Mock-Token": TOKEN}, None),
    ("POST", "/__mock/faults", {"X-Mock-Token": TOKEN}, {"status": 503, "tenant": COLLECT_KEY, "path": "/nowhere"}),
    ("POST", "/__mock/state/insigner/apiKeys", {"X-Mock-Token": TOKEN}, {"key": INSIGNER_KEY}),
    ("POST", "/__mock/state/collect/apiKeys", {"X-Mock-Token": TOKEN}, {"key": COLLECT_KEY}),
    ("GET", "/__mock/faults", {"X-Mock-Token": TOKEN + "x"}, None),
    ("GET", "/__mock/faults", {"X-Mock-Token": TOKEN[:-1]}, None),
]


@pytest.fixture
def client():
    app = create_app({"store": "memory", "control_token": TOKEN})
    yield app.test_client()
    app.extensions["mockserver"].close()


@pytest.fixture(scope="module")
def guarded():
    """One app with a control token for the route-by-route checks; reset after each call that passes."""
    app = create_app({"store": "memory", "control_token": TOKEN})
    yield app.test_client()
    app.extensions["mockserver"].close()


def test_credentials__in_no_journal_entry_and_no_answer(client):
    answers = []
    for method, path, headers, body in CALLS + CONTROL_CALLS:
        response = client.open(path, method=method, headers=headers, json=body)
        answers.append((path, response.status_code, response.get_data(as_text=True), dict(response.headers)))
    journal = client.get("/__mock/requests", headers={"X-Mock-Token": TOKEN})
    assert journal.status_code == 200 and journal.get_json()["total"] == len(CALLS)
    assert_no_secret(journal.get_data(as_text=True), "the journal")
    for path, status, text, headers in answers:
        if status >= 400:  # (a fault rule is listed as given: its `tenant` may be a key)
            assert_no_secret(text + json.dumps(headers), f"the {status} answer to {path}")
    assert any(status == 409 for _, status, _, _ in answers)  # the duplicate key was refused without naming it


def test_credentials__in_no_log_line(client, caplog):
    caplog.set_level(logging.DEBUG)
    for method, path, headers, body in CALLS + CONTROL_CALLS:
        client.open(path, method=method, headers=headers, json=body)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert_no_secret(caplog.text, "the log")


def test_credentials__short_keys_are_never_whole_in_the_journal(client):
    client.post("/v1/requests", json=COLLECT_BODY, headers={"Authorization": "Basic " + b64(":" + SHORT_KEY)})
    entry = client.get("/__mock/requests", headers={"X-Mock-Token": TOKEN}).get_json()["requests"][-1]
    assert entry["headers"]["Authorization"] == "Basic k..."


@pytest.mark.slow
def test_credentials__in_no_line_of_serve_at_debug(tmp_path):
    served = start_serve("--log-level", "debug", "--control-token", TOKEN, cwd=tmp_path)
    url, line = served.url, served.ready_line
    try:
        for method, path, headers, body in CALLS + CONTROL_CALLS:
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(
                url + path, data=data, method=method, headers={**headers, "Content-Type": "application/json"}
            )
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as error:
                assert error.code < 500 or "Prefer" in headers
                error.close()
    finally:
        out, err = served.stop()
    assert err.count("mockserver.access") >= len(CALLS + CONTROL_CALLS)  # the debug run logged every call
    assert_no_secret(line + out + err, "serve's output")


# -- the control token ------------------------------------------------------------------------------
def control_routes() -> list[tuple[str, str]]:
    """Every (method, path) under /__mock, read from the app's url_map: new routes are covered."""
    app = create_app({"store": "memory"})
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/__mock"):
            path = re.sub(
                r"<(?:[^:<>]+:)?([^<>]+)>",
                lambda m: {"api": "collect", "collection": "contacts", "name": "slow-network"}.get(m[1], "x1"),
                rule.rule,
            )
            routes += [(method, path) for method in sorted(rule.methods)]
    app.extensions["mockserver"].close()
    return routes


ROUTES = control_routes()
UNROUTED = [
    "/__mock",
    "/__mock/",
    "/__mock/nowhere",
    "/__mock/health/",
    "/__mock/health/../faults",
    "/__mock/health%2F..%2Ffaults",
    "/%5F_mock/faults",
    "/__mock//faults",
]


def test_control_token__the_route_list_covers_the_blueprint():
    assert len({path for _, path in ROUTES}) >= 12 and ("GET", "/__mock/health") in ROUTES


@pytest.mark.parametrize("method, path", ROUTES + [("GET", path) for path in UNROUTED])
@pytest.mark.parametrize(
    "token", [None, "", "wrong", TOKEN.upper(), TOKEN + " "], ids=["none", "empty", "wrong", "other-case", "padded"]
)
def test_control_token__guards_every_route_but_health_and_the_dashboards_page(guarded, method, path, token):
    headers = {"X-Mock-Token": token} if token is not None else {}
    response = guarded.open(path, method=method, headers=headers, json={})
    if path == "/__mock/health":
        assert response.status_code == 200 or method not in ("GET", "HEAD")
    elif path == "/__mock/ui" or path.startswith("/__mock/ui/static/"):
        # The dashboard's page and files load without the token (its data calls need it).
        assert response.status_code != 401
    else:
        assert response.status_code == 401, (method, path, response.status_code)
        if method != "HEAD":
            assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("method, path", ROUTES)
def test_control_token__the_right_token_opens_every_route(guarded, method, path):
    response = guarded.open(path, method=method, headers={"X-Mock-Token": TOKEN}, json={})
    assert response.status_code != 401
    guarded.post("/__mock/reset", headers={"X-Mock-Token": TOKEN})


def test_control_token__the_apis_do_not_need_it(client):
    response = client.post("/v1/requests", json=COLLECT_BODY, headers={"Authorization": "Basic " + b64(":k")})
    assert response.status_code == 200


# -- the address the server binds ---------------------------------------------------------------------
def listening_addresses(port: int) -> set[str]:
    """The local addresses of the LISTEN sockets on `port`, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, _, hex_port = local.partition(":")
            if int(hex_port, 16) == port and state == "0A":  # TCP_LISTEN
                found.add(address)
    return found


LOOPBACK = "0100007F"  # 127.0.0.1, little-endian hex
ANY_IPV4 = "00000000"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
@pytest.mark.parametrize(
    "options, expected",
    [
        pytest.param([], {LOOPBACK}, id="default"),
        pytest.param(["--host", "0.0.0.0"], {ANY_IPV4}, id="told-otherwise"),
    ],
)
def test_serve__binds_127_0_0_1_unless_told_otherwise(tmp_path, options, expected):
    environ = {name: value for name, value in os.environ.items() if not name.startswith("MOCKSERVER_")}
    served = start_serve(*options, cwd=tmp_path, env=environ)
    url = served.url
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/__mock/health", timeout=5) as response:
            assert response.status == 200
        assert listening_addresses(served.port) == expected
    finally:
        served.stop()


def test_defaults__bind_127_0_0_1():
    assert Settings.load(environ={}).host == "127.0.0.1"
    with ServerThread(create_app({"store": "memory"})) as server:
        assert server.url.startswith("http://127.0.0.1:")
        if Path("/proc/net/tcp").exists():
            assert listening_addresses(server.port) == {LOOPBACK}
