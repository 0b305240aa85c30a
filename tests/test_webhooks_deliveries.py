"""Deliveries (webhooks.md, sections 2 and 3): events, the wire, signatures, retries on the mock's clock, the log."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, SEND_EXAMPLE, basic, bearer, insigner_key

from mockserver.apis.insigner import examples
from mockserver.testing.receiver import WebhookReceiver

# The worked example of webhooks.md, section 3.
SECRET = "5f2b8c1e9a7d4f3b6e0c2a8d1f9e7b3c4a6d8e0f2b4c6a8e1d3f5b7c9e0a2c4d"
WORKED_BODY = (
    b'{"event":"bulk_send.completed","data":{"id":"bs_def456","name":"Q3 Vendor Agreements","status":"completed",'
    b'"totalCount":3,"sentCount":3,"failedCount":0,"emailMessage":"Please sign your vendor agreement for Q3.",'
    b'"templateId":"tpl_abc123","createdAt":"2026-05-28T10:00:00.000Z","updatedAt":"2026-05-28T10:00:00.000Z"}}'
)
WORKED_SIGNATURE = "sha256=a5c815b6fd22b08a9bc43c34191a7a6dc1ea1c2c455ceb2fa7e4ec46eb92dac7"
INSIGNER_RETRIES = [60, 300, 1_800, 7_200, 18_000, 36_000, 64_800, 86_400]


@pytest.fixture
def store_kind() -> str:
    return "memory"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as found:
        yield found


def declare(client, receiver, events=("bulk_send.completed", "bulk_send.failed"), **fields) -> dict:
    body = {"url": receiver.url, "events": list(events), **fields}
    response = client.post("/__mock/state/insigner/webhooks", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def bulk_send(client, key=INSIGNER_KEY, body=None):
    response = client.post("/api/v1/bulk-sends", json=body or examples.CREATE_REQUEST, headers=bearer(key))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def settle(client, within_ms=10_000):
    response = client.post("/__mock/deliveries/settle", json={"withinMs": within_ms})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def advance(client, seconds):
    response = client.post("/__mock/clock", json={"advance": seconds})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def attempts(client, **query):
    return client.get("/__mock/deliveries", query_string=query).get_json()["attempts"]


# -- the wire -----------------------------------------------------------------------------------------------
def test_delivery__the_worked_example_byte_for_byte(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver, secret=SECRET)
    bulk_send(client)
    got = receiver.wait_for(1)[0]
    assert got.body == WORKED_BODY and len(got.body) == 316
    assert got.header("X-InSigner-Timestamp") == "1779962400"
    assert got.header("X-InSigner-Signature") == WORKED_SIGNATURE
    assert got.header("Content-Type") == "application/json"
    assert got.header("User-Agent").startswith("mockserver/")
    assert got.path == "/webhooks"
    assert got.signature_valid(SECRET)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_delivery__the_signature_is_what_openssl_computes(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver, secret=SECRET)
    bulk_send(client)
    got = receiver.wait_for(1)[0]
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", SECRET], input=got.body, capture_output=True, check=True
    ).stdout.decode()
    assert got.header("X-InSigner-Signature") == "sha256=" + digest.strip().rsplit(" ", 1)[-1]


def test_delivery__no_header_of_the_causing_request_is_passed_on(client, receiver):
    declare(client, receiver)
    client.post(
        "/api/v1/bulk-sends",
        json=examples.CREATE_REQUEST,
        headers={**bearer(INSIGNER_KEY), "X-Trace": "abc", "Cookie": "c=1"},
    )
    got = receiver.wait_for(1)[0]
    assert got.header("X-Trace") is None and got.header("Cookie") is None and got.header("Authorization") is None


def test_delivery__only_active_webhooks_of_the_tenant_subscribed_to_the_event(client, receiver):
    wanted = declare(client, receiver, events=["bulk_send.completed"])
    declare(client, receiver, events=["bulk_send.failed"])
    declare(client, receiver, events=["bulk_send.completed"], status="inactive")
    other = insigner_key("another-org-hooks")
    client.post(
        "/__mock/state/insigner/webhooks",
        query_string={"tenant": other},
        json={"url": receiver.url, "events": ["bulk_send.completed"]},
    )
    bulk_send(client)
    settle(client)
    sent = attempts(client)
    assert [(a["webhookId"], a["event"], a["state"]) for a in sent] == [
        (wanted["id"], "bulk_send.completed", "delivered")
    ]
    assert len(receiver.received) == 1


def test_delivery__a_bulk_send_every_signer_of_which_fails_is_bulk_send_failed(client, receiver):
    declare(client, receiver)
    body = {"templateId": "tpl_abc123", "name": "All fail", "signers": [{"name": "A", "email": "a@x.invalid"}]}
    data = bulk_send(client, body=body)
    got = receiver.wait_for(1)[0].json()
    assert got == {
        "event": "bulk_send.failed",
        "data": client.get(f"/api/v1/bulk-sends/{data['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"],
    }


def test_delivery__nothing_for_an_answer_a_fault_or_prefer_made(client, receiver):
    declare(client, receiver)
    client.post("/__mock/faults", json={"api": "insigner", "method": "POST", "status": 503, "times": 1})
    assert (
        client.post("/api/v1/bulk-sends", json=examples.CREATE_REQUEST, headers=bearer(INSIGNER_KEY)).status_code == 503
    )
    prefer = {**bearer(INSIGNER_KEY), "Prefer": "code=500"}
    assert client.post("/api/v1/bulk-sends", json=examples.CREATE_REQUEST, headers=prefer).status_code == 500
    settle(client)
    assert attempts(client) == [] and receiver.received == []


def test_delivery__collect_one_created_event_per_request_in_order_with_its_token(client, freeze, receiver):
    freeze("2022-07-04T07:20:06Z")
    hook = client.post(
        "/v1/webhooks",
        json={"targetUrl": receiver.url, "types": ["created"], "secretToken": "tok"},
        headers=basic(COLLECT_KEY),
    ).get_json()
    client.post(
        "/v1/webhooks", json={"targetUrl": receiver.url, "types": ["statusChanged"]}, headers=basic(COLLECT_KEY)
    )
    client.post(
        "/v1/webhooks",
        json={"targetUrl": receiver.url, "types": ["created"], "campaignId": "sGyGrNPDxQDy6ZRAm"},
        headers=basic(COLLECT_KEY),
    )
    body = {**SEND_EXAMPLE, "contacts": [{"email": "one@example.com"}, {"email": "two@example.com"}]}
    answer = client.post("/v1/requests", json=body, headers=basic(COLLECT_KEY)).get_json()
    got = receiver.wait_for(2)
    settle(client)
    assert len(receiver.received) == 2
    payloads = [item.json() for item in got]
    assert [p["data"] for p in payloads] == answer["requests"]
    assert [list(p) for p in payloads] == [["_id", "type", "createdAt", "data"]] * 2
    assert {p["type"] for p in payloads} == {"created"} and {p["createdAt"] for p in payloads} == {
        "2022-07-04T07:20:06Z"
    }
    assert all(len(p["_id"]) == 17 for p in payloads) and payloads[0]["_id"] != payloads[1]["_id"]
    assert [item.header("X-Collect-Secret-Token") for item in got] == ["tok", "tok"]
    assert {a["webhookId"] for a in attempts(client)} == {hook["_id"]}


def test_delivery__moves_no_golden_id_of_the_requests(client, freeze, receiver):
    freeze("2022-07-04T07:20:06Z")
    without = client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY)).get_json()
    client.post("/__mock/reset")
    freeze("2022-07-04T07:20:06Z")
    client.post("/v1/webhooks", json={"targetUrl": receiver.url}, headers=basic(COLLECT_KEY))
    assert client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY)).get_json() == without
    receiver.wait_for(1)


# -- retries on the mock's clock ---------------------------------------------------------------------------
def test_retries__insigners_whole_schedule_in_one_advance(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    hook = declare(client, receiver)
    receiver.answer(*[500] * 9)
    bulk_send(client)
    settle(client)
    assert len(receiver.received) == 1  # a frozen clock runs retries only when a test moves it
    moved = advance(client, 3 * 86_400)
    assert moved["deliveries"] == {"ran": 8, "running": 0}
    sent = attempts(client)
    assert [a["attempt"] for a in sent] == list(range(1, 10))
    dues = [time.mktime(time.strptime(a["dueAt"][:19], "%Y-%m-%dT%H:%M:%S")) for a in sent]
    assert [round(b - a) for a, b in itertools.pairwise(dues)] == INSIGNER_RETRIES
    assert [a["sentAt"] for a in sent] == [a["dueAt"] for a in sent]
    assert [a["trigger"] for a in sent] == ["event"] + ["retry"] * 8
    assert {a["state"] for a in sent} == {"failed"} and sent[-1]["nextAttemptAt"] is None
    assert sent[0]["nextAttemptAt"] == sent[1]["dueAt"]
    delivery = client.get(f"/__mock/deliveries/{sent[0]['deliveryId']}").get_json()
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 9
    shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"]
    assert (shown["failureCount"], shown["status"]) == (9, "active")
    # Every attempt sent the same bytes, signature and timestamp.
    assert (
        len({(r.body, r.header("X-InSigner-Signature"), r.header("X-InSigner-Timestamp")) for r in receiver.received})
        == 1
    )


def test_retries__a_success_resets_the_failure_count_and_ends_the_delivery(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    hook = declare(client, receiver, failureCount=7)
    receiver.answer(500, 502)
    bulk_send(client)
    settle(client)
    assert advance(client, 360)["deliveries"] == {"ran": 2, "running": 0}
    assert [a["state"] for a in attempts(client)] == ["failed", "failed", "delivered"]
    assert advance(client, 86_400)["deliveries"] == {"ran": 0, "running": 0}
    shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"]
    assert shown["failureCount"] == 0


def test_retries__inactive_at_twenty_failures_in_a_row_abandons_what_is_pending(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    hook = declare(client, receiver, failureCount=18)
    receiver.answer(*[500] * 20)
    bulk_send(client)
    settle(client)
    advance(client, 60)  # the second failure: 20 in a row
    shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"]
    assert (shown["failureCount"], shown["status"]) == (20, "inactive")
    states = [a["state"] for a in attempts(client)]
    assert states == ["failed", "failed", "abandoned"]
    assert advance(client, 86_400)["deliveries"]["ran"] == 0
    # Reactivated, it keeps its count: the next failure makes it inactive again.
    client.patch(f"/api/v1/webhooks/{hook['id']}", json={"status": "active"}, headers=bearer(INSIGNER_KEY))
    freeze("2026-06-10T10:00:00.000Z")
    bulk_send(client)
    settle(client)
    shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"]
    assert (shown["failureCount"], shown["status"]) == (21, "inactive")


def test_retries__collects_schedule_then_paused(client, freeze, receiver):
    freeze("2022-07-04T07:20:06Z")
    hook = client.post("/v1/webhooks", json={"targetUrl": receiver.url}, headers=basic(COLLECT_KEY)).get_json()
    receiver.answer(*[503] * 8)
    client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY))
    settle(client)
    assert advance(client, 2 * 86_400)["deliveries"] == {"ran": 7, "running": 0}
    sent = attempts(client)
    dues = [time.mktime(time.strptime(a["dueAt"][:19], "%Y-%m-%dT%H:%M:%S")) for a in sent]
    # The six documented-like retries, then a last attempt a day after the first.
    assert [round(d - dues[0]) for d in dues] == [0, 60, 360, 2_160, 9_360, 27_360, 63_360, 86_400]
    assert sent[-1]["state"] == "failed" and sent[-1]["nextAttemptAt"] is None
    listed = client.get("/__mock/webhooks?api=collect").get_json()["webhooks"]
    assert [(h["id"], h["status"], h["failureCount"]) for h in listed] == [(hook["_id"], "paused", 8)]


def test_retries__a_running_clock_runs_them_as_real_time_reaches_them(client, receiver):
    declare(client, receiver)
    receiver.answer(500)
    bulk_send(client)
    settle(client)
    assert advance(client, 60)["deliveries"]["ran"] == 1  # due now on the running clock
    assert [a["state"] for a in attempts(client)] == ["failed", "delivered"]


def test_retries__moving_the_clock_back_reruns_nothing(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver)
    bulk_send(client)
    settle(client)
    assert advance(client, -3_600)["deliveries"] == {"ran": 0, "running": 0}
    assert advance(client, 3_600)["deliveries"] == {"ran": 0, "running": 0}
    assert len(receiver.received) == 1


def test_retries__attempts_to_one_webhook_go_one_at_a_time_oldest_first(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver)
    receiver.answer(200, hang=0.3)
    first = bulk_send(client)
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
    second = bulk_send(client, body={**examples.CREATE_REQUEST, "name": "Second"})
    settle(client)
    got = [item.json()["data"]["id"] for item in receiver.received]
    assert got == [first["id"], second["id"]]


# -- changes to the webhook while deliveries are pending ------------------------------------------------------
def test_pending__a_new_url_gets_them_with_the_same_bytes(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    hook = declare(client, receiver)
    receiver.answer(500)
    bulk_send(client)
    settle(client)
    with WebhookReceiver() as moved:
        client.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": moved.url}, headers=bearer(INSIGNER_KEY))
        advance(client, 60)
        assert moved.wait_for(1)[0].body == receiver.received[0].body
    assert [a["url"] for a in attempts(client)] == [receiver.url, moved.url]


@pytest.mark.parametrize("how", ["inactive", "delete"])
def test_pending__abandoned_when_the_webhook_stops_receiving(client, freeze, receiver, how):
    freeze("2026-05-28T10:00:00.000Z")
    hook = declare(client, receiver)
    receiver.answer(500)
    bulk_send(client)
    settle(client)
    if how == "inactive":
        client.patch(f"/api/v1/webhooks/{hook['id']}", json={"status": "inactive"}, headers=bearer(INSIGNER_KEY))
    else:
        client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY))
    sent = attempts(client)
    assert [a["state"] for a in sent] == ["failed", "abandoned"]
    assert client.get(f"/__mock/deliveries/{sent[0]['deliveryId']}").get_json()["state"] == "abandoned"
    assert advance(client, 86_400)["deliveries"]["ran"] == 0


def test_pending__a_paused_collect_webhook_abandons_them(client, freeze, receiver):
    freeze("2022-07-04T07:20:06Z")
    hook = client.post("/v1/webhooks", json={"targetUrl": receiver.url}, headers=basic(COLLECT_KEY)).get_json()
    receiver.answer(500)
    client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY))
    settle(client)
    client.post(f"/v1/webhooks/{hook['_id']}", json={"status": "paused"}, headers=basic(COLLECT_KEY))
    assert [a["state"] for a in attempts(client)] == ["failed", "abandoned"]


# -- failures of the wire --------------------------------------------------------------------------------------
def test_failure__refused_connection_redirect_and_dns(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    closed = WebhookReceiver()
    closed.close()
    declare(client, receiver, url=f"http://127.0.0.1:{closed.port}/gone")
    bulk_send(client)
    settle(client)
    first = attempts(client)[0]
    assert (first["state"], first["error"], first["response"]) == ("failed", "refused", None)


def test_failure__a_redirect_is_not_followed(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver)
    receiver.answer(302)
    bulk_send(client)
    settle(client)
    first = attempts(client)[0]
    assert (first["state"], first["error"], first["response"]["status"]) == ("failed", "redirect", 302)


def test_failure__a_name_that_does_not_resolve_is_dns(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    client.post(
        "/__mock/state/insigner/webhooks",
        json={"url": "http://no-such-host.invalid/hook", "events": ["bulk_send.completed"]},
    )
    bulk_send(client)
    settle(client)
    assert attempts(client)[0]["error"] == "dns"


class TestTimeout:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "webhook_timeout": 0.3}

    def test_a_hanging_receiver_times_out_and_holds_nothing_else(self, client, freeze, receiver):
        freeze("2026-05-28T10:00:00.000Z")
        declare(client, receiver)
        receiver.answer(200, hang=5)
        started = time.monotonic()
        bulk_send(client)  # the answer that caused the event is never delayed
        assert time.monotonic() - started < 0.3
        with WebhookReceiver() as other_receiver:
            other = insigner_key("org-beside-a-hanging-one")
            client.post(
                "/__mock/state/insigner/webhooks",
                query_string={"tenant": other},
                json={"url": other_receiver.url, "events": ["bulk_send.completed"]},
            )
            bulk_send(client, key=other)
            other_receiver.wait_for(1, timeout=0.25)  # while the first tenant's receiver hangs
        settle(client)
        first = attempts(client, tenant=INSIGNER_KEY)[0]
        assert (first["state"], first["error"]) == ("failed", "timeout")
        assert 250 <= first["durationMs"] < 2_000
        receiver.release()

    def test_a_name_whose_lookup_hangs_times_out_within_the_attempts_time(self, client, freeze, monkeypatch):
        import socket

        real, answered = socket.getaddrinfo, threading.Event()

        def hanging(host, *args, **kwargs):
            if host == "hanging-resolver.test":
                answered.wait(10)  # the system's resolver, stuck on an unreachable name server
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", hanging)
        freeze("2026-05-28T10:00:00.000Z")
        client.post(
            "/__mock/state/insigner/webhooks",
            json={"url": "http://hanging-resolver.test/hook", "events": ["bulk_send.completed"]},
        )
        bulk_send(client)
        settle(client, within_ms=5_000)
        first = attempts(client)[0]
        answered.set()
        assert (first["state"], first["error"]) == ("failed", "timeout")
        assert 250 <= first["durationMs"] < 2_000  # the attempt's 0.3 s, not the resolver's 10


class TestOff:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "webhooks": "off"}

    def test_attempts_are_suppressed_and_nothing_is_sent(self, client, receiver):
        declare(client, receiver)
        bulk_send(client)
        settle(client)
        sent = attempts(client)
        assert [(a["state"], a["error"]) for a in sent] == [("suppressed", None)]
        assert client.get(f"/__mock/deliveries/{sent[0]['deliveryId']}").get_json()["state"] == "delivered"
        assert receiver.received == []


# -- the log ---------------------------------------------------------------------------------------------------
def test_log__filters_one_delivery_and_clear(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver)
    receiver.answer(500)
    bulk_send(client)
    settle(client)
    everything = client.get("/__mock/deliveries").get_json()
    assert (everything["total"], everything["pending"], everything["truncated"]) == (2, 1, False)
    first = everything["attempts"][0]
    assert list(first) == [
        "id",
        "deliveryId",
        "eventId",
        "api",
        "tenant",
        "webhookId",
        "event",
        "url",
        "attempt",
        "trigger",
        "state",
        "dueAt",
        "sentAt",
        "request",
        "response",
        "error",
        "durationMs",
        "signatureValid",
        "faultId",
        "nextAttemptAt",
    ]
    assert first["request"]["bytes"] == len(receiver.received[0].body)
    assert first["request"]["body"]["event"] == "bulk_send.completed"
    assert first["response"]["status"] == 500 and first["response"]["body"] == '{"received":true}'
    assert first["tenant"] == "org_abc123" and first["eventId"].startswith("evt_")
    assert everything["attempts"][1]["request"] is None and everything["attempts"][1]["sentAt"] is None
    assert [a["state"] for a in attempts(client, state="pending")] == ["pending"]
    assert [a["attempt"] for a in attempts(client, status=500)] == [1]
    assert attempts(client, event="bulk_send.*") == attempts(client) and attempts(client, event="document.*") == []
    assert attempts(client, api="collect") == [] and len(attempts(client, limit=1)) == 1
    one = client.get(f"/__mock/deliveries/{first['deliveryId']}").get_json()
    assert (one["id"], one["state"], len(one["attempts"])) == (first["deliveryId"], "pending", 2)
    assert client.get("/__mock/deliveries/dlv_999").status_code == 404
    assert client.delete("/__mock/deliveries").status_code == 204
    assert [a["state"] for a in attempts(client)] == ["pending"]
    bad = client.get("/__mock/deliveries?state=lost")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid-filter"


class TestLogBound:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "deliveries_size": 2}

    def test_the_oldest_ended_attempts_leave_first(self, client, freeze, receiver):
        freeze("2026-05-28T10:00:00.000Z")
        declare(client, receiver)
        receiver.answer(500, 500, 500)
        bulk_send(client)
        settle(client)
        advance(client, 400)
        listed = client.get("/__mock/deliveries").get_json()
        assert [a["attempt"] for a in listed["attempts"]] == [2, 3, 4] and listed["truncated"] is True


def test_settle__bad_body_is_400_and_time_up_is_409(client, receiver):
    for body in ({"withinMs": -1}, {"withinMs": 30_001}, {"withinMs": "10"}, {"within": 5}):
        assert client.post("/__mock/deliveries/settle", json=body).status_code == 400
    declare(client, receiver)
    receiver.answer(200, hang=5)
    bulk_send(client)
    response = client.post("/__mock/deliveries/settle", json={"withinMs": 100})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not-settled"
    receiver.release()
    assert settle(client)["pending"] == 0


def test_settle__answers_what_is_left_for_later(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver)
    receiver.answer(500)
    bulk_send(client)
    assert settle(client) == {"pending": 1, "nextDueAt": "2026-05-28T10:01:00.000Z"}


# -- resets, restores and the end of the server never wait for an attempt ----------------------------------
def test_reset__in_the_middle_of_an_attempt_waits_for_nothing_and_keeps_no_trace(client, receiver):
    hook = declare(client, receiver)
    receiver.answer(500, hang=5)
    bulk_send(client)
    receiver.wait_arrived(1)
    started = time.monotonic()
    assert client.post("/__mock/reset").status_code == 200
    assert time.monotonic() - started < 1
    assert client.get("/__mock/deliveries").get_json()["total"] == 0
    # A webhook declared again with the same id has no failure of the attempt the reset dropped.
    again = declare(client, receiver, id=hook["id"])
    receiver.release()
    receiver.wait_for(1)
    assert again["failureCount"] == 0
    assert (
        client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"]["failureCount"]
        == 0
    )


def test_restore__drops_the_deliveries(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver)
    receiver.answer(500)
    snapshot = client.get("/__mock/snapshot").get_data()
    bulk_send(client)
    settle(client)
    client.put("/__mock/snapshot", data=snapshot, headers={"Content-Type": "application/json"})
    assert client.get("/__mock/deliveries").get_json()["total"] == 0


def test_stop__ends_the_attempts_in_flight(app, receiver):
    client = app.test_client()
    declare(client, receiver)
    receiver.answer(200, hang=5)
    bulk_send(client)
    receiver.wait_arrived(1)
    started = time.monotonic()
    app.extensions["mockserver"].stop()
    assert time.monotonic() - started < 1
    receiver.release()


def test_advance__too_many_waits_answers_at_once_with_the_rest_running(client, freeze, receiver, app):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver)
    receiver.answer(500, 200, hang=0)
    bulk_send(client)
    settle(client)
    verifier = app.extensions["mockserver"].verifier
    taken = [verifier.begin_wait() for _ in range(8)]
    try:
        started = time.monotonic()
        moved = advance(client, 60)
        assert time.monotonic() - started < 1
        assert moved["deliveries"]["ran"] == 0
    finally:
        for _ in taken:
            verifier.end_wait()
    settle(client)
    assert [a["state"] for a in attempts(client)] == ["failed", "delivered"]


def test_storm__slow_failing_and_hanging_receivers_beside_requests_resets_and_advances(app):
    """Deliveries to receivers that answer slowly, fail or hang, while requests, resets, advances and
    one-tenant snapshot restores run."""
    from mockserver.testing.server import ServerThread

    settings = app.extensions["mockserver"].settings
    assert settings.webhook_timeout == 10.0
    app.extensions["mockserver"].deliveries.timeout = 0.2
    server = ServerThread(app).start()
    import requests

    problems: list[str] = []
    with WebhookReceiver() as slow, WebhookReceiver() as failing, WebhookReceiver() as hanging:
        slow.answer(*[200] * 1000, hang=0.05)
        failing.answer(*[500] * 1000)
        hanging.answer(*[200] * 1000, hang=30)

        # The hanging receiver is another organization's: it must not stall the first one's deliveries.
        beside = insigner_key("storm-beside")
        declared = [(slow, INSIGNER_KEY), (failing, INSIGNER_KEY), (hanging, beside)]

        def declare_all() -> None:
            for target, key in declared:
                requests.post(
                    f"{server.url}/__mock/state/insigner/webhooks",
                    params={"tenant": key},
                    json={"url": target.url, "events": ["bulk_send.completed", "bulk_send.failed"]},
                    timeout=10,
                )

        def work(kind: str) -> None:
            session = requests.Session()
            for _ in range(40):
                try:
                    if kind in ("create", "create-beside"):
                        key = INSIGNER_KEY if kind == "create" else beside
                        answer = session.post(
                            f"{server.url}/api/v1/bulk-sends",
                            json=examples.CREATE_REQUEST,
                            headers=bearer(key),
                            timeout=20,
                        )
                    elif kind == "reset":
                        answer = session.post(f"{server.url}/__mock/reset", timeout=20)
                        session.put(
                            f"{server.url}/__mock/rate-limits", json={"insigner": {"enabled": False}}, timeout=20
                        )
                        declare_all()
                    elif kind == "advance":
                        answer = session.post(f"{server.url}/__mock/clock", json={"advance": 600}, timeout=40)
                    elif kind == "snapshot":
                        # The hanging receiver's tenant, put back while its attempts are in flight.
                        taken = session.get(f"{server.url}/__mock/snapshot", params={"tenant": beside}, timeout=20)
                        answer = taken
                        if taken.status_code == 200:
                            answer = session.put(f"{server.url}/__mock/snapshot", data=taken.content, timeout=20)
                            if answer.status_code != 200:
                                problems.append(f"snapshot: {answer.status_code} {answer.text[:200]}")
                    else:
                        answer = session.get(f"{server.url}/__mock/deliveries?limit=5", timeout=20)
                    if answer.status_code >= 500:
                        problems.append(f"{kind}: {answer.status_code} {answer.text[:200]}")
                except requests.RequestException as exc:
                    problems.append(f"{kind}: {exc}")

        requests.put(f"{server.url}/__mock/rate-limits", json={"insigner": {"enabled": False}}, timeout=10)
        declare_all()
        kinds = ("create", "create-beside", "reset", "advance", "snapshot", "read")
        threads = [threading.Thread(target=work, args=(kind,)) for kind in kinds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "a worker hung"
        started = time.monotonic()
        assert requests.get(f"{server.url}/__mock/health", timeout=5).status_code == 200
        assert requests.post(f"{server.url}/__mock/reset", timeout=5).status_code == 200
        assert time.monotonic() - started < 2
        # Each kind of receiver was delivered to meanwhile.
        assert slow.received and failing.received
        hanging.wait_arrived(1)
        hanging.release()
    server.stop()
    assert problems == []


def test_redeliver__now_with_the_same_bytes_outside_the_schedule(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    hook = declare(client, receiver)
    receiver.answer(500, 500)
    bulk_send(client)
    settle(client)
    delivery = attempts(client)[0]["deliveryId"]
    # A failing redelivery counts in failureCount and schedules nothing.
    failed = client.post(f"/__mock/deliveries/{delivery}/redeliver")
    assert failed.status_code == 202
    assert (failed.get_json()["attempt"], failed.get_json()["trigger"]) == (3, "redeliver")
    settle(client)
    assert (
        client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(INSIGNER_KEY)).get_json()["data"]["failureCount"]
        == 2
    )
    assert [a["state"] for a in attempts(client)] == ["failed", "pending", "failed"]
    # A succeeding one delivers it, and its pending retry is abandoned.
    assert client.post(f"/__mock/deliveries/{delivery}/redeliver").get_json()["attempt"] == 4
    settle(client)
    assert [a["state"] for a in attempts(client)] == ["failed", "abandoned", "failed", "delivered"]
    assert client.get(f"/__mock/deliveries/{delivery}").get_json()["state"] == "delivered"
    assert len({r.body for r in receiver.received}) == 1 and len(receiver.received) == 3
    assert client.post("/__mock/deliveries/dlv_404/redeliver").status_code == 404


class TestAsynchronousBulkSends:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "insigner_async_seconds": 30}

    def test_completed_when_an_advance_reaches_its_time_unread_at_its_own_instant(self, client, freeze, receiver):
        freeze("2026-05-28T10:00:00.000Z")
        declare(client, receiver, secret=SECRET)
        created = bulk_send(client)
        assert created["status"] == "processing"
        settle(client)
        assert receiver.received == []  # nothing is emitted while it processes
        assert advance(client, 3_600)["deliveries"] == {"ran": 1, "running": 0}
        got = receiver.received[0]
        body = got.json()
        assert body["event"] == "bulk_send.completed"
        assert (body["data"]["status"], body["data"]["updatedAt"]) == ("completed", "2026-05-28T10:00:30.000Z")
        assert got.header("X-InSigner-Timestamp") == "1779962430"
        [attempt] = attempts(client)
        assert attempt["dueAt"] == attempt["sentAt"] == "2026-05-28T10:00:30.000Z"

    def test_completed_as_a_running_clock_reaches_its_time(self, client, receiver):
        client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
        declare(client, receiver)
        bulk_send(client)
        assert advance(client, 29)["deliveries"]["ran"] == 0  # a second of its 30 left
        got = receiver.wait_for(1, timeout=10)
        assert got[0].json()["data"]["status"] == "completed"


def test_verify__attempts_with_near_misses_and_a_wait(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    hook = declare(client, receiver)
    receiver.answer(500)
    bulk_send(client)
    settle(client)
    held = client.post("/__mock/deliveries/verify", json={"api": "insigner", "event": "bulk_send.*", "status": 500})
    assert held.status_code == 200
    assert held.get_json() == {"ok": True, "count": 1, "attempts": [attempts(client)[0]["id"]]}
    by_body = client.post(
        "/__mock/deliveries/verify",
        json={
            "webhook": hook["id"],
            "headers": {"content-type": "application/json"},
            "body": {"data": {"totalCount": 3}},
        },
    )
    assert by_body.get_json()["count"] == 1
    failed = client.post("/__mock/deliveries/verify", json={"api": "insigner", "state": "delivered", "attempt": 1})
    assert failed.status_code == 409
    answer = failed.get_json()
    assert answer["error"]["code"] == "verification-failed" and answer["ok"] is False
    first = answer["nearMisses"][0]
    assert first["attempt"]["attempt"] == 1
    assert first["differences"] == [{"field": "state", "expected": "delivered", "actual": "failed"}]
    assert client.post("/__mock/deliveries/verify", json={"state": "lost"}).status_code == 400
    # A wait: the retry that an advance from another thread runs makes it hold.
    mover = threading.Timer(0.05, lambda: client.application.test_client().post("/__mock/clock", json={"advance": 60}))
    mover.start()
    waited = client.post("/__mock/deliveries/verify", json={"state": "delivered", "withinMs": 5_000})
    mover.join()
    assert waited.status_code == 200 and waited.get_json()["count"] == 1


def test_verify__a_forged_delivery_the_receiver_refused(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver, secret=SECRET)
    bad = client.post("/__mock/faults", json={"target": "delivery", "kind": "badSignature", "times": 1}).get_json()
    receiver.answer(401)
    bulk_send(client)
    settle(client)
    answer = client.post(
        "/__mock/deliveries/verify", json={"faultId": bad["id"], "status": 401, "signatureValid": False}
    )
    assert answer.status_code == 200, answer.get_json()


class TestEviction:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "max_tenants": 2}

    def test_an_evicted_tenant_takes_its_deliveries_with_it(self, client, freeze, receiver):
        freeze("2026-05-28T10:00:00.000Z")
        first = insigner_key("evicted-first")
        client.post(
            "/__mock/state/insigner/webhooks",
            query_string={"tenant": first},
            json={"url": receiver.url, "events": ["bulk_send.completed"]},
        )
        receiver.answer(500)
        bulk_send(client, key=first)
        settle(client)
        assert len(attempts(client, tenant=first)) == 2
        for n in range(2):
            bulk_send(client, key=insigner_key(f"evicting-{n}"))
        listed = client.get("/__mock/deliveries").get_json()
        assert listed["total"] == 0 and listed["pending"] == 0


def test_trigger__a_documented_event_of_an_entity_now(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver, events=["bulk_send.failed", "document.completed"])
    answer = client.post(
        "/__mock/webhooks/trigger",
        json={"api": "insigner", "tenant": INSIGNER_KEY, "event": "bulk_send.failed", "bulkSendId": "bs_abc123"},
    )
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["eventId"].startswith("evt_") and len(body["deliveries"]) == 1
    settle(client)
    got = receiver.received[0].json()
    shown = client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY)).get_json()["data"]
    assert got == {"event": "bulk_send.failed", "data": shown}
    created = bulk_send(client)
    document = client.get("/__mock/state/insigner/documents").get_json()["items"][0]
    assert document["bulkSendId"] == created["id"]
    client.post(
        "/__mock/webhooks/trigger",
        json={"api": "insigner", "tenant": "org_abc123", "event": "document.completed", "documentId": document["id"]},
    )
    settle(client)
    assert receiver.received[-1].json() == {"event": "document.completed", "data": document}
    # Nobody subscribes: an event id, no delivery.
    none = client.post(
        "/__mock/webhooks/trigger",
        json={"api": "insigner", "tenant": INSIGNER_KEY, "event": "signer.completed", "documentId": document["id"]},
    ).get_json()
    assert none["deliveries"] == [] and none["eventId"].startswith("evt_")


def test_trigger__collect_status_changed_stores_the_status(client, freeze, receiver):
    freeze("2022-07-04T07:20:06Z")
    client.post(
        "/v1/webhooks", json={"targetUrl": receiver.url, "types": ["statusChanged"]}, headers=basic(COLLECT_KEY)
    )
    request_id = client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY)).get_json()["requests"][0][
        "_id"
    ]
    answer = client.post(
        "/__mock/webhooks/trigger",
        json={
            "api": "collect",
            "tenant": COLLECT_KEY,
            "event": "statusChanged",
            "requestId": request_id,
            "status": "completed",
        },
    )
    assert answer.status_code == 202
    settle(client)
    got = receiver.received[0].json()
    assert (got["type"], got["data"]["status"], got["data"]["previousStatus"]) == (
        "statusChanged",
        "completed",
        "pending",
    )
    assert got["_id"] == answer.get_json()["eventId"] and len(got["_id"]) == 17
    stored = [r for r in client.get("/__mock/state/collect/requests").get_json()["items"] if r["_id"] == request_id]
    assert stored[0]["status"] == "completed"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"api": "insigner", "tenant": INSIGNER_KEY, "event": "bulk_send.exploded", "bulkSendId": "bs_abc123"}, 400),
        ({"api": "insigner", "tenant": INSIGNER_KEY, "event": "bulk_send.completed"}, 400),
        ({"api": "insigner", "event": "bulk_send.completed", "bulkSendId": "bs_abc123"}, 400),
        ({"api": "stripe", "tenant": "x", "event": "a.b"}, 400),
        ({"api": "insigner", "tenant": INSIGNER_KEY, "event": "bulk_send.completed", "bulkSendId": "bs_none"}, 404),
        (
            {"api": "insigner", "tenant": "no-such-tenant", "event": "bulk_send.completed", "bulkSendId": "bs_abc123"},
            404,
        ),
        ({"api": "collect", "tenant": COLLECT_KEY, "event": "statusChanged", "requestId": "nope"}, 404),
        ({"api": "collect", "tenant": COLLECT_KEY, "event": "bulk_send.completed", "requestId": "nope"}, 400),
    ],
)
def test_trigger__refused(client, body, status):
    assert client.post("/__mock/webhooks/trigger", json=body).status_code == status


def failed_with_a_retry_pending(client, freeze, receiver) -> None:
    """The worked example's delivery, failed once (500), its retry due a minute later on a frozen clock."""
    freeze("2026-05-28T10:00:00.000Z")
    declare(client, receiver, secret=SECRET)
    receiver.answer(500)
    bulk_send(client)
    settle(client)


def test_snapshot__carries_pending_attempts_and_the_log_and_delivers_the_same_bytes(client, freeze, receiver):
    failed_with_a_retry_pending(client, freeze, receiver)
    snapshot = client.get("/__mock/snapshot").get_json()
    before = client.get("/__mock/deliveries").get_json()
    assert [a["state"] for a in snapshot["deliveries"]["deliveries"][0]["attempts"]] == ["failed", "pending"]
    client.post("/__mock/reset")
    assert client.get("/__mock/deliveries").get_json()["total"] == 0
    restored = client.put("/__mock/snapshot", json=snapshot)
    assert restored.status_code == 200, restored.get_data(as_text=True)
    assert client.get("/__mock/deliveries").get_json() == before
    advance(client, 60)
    assert [a["state"] for a in attempts(client)] == ["failed", "delivered"]
    assert receiver.received[0].body == receiver.received[1].body == WORKED_BODY
    # The sequences came back too: the next delivery's ids follow the snapshot's.
    assert attempts(client)[-1]["id"] == "att_2"


def test_snapshot__deliveries_that_are_not_this_servers_are_refused_naming_them(client):
    snapshot = client.get("/__mock/snapshot").get_json()
    snapshot["deliveries"] = {"next": {"event": 1}, "deliveries": []}
    refused = client.put("/__mock/snapshot", json=snapshot)
    assert refused.status_code == 400 and "deliveries" in refused.get_json()["error"]["message"]
    snapshot["deliveries"] = {"next": {"event": 1, "delivery": 1, "attempt": 1, "order": 1}, "deliveries": [{"id": 1}]}
    assert client.put("/__mock/snapshot", json=snapshot).status_code == 400


def test_snapshot__one_tenants_carries_its_deliveries_and_leaves_the_others(client, freeze, receiver):
    freeze("2026-05-28T10:00:00.000Z")
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
    other = insigner_key("snapshot-other-org")
    declare(client, receiver, secret=SECRET)
    client.post(
        "/__mock/state/insigner/webhooks",
        query_string={"tenant": other},
        json={"url": receiver.url, "events": ["bulk_send.completed"]},
    )
    receiver.answer(500)
    bulk_send(client)
    settle(client)  # the one 500 goes to this tenant's delivery, not to whichever arrives first
    bulk_send(client, key=other)
    settle(client)
    snapshot = client.get("/__mock/snapshot", query_string={"tenant": INSIGNER_KEY}).get_json()
    mine = snapshot["scope"]["insigner"]
    carried = snapshot["deliveries"]["deliveries"]
    assert [(d["tenant"], [a["state"] for a in d["attempts"]]) for d in carried] == [(mine, ["failed", "pending"])]

    # Meanwhile the tenant gets another delivery, and the other tenant keeps its own.
    receiver.answer(200)
    bulk_send(client, body={**examples.CREATE_REQUEST, "name": "After the snapshot"})
    settle(client)
    others_before = attempts(client, tenant=other)
    restored = client.put("/__mock/snapshot", json=snapshot)
    assert restored.status_code == 200, restored.get_data(as_text=True)

    assert attempts(client, tenant=other) == others_before  # untouched, ids and all
    back = attempts(client, tenant=mine)
    # The snapshot's two attempts, under new ids after the live ones; the later delivery is gone.
    assert [(a["attempt"], a["state"], a["trigger"]) for a in back] == [(1, "failed", "event"), (2, "pending", "retry")]
    live_ids = [int(a["id"][4:]) for a in others_before]
    assert min(int(a["id"][4:]) for a in back) > max(live_ids)
    assert len({a["deliveryId"] for a in back}) == 1 and back[0]["eventId"] not in {a["eventId"] for a in others_before}
    delivery = client.get(f"/__mock/deliveries/{back[0]['deliveryId']}").get_json()
    assert [a["id"] for a in delivery["attempts"]] == [a["id"] for a in back]

    # Its pending retry runs on the clock and sends the snapshot's bytes.
    received = len(receiver.received)
    advance(client, 60)
    assert [a["state"] for a in attempts(client, tenant=mine)] == ["failed", "delivered"]
    assert receiver.received[received].body == WORKED_BODY


def test_snapshot__one_tenants_with_another_tenants_delivery_is_refused(client, freeze, receiver):
    failed_with_a_retry_pending(client, freeze, receiver)
    snapshot = client.get("/__mock/snapshot", query_string={"tenant": INSIGNER_KEY}).get_json()
    before = client.get("/__mock/deliveries").get_json()
    snapshot["deliveries"]["deliveries"][0]["tenant"] = "someone-else"
    refused = client.put("/__mock/snapshot", json=snapshot)
    assert refused.status_code == 400
    assert "deliveries.0.tenant" in refused.get_json()["error"]["message"]
    assert client.get("/__mock/deliveries").get_json() == before


# -- the queue's bound --------------------------------------------------------------------------------------
def test_queue_full__an_attempt_past_the_bound_fails_at_once_and_the_queue_takes_more_once_drained(
    client, freeze, receiver, monkeypatch
):
    from mockserver.webhooks import model

    monkeypatch.setattr(model, "MAX_PENDING", 2)
    freeze("2026-05-28T10:00:00.000Z")
    hooks = [declare(client, receiver, events=["bulk_send.completed"])["id"] for _ in range(3)]
    bulk_send(client)  # one event, three deliveries queued together: the third finds the queue full
    settle(client)
    sent = {a["webhookId"]: a for a in attempts(client)}
    assert [sent[hook]["state"] for hook in hooks] == ["delivered", "delivered", "failed"]
    full = sent[hooks[2]]
    assert (full["error"], full["sentAt"], full["response"]) == ("queue-full", None, None)
    assert client.get(f"/__mock/deliveries/{full['deliveryId']}").get_json()["state"] == "failed"
    assert len(receiver.received) == 2  # nothing was sent for it
    # The receiver was never asked: the webhook's failureCount is not the mock's bound's to move.
    listed = {hook["id"]: hook for hook in client.get("/__mock/webhooks").get_json()["webhooks"]}
    assert (listed[hooks[2]]["failureCount"], listed[hooks[2]]["status"]) == (0, "active")
    found = client.post("/__mock/deliveries/verify", json={"webhook": hooks[2], "state": "failed"}).get_json()
    assert found["attempts"] == [full["id"]]
    # Drained, the queue takes the next event's deliveries (again two of three: the bound holds each time).
    client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})
    bulk_send(client, body={**examples.CREATE_REQUEST, "name": "Next"})
    settle(client)
    assert [a["state"] for a in attempts(client)[3:]] == ["delivered", "delivered", "failed"]
    assert len(receiver.received) == 4


def test_queue_full__a_redelivery_past_the_bound_leaves_its_delivery_delivered(client, receiver, monkeypatch):
    from mockserver.webhooks import model

    declare(client, receiver, events=["bulk_send.completed"])
    bulk_send(client)
    settle(client)
    delivered = attempts(client)[0]
    monkeypatch.setattr(model, "MAX_PENDING", 0)
    answer = client.post(f"/__mock/deliveries/{delivered['deliveryId']}/redeliver")
    assert answer.status_code in (200, 202), answer.get_data(as_text=True)
    assert (answer.get_json()["state"], answer.get_json()["error"]) == ("failed", "queue-full")
    assert client.get(f"/__mock/deliveries/{delivered['deliveryId']}").get_json()["state"] == "delivered"
