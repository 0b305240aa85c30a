"""GET/DELETE /__mock/coverage: each rule of control-plane.md's "Coverage", and its three formats."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests
from helpers import (
    BULK_SEND_EXAMPLE,
    COLLECT_KEY,
    INSIGNER_KEY,
    SEND_EXAMPLE,
    assert_control_error,
    basic,
    bearer,
    insigner_key,
    web,
)

from mockserver.testing.server import ServerThread

CREATE = "/api/v1/bulk-sends"
EXAMPLE = BULK_SEND_EXAMPLE
COLLECT_BODY = SEND_EXAMPLE
# control-plane.md's table, row by row.
DOCUMENTED = {
    ("collect", "POST", "/v1/requests"): [200, 400, 401, 403, 404, 429, 500, 503],
    ("insigner", "GET", "/api/v1/bulk-sends"): [200, 400, 401, 403, 422, 429, 500, 502],
    ("insigner", "POST", "/api/v1/bulk-sends"): [201, 400, 401, 403, 404, 422, 429, 500, 502],
    ("insigner", "GET", "/api/v1/bulk-sends/{id}"): [200, 400, 401, 403, 404, 429, 500, 502],
    ("insigner", "DELETE", "/api/v1/bulk-sends/{id}"): [204, 400, 401, 403, 404, 409, 429, 500, 502],
    # webhooks.md's table, row by row.
    ("collect", "POST", "/v1/webhooks"): [200, 400, 401, 403, 404, 429, 500, 503],
    ("collect", "POST", "/v1/webhooks/{id}"): [200, 400, 401, 403, 404, 429, 500, 503],
    ("insigner", "POST", "/api/v1/webhooks"): [201, 400, 401, 403, 409, 422, 429, 500, 502],
    ("insigner", "GET", "/api/v1/webhooks"): [200, 400, 401, 403, 429, 500, 502],
    ("insigner", "GET", "/api/v1/webhooks/{id}"): [200, 400, 401, 403, 404, 429, 500, 502],
    ("insigner", "PATCH", "/api/v1/webhooks/{id}"): [200, 400, 401, 403, 404, 422, 429, 500, 502],
    ("insigner", "DELETE", "/api/v1/webhooks/{id}"): [204, 400, 401, 403, 404, 429, 500, 502],
}


@pytest.fixture
def settings() -> dict:
    """One in-memory store is enough here (conftest's `app` and `client` use these settings)."""
    return {"store": "memory", "seed": 42}


def coverage(client, **query) -> dict:
    response = client.get("/__mock/coverage", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    return response.json


def answer(doc: dict, api: str, method: str, path: str, status: int) -> dict:
    operation = next(op for op in doc["apis"][api]["operations"] if (op["method"], op["path"]) == (method, path))
    return next(a for a in operation["answers"] if a["status"] == status)


def send_collect(client, **headers):
    return client.post("/v1/requests", json=COLLECT_BODY, headers={**basic(COLLECT_KEY), **headers})


def test_coverage__every_documented_answer_of_every_operation_listed_count_0_included(client):
    doc = coverage(client)
    assert list(doc) == ["since", "apis", "undocumented", "summary"]
    listed = {
        (api, op["method"], op["path"]): [a["status"] for a in op["answers"]]
        for api, found in doc["apis"].items()
        for op in found["operations"]
    }
    assert listed == DOCUMENTED
    for _, _, item in iter_answers(doc):
        assert item == {"status": item["status"], "documented": True, "count": 0, "injected": 0}
    assert doc["undocumented"] == []
    assert doc["summary"] == {"documented": 99, "covered": 0, "percent": 0.0}
    assert doc["since"].endswith("Z")


def test_coverage__counts_answers_under_their_operation_template(client):
    created = client.post(CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY)).json["data"]["id"]
    client.get(f"{CREATE}/{created}", headers=bearer(INSIGNER_KEY))
    client.get(f"{CREATE}/bs_nothing", headers=bearer(INSIGNER_KEY))
    client.post(CREATE, json={"name": ""}, headers=bearer(INSIGNER_KEY))
    client.delete(f"{CREATE}/{created}", headers=bearer(INSIGNER_KEY))
    send_collect(client)
    send_collect(client, Authorization="Basic Og==")  # no key: a 401
    doc = coverage(client)
    assert answer(doc, "insigner", "POST", CREATE, 201)["count"] == 1
    assert answer(doc, "insigner", "POST", CREATE, 422)["count"] == 1
    assert answer(doc, "insigner", "GET", CREATE + "/{id}", 200)["count"] == 1
    assert answer(doc, "insigner", "GET", CREATE + "/{id}", 404)["count"] == 1
    assert answer(doc, "insigner", "DELETE", CREATE + "/{id}", 204)["count"] == 1
    assert answer(doc, "collect", "POST", "/v1/requests", 200) == {
        "status": 200,
        "documented": True,
        "count": 1,
        "injected": 0,
    }
    assert answer(doc, "collect", "POST", "/v1/requests", 401)["count"] == 1
    assert doc["summary"] == {"documented": 99, "covered": 7, "percent": 7.1}


def test_coverage__an_injected_503_counts_as_injected(client):
    client.post("/__mock/faults", json={"api": "collect", "status": 503, "times": 1})
    assert send_collect(client).status_code == 503
    assert send_collect(client, Prefer="code=503").status_code == 503
    assert send_collect(client).status_code == 200
    doc = coverage(client)
    assert answer(doc, "collect", "POST", "/v1/requests", 503) == {
        "status": 503,
        "documented": True,
        "count": 2,
        "injected": 2,
    }
    assert answer(doc, "collect", "POST", "/v1/requests", 200)["injected"] == 0


def test_coverage__a_malformed_body_is_injected_a_delay_is_not(client):
    client.post("/__mock/faults", json={"api": "collect", "kind": "malformed", "times": 1})
    client.post("/__mock/faults", json={"api": "collect", "kind": "delay", "delayMs": 1, "times": 1})
    send_collect(client)
    send_collect(client)
    assert answer(coverage(client), "collect", "POST", "/v1/requests", 200) == {
        "status": 200,
        "documented": True,
        "count": 2,
        "injected": 1,
    }


def test_coverage__a_real_429_is_not_injected(client):
    client.put("/__mock/rate-limits", json={"collect": {"enabled": True, "requestsPerMinute": 1}})
    send_collect(client)
    assert send_collect(client).status_code == 429
    assert answer(coverage(client), "collect", "POST", "/v1/requests", 429) == {
        "status": 429,
        "documented": True,
        "count": 1,
        "injected": 0,
    }


def test_coverage__undocumented_statuses_and_unserved_paths(client):
    client.post("/__mock/faults", json={"api": "insigner", "method": "POST", "status": 418, "times": 1})
    client.post(CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
    client.put(CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))  # 405 on a served path
    client.get("/api/v2/nowhere", headers=bearer(INSIGNER_KEY))
    client.get("/api/v2/elsewhere", headers=bearer(INSIGNER_KEY))
    client.get("/v1/contacts", headers=basic(COLLECT_KEY))
    doc = coverage(client)
    assert doc["undocumented"] == [
        {"api": "collect", "method": "GET", "path": "*", "status": 404, "count": 1},
        {"api": "insigner", "method": "GET", "path": "*", "status": 404, "count": 2},
        {"api": "insigner", "method": "POST", "path": CREATE, "status": 418, "count": 1},
        {"api": "insigner", "method": "PUT", "path": CREATE, "status": 405, "count": 1},
    ]
    assert all(a["documented"] for _, _, a in iter_answers(doc))


def iter_answers(doc):
    for api, found in doc["apis"].items():
        for op in found["operations"]:
            for item in op["answers"]:
                yield api, op, item


def test_coverage__the_control_plane_is_not_counted(client):
    client.get("/__mock/requests")
    client.post("/__mock/reset")
    assert coverage(client)["undocumented"] == [] and coverage(client)["summary"]["covered"] == 0


def test_coverage__spans_resets_and_delete_starts_again(client):
    send_collect(client)
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    assert client.post("/__mock/reset").status_code == 200
    assert answer(coverage(client), "collect", "POST", "/v1/requests", 200)["count"] == 1
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    cleared = client.delete("/__mock/coverage")
    assert cleared.status_code == 204 and cleared.data == b"" and "Content-Type" not in cleared.headers
    doc = coverage(client)
    assert doc["summary"]["covered"] == 0
    assert doc["since"] == "2030-01-01T00:00:00.000Z"  # the mock clock's time of the clear


def test_coverage__tenant_filters_by_key_or_id_and_creates_nothing(client):
    other = insigner_key("coverage-tenant")
    client.post(CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
    client.get(CREATE, headers=bearer(other))
    send_collect(client)
    mine = coverage(client, tenant=INSIGNER_KEY)
    assert answer(mine, "insigner", "POST", CREATE, 201)["count"] == 1
    assert answer(mine, "insigner", "GET", CREATE, 200)["count"] == 0
    assert answer(mine, "collect", "POST", "/v1/requests", 200)["count"] == 0
    org = client.get("/__mock/requests?api=insigner&limit=1").json["requests"][0]["tenant"]
    assert answer(coverage(client, tenant=org), "insigner", "GET", CREATE, 200)["count"] == 1
    before = client.get("/__mock/state").json
    unseen = coverage(client, tenant=insigner_key("coverage-unseen"))
    assert unseen["summary"]["covered"] == 0
    assert client.get("/__mock/state").json == before


def test_coverage__markdown_one_row_per_documented_answer_then_the_summary(client):
    send_collect(client)
    response = client.get("/__mock/coverage?format=markdown")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "| API | Operation | Status | Count | Injected | Covered |"
    rows = [line for line in lines[2:] if line.startswith("|")]
    assert len(rows) == 99
    assert rows[0] == "| collect | POST /v1/requests | 200 | 1 | 0 | yes |"
    assert rows[1] == "| collect | POST /v1/requests | 400 | 0 | 0 | **no** |"
    assert lines[-1] == "Covered 1 of 99 documented answers (1.0%)."


def test_coverage__junit_one_testcase_per_documented_answer_uncovered_fail(client):
    send_collect(client)
    response = client.get("/__mock/coverage?format=junit")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "testsuites" and root.get("tests") == "99" and root.get("failures") == "98"
    suites = {suite.get("name"): suite for suite in root}
    assert list(suites) == ["collect", "insigner"]
    assert suites["collect"].get("tests") == "24" and suites["collect"].get("failures") == "23"
    cases = {(case.get("classname"), case.get("name")): case for suite in root for case in suite}
    assert len(cases) == 99
    covered = cases[("collect.POST /v1/requests", "200")]
    assert covered.find("failure") is None
    uncovered = cases[("insigner.DELETE /api/v1/bulk-sends/{id}", "409")].find("failure")
    assert uncovered is not None
    assert "DELETE /api/v1/bulk-sends/{id}" in uncovered.get("message") and "409" in uncovered.get("message")


@pytest.mark.parametrize("query", ["format=yaml", "tenant=", "colour=red"])
def test_coverage__bad_query_is_a_400(client, query):
    response = client.get(f"/__mock/coverage?{query}")
    assert response.status_code == 400
    assert_control_error(response)


def test_coverage__a_dropped_connection_counts_nowhere(app):
    server = ServerThread(app).start()
    try:
        web.post(f"{server.url}/__mock/faults", json={"api": "collect", "kind": "drop", "times": 1})
        with pytest.raises(requests.ConnectionError):
            web.post(f"{server.url}/v1/requests", json=COLLECT_BODY, auth=("", COLLECT_KEY), timeout=10)
        doc = web.get(f"{server.url}/__mock/coverage").json()
    finally:
        server.stop()
    assert doc["summary"]["covered"] == 0 and doc["undocumented"] == []
