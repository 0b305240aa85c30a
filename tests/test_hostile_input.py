"""Hostile input: every case gets its API's clear 4xx and the server stays healthy."""
from __future__ import annotations

import base64
import http.client
import json

import pytest

from conftest import basic
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
    pytest.param(collect_body(contacts=[{"email": "a@example.com", "firstName": "x" * 100_000}]), 400,
                 id="string-100k-name"),
    pytest.param(collect_body(contacts=["WmTjsFknzHdmfs3Ra"] * 10_000), 400, id="10k-contacts"),
    pytest.param(collect_body(dueDate="9999-99-99T99:99:99Z"), 400, id="impossible-date"),
    pytest.param(collect_body(dueDate="0001-01-01T00:00:00-23:59"), 200, id="date-at-the-edge"),
    pytest.param(b'{"campaignId": "xvr69EYLKXvTkfYuk", "campaignId": 5, "contacts": ["a"]}', 400,
                 id="duplicate-keys-last-wins"),
    pytest.param(collect_body(contacts=[{"email": "a@example.com", "__proto__": {"x": 1}}]), 200,
                 id="prototype-key-ignored"),
]


@pytest.mark.parametrize("raw, status", COLLECT_CASES)
def test_hostile_input__collect(client, raw, status):
    response = client.post("/v1/requests", data=raw, headers={**COLLECT, **JSON})
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status >= 400:
        assert set(response.get_json()) <= {"error", "message", "details"}
    assert client.get("/__mock/health").status_code == 200


@pytest.mark.parametrize("content_type", [
    pytest.param("text/plain", id="text"),
    pytest.param("multipart/form-data; boundary=x", id="multipart"),
    pytest.param("application/xml", id="xml"),
    pytest.param("application/json; charset=latin-1", id="json-latin1-declared"),
])
def test_hostile_input__collect_content_types(client, content_type):
    response = client.post("/v1/requests", data=collect_body(), headers={**COLLECT, "Content-Type": content_type})
    assert response.status_code in (200, 400)
    if content_type.startswith("application/json"):
        assert response.status_code == 200
    else:
        assert response.get_json()["message"] == "Your request is invalid."


@pytest.mark.parametrize("header", [
    pytest.param("Basic " + base64.b64encode(b":\xff\xfe").decode(), id="key-not-utf8"),
    pytest.param("Basic " + "A" * 100_000, id="huge-credentials"),
    pytest.param("Basic ===", id="padding-only"),
    pytest.param("basic\tOmtleQ==", id="tab-separator"),
    pytest.param("Digest username=x", id="other-scheme"),
])
def test_hostile_input__collect_credentials(client, header):
    response = client.post("/v1/requests", data=collect_body(), headers={"Authorization": header, **JSON})
    assert response.status_code == 401
    assert response.get_json() == {"error": "Unauthorized", "message": "Your API key is wrong."}


@pytest.mark.parametrize("query", [
    pytest.param("?campaignId=x&campaignId=y", id="repeated"),
    pytest.param("?%00=%ff&%zz", id="odd-encoding"),
    pytest.param("?" + "a=1&" * 5000, id="many-params"),
])
def test_hostile_input__collect_query_is_ignored(client, query):
    response = client.post("/v1/requests" + query, data=collect_body(), headers={**COLLECT, **JSON})
    assert response.status_code == 200


@pytest.mark.parametrize("path", [
    pytest.param("/__mock/state/..%2F..%2Fetc/passwd", id="encoded-slashes"),
    pytest.param("/__mock/state/collect/..", id="dot-dot-collection"),
    pytest.param("/__mock/state/%2e%2e/contacts", id="encoded-dot-dot-api"),
    pytest.param("/__mock/state/collect/contacts%00", id="nul-collection"),
    pytest.param("/__mock/state/collect/__class__", id="attribute-name"),
    pytest.param("/v1/requests/../../__mock/reset", id="traversal-into-control"),
])
def test_hostile_input__path_traversal_in_path_parameters(client, path):
    response = client.get(path, headers=COLLECT)
    assert response.status_code in (404, 405)
    assert client.get("/__mock/health").status_code == 200


@pytest.mark.parametrize("raw", [
    pytest.param(b"{", id="truncated"),
    pytest.param(b"[" * DEEP + b"]" * DEEP, id="nested-100k"),
    pytest.param(b'{"freeze": "' + b"9" * 100_000 + b'"}', id="huge-instant"),
    pytest.param(b'{"advance": 1e999}', id="infinite-advance"),
    pytest.param(b'{"advance": NaN}', id="nan-advance"),
    pytest.param(b"\xff\xfe", id="binary"),
])
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


@pytest.mark.parametrize("raw", [
    pytest.param(b'{"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "a@example.com", '
                 b'"firstName": "\\ud800"}]}', id="lone-high-surrogate"),
    pytest.param(b'{"campaignId": "\\udc00x", "contacts": ["a"]}', id="lone-low-surrogate"),
    pytest.param(b'{"\\ud800": 1, "campaignId": "x", "contacts": ["a"]}', id="surrogate-in-key"),
])
def test_hostile_input__collect_lone_surrogates(client, raw):
    response = client.post("/v1/requests", data=raw, headers={**COLLECT, **JSON})
    assert response.status_code == 400
    assert client.get("/__mock/state/collect/contacts").status_code == 200
