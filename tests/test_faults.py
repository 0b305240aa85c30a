"""/__mock/faults and Prefer: rules as data, matching, lifetimes, error answers, no state change."""

from __future__ import annotations

import json

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer, insigner_key

from mockserver.apis.collect.errors import DOCUMENTED_TEXTS
from mockserver.config import API_NAMES as APIS
from mockserver.faults.rules import MAX_BODY, MAX_RULES

SEND = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
BULK_SEND = {"templateId": "tpl_abc123", "name": "Q3", "signers": [{"name": "Jane", "email": "jane@example.com"}]}
RULE_DEFAULTS = {
    "api": "*",
    "method": "*",
    "path": "*",
    "tenant": None,
    "status": None,
    "kind": "error",
    "times": None,
    "after": 0,
    "probability": 1.0,
    "delayMs": 0,
    "retryAfter": 30,
    "headers": {},
    "body": None,
}


@pytest.fixture
def settings() -> dict:
    """Faults do not touch the store: one store kind is enough."""
    return {"store": "memory", "seed": 42}


def add(client, **rule) -> dict:
    response = client.post("/__mock/faults", json=rule)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def send(client, key: str = COLLECT_KEY, **headers):
    return client.post("/v1/requests", json=SEND, headers={**basic(key), **headers})


def list_bulk_sends(client, key: str = INSIGNER_KEY, **headers):
    return client.get("/api/v1/bulk-sends", headers={**bearer(key), **headers})


# -- the rule as data ------------------------------------------------------------------------------
def test_add_fault__listed_back_as_given_with_id_hits_remaining(client):
    given = {"api": "insigner", "method": "POST", "path": "/api/v1/bulk-sends", "status": 503, "times": 2}
    created = add(client, **given)
    assert created == {"id": "flt_1", **RULE_DEFAULTS, **given, "hits": 0, "remaining": 2}
    assert client.get("/__mock/faults").get_json() == {"faults": [created]}


def test_add_fault__ids_count_on_and_start_again_after_reset(client):
    assert [add(client, status=500)["id"] for _ in range(2)] == ["flt_1", "flt_2"]
    client.delete("/__mock/faults")
    assert add(client, status=500)["id"] == "flt_3"
    client.post("/__mock/reset")
    assert client.get("/__mock/faults").get_json() == {"faults": []}
    assert add(client, status=500)["id"] == "flt_1"


@pytest.mark.parametrize(
    "rule, field",
    [
        pytest.param({"api": "stripe", "status": 500}, "api", id="unknown-api"),
        pytest.param({"kind": "explode", "status": 500}, "kind", id="unknown-kind"),
        pytest.param({"kind": "error"}, "status", id="error-without-status"),
        pytest.param({"status": 399}, "status", id="status-below-400"),
        pytest.param({"status": 600}, "status", id="status-above-599"),
        pytest.param({"status": "503"}, "status", id="status-string"),
        pytest.param({"status": True}, "status", id="status-boolean"),
        pytest.param({"status": 500, "times": -1}, "times", id="negative-times"),
        pytest.param({"status": 500, "times": 0}, "times", id="zero-times"),
        pytest.param({"status": 500, "after": -1}, "after", id="negative-after"),
        pytest.param({"status": 500, "delayMs": -5}, "delayMs", id="negative-delay"),
        pytest.param({"status": 500, "delayMs": 60_001}, "delayMs", id="delay-over-cap"),
        pytest.param({"status": 500, "retryAfter": -1}, "retryAfter", id="negative-retry-after"),
        pytest.param({"status": 500, "probability": 1.5}, "probability", id="probability-above-1"),
        pytest.param({"status": 500, "probability": -0.1}, "probability", id="probability-below-0"),
        pytest.param({"status": 500, "probability": "half"}, "probability", id="probability-string"),
        pytest.param({"status": 500, "method": "FETCH"}, "method", id="unknown-method"),
        pytest.param({"status": 500, "path": "v1/requests"}, "path", id="path-without-slash"),
        pytest.param({"status": 500, "headers": {"Bad Name": "x"}}, "headers", id="header-name"),
        pytest.param({"status": 500, "headers": {"X-A": "a\r\nb"}}, "headers", id="header-injection"),
        pytest.param({"status": 500, "headers": {"X-A": 1}}, "headers", id="header-value-number"),
        pytest.param({"status": 500, "headers": {"content-length": "1"}}, "headers", id="framing-header"),
        pytest.param({"kind": "delay"}, "delayMs", id="delay-without-delayMs"),
        pytest.param({"kind": "drop", "status": 503}, "status", id="status-on-drop"),
        pytest.param({"kind": "malformed", "body": 12345}, "body", id="malformed-number-body"),
        pytest.param({"status": 500, "delay_ms": 10}, "delay_ms", id="unknown-field"),
        pytest.param({"status": 500, "id": "flt_9"}, "id", id="id-is-given-by-the-mock"),
    ],
)
def test_add_fault__bad_rule_is_400_naming_the_field(client, rule, field):
    response = client.post("/__mock/faults", json=rule)
    assert response.status_code == 400
    error = response.get_json()["error"]
    named = error["message"].partition(":")[0]
    assert error["code"] == "invalid-fault" and named.split(".")[0] == field


def test_add_fault__api_names_are_the_apps_apis(app):
    assert set(APIS) == set(app.extensions["mockserver"].apis)


@pytest.mark.parametrize(
    "body", [pytest.param(None, id="no-body"), pytest.param([1], id="array"), pytest.param("x", id="string")]
)
def test_add_fault__body_must_be_an_object(client, body):
    response = client.post(
        "/__mock/faults", data=json.dumps(body) if body is not None else b"", content_type="application/json"
    )
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad-request"


def test_remove_fault__one_then_unknown(client):
    first, second = add(client, status=500), add(client, status=502)
    assert client.delete(f"/__mock/faults/{first['id']}").status_code == 204
    assert [rule["id"] for rule in client.get("/__mock/faults").get_json()["faults"]] == [second["id"]]
    response = client.delete(f"/__mock/faults/{first['id']}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not-found"


def test_clear_faults__all_gone(client):
    add(client, status=500)
    add(client, status=502)
    assert client.delete("/__mock/faults").status_code == 204
    assert client.get("/__mock/faults").get_json() == {"faults": []}
    assert send(client).status_code == 200


# -- matching ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rule, fires",
    [
        pytest.param({}, True, id="everything"),
        pytest.param({"api": "collect"}, True, id="api"),
        pytest.param({"api": "insigner"}, False, id="other-api"),
        pytest.param({"method": "post"}, True, id="method-any-case"),
        pytest.param({"method": "GET"}, False, id="other-method"),
        pytest.param({"path": "/v1/requests"}, True, id="exact-path"),
        pytest.param({"path": "/v1/*"}, True, id="glob"),
        pytest.param({"path": "/v1/request"}, False, id="other-path"),
        pytest.param({"tenant": COLLECT_KEY}, True, id="tenant-by-key"),
        pytest.param({"tenant": "uGFRDeEL3Ct2uYo2c"}, True, id="tenant-by-id"),
        pytest.param({"tenant": "someone-else"}, False, id="other-tenant"),
    ],
)
def test_fault__matches_api_method_path_tenant(client, rule, fires):
    add(client, status=503, **rule)
    assert send(client).status_code == (503 if fires else 200)


def test_fault__tenant_rule_leaves_other_tenants_alone(client):
    add(client, status=503, tenant="key-of-run-a")
    assert send(client, "key-of-run-a").status_code == 503
    assert send(client, "key-of-run-b").status_code == 200


def test_fault__never_applies_to_the_control_plane(client):
    add(client, status=503)
    add(client, kind="malformed")
    assert client.get("/__mock/health").status_code == 200
    assert client.get("/__mock/faults").status_code == 200


def test_fault__credentials_are_checked_first(client):
    add(client, status=503)
    assert client.post("/v1/requests", json=SEND).status_code == 401
    assert list_bulk_sends(client, "not-a-key").status_code == 401


# -- lifetime -----------------------------------------------------------------------------------------
def test_fault__after_passes_then_times_fire(client):
    rule = add(client, status=500, after=2, times=3)
    statuses = [send(client).status_code for _ in range(7)]
    assert statuses == [200, 200, 500, 500, 500, 200, 200]
    listed = client.get("/__mock/faults").get_json()["faults"][0]
    assert (listed["id"], listed["hits"], listed["remaining"]) == (rule["id"], 3, 0)


def test_fault__oldest_live_rule_wins(client):
    add(client, status=503, times=1)
    add(client, status=500)
    assert [send(client).status_code for _ in range(3)] == [503, 500, 500]


def test_fault__probability_is_repeatable_for_a_seed(client):
    def run() -> list[int]:
        client.post("/__mock/reset")
        add(client, status=500, probability=0.5)
        return [send(client).status_code for _ in range(24)]

    first = run()
    assert first == run()
    assert {200, 500} == set(first)
    client.post("/__mock/reset", json={"seed": 7})
    add(client, status=500, probability=0.5)
    assert [send(client).status_code for _ in range(24)] != first


def test_fault__probability_zero_never_fires_and_counts_no_hit(client):
    add(client, status=500, probability=0.0)
    assert {send(client).status_code for _ in range(5)} == {200}
    assert client.get("/__mock/faults").get_json()["faults"][0]["hits"] == 0


# -- the error answer ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503])
def test_fault_error__collect_answers_its_documented_body(client, status):
    add(client, api="collect", status=status, retryAfter=12)
    response = send(client)
    assert response.status_code == status and response.mimetype == "application/json"
    body = response.get_json()
    assert body["message"] == DOCUMENTED_TEXTS.get(status, body["error"])
    assert response.headers.get("Retry-After") == ("12" if status in (429, 503) else None)


@pytest.mark.parametrize(
    "status, slug",
    [
        (400, "bad-request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not-found"),
        (409, "conflict"),
        (422, "validation-error"),
        (429, "rate-limited"),
        (500, "internal-error"),
        (502, "bad-gateway"),
        (503, "service-unavailable"),
    ],
)
def test_fault_error__insigner_answers_problem_details(client, status, slug):
    add(client, api="insigner", status=status)
    response = list_bulk_sends(client)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == f"https://docs.insigner.com/errors/{slug}" and problem["status"] == status
    assert response.headers["X-Request-Id"].startswith("req_")
    # A real 401 has no key to count against, so it carries no RateLimit-*; every other answer does.
    assert response.headers.get("RateLimit-Limit") == (None if status == 401 else "120")
    assert response.headers.get("Retry-After") == ("30" if status in (429, 503) else None)


def test_fault_error__body_and_headers_override_the_defaults(client):
    add(
        client,
        api="insigner",
        status=503,
        headers={"Retry-After": "5", "X-Upstream": "down"},
        body={"message": "upstream maintenance"},
    )
    response = list_bulk_sends(client)
    assert response.headers["Retry-After"] == "5" and response.headers["X-Upstream"] == "down"
    assert response.get_json() == {"message": "upstream maintenance"}


def test_fault_error__string_body_is_sent_as_it_is(client):
    add(client, api="collect", status=502, body="<html>Bad Gateway</html>")
    assert send(client).get_data(as_text=True) == "<html>Bad Gateway</html>"


# -- no state change ---------------------------------------------------------------------------------
def test_fault__answered_collect_request_creates_nothing(client):
    add(client, status=503, times=1)
    assert send(client).status_code == 503
    counts = client.get("/__mock/state").get_json()["apis"]["collect"]["uGFRDeEL3Ct2uYo2c"]
    assert counts["requests"] == 0


def test_fault__answered_insigner_create_uses_no_window(client):
    key = insigner_key("faultedcreate")
    add(client, api="insigner", method="POST", status=500, times=1)
    faulted = client.post("/api/v1/bulk-sends", json=BULK_SEND, headers=bearer(key))
    assert faulted.status_code == 500 and faulted.headers["RateLimit-Remaining"] == "120"
    created = client.post("/api/v1/bulk-sends", json=BULK_SEND, headers=bearer(key))
    assert created.status_code == 201, created.get_json()
    assert created.headers["RateLimit-Remaining"] == "119"


# -- malformed and drop without a network ----------------------------------------------------------------
def test_fault_malformed__200_with_json_that_does_not_parse(client):
    add(client, kind="malformed")
    response = send(client)
    assert response.status_code == 200 and response.mimetype == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.get_data(as_text=True))


def test_fault_malformed__given_body_is_cut_in_half(client):
    body = {"errors": [], "contacts": [], "requests": [{"_id": "x"}]}
    add(client, kind="malformed", body=body)
    text = send(client).get_data(as_text=True)
    whole = json.dumps(body, separators=(",", ":"))
    assert text == whole[: len(whole) // 2]


def test_fault_drop__without_a_socket_answers_502_empty(client):
    add(client, kind="drop")
    response = send(client)
    assert response.status_code == 502 and response.get_data() == b""
    entry = client.get("/__mock/requests").get_json()["requests"][-1]
    assert entry["status"] == 502 and entry["faultId"] == "flt_1"


# -- Prefer -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefer", ["code=503", 'code="503"', "return=minimal, code=503", "code=503; x=y"])
def test_prefer__code_answers_as_an_error_rule_would(client, prefer):
    response = send(client, Prefer=prefer)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.get_json()["message"] == DOCUMENTED_TEXTS[503]


def test_prefer__code_on_insigner_and_only_once(client):
    assert list_bulk_sends(client, Prefer="code=429").get_json()["type"].endswith("/rate-limited")
    assert list_bulk_sends(client).status_code == 200


def test_prefer__code_wins_over_rules_and_moves_no_counter(client):
    add(client, status=500, times=1)
    assert send(client, Prefer="code=404").status_code == 404
    assert client.get("/__mock/faults").get_json()["faults"][0]["hits"] == 0
    assert send(client).status_code == 500


@pytest.mark.parametrize(
    "prefer",
    ["code=200", "code=abc", "code=", "code=5²3", "code=" + "5" * 5000, "delay=-1", "delay=60001", "delay=soon"],
)
def test_prefer__invalid_value_is_400_in_the_api_envelope(client, prefer):
    collect = send(client, Prefer=prefer)
    assert collect.status_code == 400 and collect.get_json()["details"][0]["field"] == "Prefer"
    insigner = list_bulk_sends(client, Prefer=prefer)
    assert insigner.status_code == 400 and insigner.get_json()["detail"].startswith("Prefer:")


def test_prefer__other_preferences_are_ignored(client):
    assert send(client, Prefer="return=representation, respond-async").status_code == 200


# -- an injected answer looks like the real one ---------------------------------------------------------
def test_fault_error__insigner_401_is_a_revoked_keys_401(client):
    real = list_bulk_sends(client, "isk_TestRevokedKey______________________00000000")
    add(client, api="insigner", status=401)
    injected = list_bulk_sends(client)
    assert injected.get_json() == real.get_json()
    for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        assert name not in injected.headers and name not in real.headers


def test_fault_error__insigner_429_resets_when_it_says_to_retry(client):
    add(client, api="insigner", status=429, retryAfter=7)
    response = list_bulk_sends(client)
    assert response.headers["Retry-After"] == response.headers["RateLimit-Reset"] == "7"
    assert response.headers["RateLimit-Remaining"] == "0" and response.headers["RateLimit-Limit"] == "120"
    prefer = list_bulk_sends(client, Prefer="code=429")
    assert prefer.headers["Retry-After"] == prefer.headers["RateLimit-Reset"] == "30"


@pytest.mark.parametrize(
    "method, path, starts",
    [
        pytest.param("POST", "/v1/requests", '{"errors":[],"contacts":[', id="collect"),
        pytest.param("GET", "/api/v1/bulk-sends", '{"data":[{"id":"bs_', id="insigner-list"),
        pytest.param("POST", "/api/v1/bulk-sends", '{"data":{"id":"bs_', id="insigner-create"),
        pytest.param("GET", "/api/v1/bulk-sends/bs_abc123", '{"data":{"id":"bs_', id="insigner-get"),
    ],
)
def test_fault_malformed__the_first_part_of_that_apis_own_answer(client, method, path, starts):
    add(client, kind="malformed")
    auth = basic(COLLECT_KEY) if path.startswith("/v1/") else bearer(INSIGNER_KEY)
    response = client.open(path, method=method, headers=auth, json=SEND if method == "POST" else None)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.startswith(starts), text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    if path.startswith("/v1/"):
        assert "bs_" not in text and '"data"' not in text


# -- bounds ----------------------------------------------------------------------------------------------
def test_add_fault__the_number_of_rules_is_bounded(client):
    for _ in range(MAX_RULES):
        add(client, status=500, path="/nowhere")
    refused = client.post("/__mock/faults", json={"status": 500})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "too-many-faults"
    assert str(MAX_RULES) in refused.get_json()["error"]["message"]
    client.delete("/__mock/faults/flt_1")
    assert client.post("/__mock/faults", json={"status": 500}).status_code == 201


@pytest.mark.parametrize(
    "rule, field",
    [
        pytest.param({"status": 500, "body": "x" * (MAX_BODY + 1)}, "body", id="body-string"),
        pytest.param({"status": 500, "body": {"x": "y" * MAX_BODY}}, "body", id="body-json"),
        pytest.param({"status": 500, "headers": {f"X-{n}": "v" for n in range(51)}}, "headers", id="51-headers"),
    ],
)
def test_add_fault__the_size_of_a_rule_is_bounded(client, rule, field):
    refused = client.post("/__mock/faults", json=rule)
    assert refused.status_code == 400 and refused.get_json()["error"]["message"].startswith(f"{field}:")


def test_fault_delay__a_real_bulk_send_429_keeps_the_keys_window_in_its_headers(client):
    # A delayed request is not an injected answer: its 429 is the organization's window's, whose
    # Retry-After differs from the key's RateLimit-Reset (docs/reference/insigner.md, headers of the bulk-send 429).
    client.post("/__mock/clock", json={"freeze": "2026-06-01T12:00:00Z"})
    add(client, api="insigner", method="POST", kind="delay", delayMs=1)
    assert client.post("/api/v1/bulk-sends", json=BULK_SEND, headers=bearer(INSIGNER_KEY)).status_code == 201
    refused = client.post("/api/v1/bulk-sends", json=BULK_SEND, headers=bearer(INSIGNER_KEY))
    assert refused.status_code == 429 and refused.get_json()["status"] == 429
    assert refused.headers["Retry-After"] == "300"
    assert refused.headers["RateLimit-Reset"] == "60" and refused.headers["RateLimit-Remaining"] == "118"
