"""GET/DELETE /__mock/requests: every API request with its answer, redacted, filtered, bounded."""

from __future__ import annotations

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer

from mockserver.journal.model import BODY_CAP

SEND = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
ENTRY_FIELDS = [
    "id",
    "time",
    "api",
    "tenant",
    "method",
    "path",
    "query",
    "headers",
    "body",
    "status",
    "faultId",
    "durationMs",
]


@pytest.fixture
def settings() -> dict:
    return {"store": "memory", "seed": 42, "journal_size": 5}


def journal(client, **filters) -> dict:
    response = client.get("/__mock/requests", query_string=filters)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_list_requests__entry_shape(client, freeze):
    freeze("2030-01-02T03:04:05Z")
    client.post("/v1/requests?dry=1&tag=a&tag=b", json=SEND, headers=basic(COLLECT_KEY))
    entry = journal(client)["requests"][0]
    assert list(entry) == ENTRY_FIELDS
    assert entry["id"] == 1 and entry["time"] == "2030-01-02T03:04:05.000Z"
    assert (entry["api"], entry["tenant"], entry["method"], entry["path"]) == (
        "collect",
        "uGFRDeEL3Ct2uYo2c",
        "POST",
        "/v1/requests",
    )
    assert entry["query"] == {"dry": "1", "tag": ["a", "b"]}
    assert entry["body"] == SEND and entry["status"] == 200 and entry["faultId"] is None
    assert isinstance(entry["durationMs"], float) and entry["durationMs"] >= 0


@pytest.mark.parametrize(
    "headers, shown",
    [
        pytest.param(basic(COLLECT_KEY), "Basic collect_...", id="basic-key-decoded"),
        pytest.param(bearer(INSIGNER_KEY), "Bearer isk_Test...", id="bearer"),
        pytest.param(basic("abcd"), "Basic ab...", id="short-key-never-whole"),
        pytest.param({"Authorization": "Basic !!!"}, "Basic [redacted]", id="undecodable"),
        pytest.param({"Authorization": "Token secret-token"}, "Token [redacted]", id="other-scheme"),
    ],
)
def test_list_requests__credentials_redacted(client, headers, shown):
    client.post("/v1/requests", json=SEND, headers=headers)
    entry = journal(client)["requests"][0]
    assert entry["headers"]["Authorization"] == shown


def test_list_requests__full_key_appears_nowhere(client):
    secret = "collect-key-that-must-not-leak"
    client.post("/v1/requests", json=SEND, headers={**basic(secret), "Cookie": f"k={secret}", "X-Mock-Token": secret})
    client.get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY))
    text = client.get("/__mock/requests").get_data(as_text=True)
    assert secret not in text and INSIGNER_KEY not in text


@pytest.mark.parametrize(
    "call, status",
    [
        pytest.param(lambda c: c.post("/v1/requests", json=SEND), 401, id="401"),
        pytest.param(lambda c: c.get("/v1/nope", headers=basic(COLLECT_KEY)), 404, id="404"),
        pytest.param(lambda c: c.get("/v1/requests", headers=basic(COLLECT_KEY)), 405, id="405"),
        pytest.param(
            lambda c: c.post(
                "/v1/requests",
                data=b"x" * (1024 * 1024 + 1),
                headers=basic(COLLECT_KEY),
                content_type="application/json",
            ),
            413,
            id="413",
        ),
        pytest.param(lambda c: c.get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY)), 200, id="insigner"),
    ],
)
def test_list_requests__every_api_answer_is_recorded(client, call, status):
    assert call(client).status_code == status
    entries = journal(client)["requests"]
    assert [entry["status"] for entry in entries] == [status]


def test_list_requests__body_of_an_unauthorized_request_is_kept(client):
    client.post("/v1/requests", json=SEND)
    assert journal(client)["requests"][0]["body"] == SEND


@pytest.mark.parametrize(
    "data, body",
    [
        pytest.param(b"not json", "not json", id="text"),
        pytest.param(b"\xff\xfe", "\ufffd\ufffd", id="not-utf8"),
        pytest.param(b"x" * (BODY_CAP + 10), "x" * BODY_CAP + f"... [{BODY_CAP + 10} bytes]", id="capped"),
        pytest.param(b"", None, id="empty"),
    ],
)
def test_list_requests__body_as_text_when_not_json(client, data, body):
    client.post("/v1/requests", data=data, headers=basic(COLLECT_KEY), content_type="application/json")
    assert journal(client)["requests"][0]["body"] == body


def test_list_requests__control_calls_are_not_recorded(client):
    client.get("/__mock/health")
    client.post("/__mock/clock", json={"advance": 1})
    assert journal(client) == {"requests": [], "total": 0}


def test_list_requests__fault_that_answered(client):
    client.post("/__mock/faults", json={"api": "collect", "status": 503, "times": 1})
    client.post("/v1/requests", json=SEND, headers=basic(COLLECT_KEY))
    client.post("/v1/requests", json=SEND, headers={**basic(COLLECT_KEY), "Prefer": "code=500"})
    entries = journal(client)["requests"]
    assert [(e["status"], e["faultId"]) for e in entries] == [(503, "flt_1"), (500, "prefer")]


@pytest.fixture
def mixed(client) -> None:
    """Five requests: Collect 200, 401, 404, inSigner 200 (fixture key) and 200 (another key)."""
    client.post("/v1/requests", json=SEND, headers=basic(COLLECT_KEY))
    client.post("/v1/requests", json=SEND)
    client.get("/v1/unknown", headers=basic(COLLECT_KEY))
    client.get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY))
    client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer("isk_" + "journal".ljust(44, "0")))


@pytest.mark.parametrize(
    "filters, expected",
    [
        pytest.param({}, [1, 2, 3, 4, 5], id="none"),
        pytest.param({"api": "collect"}, [1, 2, 3], id="api"),
        pytest.param({"method": "get"}, [3, 4, 5], id="method-any-case"),
        pytest.param({"path": "/api/v1/bulk-sends/*"}, [5], id="path-glob"),
        pytest.param({"path": "/v1/requests"}, [1, 2], id="path-exact"),
        pytest.param({"status": 401}, [2], id="status"),
        pytest.param({"tenant": COLLECT_KEY}, [1, 3], id="tenant-collect-key"),
        pytest.param({"tenant": "isk_" + "journal".ljust(44, "0")}, [5], id="tenant-insigner-key"),
        pytest.param({"tenant": "uGFRDeEL3Ct2uYo2c"}, [1, 3], id="tenant-id"),
        pytest.param({"limit": 2}, [4, 5], id="limit-newest"),
        pytest.param({"api": "collect", "status": 200}, [1], id="combined"),
    ],
)
def test_list_requests__filters(client, mixed, filters, expected):
    found = journal(client, **filters)
    assert [entry["id"] for entry in found["requests"]] == expected
    assert found["total"] == (len(expected) if "limit" not in filters else 5)


@pytest.mark.parametrize(
    "filters, field",
    [
        pytest.param({"api": "stripe"}, "api", id="unknown-api"),
        pytest.param({"status": "ok"}, "status", id="status-not-number"),
        pytest.param({"limit": 0}, "limit", id="limit-zero"),
        pytest.param({"stauts": 500}, "stauts", id="unknown-filter"),
    ],
)
def test_list_requests__bad_filter_is_400_naming_it(client, filters, field):
    response = client.get("/__mock/requests", query_string=filters)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(f"{field}:")


def test_list_requests__bounded_oldest_go_first(client):
    for _ in range(7):
        client.post("/v1/requests", json=SEND)
    assert [entry["id"] for entry in journal(client)["requests"]] == [3, 4, 5, 6, 7]


def test_clear_requests__empties_and_ids_go_on(client):
    client.post("/v1/requests", json=SEND)
    assert client.delete("/__mock/requests").status_code == 204
    assert journal(client) == {"requests": [], "total": 0}
    client.post("/v1/requests", json=SEND)
    assert journal(client)["requests"][0]["id"] == 2


def test_reset__empties_the_journal_and_ids_start_again(client):
    client.post("/v1/requests", json=SEND)
    client.post("/__mock/reset")
    assert journal(client)["total"] == 0
    client.post("/v1/requests", json=SEND)
    assert journal(client)["requests"][0]["id"] == 1


@pytest.mark.parametrize(
    "environ",
    [
        {"HTTP_HOST": "127.0.0.1", "HTTP_X_MOCK_TOKEN": "t", "wsgi.input": None, "REQUEST_METHOD": "GET"},
        {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "12", "HTTP_AUTHORIZATION": "Bearer x"},
        {"CONTENT_TYPE": "", "CONTENT_LENGTH": "", "HTTP_CONTENT_MD5": "", "HTTP_ACCEPT": ""},
        {"HTTP_CONTENT_TYPE": "text/plain", "HTTP_CONTENT_LENGTH": "3", "HTTP_X_A_B_C": "1,2", "PATH_INFO": "/"},
    ],
)
def test_journal__request_headers_are_read_as_werkzeug_lists_them(environ):
    from werkzeug.datastructures import EnvironHeaders

    from mockserver.journal.stage import request_headers

    assert request_headers(environ) == list(EnvironHeaders(environ).items())
    assert request_headers(environ) == list(EnvironHeaders(environ).items())  # from the names met
