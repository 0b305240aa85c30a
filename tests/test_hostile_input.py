"""Hostile input: every case gets its API's clear 4xx and the server stays healthy."""

from __future__ import annotations

import base64
import http.client
import json
import re

import pytest
from helpers import (
    INSIGNER_KEY,
    assert_collect_error,
    assert_control_error,
    assert_insigner_problem,
    basic,
    bearer,
    start_serve,
)

from mockserver.app import create_app
from mockserver.testing.server import ServerThread

COLLECT = basic("collect_test_key")
JSON = {"Content-Type": "application/json"}
DEEP = 100_000


def collect_body(**changes) -> bytes:
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
    body.update(changes)
    return json.dumps(body).encode()


COLLECT_CASES = [
    pytest.param(b"{", 400, id="truncated-json"),
    pytest.param(b'{"campaignId": "x", "contacts": ["a"', 400, id="truncated-array"),
    pytest.param(b"\x00\x00\x00", 400, id="nul-bytes-raw"),
    pytest.param(collect_body(campaignId="xvr69\u0000EYLKXvTkfYuk"), 404, id="nul-in-string"),
    pytest.param(b'{"campaignId": "\xc3\x28"}', 400, id="invalid-utf8"),
    pytest.param(b'\xef\xbb\xbf{"campaignId": 1}', 400, id="utf8-bom"),
    pytest.param(b'{"contacts": ' + b"[" * DEEP + b"]" * DEEP + b"}", 400, id="nested-100k-arrays"),
    pytest.param(b'{"contacts": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}", 400, id="nested-50k-objects"),
    pytest.param(collect_body(campaignId=1e308), 400, id="huge-float"),
    pytest.param(b'{"campaignId": 1e999, "contacts": ["a"]}', 400, id="float-overflow"),
    pytest.param(b'{"campaignId": ' + b"9" * 5000 + b', "contacts": ["a"]}', 400, id="int-of-5000-digits"),
    pytest.param(b'{"campaignId": NaN, "contacts": ["a"]}', 400, id="nan"),
    pytest.param(b'{"campaignId": Infinity, "contacts": ["a"]}', 400, id="infinity"),
    pytest.param(collect_body(campaignId="x" * 100_000), 404, id="string-100k-id"),
    pytest.param(collect_body(contacts=[{"email": "a" * 100_000 + "@example.com"}]), 400, id="string-100k-email"),
    pytest.param(
        collect_body(contacts=[{"email": "a@example.com", "firstName": "x" * 100_000}]), 200, id="string-100k-name"
    ),
    pytest.param(collect_body(contacts=["WmTjsFknzHdmfs3Ra"] * 10_000), 400, id="10k-contacts"),
    pytest.param(collect_body(dueDate="9999-99-99T99:99:99Z"), 400, id="impossible-date"),
    pytest.param(collect_body(dueDate="0001-01-01T00:00:00-23:59"), 200, id="date-at-the-edge"),
    pytest.param(
        b'{"campaignId": "xvr69EYLKXvTkfYuk", "campaignId": 5, "contacts": ["a"]}', 400, id="duplicate-keys-last-wins"
    ),
    pytest.param(
        collect_body(contacts=[{"email": "a@example.com", "__proto__": {"x": 1}}]), 200, id="prototype-key-ignored"
    ),
]


@pytest.mark.parametrize("raw, status", COLLECT_CASES)
def test_hostile_input__collect(client, raw, status):
    response = client.post("/v1/requests", data=raw, headers={**COLLECT, **JSON})
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status >= 400:
        assert set(response.get_json()) <= {"error", "message", "details"}
    assert client.get("/__mock/health").status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="text"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param("application/xml", id="xml"),
        pytest.param("application/json; charset=latin-1", id="json-latin1-declared"),
    ],
)
def test_hostile_input__collect_content_types(client, content_type):
    response = client.post("/v1/requests", data=collect_body(), headers={**COLLECT, "Content-Type": content_type})
    assert response.status_code in (200, 400)
    if content_type.startswith("application/json"):
        assert response.status_code == 200
    else:
        assert response.get_json()["message"] == "Your request is invalid."


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic " + base64.b64encode(b":\xff\xfe").decode(), id="key-not-utf8"),
        pytest.param("Basic " + "A" * 100_000, id="huge-credentials"),
        pytest.param("Basic ===", id="padding-only"),
        pytest.param("basic\tOmtleQ==", id="tab-separator"),
        pytest.param("Digest username=x", id="other-scheme"),
    ],
)
def test_hostile_input__collect_credentials(client, header):
    response = client.post("/v1/requests", data=collect_body(), headers={"Authorization": header, **JSON})
    assert response.status_code == 401
    assert response.get_json() == {"error": "Unauthorized", "message": "Your API key is wrong."}


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("?campaignId=x&campaignId=y", id="repeated"),
        pytest.param("?%00=%ff&%zz", id="odd-encoding"),
        pytest.param("?" + "a=1&" * 5000, id="many-params"),
    ],
)
def test_hostile_input__collect_query_is_ignored(client, query):
    response = client.post("/v1/requests" + query, data=collect_body(), headers={**COLLECT, **JSON})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/__mock/state/..%2F..%2Fetc/passwd", id="encoded-slashes"),
        pytest.param("/__mock/state/collect/..", id="dot-dot-collection"),
        pytest.param("/__mock/state/%2e%2e/contacts", id="encoded-dot-dot-api"),
        pytest.param("/__mock/state/collect/contacts%00", id="nul-collection"),
        pytest.param("/__mock/state/collect/__class__", id="attribute-name"),
        pytest.param("/v1/requests/../../__mock/reset", id="traversal-into-control"),
    ],
)
def test_hostile_input__path_traversal_in_path_parameters(client, path):
    response = client.get(path, headers=COLLECT)
    assert response.status_code in (404, 405)
    assert client.get("/__mock/health").status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"[" * DEEP + b"]" * DEEP, id="nested-100k"),
        pytest.param(b'{"freeze": "' + b"9" * 100_000 + b'"}', id="huge-instant"),
        pytest.param(b'{"advance": 1e999}', id="infinite-advance"),
        pytest.param(b'{"advance": NaN}', id="nan-advance"),
        pytest.param(b"\xff\xfe", id="binary"),
    ],
)
def test_hostile_input__control_plane(client, raw):
    for path in ("/__mock/clock", "/__mock/reset", "/__mock/state/collect/contacts"):
        response = client.post(path, data=raw, headers=JSON)
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:200])
        assert set(response.get_json()["error"]) == {"code", "message"}
    assert client.get("/__mock/health").status_code == 200


def test_hostile_input__chunked_body_over_1_mib_without_length():
    with ServerThread(create_app({})) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.putrequest("POST", "/v1/requests")
        conn.putheader("Authorization", COLLECT["Authorization"])
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"x" * 65536
        try:
            for _ in range(20):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may stop reading once the limit is passed
        response = conn.getresponse()
        assert response.status in (400, 413)
        conn.close()
        health = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        health.request("GET", "/__mock/health")
        assert health.getresponse().status == 200
        health.close()


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            b'{"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "a@example.com", "firstName": "\\ud800"}]}',
            id="lone-high-surrogate",
        ),
        pytest.param(b'{"campaignId": "\\udc00x", "contacts": ["a"]}', id="lone-low-surrogate"),
        pytest.param(b'{"\\ud800": 1, "campaignId": "x", "contacts": ["a"]}', id="surrogate-in-key"),
    ],
)
def test_hostile_input__collect_lone_surrogates(client, raw):
    response = client.post("/v1/requests", data=raw, headers={**COLLECT, **JSON})
    assert response.status_code == 400
    assert client.get("/__mock/state/collect/contacts").status_code == 200


# -- inSigner --------------------------------------------------------------------------------------
INSIGNER = bearer(INSIGNER_KEY)
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def module_app():
    app = create_app({"store": "memory", "seed": 42})
    yield app
    app.extensions["mockserver"].close()


@pytest.fixture
def shared(module_app):
    """A client of one in-memory app for the module, reset first: for cases the store plays no part in."""
    client = module_app.test_client()
    client.post("/__mock/reset")
    return client


def bulk_send_body(**changes) -> bytes:
    body = {"templateId": "tpl_abc123", "name": "Q3", "signers": [{"name": "Alice", "email": "alice@vendor-a.com"}]}
    body.update(changes)
    return json.dumps(body).encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


INSIGNER_CASES = [
    pytest.param(b"{", 400, id="truncated-json"),
    pytest.param(b'{"templateId": "tpl_abc123", "signers": [{"name": "a"', 400, id="truncated-array"),
    pytest.param(b"\x00\x00\x00", 400, id="nul-bytes-raw"),
    pytest.param(bulk_send_body(templateId="tpl_abc\u0000123"), 404, id="nul-in-string"),
    pytest.param(b'{"templateId": "\xc3\x28"}', 400, id="invalid-utf8"),
    pytest.param(b'\xef\xbb\xbf{"templateId": "tpl_abc123"}', 400, id="utf8-bom"),
    pytest.param(b'{"signers": ' + b"[" * DEEP + b"]" * DEEP + b"}", 400, id="nested-100k-arrays"),
    pytest.param(b'{"x": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}", 400, id="nested-50k-objects"),
    pytest.param(bulk_send_body(extra=json.loads(nested(99))), 201, id="nested-100-levels-allowed"),
    pytest.param(bulk_send_body(extra=json.loads(nested(100))), 400, id="nested-101-levels"),
    pytest.param(bulk_send_body(name=1e308), 422, id="huge-float"),
    pytest.param(b'{"templateId": "tpl_abc123", "name": 1e999, "signers": []}', 422, id="float-overflow"),
    pytest.param(b'{"templateId": "tpl_abc123", "name": ' + b"9" * 5000 + b"}", 400, id="int-of-5000-digits"),
    pytest.param(b'{"templateId": "tpl_abc123", "name": NaN}', 400, id="nan"),
    pytest.param(b'{"templateId": "tpl_abc123", "name": -Infinity}', 400, id="infinity"),
    pytest.param(bulk_send_body(templateId="x" * 100_000), 404, id="string-100k-template-id"),
    pytest.param(bulk_send_body(name="x" * 100_000), 422, id="string-100k-name"),
    pytest.param(
        bulk_send_body(signers=[{"name": "a", "email": "a" * 100_000 + "@example.com"}]), 422, id="string-100k-email"
    ),
    pytest.param(bulk_send_body(emailMessage="x" * 100_000), 422, id="string-100k-email-message"),
    pytest.param(
        bulk_send_body(signers=[{"name": "a", "email": f"s{i}@example.com"} for i in range(501)]), 422, id="501-signers"
    ),
    pytest.param(
        bulk_send_body(signers=[{"name": "a", "email": "a@example.com\n"}]), 422, id="email-with-trailing-newline"
    ),
    pytest.param(bulk_send_body(name="\ud800"), 422, id="lone-surrogate"),
    pytest.param(
        b'{"templateId": "tpl_abc123", "templateId": 5, "name": "n", "signers": []}', 422, id="duplicate-keys-last-wins"
    ),
    pytest.param(bulk_send_body(__proto__={"admin": True}), 201, id="prototype-key-ignored"),
    pytest.param(b"[]", 400, id="array-not-object"),
    pytest.param(b'"tpl_abc123"', 400, id="string-not-object"),
]


@pytest.mark.parametrize("raw, status", INSIGNER_CASES)
def test_hostile_input__insigner(client, raw, status):
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
    response = client.post("/api/v1/bulk-sends", data=raw, headers={**INSIGNER, **JSON})
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status >= 400:
        assert_insigner_problem(response)
    assert client.get("/__mock/health").status_code == 200
    assert client.get("/api/v1/bulk-sends/bs_abc123", headers=INSIGNER).status_code == 200


@pytest.mark.parametrize(
    "content_type, status",
    [
        pytest.param("text/plain", 400, id="text"),
        pytest.param("multipart/form-data; boundary=x", 400, id="multipart"),
        pytest.param("application/x-www-form-urlencoded", 400, id="form"),
        pytest.param("application/xml", 400, id="xml"),
        pytest.param("application/json; charset=latin-1", 201, id="json-latin1-declared"),
        pytest.param("application/merge-patch+json", 201, id="json-suffix"),
    ],
)
def test_hostile_input__insigner_content_types(client, content_type, status):
    response = client.post(
        "/api/v1/bulk-sends", data=bulk_send_body(), headers={**INSIGNER, "Content-Type": content_type}
    )
    assert response.status_code == status
    if status == 400:
        assert_insigner_problem(response)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Bearer isk_" + "A" * 43, id="key-too-short"),
        pytest.param("Bearer isk_" + "A" * 45, id="key-too-long"),
        pytest.param("Bearer isk_" + "A" * 43 + "/", id="key-not-url-safe"),
        pytest.param("Bearer " + "isk_" + "A" * 100_000, id="huge-key"),
        pytest.param("Bearer isk_" + "é" * 44, id="non-ascii-key"),
        pytest.param("Basic " + base64.b64encode(b":" + INSIGNER_KEY.encode()).decode(), id="other-scheme"),
        pytest.param("Bearer isk_TestRevokedKey______________________00000000", id="revoked"),
    ],
)
def test_hostile_input__insigner_credentials(shared, header):
    response = shared.get("/api/v1/bulk-sends", headers={"Authorization": header})
    assert response.status_code == 401
    assert_insigner_problem(response)
    assert "RateLimit-Remaining" not in response.headers


@pytest.mark.parametrize(
    "query, status, count",
    [
        pytest.param("limit=1&limit=1000", 200, 1, id="limit-repeated-first-wins"),
        pytest.param("limit=1e1", 200, 10, id="limit-exponent"),
        pytest.param("limit=0x05", 200, 5, id="limit-hex"),
        pytest.param("limit=%205%20", 200, 5, id="limit-spaces"),
        pytest.param("limit=", 422, None, id="limit-empty"),
        pytest.param("limit=5.5", 422, None, id="limit-fraction"),
        pytest.param("limit=-1", 422, None, id="limit-negative"),
        pytest.param("limit=101", 422, None, id="limit-over-100"),
        pytest.param("limit=NaN", 422, None, id="limit-nan"),
        pytest.param("limit=Infinity", 422, None, id="limit-infinity"),
        pytest.param("limit=" + "9" * 5000, 422, None, id="limit-5000-digits"),
        pytest.param("limit=%00", 422, None, id="limit-nul"),
        pytest.param("limit[]=5", 200, 21, id="limit-as-array-ignored"),
        pytest.param("cursor=&limit=2", 200, 2, id="cursor-empty-is-first-page"),
        pytest.param("cursor=bs_unknown", 422, None, id="cursor-unknown"),
        pytest.param("cursor=..%2F..%2F__mock%2Freset", 422, None, id="cursor-traversal"),
        pytest.param("cursor=" + "c" * 100_000, 422, None, id="cursor-100k"),
        pytest.param("cursor=bs_abc123&cursor=bs_unknown", 200, None, id="cursor-repeated-first-wins"),
        pytest.param("status=completed&status=bogus", 200, None, id="status-repeated-first-wins"),
        pytest.param("status=COMPLETED", 422, None, id="status-upper-case"),
        pytest.param("status=completed%00", 422, None, id="status-nul"),
        pytest.param("status=", 422, None, id="status-empty"),
        pytest.param("%00=%ff&%zz&=&==", 200, 21, id="odd-encoding"),
        pytest.param("a=1&" * 5000, 200, 21, id="many-params"),
    ],
)
def test_hostile_input__insigner_list_query(shared, query, status, count):
    response = shared.get("/api/v1/bulk-sends?" + query, headers=INSIGNER)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status == 422:
        assert_insigner_problem(response)
        assert response.get_json()["errors"]
    elif count is not None:
        assert response.get_json()["meta"]["count"] == count


# -- path traversal in every path parameter ---------------------------------------------------------
TRAVERSALS = [
    pytest.param("..%2F..%2F__mock%2Freset", id="encoded-slashes"),
    pytest.param("%2e%2e", id="encoded-dot-dot"),
    pytest.param("..", id="dot-dot"),
    pytest.param("%00", id="nul"),
    pytest.param("bs_abc123%00", id="nul-suffix"),
    pytest.param("..%5C..%5Cfixtures", id="backslashes"),
    pytest.param("%252e%252e%252f", id="double-encoded"),
    pytest.param("x" * 10_000, id="10k-characters"),
    pytest.param("%ff%fe", id="invalid-utf8"),
]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("segment", TRAVERSALS)
def test_hostile_input__path_traversal_in_bulk_send_id(shared, method, segment):
    response = shared.open(f"/api/v1/bulk-sends/{segment}", method=method, headers=INSIGNER)
    assert response.status_code in (404, 405), response.get_data(as_text=True)[:300]
    assert_insigner_problem(response)
    assert shared.get("/api/v1/bulk-sends/bs_abc123", headers=INSIGNER).status_code == 200
    assert shared.get("/__mock/health").status_code == 200


@pytest.mark.parametrize("segment", TRAVERSALS)
def test_hostile_input__path_traversal_in_fault_id(shared, segment):
    kept = shared.post("/__mock/faults", json={"status": 503, "path": "/nowhere"}).get_json()["id"]
    response = shared.delete(f"/__mock/faults/{segment}")
    assert response.status_code in (404, 405)
    assert_control_error(response)
    assert [rule["id"] for rule in shared.get("/__mock/faults").get_json()["faults"]] == [kept]


@pytest.mark.parametrize(
    "segment",
    [
        *TRAVERSALS,
        pytest.param("..%2F..%2Fcollect%2FapiKeys", id="into-fixtures"),
        pytest.param("%2Fetc%2Fpasswd", id="absolute"),
        pytest.param("collect-maintenance.json", id="file-name"),
        pytest.param("collect-maintenance%00", id="name-nul"),
        pytest.param("COLLECT-MAINTENANCE", id="other-case"),
        pytest.param("__init__", id="dunder"),
    ],
)
def test_hostile_input__path_traversal_in_scenario_name(shared, segment):
    response = shared.post(f"/__mock/scenarios/{segment}")
    assert response.status_code in (404, 405)
    assert_control_error(response)
    assert shared.get("/__mock/faults").get_json()["faults"] == []  # nothing was applied


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/__mock/state/..%2F..%2Fetc/passwd", id="encoded-slashes"),
        pytest.param("/__mock/state/insigner/..", id="dot-dot-collection"),
        pytest.param("/__mock/state/%2e%2e/templates", id="encoded-dot-dot-api"),
        pytest.param("/__mock/state/insigner/templates%00", id="nul-collection"),
        pytest.param("/__mock/state/insigner/_tenants", id="internal-table"),
        pytest.param("/__mock/state/insigner/__dict__", id="attribute-name"),
        pytest.param("/__mock/state/collect/..%2F..%2Finsigner%2FapiKeys", id="across-apis"),
        pytest.param("/__mock/state/" + "a" * 10_000 + "/templates", id="10k-api"),
    ],
)
def test_hostile_input__path_traversal_in_state_parameters(shared, method, path):
    response = shared.open(path, method=method, json={"name": "x"})
    assert response.status_code in (404, 405)
    assert_control_error(response)
    assert shared.get("/__mock/health").status_code == 200


# -- oversized bodies -------------------------------------------------------------------------------
def padded(body: bytes, size: int) -> bytes:
    """`body` (a JSON object) padded with spaces to exactly `size` bytes: valid JSON of that size."""
    return body[:-1] + b" " * (size - len(body)) + b"}"


@pytest.mark.parametrize(
    "path, body, headers, ok, check",
    [
        pytest.param("/v1/requests", collect_body(), COLLECT, 200, assert_collect_error, id="collect"),
        pytest.param("/api/v1/bulk-sends", bulk_send_body(), INSIGNER, 201, assert_insigner_problem, id="insigner"),
        pytest.param(
            "/__mock/faults", b'{"status": 503, "path": "/nowhere"}', {}, 201, assert_control_error, id="control"
        ),
    ],
)
def test_hostile_input__bodies_up_to_1_mib_and_no_more(client, path, body, headers, ok, check):
    at_limit = client.post(path, data=padded(body, MIB), headers={**headers, **JSON})
    assert at_limit.status_code == ok, at_limit.get_data(as_text=True)[:300]
    over = client.post(path, data=padded(body, MIB + 1), headers={**headers, **JSON})
    assert over.status_code == 413
    check(over)
    huge = client.post(path, data=b"{" + b" " * (8 * MIB) + b"}", headers={**headers, **JSON})
    assert huge.status_code == 413
    assert client.get("/__mock/health").status_code == 200


@pytest.mark.parametrize(
    "path, headers",
    [
        pytest.param("/v1/requests", COLLECT, id="collect"),
        pytest.param("/api/v1/bulk-sends", INSIGNER, id="insigner"),
    ],
)
def test_hostile_input__content_length_that_lies(path, headers):
    with ServerThread(create_app({})) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.putrequest("POST", path)
        for name, value in {**headers, **JSON, "Content-Length": str(10 * MIB)}.items():
            conn.putheader(name, value)
        conn.endheaders()
        conn.send(b'{"a": 1}')  # far less than announced, then nothing
        response = conn.getresponse()
        assert response.status == 413
        conn.close()
        health = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        health.request("GET", "/__mock/health")
        assert health.getresponse().status == 200
        health.close()


# -- values that break code paths far from where they arrive -----------------------------------------
@pytest.mark.parametrize(
    "due_date, status",
    [
        pytest.param("9999-12-31T23:59:59-23:59", 400, id="past-year-9999-in-utc"),
        pytest.param("0001-01-01T00:00:00+23:59", 400, id="before-year-1-in-utc"),
        pytest.param("0001-01-01T00:00:00", 400, id="naive-before-year-1-in-team-zone"),
        pytest.param("9999-12-31", 200, id="last-day"),
        pytest.param("0500-06-01T00:00:00Z", 200, id="year-500"),
    ],
)
def test_hostile_input__collect_due_date_at_the_ends_of_time(client, due_date, status):
    response = client.post("/v1/requests", data=collect_body(dueDate=due_date), headers={**COLLECT, **JSON})
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status == 400:
        assert [detail["field"] for detail in response.get_json()["details"]] == ["dueDate"]
    else:  # ISO 8601 with a four-digit year, whatever the platform's strftime does with small years
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", response.get_json()["requests"][0]["dueDate"])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"freeze": "9999-12-31T23:59:59Z"}, id="freeze-past-9000"),
        pytest.param({"freeze": "1969-12-31T23:59:59Z"}, id="freeze-before-1970"),
        pytest.param({"freeze": "0001-01-01T00:00:00+05:00"}, id="freeze-before-year-1-in-utc"),
        pytest.param({"advance": -100 * 365 * 86400}, id="advance-out-of-bounds"),
    ],
)
def test_hostile_input__clock_outside_its_span(shared, body):
    response = shared.post("/__mock/clock", json=body)
    assert response.status_code == 400
    assert_control_error(response)


def test_hostile_input__clock_pushed_to_its_end_keeps_the_apis_working(client):
    assert client.post("/__mock/clock", json={"freeze": "8999-12-31T23:00:00Z"}).status_code == 200
    assert client.post("/__mock/clock", json={"advance": 86_400}).status_code == 400  # would pass 9000
    assert client.post("/v1/requests", data=collect_body(), headers={**COLLECT, **JSON}).status_code == 200
    assert client.post("/api/v1/bulk-sends", data=bulk_send_body(), headers={**INSIGNER, **JSON}).status_code == 201
    assert client.get("/api/v1/bulk-sends", headers=INSIGNER).status_code == 200


@pytest.mark.parametrize(
    "path, body",
    [
        pytest.param(
            "/__mock/state/insigner/templates",
            {"name": "t", "createdAt": "0001-01-01T00:00:00+01:00"},
            id="insigner-template-before-year-1",
        ),
        pytest.param(
            "/__mock/state/insigner/apiKeys",
            {"expiresAt": "9999-12-31T23:59:59-05:00"},
            id="insigner-key-past-year-9999",
        ),
        pytest.param(
            "/__mock/state/collect/contacts",
            {"email": "a@b.co", "createdAt": "9999-12-31T23:59:59-05:00"},
            id="collect-contact-past-year-9999",
        ),
        pytest.param(
            "/__mock/state/collect/apiKeys",
            {"key": "k", "expiresAt": "0001-01-01T00:00:00+05:00"},
            id="collect-key-before-year-1",
        ),
        pytest.param(
            "/__mock/state/collect/contacts",
            {"email": "a@b.co", "data": json.loads(nested(100))},
            id="nested-101-levels",
        ),
        pytest.param("/__mock/faults", {"status": 503, "body": json.loads(nested(900))}, id="fault-body-900-levels"),
        pytest.param("/__mock/faults", {"status": 503, "headers": {"X-Note": "€"}}, id="header-outside-latin-1"),
        pytest.param("/__mock/faults", {"status": 503, "headers": {"X-Note": "café"}}, id="header-outside-ascii"),
        pytest.param("/__mock/faults", {"status": 503, "headers": {"X-Note": "a\n"}}, id="header-value-newline"),
        pytest.param("/__mock/faults", {"status": 503, "headers": {"X-Note\n": "a"}}, id="header-name-newline"),
        pytest.param("/__mock/state/insigner/apiKeys", {"key": INSIGNER_KEY + "-and-more"}, id="key-with-a-tail"),
    ],
)
def test_hostile_input__control_values_refused_before_they_are_kept(shared, path, body):
    response = shared.post(path, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert_control_error(response)
    for listing in ("/__mock/faults", "/__mock/state/insigner/templates", "/__mock/state/collect/contacts"):
        assert shared.get(listing).status_code == 200


def test_hostile_input__fault_headers_are_written_on_the_wire():
    with ServerThread(create_app({})) as server:
        added = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        added.request(
            "POST",
            "/__mock/faults",
            body=json.dumps({"status": 503, "api": "collect", "headers": {"X-Note": "cafe\t~latte!"}}),
            headers=JSON,
        )
        assert added.getresponse().status == 201
        added.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", "/v1/requests", body=collect_body(), headers={**COLLECT, **JSON})
        response = conn.getresponse()
        assert response.status == 503
        assert response.getheader("X-Note") == "cafe\t~latte!"
        conn.close()


@pytest.mark.parametrize(
    "path, raw",
    [
        pytest.param(
            "/api/v1/bulk-sends",
            b'{"templateId": "tpl_abc123", "name": "\\ud800", "signers": []}',
            id="insigner-lone-surrogate",
        ),
        pytest.param("/v1/requests", b'{"campaignId": "\\udc00", "contacts": []}', id="collect-lone-surrogate"),
        pytest.param(
            "/v1/requests",
            b'{"campaignId": "x", "contacts": ' + nested(99).encode() + b"}",
            id="collect-deep-but-allowed",
        ),
        pytest.param("/api/v1/bulk-sends", nested(950).encode(), id="insigner-near-the-recursion-limit"),
        pytest.param("/v1/requests", b'{"campaignId": "\xff\xfe"}', id="collect-invalid-utf8"),
    ],
)
def test_hostile_input__journal_shows_every_body_it_kept(client, path, raw):
    headers = COLLECT if path.startswith("/v1/") else INSIGNER
    assert client.post(path, data=raw, headers={**headers, **JSON}).status_code < 500
    journal = client.get("/__mock/requests")
    assert journal.status_code == 200, journal.get_data(as_text=True)[:300]
    assert journal.get_json()["requests"][-1]["body"] is not None


# -- the same through `mockserver serve` (granian, and the bridge that builds each WSGI environ) --------
SERVE_CASES = [
    pytest.param("POST", "/v1/requests", COLLECT, b"{", 400, id="collect-truncated-json"),
    pytest.param("POST", "/v1/requests", COLLECT, b'{"campaignId": "\xc3\x28"}', 400, id="collect-invalid-utf8"),
    pytest.param(
        "POST", "/v1/requests?%00=%ff&campaignId=x&campaignId=y", COLLECT, collect_body(), 200, id="collect-odd-query"
    ),
    pytest.param(
        "POST",
        "/api/v1/bulk-sends",
        INSIGNER,
        b'{"signers": ' + nested(DEEP).encode() + b"}",
        400,
        id="insigner-nested-100k",
    ),
    pytest.param(
        "GET",
        "/api/v1/bulk-sends?limit=1&limit=1000&status=completed&status=x",
        INSIGNER,
        None,
        200,
        id="insigner-repeated-query",
    ),
    pytest.param("GET", "/api/v1/bulk-sends/%ff%fe", INSIGNER, None, 404, id="insigner-invalid-utf8-id"),
    pytest.param(
        "DELETE", "/api/v1/bulk-sends/..%2F..%2F__mock%2Freset", INSIGNER, None, 404, id="insigner-traversal-id"
    ),
    pytest.param(
        "GET",
        "/api/v1/bulk-sends/bs_abc123",
        {"Authorization": "Bearer isk_" + "é" * 44},
        None,
        401,
        id="insigner-non-latin-key",
    ),
    pytest.param("GET", "/__mock/state/..%2F..%2Fetc/passwd", {}, None, 404, id="control-traversal"),
    pytest.param("POST", "/__mock/scenarios/..%2Fcollect%2FapiKeys", {}, None, 404, id="control-scenario-traversal"),
    pytest.param(
        "POST",
        "/__mock/faults",
        {},
        b'{"status": 503, "headers": {"X-A": "\xc3\xa9"}}',
        400,
        id="control-header-outside-ascii",
    ),
]


@pytest.mark.slow
def test_hostile_input__through_serve(tmp_path):
    served = start_serve("--log-level", "warning", cwd=tmp_path)
    port = served.port
    try:
        for case in SERVE_CASES:
            method, path, headers, body, status = case.values
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in {**headers, **JSON}.items():
                conn.putheader(name, value.encode("utf-8"))  # as a client would send non-Latin-1 text: UTF-8
            conn.putheader("Content-Length", str(len(body or b"")))
            conn.endheaders(body)
            response = conn.getresponse()
            answer = response.read()
            assert response.status == status, (case.id, answer[:300])
            if status >= 400:
                envelope = json.loads(answer)
                assert {"error"} <= set(envelope) or {"type", "title", "status", "detail"} <= set(envelope), case.id
            conn.close()
    finally:
        _, err = served.stop()
    assert "Traceback" not in err, err[-2000:]
