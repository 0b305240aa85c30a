"""MockServerClient against a live server on a real socket (in this process, on a free port)."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests

from mockserver.client import MockServerClient, MockServerError, VerificationError
from mockserver.testing.server import ServerThread, start_server

TOKEN = "s3cret"
KEY = "collect-client-tests"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    server = start_server({"seed": 42})
    yield server
    server.stop()


@pytest.fixture
def mock(server: ServerThread) -> Iterator[MockServerClient]:
    with MockServerClient(server.url) as client:
        client.reset()
        yield client


def collect_request(url: str, key: str = KEY, **body) -> requests.Response:
    auth = "Basic " + base64.b64encode(f":{key}".encode()).decode()
    return requests.post(f"{url}/v1/requests", json=body, headers={"Authorization": auth}, timeout=5)


def test_health__is_a_dict_with_version_store_and_seed(mock):
    health = mock.health()
    assert health["status"] == "ok" and health["store"] == "memory" and health["seed"] == 42
    assert "collect" in health["apis"]


def test_url__is_the_base_url_without_trailing_slash(server):
    with MockServerClient(server.url + "/") as client:
        assert client.url == server.url


def test_wait_until_ready__returns_the_health_document(mock):
    assert mock.wait_until_ready(timeout=2)["status"] == "ok"


def test_wait_until_ready__times_out_with_status_0_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with MockServerClient(f"http://127.0.0.1:{port}") as client, pytest.raises(MockServerError) as caught:
        client.wait_until_ready(timeout=0.1)
    assert caught.value.status == 0 and "not ready" in caught.value.message


def test_reset__drops_added_entities_and_summarises(mock):
    mock.add_entity("collect", "contacts", {"email": "ada@example.com"})
    assert any(c.get("email") == "ada@example.com" for c in mock.state("collect", "contacts"))
    summary = mock.reset()
    assert summary["reset"] is True and summary["seed"] == 42
    assert not any(c.get("email") == "ada@example.com" for c in mock.state("collect", "contacts"))


def test_reset__with_a_seed_reseeds(mock):
    try:
        assert mock.reset(seed=7)["seed"] == 7
        assert mock.health()["seed"] == 7
    finally:
        mock.reset(seed=42)


def test_clock__freeze_at_a_string_advance_and_unfreeze(mock):
    frozen = mock.freeze_clock("2022-07-04T07:20:06Z")
    assert frozen["frozen"] is True and frozen["now"].startswith("2022-07-04T07:20:06")
    assert mock.clock() == frozen
    assert mock.advance_clock(60)["now"].startswith("2022-07-04T07:21:06")
    assert mock.unfreeze_clock()["frozen"] is False


def test_freeze_clock__accepts_a_datetime_naive_as_utc_or_aware(mock):
    naive = datetime(2030, 1, 2, 3, 4, 5)
    assert mock.freeze_clock(naive)["now"].startswith("2030-01-02T03:04:05")
    aware = datetime(2030, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert mock.freeze_clock(aware)["now"].startswith("2030-01-02T03:04:05")


def test_freeze_clock__without_an_instant_freezes_now(mock):
    assert mock.freeze_clock()["frozen"] is True


def test_freeze_clock__rejects_other_types(mock):
    with pytest.raises(TypeError):
        mock.freeze_clock(12)  # type: ignore[arg-type]


def test_state__overview_is_a_dict_and_a_collection_a_list(mock):
    assert "collect" in mock.state()["apis"]
    campaigns = mock.state("collect", "campaigns")
    assert isinstance(campaigns, list) and all("_id" in c for c in campaigns)


def test_state__needs_both_api_and_collection():
    with MockServerClient("http://127.0.0.1:9") as client, pytest.raises(ValueError):
        client.state("collect")


def test_add_entity__joins_the_tenant_of_the_given_key(mock):
    created = mock.add_entity("collect", "contacts", {"email": "grace@example.com"}, tenant=KEY)
    assert created["email"] == "grace@example.com" and created["_id"]
    mine = mock.state("collect", "contacts", tenant=KEY)
    assert created["_id"] in {c["_id"] for c in mine}
    others = mock.state("collect", "contacts", tenant="collect-someone-else")
    assert created["_id"] not in {c["_id"] for c in others}


def test_control_error__raises_with_status_code_and_message(mock):
    with pytest.raises(MockServerError) as caught:
        mock.state("collect", "nonsense")
    assert caught.value.status == 404 and "nonsense" in caught.value.message
    assert caught.value.code == "not-found" and str(caught.value).startswith("404 not-found: ")


def test_control_error__invalid_entity_is_400(mock):
    with pytest.raises(MockServerError) as caught:
        mock.add_entity("collect", "contacts", {"email": "not an email"})
    assert caught.value.status == 400 and "email" in caught.value.message


def test_token__is_sent_as_x_mock_token():
    with start_server({"control_token": TOKEN}) as server:
        with MockServerClient(server.url) as anonymous:
            assert anonymous.health()["status"] == "ok"  # health needs no token
            with pytest.raises(MockServerError) as caught:
                anonymous.clock()
            assert caught.value.status == 401
        with MockServerClient(server.url, token=TOKEN) as client:
            assert "now" in client.clock()


# Faults, the journal, rate limits and scenarios.


def test_add_fault__returns_the_rule_and_faults_lists_it(mock):
    rule = mock.add_fault(api="collect", method="POST", path="/v1/requests", status=503, times=1)
    assert rule["id"] and rule["status"] == 503 and rule["remaining"] == 1
    assert [f["id"] for f in mock.faults()] == [rule["id"]]
    assert collect_request(mock.url, campaignId="x", contacts=["y"]).status_code == 503
    assert mock.faults()[0]["hits"] == 1


def test_remove_fault__and_clear_faults(mock):
    first = mock.add_fault(api="collect", status=500)
    mock.add_fault(api="collect", status=502)
    mock.remove_fault(first["id"])
    assert len(mock.faults()) == 1
    mock.clear_faults()
    assert mock.faults() == []


def test_remove_fault__unknown_id_is_404(mock):
    with pytest.raises(MockServerError) as caught:
        mock.remove_fault("no-such-rule")
    assert caught.value.status == 404


def test_add_fault__bad_rule_is_400_naming_the_field(mock):
    with pytest.raises(MockServerError) as caught:
        mock.add_fault(api="collect", status=200)
    assert caught.value.status == 400 and "status" in caught.value.message


def test_fault__context_manager_removes_the_rule_on_exit(mock):
    with mock.fault(api="collect", status=503) as rule:
        assert [f["id"] for f in mock.faults()] == [rule["id"]]
        assert collect_request(mock.url, campaignId="x", contacts=["y"]).status_code == 503
    assert mock.faults() == []


def test_fault__context_manager_tolerates_a_rule_already_gone(mock):
    with mock.fault(api="collect", status=503):
        mock.clear_faults()
    assert mock.faults() == []


def test_requests__journal_filters_and_clear(mock):
    collect_request(mock.url, campaignId="x", contacts=["y"])
    journal = mock.requests(api="collect")
    assert len(journal) == 1 and journal[0]["method"] == "POST" and journal[0]["path"] == "/v1/requests"
    assert mock.requests(api="insigner") == []
    mock.clear_requests()
    assert mock.requests() == []


def test_webhooks__every_registered_one_with_filters(mock, server):
    auth = "Basic " + base64.b64encode(f":{KEY}".encode()).decode()
    added = requests.post(
        f"{server.url}/v1/webhooks",
        json={"targetUrl": "http://127.0.0.1:9/h"},
        headers={"Authorization": auth},
        timeout=5,
    ).json()
    declared = mock.add_entity(
        "insigner", "webhooks", {"url": "http://localhost:9/h", "events": ["bulk_send.completed"]}
    )
    assert [(h["api"], h["id"]) for h in mock.webhooks()] == [("collect", added["_id"]), ("insigner", declared["id"])]
    assert [h["id"] for h in mock.webhooks(api="insigner")] == [declared["id"]]
    assert [h["id"] for h in mock.webhooks(tenant=KEY)] == [added["_id"]]


def test_deliveries__verify_settle_redeliver_and_the_near_misses(mock, server):
    from mockserver.testing.receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        mock.freeze_clock("2026-05-28T10:00:00Z")
        mock.add_entity("insigner", "webhooks", {"url": receiver.url, "events": ["bulk_send.completed"]})
        receiver.answer(500)
        body = {"templateId": "tpl_abc123", "name": "Q3", "signers": [{"name": "A", "email": "a@example.com"}]}
        auth = {"Authorization": "Bearer isk_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2"}
        requests.post(f"{server.url}/api/v1/bulk-sends", json=body, headers=auth, timeout=5)
        assert mock.settle() == {"pending": 1, "nextDueAt": "2026-05-28T10:01:00.000Z"}
        assert mock.verify_delivery(times=1, status=500)["count"] == 1
        with pytest.raises(VerificationError) as failed:
            mock.verify_delivery(state="delivered")
        text = str(failed.value)
        assert "Closest attempts:" in text and 'state: expected "delivered", got "failed"' in text
        redone = mock.redeliver(mock.deliveries()[0]["deliveryId"])
        assert redone["trigger"] == "redeliver"
        mock.settle()
        assert mock.verify_delivery(state="delivered", trigger="redeliver")["count"] == 1


def test_rate_limits__read_and_change(mock):
    limits = mock.rate_limits()
    assert set(limits) >= {"collect", "insigner"}
    changed = mock.set_rate_limits(insigner={"enabled": False})
    assert changed["insigner"]["enabled"] is False
    mock.reset()
    assert mock.rate_limits() == limits


def test_scenarios__lists_names_and_apply_unknown_is_404(mock):
    scenarios = mock.scenarios()
    assert isinstance(scenarios, list) and all("name" in s for s in scenarios)
    with pytest.raises(MockServerError) as caught:
        mock.apply_scenario("no-such-scenario")
    assert caught.value.status == 404


# -- verify and coverage --------------------------------------------------------------------------
def test_verify__returns_the_answer_when_it_holds(mock, server):
    collect_request(server.url, campaignId="xvr69EYLKXvTkfYuk", contacts=["WmTjsFknzHdmfs3Ra"])
    result = mock.verify(api="collect", method="POST", path="/v1/requests", times=1, status=200)
    assert result == {"ok": True, "count": 1, "requests": [1], "journalTruncated": False}
    assert mock.verify(times={"atMost": 1})["count"] == 1


def test_verify__raises_an_assertion_error_listing_near_misses_one_difference_a_line(mock, server):
    collect_request(server.url, campaignId="xvr69EYLKXvTkfYuk", contacts=["WmTjsFknzHdmfs3Ra"])
    with pytest.raises(VerificationError) as caught:
        mock.verify(api="collect", method="POST", status=201, body={"campaignId": "other", "contacts": []})
    error = caught.value
    assert isinstance(error, AssertionError) and isinstance(error, MockServerError)
    assert error.status == 409 and error.code == "verification-failed"
    assert error.result["count"] == 0 and len(error.near_misses) == 1
    assert str(error).splitlines() == [
        "Expected at least 1 request matching collect POST on any path with status 201, "
        'body {"campaignId": "other", "contacts": []}, but 0 matched.',
        "Closest requests:",
        f"  #1 collect POST /v1/requests -> 200 (tenant {error.near_misses[0]['request']['tenant']}):",
        "    status: expected 201, got 200",
        '    body.campaignId: expected "other", got "xvr69EYLKXvTkfYuk"',
        '    body.contacts: expected [], got ["WmTjsFknzHdmfs3Ra"]',
    ]


def test_verify__a_missing_member_reads_missing(mock, server):
    collect_request(server.url, campaignId="xvr69EYLKXvTkfYuk", contacts=["WmTjsFknzHdmfs3Ra"])
    with pytest.raises(VerificationError) as caught:
        mock.verify(method="POST", query={"page": "2"})
    assert str(caught.value).splitlines()[-1] == '    query.page: expected "2", got (missing)'


def test_verify__within_waits_for_a_request_from_another_thread(mock, server):
    import threading

    verifier = server.app.extensions["mockserver"].verifier
    sent = threading.Event()

    def later():
        while verifier.waiting == 0:  # until the verification waits
            threading.Event().wait(0.002)
        collect_request(server.url, campaignId="xvr69EYLKXvTkfYuk", contacts=["WmTjsFknzHdmfs3Ra"])
        sent.set()

    thread = threading.Thread(target=later)
    thread.start()
    assert mock.verify(api="collect", within=20)["count"] == 1
    thread.join()
    assert sent.is_set()


def test_verify__a_bad_pattern_is_a_mock_server_error_not_a_verification_error(mock):
    with pytest.raises(MockServerError) as caught:
        mock.verify(api="stripe")
    assert not isinstance(caught.value, VerificationError)
    assert caught.value.status == 400 and caught.value.message.startswith("api:")


def test_coverage__json_markdown_junit_and_clear(mock, server):
    mock.clear_coverage()
    collect_request(server.url, campaignId="xvr69EYLKXvTkfYuk", contacts=["WmTjsFknzHdmfs3Ra"])
    assert mock.coverage()["summary"]["covered"] == 1
    assert mock.coverage(format="markdown").endswith("Covered 1 of 99 documented answers (1.0%).\n")
    assert mock.coverage(format="junit").startswith("<?xml")
    assert mock.coverage(tenant="nobody-uses-this-key")["summary"]["covered"] == 0
    mock.clear_coverage()
    assert mock.coverage()["summary"]["covered"] == 0


def test_client__no_server_listening__raises_its_own_error_with_status_0():
    import socket

    from mockserver.client import MockServerClient, MockServerError

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    mock = MockServerClient(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(MockServerError) as raised:
        mock.health()
    assert raised.value.status == 0 and raised.value.code == "no-answer"
    assert f"127.0.0.1:{port}" in str(raised.value)
    with pytest.raises(MockServerError):
        mock.reset()
