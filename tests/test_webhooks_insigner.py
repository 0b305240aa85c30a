"""inSigner's webhook calls (webhooks.md, section 1): the vendor's example, validation, scopes, limits, egress."""

from __future__ import annotations

import json
import re

import pytest
from helpers import GOLDEN_INSIGNER_TIME, INSIGNER_KEY, INSIGNER_KEYS, assert_insigner_problem, bearer, insigner_key
from test_insigner_create import compact, valid

from mockserver.apis.insigner import examples

HOOKS = "/api/v1/webhooks"
LOCAL = "http://127.0.0.1:9999/hooks"


def register(client, body=None, key=INSIGNER_KEY, **changes):
    payload = body if body is not None else {"url": LOCAL, "events": ["bulk_send.completed"], **changes}
    return client.post(HOOKS, json=payload, headers=bearer(key))


def problem_fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert_insigner_problem(response)
    return {error["field"]: error["message"] for error in response.get_json()["errors"]}


def add_key(client, *scopes: str) -> str:
    key = insigner_key("-".join(scopes).replace("*", "all").replace(".", "_"))
    response = client.post("/__mock/state/insigner/apiKeys", json={"key": key, "scopes": list(scopes)})
    assert response.status_code == 201, response.get_data(as_text=True)
    return key


# -- the vendor's example -------------------------------------------------------------------------------
def test_create_webhook__the_vendors_example_member_by_member(client, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    response = register(client, examples.WEBHOOK_CREATE_REQUEST)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    data = response.get_json()["data"]
    expected = examples.WEBHOOK_CREATED["data"]
    assert list(data) == list(expected)
    # The page's secret is a placeholder ("a1b2c3d4e5f6...64_char_hex_string"): the mock's is 64 hex.
    assert re.fullmatch(r"[0-9a-f]{64}", data["secret"])
    assert {**data, "secret": expected["secret"]} == expected
    # `events` is a JSON-encoded string, as the vendor sends it, in the compact form of its example.
    assert b'"events":"[\\"document.completed\\",\\"document.declined\\",\\"signer.completed\\"]"' in response.data


def test_create_webhook__secret_and_id_repeat_with_the_seed_and_differ_per_organization(client, app):
    first = register(client).get_json()["data"]
    other = register(client, key=insigner_key("other-org")).get_json()["data"]
    assert first["id"] == other["id"] == "wh_abc123"  # the fixtures' first id, in every organization
    assert first["secret"] != other["secret"]
    second = register(client).get_json()["data"]
    assert second["id"] != first["id"] and re.fullmatch(r"wh_[0-9a-z]{24}", second["id"])
    assert client.post("/__mock/reset").status_code == 200
    again = [register(client).get_json()["data"] for _ in range(2)]
    assert [(h["id"], h["secret"]) for h in again] == [(first["id"], first["secret"]), (second["id"], second["secret"])]


def test_create_webhook__moves_no_id_of_the_bulk_sends(client, insigner_auth, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    without = [client.post("/api/v1/bulk-sends", json=valid(), headers=insigner_auth).get_json() for _ in range(2)]
    client.post("/__mock/reset")
    freeze(GOLDEN_INSIGNER_TIME)
    register(client)
    register(client)
    with_hooks = [client.post("/api/v1/bulk-sends", json=valid(), headers=insigner_auth).get_json() for _ in range(2)]
    assert with_hooks == without
    assert without[0]["data"]["id"] == "bs_def456"


# -- reading ----------------------------------------------------------------------------------------------
def test_get_webhook__no_secret_and_failure_count_after_status(client, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    created = register(client, examples.WEBHOOK_CREATE_REQUEST).get_json()["data"]
    response = client.get(f"{HOOKS}/{created['id']}", headers=bearer(INSIGNER_KEY))
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert list(data) == ["id", "url", "events", "status", "failureCount", "description", "createdAt"]
    assert data["failureCount"] == 0
    assert data["events"] == created["events"]


def test_get_webhook__unknown_deleted_or_another_organizations_is_404(client):
    created = register(client).get_json()["data"]["id"]
    other = insigner_key("another-org")
    for key, hook in ((INSIGNER_KEY, "wh_nothing"), (other, created)):
        response = client.get(f"{HOOKS}/{hook}", headers=bearer(key))
        assert response.status_code == 404
        assert response.get_json()["detail"] == "Webhook not found"
    assert client.delete(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY)).status_code == 204
    assert client.get(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY)).status_code == 404


def test_list_webhooks__newest_first_with_limit_and_cursor(client, freeze):
    ids = []
    for second in range(5):
        freeze(f"2026-05-28T12:00:0{second}.000Z")
        ids.append(register(client, description=f"hook {second}").get_json()["data"]["id"])
    client.delete(f"{HOOKS}/{ids[2]}", headers=bearer(INSIGNER_KEY))
    first = client.get(f"{HOOKS}?limit=2", headers=bearer(INSIGNER_KEY)).get_json()
    assert [item["id"] for item in first["data"]] == [ids[4], ids[3]]
    assert first["meta"] == {"count": 2, "hasMore": True, "nextCursor": ids[3]}
    rest = client.get(f"{HOOKS}?limit=2&cursor={ids[3]}", headers=bearer(INSIGNER_KEY)).get_json()
    assert [item["id"] for item in rest["data"]] == [ids[1], ids[0]]
    assert rest["meta"] == {"count": 2, "hasMore": False, "nextCursor": None}
    listed = client.get(HOOKS, headers=bearer(INSIGNER_KEY)).get_json()["data"][0]
    assert listed == client.get(f"{HOOKS}/{ids[4]}", headers=bearer(INSIGNER_KEY)).get_json()["data"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "Number must be greater than or equal to 1"),
        ("limit=101", "limit", "Number must be less than or equal to 100"),
        ("limit=two", "limit", "Expected number, received nan"),
        ("cursor=wh_nowhere", "cursor", "Invalid cursor"),
    ],
)
def test_list_webhooks__bad_query_is_422(client, query, field, message):
    response = client.get(f"{HOOKS}?{query}", headers=bearer(INSIGNER_KEY))
    assert problem_fields(response) == {field: message}


# -- validation -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"events": ["bulk_send.completed"]}, "url", "Required"),
        ({"url": LOCAL}, "events", "Required"),
        ({"url": "not a url", "events": ["a.b"]}, "url", "Invalid url"),
        ({"url": "ftp://127.0.0.1/x", "events": ["a.b"]}, "url", "Invalid url"),
        (
            {"url": "http://127.0.0.1/" + "x" * 2032, "events": ["a.b"]},
            "url",
            "String must contain at most 2048 character(s)",
        ),
        ({"url": LOCAL, "events": []}, "events", "Array must contain at least 1 element(s)"),
        (
            {"url": LOCAL, "events": [f"a.b{i}" for i in range(51)]},
            "events",
            "Array must contain at most 50 element(s)",
        ),
        ({"url": LOCAL, "events": ["Bulk_send.completed"]}, "events.0", "Invalid"),
        ({"url": LOCAL, "events": ["bulk_send"]}, "events.0", "Invalid"),
        ({"url": LOCAL, "events": ["a." + "b" * 99]}, "events.0", "String must contain at most 100 character(s)"),
        ({"url": LOCAL, "events": [7]}, "events.0", "Expected string, received number"),
        (
            {"url": LOCAL, "events": ["a.b"], "description": "d" * 501},
            "description",
            "String must contain at most 500 character(s)",
        ),
        ({"url": LOCAL, "events": "bulk_send.completed"}, "events", "Expected array, received string"),
    ],
)
def test_create_webhook__invalid_field_is_422(client, body, field, message):
    assert problem_fields(register(client, body)) == {field: message}


def test_create_webhook__limits_are_inclusive_and_events_kept_once_in_first_seen_order(client):
    url = "http://127.0.0.1/" + "x" * (2048 - len("http://127.0.0.1/"))
    events = ["signer.completed", "bulk_send.completed", "signer.completed"] + [f"a.b{'c' * i}" for i in range(47)]
    response = register(client, {"url": url, "events": events, "description": "d" * 500})
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = json.loads(response.get_json()["data"]["events"])
    assert stored[:2] == ["signer.completed", "bulk_send.completed"] and len(stored) == 49
    assert len(response.get_json()["data"]["url"]) == 2048


def test_create_webhook__a_body_that_is_no_object_is_400(client):
    response = client.post(HOOKS, data="[", headers={**bearer(INSIGNER_KEY), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert_insigner_problem(response)


# -- scopes -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", HOOKS, "webhooks.create"),
        ("GET", HOOKS, "webhooks.read"),
        ("GET", f"{HOOKS}/wh_abc123", "webhooks.read"),
        ("PATCH", f"{HOOKS}/wh_abc123", "webhooks.update"),
        ("DELETE", f"{HOOKS}/wh_abc123", "webhooks.delete"),
    ],
)
def test_webhook_calls__need_their_scope(client, method, path, scope):
    body = {"url": LOCAL, "events": ["a.b"]} if method in ("POST", "PATCH") else None
    refused = client.open(path, method=method, json=body, headers=bearer(INSIGNER_KEYS["bulk_sends.*"]))
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == f"Missing required scope: {scope}"
    for n, granted in enumerate((add_key(client, scope), add_key(client, "webhooks.*"))):
        hook = f"wh_granted{n}"
        client.post("/__mock/state/insigner/webhooks", json={"id": hook, "url": LOCAL, "events": ["a.b"]})
        response = client.open(path.replace("wh_abc123", hook), method=method, json=body, headers=bearer(granted))
        assert response.status_code in (200, 201, 204), response.get_data(as_text=True)


# -- changing and deleting --------------------------------------------------------------------------------
def test_patch_webhook__empty_body_changes_nothing(client):
    created = register(client).get_json()["data"]["id"]
    before = client.get(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY)).get_json()
    response = client.patch(f"{HOOKS}/{created}", json={}, headers=bearer(INSIGNER_KEY))
    assert response.status_code == 200
    assert response.get_json() == before


def test_patch_webhook__changes_what_it_names_and_answers_as_get(client, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    created = register(client, description="first").get_json()["data"]["id"]
    changes = {"url": "http://localhost:8000/new", "events": ["a.b", "a.b", "c.d"], "status": "inactive"}
    response = client.patch(f"{HOOKS}/{created}", json=changes, headers=bearer(INSIGNER_KEY))
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data == client.get(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY)).get_json()["data"]
    assert (data["url"], data["events"], data["status"], data["description"]) == (
        "http://localhost:8000/new",
        '["a.b","c.d"]',
        "inactive",
        "first",
    )


def test_patch_webhook__reactivating_keeps_the_failure_count(client):
    declared = client.post(
        "/__mock/state/insigner/webhooks",
        json={"url": LOCAL, "events": ["bulk_send.completed"], "status": "inactive", "failureCount": 20},
    ).get_json()
    response = client.patch(f"{HOOKS}/{declared['id']}", json={"status": "active"}, headers=bearer(INSIGNER_KEY))
    assert response.get_json()["data"]["status"] == "active"
    assert response.get_json()["data"]["failureCount"] == 20


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"status": "paused"}, "status", "Invalid enum value. Expected 'active' | 'inactive', received 'paused'"),
        ({"events": []}, "events", "Array must contain at least 1 element(s)"),
        ({"url": "mailto:someone@example.com"}, "url", "Invalid url"),
    ],
)
def test_patch_webhook__invalid_field_is_422_and_changes_nothing(client, changes, field, message):
    created = register(client).get_json()["data"]["id"]
    before = client.get(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY)).get_json()
    response = client.patch(
        f"{HOOKS}/{created}", json={**changes, "description": "changed"}, headers=bearer(INSIGNER_KEY)
    )
    assert problem_fields(response) == {field: message}
    assert client.get(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY)).get_json() == before


def test_delete_webhook__204_without_a_body_then_gone_from_the_list(client):
    created = register(client).get_json()["data"]["id"]
    response = client.delete(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY))
    assert response.status_code == 204 and response.data == b"" and "Content-Type" not in response.headers
    assert client.get(HOOKS, headers=bearer(INSIGNER_KEY)).get_json()["data"] == []
    assert client.delete(f"{HOOKS}/{created}", headers=bearer(INSIGNER_KEY)).status_code == 404
    assert client.patch(f"{HOOKS}/{created}", json={}, headers=bearer(INSIGNER_KEY)).status_code == 404


# -- limits -----------------------------------------------------------------------------------------------
def test_create_webhook__the_eleventh_of_an_organization_is_409_whatever_the_rate_limits(client):
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
    for _ in range(9):
        assert client.post("/__mock/state/insigner/webhooks", json={"url": LOCAL, "events": ["a.b"]}).status_code == 201
    inactive = register(client)
    assert inactive.status_code == 201
    client.patch(
        f"{HOOKS}/{inactive.get_json()['data']['id']}", json={"status": "inactive"}, headers=bearer(INSIGNER_KEY)
    )
    response = register(client)
    assert response.status_code == 409
    assert_insigner_problem(response)
    assert response.get_json()["detail"] == "Maximum 10 webhooks per organization"
    # A deleted one leaves room.
    client.delete(f"{HOOKS}/{inactive.get_json()['data']['id']}", headers=bearer(INSIGNER_KEY))
    assert register(client).status_code == 201


def test_create_webhook__ten_per_key_per_rolling_hour_of_mock_time(client, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    created = []
    for minute in range(10):
        freeze(f"2026-05-28T12:{minute:02d}:00.000Z")
        assert register(client, {"url": LOCAL, "events": []}).status_code == 422  # refused: not counted
        response = register(client)
        assert response.status_code == 201
        created.append(response.get_json()["data"]["id"])
    for hook in created[:5]:  # deleting frees the organization's count, not the key's hour
        client.delete(f"{HOOKS}/{hook}", headers=bearer(INSIGNER_KEY))
    freeze("2026-05-28T12:30:00.000Z")
    refused = register(client)
    assert refused.status_code == 429
    assert_insigner_problem(refused)
    assert refused.headers["Retry-After"] == "1800"
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(refused.headers.keys())
    # Another key of the organization has its own hour.
    assert register(client, key=add_key(client, "webhooks.create")).status_code == 201
    freeze("2026-05-28T12:59:59.500Z")
    assert register(client).headers["Retry-After"] == "1"
    freeze("2026-05-28T13:00:00.000Z")  # the first creation is exactly an hour old: it has left the hour
    assert register(client).status_code == 201


def test_create_webhook__the_rate_is_off_with_insigners_other_limits(client, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    for _ in range(10):
        hook = register(client).get_json()["data"]["id"]
        client.delete(f"{HOOKS}/{hook}", headers=bearer(INSIGNER_KEY))
    assert register(client).status_code == 429
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
    assert register(client).status_code == 201


# -- egress at registration -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9999/hooks",
        "http://localhost:3000/hooks",
        "http://[::1]:3000/hooks",
        "https://127.8.9.10/hooks",
        # A name is resolved at each attempt, not at registration (a compose service may not be up yet).
        "https://api.yourapp.com/webhooks/insigner",
    ],
)
def test_create_webhook__urls_the_default_policy_accepts(client, url):
    assert register(client, url=url).status_code == 201


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("http://10.0.0.5/hooks", "10.0.0.5 is not loopback"),
        ("http://192.168.1.20:8080/hooks", "--webhook-allow"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is link-local"),
        ("http://[fe80::1]/hooks", "link-local"),
        ("http://0.0.0.0:9999/hooks", "0.0.0.0"),
        ("http://224.0.0.1/hooks", "multicast"),
        ("http://127.0.0.1:8080/__mock/reset", "the mock itself"),
        ("http://localhost:8080/hooks", "the mock itself"),
    ],
)
def test_create_webhook__urls_the_default_policy_refuses_422_on_url(client, url, names):
    fields = problem_fields(register(client, url=url))
    assert list(fields) == ["url"] and names in fields["url"]


class TestWidened:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "webhook_allow": "10.0.0.0/8,app,*"}

    @pytest.mark.parametrize("url", ["http://10.0.0.5/hooks", "http://app:3000/hooks", "https://192.0.2.7/"])
    def test_allowed(self, client, url):
        assert register(client, url=url).status_code == 201

    @pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://127.0.0.1:8080/__mock/health"])
    def test_always_refused(self, client, url):
        assert "url" in problem_fields(register(client, url=url))


class TestStrictUrls:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "webhook_strict_urls": True, "webhook_allow": "*"}

    @pytest.mark.parametrize(
        ("url", "names"),
        [
            ("http://203.0.113.9/hooks", "Only HTTPS"),
            ("https://10.1.2.3/hooks", "private or loopback"),
            ("https://localhost/hooks", "private or loopback"),
            ("https://127.0.0.1/hooks", "private or loopback"),
        ],
    )
    def test_refused_as_the_vendor_refuses(self, client, url, names):
        assert names in problem_fields(register(client, url=url))["url"]

    def test_public_https_accepted(self, client):
        assert register(client, url="https://203.0.113.9/hooks").status_code == 201


def test_patch_webhook__a_new_url_is_checked_as_at_registration(client):
    created = register(client).get_json()["data"]["id"]
    response = client.patch(f"{HOOKS}/{created}", json={"url": "http://10.9.9.9/"}, headers=bearer(INSIGNER_KEY))
    assert "10.9.9.9" in problem_fields(response)["url"]


# -- the rest of an emulated call: journal, faults, Prefer, snapshots, reset ---------------------------------
def test_webhook_calls__journaled_faultable_and_prefer(client):
    register(client)
    entries = client.get("/__mock/requests?path=/api/v1/webhooks").get_json()["requests"]
    assert [(e["method"], e["status"]) for e in entries] == [("POST", 201)]
    client.post("/__mock/faults", json={"api": "insigner", "method": "POST", "path": HOOKS, "status": 502, "times": 1})
    injected = register(client)
    assert injected.status_code == 502
    assert_insigner_problem(injected)
    preferred = client.get(HOOKS, headers={**bearer(INSIGNER_KEY), "Prefer": "code=429"})
    assert preferred.status_code == 429 and "Retry-After" in preferred.headers
    # Neither stored a webhook.
    assert len(client.get(HOOKS, headers=bearer(INSIGNER_KEY)).get_json()["data"]) == 1


def test_webhooks__reset_drops_them_and_a_snapshot_brings_them_back(client):
    created = register(client).get_json()["data"]
    snapshot = client.get("/__mock/snapshot").get_data()
    following = register(client).get_json()["data"]
    client.post("/__mock/reset")
    assert client.get(HOOKS, headers=bearer(INSIGNER_KEY)).get_json()["data"] == []
    restored = client.put("/__mock/snapshot", data=snapshot, headers={"Content-Type": "application/json"})
    assert restored.status_code == 200, restored.get_data(as_text=True)
    hooks = client.get("/__mock/webhooks?api=insigner").get_json()["webhooks"]
    assert [(h["id"], h["secret"]) for h in hooks] == [(created["id"], created["secret"])]
    # The webhooks' own sequence came back too: the next one is the one that followed.
    again = register(client).get_json()["data"]
    assert (again["id"], again["secret"]) == (following["id"], following["secret"])


def test_webhooks__a_declared_one_is_checked_like_a_registered_one(client):
    refused = client.post("/__mock/state/insigner/webhooks", json={"url": "http://10.0.0.1/", "events": ["a.b"]})
    assert refused.status_code == 400 and "url" in refused.get_json()["error"]["message"]
    bad_secret = client.post("/__mock/state/insigner/webhooks", json={"url": LOCAL, "events": ["a.b"], "secret": "ABC"})
    assert bad_secret.status_code == 400
    secret = "5f2b8c1e9a7d4f3b6e0c2a8d1f9e7b3c4a6d8e0f2b4c6a8e1d3f5b7c9e0a2c4d"
    declared = client.post(
        "/__mock/state/insigner/webhooks",
        json={"id": "wh_dashboard", "url": LOCAL, "events": ["a.b"], "secret": secret},
    )
    assert declared.status_code == 201
    assert declared.get_json()["secret"] == secret
    again = client.post("/__mock/state/insigner/webhooks", json={"id": "wh_dashboard", "url": LOCAL, "events": ["a.b"]})
    assert again.status_code == 409
    got = client.get("/api/v1/webhooks/wh_dashboard", headers=bearer(INSIGNER_KEY))
    assert got.status_code == 200 and "secret" not in got.get_json()["data"]


def test_webhooks__bytes_of_a_get_are_compact_json(client, freeze):
    freeze(GOLDEN_INSIGNER_TIME)
    created = register(client, examples.WEBHOOK_CREATE_REQUEST).get_json()["data"]
    order = ("id", "url", "events", "status", "failureCount", "description", "createdAt")
    shown = {name: created.get(name, 0) for name in order}
    got = client.get(f"{HOOKS}/{created['id']}", headers=bearer(INSIGNER_KEY))
    assert got.data == compact({"data": shown})


def test_openapi__the_webhook_operations_with_their_schemas(client):
    spec = client.get("/__mock/openapi.json").get_json()
    created = spec["paths"]["/api/v1/webhooks"]["post"]
    assert set(created["responses"]) >= {"201", "409", "422", "429"}
    for method in ("get", "patch", "delete"):
        assert method in spec["paths"]["/api/v1/webhooks/{id}"]
    assert set(spec["paths"]["/v1/webhooks/{id}"]) >= {"post"}
    assert "get" not in spec["paths"]["/v1/webhooks"]


def test_openapi__the_deliveries_of_both_apis_under_webhooks(client):
    spec = client.get("/__mock/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["webhooks"]) == {"insigner bulk_send.completed", "insigner bulk_send.failed", "collect created"}
    signed = spec["webhooks"]["insigner bulk_send.completed"]["post"]
    assert [p["name"] for p in signed["parameters"]] == ["X-InSigner-Signature", "X-InSigner-Timestamp"]
    ref = signed["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert list(spec["components"]["schemas"][ref]["properties"]) == ["event", "data"]
