"""POST /__mock/verify: each rule of control-plane.md's "Verification", as a client of the control plane sees it."""

from __future__ import annotations

import threading
import time

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
    start_serve,
    web,
)

from mockserver.app import create_app
from mockserver.journal.model import BODY_CAP
from mockserver.testing.server import ServerThread
from mockserver.verification.model import MAX_WAITS

CREATE = "/api/v1/bulk-sends"
EXAMPLE = BULK_SEND_EXAMPLE
COLLECT_BODY = SEND_EXAMPLE


@pytest.fixture
def settings() -> dict:
    """One in-memory store is enough here (conftest's `app` and `client` use these settings)."""
    return {"store": "memory", "seed": 42}


def create(client, body=EXAMPLE, key=INSIGNER_KEY, **headers):
    return client.post(CREATE, json=body, headers={**bearer(key), **headers})


def verify(client, **pattern):
    return client.post("/__mock/verify", json=pattern)


# -- holds / does not hold ----------------------------------------------------------------------------
def test_verify__holds_with_the_matching_journal_ids(client):
    create(client)
    create(client, {**EXAMPLE, "name": "Other"})
    response = verify(client, api="insigner", method="POST", path=CREATE, body={"name": "Q3 Vendor Agreements"})
    assert response.status_code == 200
    assert response.json == {"ok": True, "count": 1, "requests": [1], "journalTruncated": False}


def test_verify__an_empty_pattern_is_at_least_one_request_of_any_kind(client):
    assert verify(client).status_code == 409
    client.get(CREATE, headers=bearer(INSIGNER_KEY))
    assert verify(client).json["count"] == 1


def test_verify__fails_with_409_a_sentence_the_count_and_near_misses(client):
    create(client)
    response = verify(client, api="insigner", method="POST", path=CREATE, body={"name": "Q4"}, times={"exactly": 1})
    assert response.status_code == 409
    body = response.json
    assert list(body) == ["error", "ok", "count", "requests", "nearMisses", "journalTruncated"]
    assert body["error"]["code"] == "verification-failed"
    assert body["error"]["message"] == (
        'Expected exactly 1 request matching insigner POST /api/v1/bulk-sends with body {"name": "Q4"}, but 0 matched.'
    )
    assert (body["ok"], body["count"], body["requests"], body["journalTruncated"]) == (False, 0, [], False)
    [miss] = body["nearMisses"]
    assert miss["request"]["id"] == 1 and miss["request"]["body"]["name"] == "Q3 Vendor Agreements"
    assert miss["differences"] == [{"field": "body.name", "expected": "Q4", "actual": "Q3 Vendor Agreements"}]


def test_verify__differences_name_the_dot_path_into_arrays(client):
    create(client)
    response = verify(client, method="POST", body={"signers": [{"email": "bob@vendor-b.com"}]})
    [miss] = response.json["nearMisses"]
    assert miss["differences"] == [
        {"field": "body.signers.0.email", "expected": "bob@vendor-b.com", "actual": "alice@vendor-a.com"}
    ]


def test_verify__near_misses_are_at_most_three_fewest_differences_then_newest(client):
    create(client, {**EXAMPLE, "name": "A"})  # 1: name and templateId differ
    create(client, {**EXAMPLE, "name": "A", "templateId": "tpl_x"})  # 2: name differs (422, unknown template?)
    create(client, {**EXAMPLE, "name": "B"})  # 3: name differs
    create(client, {**EXAMPLE, "name": "C"})  # 4: name differs
    client.get(CREATE, headers=bearer(INSIGNER_KEY))  # another method: never a near miss
    response = verify(client, method="POST", body={"name": "Z", "templateId": "tpl_x"})
    misses = response.json["nearMisses"]
    assert [m["request"]["id"] for m in misses] == [2, 4, 3]
    assert [len(m["differences"]) for m in misses] == [1, 2, 2]


def test_verify__near_misses_match_on_api_and_method(client):
    create(client)
    client.post("/v1/requests", json=COLLECT_BODY, headers=basic(COLLECT_KEY))
    client.get(CREATE, headers=bearer(INSIGNER_KEY))
    response = verify(client, api="insigner", method="POST", status=500)
    assert [m["request"]["id"] for m in response.json["nearMisses"]] == [1]
    assert response.json["nearMisses"][0]["differences"] == [{"field": "status", "expected": 500, "actual": 201}]


# -- the match fields -----------------------------------------------------------------------------------
def test_verify__path_exact_or_glob_and_method_in_any_case(client):
    client.get(CREATE + "/bs_abc123", headers=bearer(INSIGNER_KEY))
    assert verify(client, method="get", path="/api/v1/bulk-sends/*").json["count"] == 1
    assert verify(client, method="GET", path="/api/v1/bulk-sends/bs_abc123").json["count"] == 1
    failed = verify(client, method="GET", path="/api/v1/bulk-sends/bs_other")
    assert failed.json["nearMisses"][0]["differences"] == [
        {"field": "path", "expected": "/api/v1/bulk-sends/bs_other", "actual": "/api/v1/bulk-sends/bs_abc123"}
    ]


def test_verify__status_is_the_answers(client):
    create(client, {"name": ""})
    assert verify(client, method="POST", status=422).json["count"] == 1
    assert verify(client, method="POST", status=201).status_code == 409


def test_verify__tenant_as_a_key_or_an_id_in_each_api(client):
    other = insigner_key("verify-tenant")
    create(client)
    client.post("/v1/requests", json=COLLECT_BODY, headers=basic(COLLECT_KEY))
    assert verify(client, tenant=INSIGNER_KEY).json["requests"] == [1]
    assert verify(client, tenant=COLLECT_KEY).json["requests"] == [2]
    tenant_id = client.get("/__mock/requests?limit=1").json["requests"][0]["tenant"]
    assert verify(client, tenant=tenant_id).json["requests"] == [2]
    missed = verify(client, api="insigner", tenant=other)
    assert missed.status_code == 409
    assert missed.json["nearMisses"][0]["differences"][0]["field"] == "tenant"
    assert other not in missed.get_data(as_text=True)  # a key is never echoed whole


def test_verify__an_unseen_key_creates_nothing_and_matches_nothing_until_used(client):
    key = insigner_key("verify-unseen")
    before = client.get("/__mock/state").json
    assert verify(client, tenant=key).status_code == 409
    assert client.get("/__mock/state").json == before
    create(client, key=key)
    assert verify(client, tenant=key).json["count"] == 1


def test_verify__query_members_are_a_subset(client):
    client.get(CREATE + "?status=completed&limit=5", headers=bearer(INSIGNER_KEY))
    assert verify(client, query={"status": "completed"}).json["count"] == 1
    assert verify(client, query={"status": "completed", "limit": "5"}).json["count"] == 1
    missed = verify(client, query={"status": "failed", "cursor": "x"})
    assert missed.json["nearMisses"][0]["differences"] == [
        {"field": "query.status", "expected": "failed", "actual": "completed"},
        {"field": "query.cursor", "expected": "x"},
    ]


def test_verify__a_repeated_query_parameter_is_a_list(client):
    client.get(CREATE + "?status=a&status=b", headers=bearer(INSIGNER_KEY))
    assert verify(client, query={"status": ["a", "b"]}).json["count"] == 1
    assert verify(client, query={"status": "a"}).status_code == 409


def test_verify__header_names_in_any_case(client):
    create(client, **{"X-Client-Version": "2.1"})
    assert verify(client, headers={"x-client-version": "2.1"}).json["count"] == 1
    missed = verify(client, headers={"X-CLIENT-VERSION": "3.0"})
    assert missed.json["nearMisses"][0]["differences"] == [
        {"field": "headers.X-CLIENT-VERSION", "expected": "3.0", "actual": "2.1"}
    ]


def test_verify__body_objects_are_subsets_and_arrays_and_scalars_equal(client):
    create(client)
    assert verify(client, body={"signers": [{"email": "alice@vendor-a.com"}]}).json["count"] == 1
    # an array of another length, and a scalar of another JSON type, do not match
    assert verify(client, body={"signers": []}).status_code == 409
    assert verify(client, body={"name": ["Q3 Vendor Agreements"]}).status_code == 409


def test_verify__true_is_not_1_and_1_is_1_point_0(client):
    client.post("/v1/requests", json={**COLLECT_BODY, "sendEmail": True, "reminder": 1}, headers=basic(COLLECT_KEY))
    assert verify(client, body={"reminder": 1.0}).json["count"] == 1
    assert verify(client, body={"sendEmail": 1}).status_code == 409
    assert verify(client, body={"reminder": True}).status_code == 409


def test_verify__a_body_not_kept_whole_cannot_match_and_says_so(client):
    body = {**COLLECT_BODY, "message": "x" * (BODY_CAP + 10)}
    client.post("/v1/requests", json=body, headers=basic(COLLECT_KEY))
    response = verify(client, method="POST", body={"campaignId": "xvr69EYLKXvTkfYuk"})
    assert response.status_code == 409
    assert response.json["nearMisses"][0]["differences"] == [{"field": "body", "actual": "not kept"}]
    assert verify(client, method="POST").json["count"] == 1  # without a body pattern it counts


# -- times --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("times", "holds_at"),
    [
        ({"exactly": 2}, {2}),
        ({"atLeast": 2}, {2, 3}),
        ({"atMost": 1}, {0, 1}),
        ({"atLeast": 1, "atMost": 2}, {1, 2}),
        ({"exactly": 0}, {0}),
        (None, {1, 2, 3}),
    ],
)
def test_verify__times(client, times, holds_at):
    pattern = {"method": "GET"} | ({"times": times} if times is not None else {})
    for count in range(4):
        status = verify(client, **pattern).status_code
        assert status == (200 if count in holds_at else 409), (count, status)
        client.get(CREATE, headers=bearer(INSIGNER_KEY))


def test_verify__the_sentence_says_the_bounds(client):
    client.get(CREATE, headers=bearer(INSIGNER_KEY))
    message = verify(client, times={"atLeast": 2, "atMost": 3}).json["error"]["message"]
    assert message == "Expected at least 2 and at most 3 requests matching any method on any path, but 1 matched."


# -- the journal's bound ------------------------------------------------------------------------------
def test_verify__journal_truncated_until_the_journal_is_emptied():
    app = create_app({"store": "memory", "journal_size": 2})
    client = app.test_client()
    for _ in range(2):
        client.get(CREATE, headers=bearer(INSIGNER_KEY))
    assert verify(client).json["journalTruncated"] is False
    client.get(CREATE, headers=bearer(INSIGNER_KEY))
    assert verify(client).json["journalTruncated"] is True
    assert verify(client, times={"exactly": 3}).json["journalTruncated"] is True
    assert "dropped older entries" in verify(client, times={"exactly": 3}).json["error"]["message"]
    client.delete("/__mock/requests")
    assert verify(client, times={"exactly": 0}).json == {
        "ok": True,
        "count": 0,
        "requests": [],
        "journalTruncated": False,
    }
    app.extensions["mockserver"].close()


# -- bad patterns -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "field"),
    [
        ({"api": "stripe"}, "api"),
        ({"method": "FETCH"}, "method"),
        ({"path": "no-slash"}, "path"),
        ({"status": 99}, "status"),
        ({"status": "201"}, "status"),
        ({"times": {"exactly": -1}}, "times.exactly"),
        ({"times": {"atLeast": 1.5}}, "times.atLeast"),
        ({"times": {"atLeast": True}}, "times.atLeast"),
        ({"times": {"exactly": 1, "atMost": 2}}, "times"),
        ({"times": {"atLeast": 3, "atMost": 1}}, "times"),
        ({"times": {"often": 1}}, "times.often"),
        ({"times": {}}, "times"),
        ({"times": 2}, "times"),
        ({"withinMs": -1}, "withinMs"),
        ({"withinMs": 30_001}, "withinMs"),
        ({"withinMs": "10"}, "withinMs"),
        ({"query": ["a"]}, "query"),
        ({"query": {"a": 1}}, "query.a"),
        ({"headers": {"X-A": 1}}, "headers"),
        ({"body": ["a"]}, "body"),
        ({"body": "text"}, "body"),
        ({"whatever": 1}, "whatever"),
    ],
)
def test_verify__a_bad_pattern_is_a_400_naming_the_field(client, pattern, field):
    response = verify(client, **pattern)
    assert response.status_code == 400
    assert_control_error(response)
    assert response.json["error"]["code"] == "invalid-pattern"
    assert response.json["error"]["message"].startswith(f"{field}"), response.json


def test_verify__a_body_that_is_not_an_object_is_a_400(client):
    response = client.post("/__mock/verify", data="[1]", content_type="application/json")
    assert response.status_code == 400
    assert_control_error(response)


# -- waiting ------------------------------------------------------------------------------------------
@pytest.fixture
def live():
    server = ServerThread(create_app({"store": "memory", "seed": 42})).start()
    yield server
    server.stop()


def wait_until(condition, timeout: float = 10.0) -> None:
    """Wait for another thread to reach a point (not for time to pass): fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the other threads never got there"
        time.sleep(0.002)


def test_verify__waits_for_a_request_sent_later_from_another_thread(live):
    verifier = live.app.extensions["mockserver"].verifier
    answers = []

    def background_client():
        wait_until(lambda: verifier.waiting == 1)  # the verification is waiting now
        answers.append(web.post(live.url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY)).status_code)

    thread = threading.Thread(target=background_client)
    thread.start()
    started = time.monotonic()
    response = web.post(
        live.url + "/__mock/verify", json={"method": "POST", "status": 201, "withinMs": 30_000}, timeout=40
    )
    thread.join()
    assert answers == [201]
    assert response.status_code == 200 and response.json()["count"] == 1
    assert time.monotonic() - started < 20  # it answered as soon as the count held, not at the end of the wait
    assert verifier.waiting == 0


def test_verify__an_exceeded_upper_bound_fails_at_once_without_waiting(live):
    for _ in range(2):
        web.get(live.url + CREATE, headers=bearer(INSIGNER_KEY))
    started = time.monotonic()
    response = web.post(live.url + "/__mock/verify", json={"times": {"atMost": 1}, "withinMs": 30_000})
    assert response.status_code == 409 and response.json()["count"] == 2
    assert time.monotonic() - started < 20


def test_verify__a_ninth_wait_gets_429_and_the_waits_never_hold_up_the_requests(live):
    verifier = live.app.extensions["mockserver"].verifier
    pattern = {"api": "collect", "withinMs": 30_000}
    results: list[int] = []

    def wait():
        results.append(web.post(live.url + "/__mock/verify", json=pattern, timeout=40).status_code)

    threads = [threading.Thread(target=wait) for _ in range(MAX_WAITS)]
    for thread in threads:
        thread.start()
    wait_until(lambda: verifier.waiting == MAX_WAITS)
    ninth = web.post(live.url + "/__mock/verify", json=pattern)
    assert ninth.status_code == 429
    assert ninth.headers["Retry-After"] == "1"
    assert ninth.json()["error"]["code"] == "too-many-waits"
    # A verification that need not wait is not a wait.
    assert web.post(live.url + "/__mock/verify", json={"api": "collect"}).status_code == 409
    answer = web.post(live.url + "/v1/requests", json=COLLECT_BODY, auth=("", COLLECT_KEY))
    assert answer.status_code == 200
    for thread in threads:
        thread.join()
    assert results == [200] * MAX_WAITS


def test_verify__waits_take_no_thread_of_the_served_requests_and_end_when_the_server_stops():
    # One view thread (--threads 1): eight waits, and the request they wait for still gets a thread.
    served = start_serve("--threads", "1")
    try:
        statuses = start_waits(served.url, {"api": "collect", "withinMs": 30_000})
        answer = web.post(served.url + "/v1/requests", json=COLLECT_BODY, auth=("", COLLECT_KEY), timeout=20)
        assert answer.status_code == 200
        wait_until(lambda: len(statuses) == MAX_WAITS, timeout=20)
        assert statuses == [200] * MAX_WAITS

        # Waits in progress end when the server stops, long before their 30 s.
        statuses = start_waits(served.url, {"api": "insigner", "withinMs": 30_000})
        started = time.monotonic()
        served.stop(timeout=20)
        wait_until(lambda: len(statuses) == MAX_WAITS, timeout=20)
        assert time.monotonic() - started < 15
    finally:
        if served.process.poll() is None:
            served.kill()


def start_waits(url: str, pattern: dict) -> list:
    """Start MAX_WAITS verifications that wait; return once the server says all of them wait."""
    statuses: list = []

    def wait():
        try:
            # A 429 means a probe took the place: try again, as a client honouring Retry-After would.
            while (status := web.post(url + "/__mock/verify", json=pattern, timeout=40).status_code) == 429:
                pass
            statuses.append(status)
        except requests.RequestException as exc:
            statuses.append(type(exc).__name__)

    for _ in range(MAX_WAITS):
        threading.Thread(target=wait, daemon=True).start()
    # A probe that must wait a millisecond: 429 once all MAX_WAITS waits are in progress.
    probe = {"api": "collect", "method": "PATCH", "withinMs": 1}
    wait_until(lambda: web.post(url + "/__mock/verify", json=probe, timeout=20).status_code == 429)
    return statuses
