"""Rate limits: /__mock/rate-limits, inSigner's per-key window and headers, Collect's optional limit."""

from __future__ import annotations

import pytest
from helpers import INSIGNER_KEY, INSIGNER_KEYS, basic, bearer, insigner_key

from mockserver.errors import RateLimited
from mockserver.ratelimits.model import FixedWindows, RateLimits, seconds_left

DEFAULTS = {
    "insigner": {"enabled": True, "requestsPerMinute": 120, "bulkSendsPerWindow": 1, "bulkSendWindowSeconds": 300},
    "collect": {"enabled": False, "requestsPerMinute": 60},
}
COLLECT_429 = {"error": "Too Many Requests", "message": "You're requesting too many objects! Slow down!"}


def limits_of(response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["RateLimit-Limit"]), int(h["RateLimit-Remaining"]), int(h["RateLimit-Reset"])


def get(client, key=INSIGNER_KEY, path="/api/v1/bulk-sends/bs_abc123"):
    return client.get(path, headers=bearer(key))


@pytest.fixture
def frozen(client):
    client.post("/__mock/clock", json={"freeze": "2026-06-01T00:00:00Z"})


def advance(client, seconds):
    client.post("/__mock/clock", json={"advance": seconds})


# -- the control call -------------------------------------------------------------------------------------------
def test_rate_limits__defaults(client):
    response = client.get("/__mock/rate-limits")
    assert response.status_code == 200
    assert response.get_json() == DEFAULTS


def test_rate_limits__partial_update_and_reset(client):
    response = client.put("/__mock/rate-limits", json={"insigner": {"requestsPerMinute": 5}})
    assert response.status_code == 200
    expected = {**DEFAULTS, "insigner": {**DEFAULTS["insigner"], "requestsPerMinute": 5}}
    assert response.get_json() == expected == client.get("/__mock/rate-limits").get_json()
    client.put("/__mock/rate-limits", json={"collect": {"enabled": True}})
    assert client.get("/__mock/rate-limits").get_json()["collect"] == {"enabled": True, "requestsPerMinute": 60}
    client.post("/__mock/reset")
    assert client.get("/__mock/rate-limits").get_json() == DEFAULTS


@pytest.mark.parametrize(
    "body, named",
    [
        pytest.param({"stripe": {}}, "stripe", id="unknown-api"),
        pytest.param({"insigner": True}, "insigner", id="api-not-object"),
        pytest.param({"insigner": {"burst": 3}}, "insigner.burst", id="unknown-setting"),
        pytest.param({"collect": {"bulkSendsPerWindow": 3}}, "collect.bulkSendsPerWindow", id="setting-of-other-api"),
        pytest.param({"insigner": {"enabled": "no"}}, "insigner.enabled", id="enabled-not-boolean"),
        pytest.param({"insigner": {"requestsPerMinute": 0}}, "insigner.requestsPerMinute", id="zero"),
        pytest.param({"insigner": {"requestsPerMinute": 1.5}}, "insigner.requestsPerMinute", id="fraction"),
        pytest.param({"insigner": {"bulkSendWindowSeconds": "300"}}, "insigner.bulkSendWindowSeconds", id="string"),
        pytest.param({"collect": {"requestsPerMinute": True}}, "collect.requestsPerMinute", id="boolean"),
    ],
)
def test_rate_limits__invalid_update_is_400_and_changes_nothing(memory_client, body, named):
    client = memory_client
    response = client.put("/__mock/rate-limits", json={"collect": {"enabled": True}, **body})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid-rate-limits" and error["message"].startswith(named + ":")
    assert client.get("/__mock/rate-limits").get_json() == DEFAULTS


@pytest.mark.parametrize("raw", [b"", b"[]", b"{nope"])
def test_rate_limits__body_must_be_an_object(memory_client, raw):
    client = memory_client
    response = client.put("/__mock/rate-limits", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and set(response.get_json()["error"]) == {"code", "message"}


def test_rate_limits__wrong_method_is_405(memory_client):
    assert memory_client.post("/__mock/rate-limits", json={}).status_code == 405


# -- inSigner: 120 requests per key per 60-second window -------------------------------------------------------
def test_insigner_requests__120_per_key_then_429(client, frozen):
    seen = [limits_of(get(client)) for _ in range(120)]
    assert seen[0] == (120, 119, 60) and seen[-1] == (120, 0, 60)
    assert [remaining for _, remaining, _ in seen] == list(range(119, -1, -1))
    advance(client, 17.25)
    refused = get(client)
    assert refused.status_code == 429
    assert refused.get_json() == {
        "type": "https://docs.insigner.com/errors/rate-limited",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Rate limit exceeded. Please retry after the reset period.",
    }
    assert limits_of(refused) == (120, 0, 43)
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"] == "43"
    assert refused.headers["X-Request-Id"].startswith("req_")
    advance(client, 42.75)
    again = get(client)
    assert again.status_code == 200 and limits_of(again) == (120, 119, 60)


def test_insigner_requests__window_starts_at_first_request(client, frozen):
    client.put("/__mock/rate-limits", json={"insigner": {"requestsPerMinute": 3}})
    advance(client, 5)
    assert limits_of(get(client)) == (3, 2, 60)
    advance(client, 59.5)
    assert limits_of(get(client)) == (3, 1, 1)
    advance(client, 0.5)
    assert limits_of(get(client)) == (3, 2, 60)


def test_insigner_requests__refused_requests_do_not_count(client, frozen):
    client.put("/__mock/rate-limits", json={"insigner": {"requestsPerMinute": 2}})
    assert [get(client).status_code for _ in range(5)] == [200, 200, 429, 429, 429]
    advance(client, 60)
    assert [get(client).status_code for _ in range(3)] == [200, 200, 429]


def test_insigner_requests__every_authenticated_answer_counts_and_carries_headers(client, frozen):
    client.put("/__mock/rate-limits", json={"insigner": {"requestsPerMinute": 10}})
    answers = [
        get(client, path="/api/v1/bulk-sends/nope"),  # 404
        client.post("/api/v1/bulk-sends", json={}, headers=bearer(INSIGNER_KEY)),  # 422
        client.put("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY)),  # 405
        get(client, path="/api/v1/unknown"),  # 404
        client.delete("/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEYS["read"])),
    ]  # 403
    assert [a.status_code for a in answers] == [404, 422, 405, 404, 403]
    assert [limits_of(a)[1] for a in answers[:4]] == [9, 8, 7, 6]
    # The read-only key has a window of its own.
    assert limits_of(answers[4]) == (10, 9, 60)


def test_insigner_requests__each_key_and_organization_has_its_own_window(client, frozen):
    client.put("/__mock/rate-limits", json={"insigner": {"requestsPerMinute": 2}})
    assert [get(client).status_code for _ in range(3)] == [200, 200, 429]
    assert get(client, INSIGNER_KEYS["bulk_sends.*"]).status_code == 200
    assert get(client, insigner_key("org-b")).status_code == 200
    assert limits_of(get(client, insigner_key("org-b"))) == (2, 0, 60)


def test_insigner_requests__switched_off(client, frozen):
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False, "requestsPerMinute": 2}})
    answers = [get(client) for _ in range(5)]
    assert all(a.status_code == 200 and limits_of(a) == (2, 2, 60) for a in answers)
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": True}})
    assert [get(client).status_code for _ in range(3)] == [200, 200, 429]


def test_insigner_requests__reset_clears_windows(client):
    client.put("/__mock/rate-limits", json={"insigner": {"requestsPerMinute": 1}})
    get(client)
    assert get(client).status_code == 429
    client.post("/__mock/reset")
    assert limits_of(get(client)) == (120, 119, 60)


def test_insigner_requests__clock_moved_back_starts_a_new_window(client, frozen):
    client.put("/__mock/rate-limits", json={"insigner": {"requestsPerMinute": 1}})
    get(client)
    advance(client, -10)
    assert get(client).status_code == 200


def test_peek_request__reads_without_counting(app, client, frozen):
    get(client)
    state = app.extensions["mockserver"]
    tenant = state.tenants["insigner"].for_key(INSIGNER_KEY)

    def headers_for(key: str) -> dict[str, str]:
        return state.rate_limits.peek_request("insigner", tenant.id, key, state.clock.timestamp()).headers()

    assert headers_for(INSIGNER_KEY) == {
        "RateLimit-Limit": "120",
        "RateLimit-Remaining": "119",
        "RateLimit-Reset": "60",
    }
    assert headers_for(INSIGNER_KEY)["RateLimit-Remaining"] == "119"
    other = headers_for(INSIGNER_KEYS["read"])
    assert other == {"RateLimit-Limit": "120", "RateLimit-Remaining": "120", "RateLimit-Reset": "60"}
    assert limits_of(get(client))[1] == 118


# -- Collect: no limit by default, an optional per-key one ------------------------------------------------------
def collect_call(client, key="collect_test_key"):
    # A GET is answered 405 after the pipeline's stages: cheap, and counted like any authenticated call.
    return client.get("/v1/requests", headers=basic(key))


def test_collect_requests__no_limit_by_default(client, frozen):
    assert {collect_call(client).status_code for _ in range(70)} == {405}
    assert not [name for name, _ in collect_call(client).headers if name.lower().startswith("ratelimit")]


def test_collect_requests__optional_limit(client, frozen, collect_auth):
    client.put("/__mock/rate-limits", json={"collect": {"enabled": True, "requestsPerMinute": 2}})
    assert [collect_call(client).status_code for _ in range(2)] == [405, 405]
    refused = client.post("/v1/requests", json={}, headers=collect_auth)
    assert refused.status_code == 429
    assert refused.get_json() == COLLECT_429
    assert refused.headers["Retry-After"] == "60"
    assert collect_call(client, "another-collect-key").status_code == 405
    advance(client, 60)
    assert collect_call(client).status_code == 405


def test_collect_requests__unauthenticated_are_not_counted(client, frozen):
    client.put("/__mock/rate-limits", json={"collect": {"enabled": True, "requestsPerMinute": 1}})
    assert client.get("/v1/requests").status_code == 401
    assert collect_call(client).status_code == 405


# -- the windows on their own ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "end, now, expected",
    [
        pytest.param(60.0, 0.0, 60, id="whole"),
        pytest.param(60.0, 0.5, 60, id="rounded-up"),
        pytest.param(60.0, 59.999, 1, id="at-least-1"),
        pytest.param(60.0, 60.0, 1, id="ended"),
        pytest.param(0.3 + 60, 0.3, 60, id="float-noise"),
    ],
)
def test_seconds_left(end, now, expected):
    assert seconds_left(end, now) == expected


def test_fixed_windows__count_and_expire():
    windows = FixedWindows()
    assert windows.hit("k", 100.0, 10, 2) == (True, 1, 110.0)
    assert windows.hit("k", 105.0, 10, 2) == (True, 2, 110.0)
    assert windows.hit("k", 109.9, 10, 2) == (False, 2, 110.0)
    assert windows.hit("k", 110.0, 10, 2) == (True, 1, 120.0)
    assert windows.current("k", 125.0, 10) is None


def test_rate_limits__bulk_window_unit():
    limits = RateLimits()
    limits.check_bulk_send("org", 0.0)
    limits.record_bulk_send("org", 0.0)
    with pytest.raises(RateLimited) as refused:
        limits.check_bulk_send("org", 299.2)
    assert refused.value.headers == {"Retry-After": "1"}
    limits.check_bulk_send("other-org", 1.0)
    limits.check_bulk_send("org", 300.0)


def test_insigner_requests__fault_answers_carry_headers_but_do_not_count(client, frozen):
    assert limits_of(get(client))[1] == 119
    faulted = client.get("/api/v1/bulk-sends/bs_abc123", headers={**bearer(INSIGNER_KEY), "Prefer": "code=503"})
    assert faulted.status_code == 503
    assert faulted.headers["X-Request-Id"].startswith("req_")
    assert limits_of(faulted) == (120, 119, 60)
    assert limits_of(get(client))[1] == 118
