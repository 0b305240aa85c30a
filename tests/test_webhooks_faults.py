"""Faults on deliveries (webhooks.md, section 5): rules of `"target": "delivery"`, every kind."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, SEND_EXAMPLE, basic, bearer
from test_webhooks_deliveries import SECRET, advance, attempts, bulk_send, declare, settle

from mockserver.apis.insigner import examples
from mockserver.testing.receiver import WebhookReceiver


@pytest.fixture
def store_kind() -> str:
    return "memory"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as found:
        yield found


def rule(client, **fields) -> dict:
    response = client.post("/__mock/faults", json={"target": "delivery", **fields})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def hook_of(client, hook_id):
    return client.get(f"/api/v1/webhooks/{hook_id}", headers=bearer(INSIGNER_KEY)).get_json()["data"]


def true_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def frozen(client, freeze):
    freeze("2026-05-28T10:00:00.000Z")
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})


def test_rule__listed_with_its_fields_and_never_matching_requests(client, receiver, frozen):
    added = rule(client, api="insigner", event="bulk_send.*", kind="fail", times=1)
    assert added == {
        "id": added["id"],
        "target": "delivery",
        "api": "insigner",
        "tenant": None,
        "webhook": None,
        "event": "bulk_send.*",
        "attempt": None,
        "kind": "fail",
        "times": 1,
        "after": 0,
        "probability": 1.0,
        "copies": 1,
        "delaySeconds": 0,
        "staleSeconds": 600,
        "hits": 0,
        "remaining": 1,
    }
    # The API's calls go through untouched.
    assert (
        client.post("/api/v1/bulk-sends", json=examples.CREATE_REQUEST, headers=bearer(INSIGNER_KEY)).status_code == 201
    )
    assert client.get("/__mock/faults").get_json()["faults"][0]["hits"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "explode"}, "kind"),
        ({}, "kind"),
        ({"kind": "delay"}, "delaySeconds"),
        ({"kind": "duplicate", "copies": 0}, "copies"),
        ({"kind": "fail", "method": "GET"}, "method"),
        ({"kind": "tamperedBody", "api": "collect"}, "kind"),
        ({"kind": "staleTimestamp", "api": "collect"}, "kind"),
        ({"kind": "fail", "probability": 2}, "probability"),
        ({"kind": "fail", "event": ""}, "event"),
    ],
)
def test_rule__a_bad_field_is_400_naming_it(client, body, field):
    response = client.post("/__mock/faults", json={"target": "delivery", **body})
    assert response.status_code == 400
    assert field in response.get_json()["error"]["message"]


def test_lose__never_sent_logged_suppressed_and_the_vendor_believes_it_worked(client, receiver, frozen):
    hook = declare(client, receiver, failureCount=5)
    lost = rule(client, kind="lose", times=1)
    bulk_send(client)
    settle(client)
    assert receiver.received == []
    [attempt] = attempts(client)
    assert (attempt["state"], attempt["faultId"], attempt["nextAttemptAt"]) == ("suppressed", lost["id"], None)
    assert client.get(f"/__mock/deliveries/{attempt['deliveryId']}").get_json()["state"] == "delivered"
    assert hook_of(client, hook["id"])["failureCount"] == 0


def test_fail__never_sent_a_failed_attempt_and_its_retry(client, receiver, frozen):
    hook = declare(client, receiver)
    rule(client, kind="fail", times=1)
    bulk_send(client)
    settle(client)
    assert receiver.received == []
    first = attempts(client)[0]
    assert (first["state"], first["error"], first["response"]) == ("failed", "injected", None)
    assert hook_of(client, hook["id"])["failureCount"] == 1
    advance(client, 60)
    assert [a["state"] for a in attempts(client)] == ["failed", "delivered"] and len(receiver.received) == 1


def test_duplicate__copies_at_once_or_later_with_the_attempts_number(client, receiver, frozen):
    declare(client, receiver)
    dup = rule(client, kind="duplicate", copies=2, delaySeconds=30, times=1)
    bulk_send(client)
    settle(client)
    assert len(receiver.received) == 1
    assert advance(client, 30)["deliveries"] == {"ran": 2, "running": 0}
    sent = attempts(client)
    assert [(a["attempt"], a["trigger"], a["faultId"], a["state"]) for a in sent] == [
        (1, "event", dup["id"], "delivered"),
        (1, "duplicate", dup["id"], "delivered"),
        (1, "duplicate", dup["id"], "delivered"),
    ]
    assert len({(r.body, r.header("X-InSigner-Signature")) for r in receiver.received}) == 1
    assert len(receiver.received) == 3


def test_duplicate__a_copy_that_fails_schedules_nothing(client, receiver, frozen):
    hook = declare(client, receiver)
    rule(client, kind="duplicate", times=1)
    receiver.answer(200, 500)
    bulk_send(client)
    settle(client)
    assert [(a["trigger"], a["state"]) for a in attempts(client)] == [("event", "delivered"), ("duplicate", "failed")]
    assert hook_of(client, hook["id"])["failureCount"] == 0
    assert advance(client, 3_600)["deliveries"]["ran"] == 0


def test_delay__due_later_and_its_retry_after_the_delayed_time(client, receiver, frozen):
    declare(client, receiver)
    rule(client, kind="delay", delaySeconds=120, times=1)
    receiver.answer(500)
    bulk_send(client)
    settle(client)
    assert receiver.received == []
    assert advance(client, 119)["deliveries"]["ran"] == 0
    assert advance(client, 1)["deliveries"]["ran"] == 1
    first = attempts(client)[0]
    assert first["dueAt"] == first["sentAt"] == "2026-05-28T10:02:00.000Z"
    assert first["nextAttemptAt"] == "2026-05-28T10:03:00.000Z"


def test_reorder__two_events_arrive_in_the_opposite_order(client, receiver, frozen):
    declare(client, receiver)
    rule(client, kind="reorder", times=1)
    first = bulk_send(client)
    second = bulk_send(client, body={**examples.CREATE_REQUEST, "name": "Second"})
    settle(client)
    assert [r.json()["data"]["id"] for r in receiver.received] == [second["id"], first["id"]]


def test_reorder__without_a_next_attempt_due_after_its_delay(client, receiver, frozen):
    declare(client, receiver)
    rule(client, kind="reorder", times=1)
    bulk_send(client)
    settle(client)
    assert receiver.received == []
    assert advance(client, 60)["deliveries"]["ran"] == 1


def test_bad_signature__signed_with_another_secret(client, receiver, frozen):
    declare(client, receiver, secret=SECRET)
    bad = rule(client, kind="badSignature", times=1)
    bulk_send(client)
    settle(client)
    got = receiver.received[0]
    assert got.header("X-InSigner-Signature") != true_signature(got.body) and not got.signature_valid(SECRET)
    [attempt] = attempts(client)
    assert (attempt["signatureValid"], attempt["faultId"]) == (False, bad["id"])
    assert attempt["request"]["headers"]["X-InSigner-Signature"] == got.header("X-InSigner-Signature")


def test_missing_signature__the_timestamp_still_sent(client, receiver, frozen):
    declare(client, receiver, secret=SECRET)
    rule(client, kind="missingSignature", times=1)
    bulk_send(client)
    settle(client)
    got = receiver.received[0]
    assert got.header("X-InSigner-Signature") is None and got.header("X-InSigner-Timestamp") == "1779962400"
    assert attempts(client)[0]["signatureValid"] is False


def test_stale_timestamp__the_signature_still_right(client, receiver, frozen):
    declare(client, receiver, secret=SECRET)
    rule(client, kind="staleTimestamp", staleSeconds=900, times=1)
    bulk_send(client)
    settle(client)
    got = receiver.received[0]
    assert got.header("X-InSigner-Timestamp") == str(1779962400 - 900)
    assert got.signature_valid(SECRET) and attempts(client)[0]["signatureValid"] is True


def test_tampered_body__the_true_bodys_signature_over_a_changed_body(client, receiver, frozen):
    declare(client, receiver, secret=SECRET)
    rule(client, kind="tamperedBody", times=1)
    created = bulk_send(client)
    settle(client)
    got = receiver.received[0]
    assert got.json()["data"]["sentCount"] == created["sentCount"] + 1
    true_body = got.body.replace(b'"sentCount":4', b'"sentCount":3')
    assert got.header("X-InSigner-Signature") == true_signature(true_body) != true_signature(got.body)
    assert attempts(client)[0]["signatureValid"] is False


def test_tampered_body__a_rule_for_any_api_leaves_collect_alone(client, receiver, frozen):
    rule(client, api="*", kind="tamperedBody")
    client.post("/v1/webhooks", json={"targetUrl": receiver.url, "secretToken": "tok"}, headers=basic(COLLECT_KEY))
    answer = client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY)).get_json()
    settle(client)
    assert receiver.received[0].json()["data"] == answer["requests"][0]
    assert attempts(client)[0]["faultId"] is None


@pytest.mark.parametrize(
    ("kind", "sent", "valid"), [("badSignature", "tok-wrong", False), ("missingSignature", None, False)]
)
def test_collect__the_token_changed_or_missing(client, receiver, frozen, kind, sent, valid):
    rule(client, api="collect", kind=kind, times=1)
    client.post("/v1/webhooks", json={"targetUrl": receiver.url, "secretToken": "tok"}, headers=basic(COLLECT_KEY))
    client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY))
    settle(client)
    assert receiver.received[0].header("X-Collect-Secret-Token") == sent
    assert attempts(client)[0]["signatureValid"] is valid


def test_matching__webhook_event_attempt_tenant_after_and_probability(client, receiver, frozen):
    hook = declare(client, receiver)
    other = declare(client, receiver)
    rule(client, webhook=hook["id"], attempt=2, kind="fail")
    rule(client, event="document.*", kind="lose")
    rule(client, tenant="someone-else", kind="lose")
    receiver.answer(500, 500)
    bulk_send(client)
    settle(client)
    advance(client, 60)
    by_hook = {}
    for attempt in attempts(client):
        by_hook.setdefault(attempt["webhookId"], []).append((attempt["attempt"], attempt["state"], attempt["error"]))
    assert by_hook[hook["id"]][1] == (2, "failed", "injected")
    assert by_hook[other["id"]][1][1] == "delivered"
    faults = client.get("/__mock/faults").get_json()["faults"]
    assert [f["hits"] for f in faults] == [1, 0, 0]


def test_snapshot__carries_the_delivery_rules(client, receiver):
    added = rule(client, kind="duplicate", copies=3)
    snapshot = client.get("/__mock/snapshot").get_data()
    client.post("/__mock/reset")
    assert client.get("/__mock/faults").get_json()["faults"] == []
    assert (
        client.put("/__mock/snapshot", data=snapshot, headers={"Content-Type": "application/json"}).status_code == 200
    )
    [back] = client.get("/__mock/faults").get_json()["faults"]
    assert (back["id"], back["target"], back["copies"]) == (added["id"], "delivery", 3)
