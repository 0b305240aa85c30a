"""Collect's webhook calls (webhooks.md, section 1): "Add a webhook" and "Modify a webhook"."""

from __future__ import annotations

import json

import pytest
from helpers import COLLECT_KEY, GOLDEN_COLLECT_TIME, SEND_EXAMPLE, assert_collect_error, basic

from mockserver.apis.collect import examples
from mockserver.apis.collect.schemas import WEBHOOK_TYPES

HOOKS = "/v1/webhooks"
LOCAL = "http://127.0.0.1:9999/collect-hook"


def add(client, body=None, key=COLLECT_KEY, **changes):
    return client.post(HOOKS, json=body if body is not None else {"targetUrl": LOCAL, **changes}, headers=basic(key))


def details(response) -> dict[str, str]:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert_collect_error(response)
    return {item["field"]: item["message"] for item in response.get_json()["details"]}


def test_add_webhook__the_vendors_example(client, freeze):
    freeze("2024-07-13T15:01:38Z")
    response = add(client, examples.ADD_WEBHOOK_REQUEST)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    # The example's members in its order, then the campaign the request named ("Modify a webhook"
    # lists campaignId among the answer's members).
    assert response.get_json() == {**examples.ADD_WEBHOOK, "campaignId": examples.ADD_WEBHOOK_REQUEST["campaignId"]}
    assert list(response.get_json()) == [*examples.ADD_WEBHOOK, "campaignId"]


def test_add_webhook__without_types_every_documented_type_in_the_pages_order(client):
    answer = add(client, secretToken="s3cr3t").get_json()
    assert answer["types"] == list(WEBHOOK_TYPES) and len(WEBHOOK_TYPES) == 25
    assert list(answer) == ["_id", "types", "status", "createdAt", "targetUrl", "secretToken"]
    assert answer["secretToken"] == "s3cr3t"


def test_add_webhook__moves_no_id_of_the_requests_or_contacts(client, freeze):
    freeze(GOLDEN_COLLECT_TIME)
    without = client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY)).get_json()
    client.post("/__mock/reset")
    freeze(GOLDEN_COLLECT_TIME)
    add(client)
    add(client)
    assert client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY)).get_json() == without


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "targetUrl", "Missing data for required field."),
        ({"targetUrl": "yourserver.com/hook"}, "targetUrl", "Not a valid URL."),
        ({"targetUrl": 12}, "targetUrl", "Not a valid string."),
        ({"targetUrl": LOCAL, "types": []}, "types", "At least one type."),
        ({"targetUrl": LOCAL, "types": ["created", "portalSubmitted"]}, "types.1", None),
        ({"targetUrl": LOCAL, "types": "created"}, "types", "Not a valid list."),
        ({"targetUrl": LOCAL, "secretToken": "t" * 257}, "secretToken", "Longer than maximum length 256."),
        ({"targetUrl": "http://10.1.1.1/hook"}, "targetUrl", None),
    ],
)
def test_add_webhook__invalid_field_is_400_naming_it(client, body, field, message):
    found = details(add(client, body))
    assert list(found) == [field]
    if message is not None:
        assert found[field] == message


def test_add_webhook__an_unknown_campaign_is_404(client):
    response = add(client, campaignId="NoSuchCampaign123")
    assert response.status_code == 404
    assert_collect_error(response)
    assert response.get_json()["details"] == [{"field": "campaignId", "message": "Campaign not found"}]


def test_add_webhook__fifty_per_team_paused_ones_included(client):
    for _ in range(49):
        declared = client.post("/__mock/state/collect/webhooks", json={"targetUrl": LOCAL})
        assert declared.status_code == 201, declared.get_data(as_text=True)
    paused = add(client).get_json()["_id"]
    client.post(f"{HOOKS}/{paused}", json={"status": "paused"}, headers=basic(COLLECT_KEY))
    response = add(client)
    assert response.status_code == 400
    assert "50 webhooks per team" in response.get_json()["details"][0]["message"]


def test_modify_webhook__the_pages_example_pauses_it(client):
    created = add(client, examples.ADD_WEBHOOK_REQUEST).get_json()
    response = client.post(
        f"{HOOKS}/{created['_id']}", json=examples.MODIFY_WEBHOOK_REQUEST, headers=basic(COLLECT_KEY)
    )
    assert response.status_code == 200
    assert response.get_json() == {**created, "status": "paused"}
    shown = client.get("/__mock/webhooks?api=collect").get_json()["webhooks"]
    assert [(h["id"], h["status"]) for h in shown] == [(created["_id"], "paused")]


def test_modify_webhook__changes_what_it_names(client):
    created = add(client).get_json()
    changes = {"targetUrl": "http://localhost:4000/new", "types": ["smsSent", "smsSent"], "secretToken": "t"}
    answer = client.post(f"{HOOKS}/{created['_id']}", json=changes, headers=basic(COLLECT_KEY)).get_json()
    assert (answer["targetUrl"], answer["types"], answer["secretToken"]) == (
        "http://localhost:4000/new",
        ["smsSent"],
        "t",
    )
    assert client.post(f"{HOOKS}/{created['_id']}", json={}, headers=basic(COLLECT_KEY)).get_json() == answer


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "inactive"}, "status"),
        ({"targetUrl": "http://169.254.169.254/"}, "targetUrl"),
        ({"types": []}, "types"),
    ],
)
def test_modify_webhook__invalid_field_is_400_and_changes_nothing(client, changes, field):
    created = add(client).get_json()
    assert list(details(client.post(f"{HOOKS}/{created['_id']}", json=changes, headers=basic(COLLECT_KEY)))) == [field]
    assert client.post(f"{HOOKS}/{created['_id']}", json={}, headers=basic(COLLECT_KEY)).get_json() == created


def test_modify_webhook__unknown_is_404(client):
    response = client.post(f"{HOOKS}/NoSuchWebhook1234", json={"status": "paused"}, headers=basic(COLLECT_KEY))
    assert response.status_code == 404
    assert_collect_error(response)


@pytest.mark.parametrize("path", [HOOKS, f"{HOOKS}/eqQkPdnqwN7J38QEx"])
@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH"])
def test_webhooks__other_methods_are_405_with_allow_post(client, path, method):
    response = client.open(path, method=method, headers=basic(COLLECT_KEY))
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"] and "GET" not in response.headers["Allow"]
    assert_collect_error(response)


def test_webhooks__a_wrong_key_is_401(client):
    response = client.post(HOOKS, json={"targetUrl": LOCAL}, headers={"Authorization": "Basic Og=="})
    assert response.status_code == 401
    assert_collect_error(response)


def test_webhooks__strict_urls_refuse_plain_http_on_collect_only_that(app_strict):
    client = app_strict.test_client()
    assert "HTTPS" in details(add(client))["targetUrl"]
    assert client.post(HOOKS, json={"targetUrl": "https://localhost/h"}, headers=basic(COLLECT_KEY)).status_code == 200


@pytest.fixture
def app_strict():
    from mockserver.app import create_app

    app = create_app({"store": "memory", "seed": 42, "webhook_strict_urls": True})
    yield app
    app.extensions["mockserver"].close()


def test_mock_webhooks__both_apis_by_api_then_oldest_first_with_filters(client, freeze):
    from helpers import INSIGNER_KEY, bearer

    freeze("2026-05-28T12:00:00.000Z")
    hook = client.post(
        "/api/v1/webhooks", json={"url": LOCAL, "events": ["bulk_send.completed"]}, headers=bearer(INSIGNER_KEY)
    ).get_json()["data"]
    freeze("2026-05-28T12:00:01.000Z")
    first = add(client, campaignId="xvr69EYLKXvTkfYuk").get_json()
    second = add(client, secretToken="tok", types=["created"]).get_json()
    listed = client.get("/__mock/webhooks").get_json()["webhooks"]
    assert [(h["api"], h["id"]) for h in listed] == [
        ("collect", first["_id"]),
        ("collect", second["_id"]),
        ("insigner", hook["id"]),
    ]
    assert listed[1] == {
        "api": "collect",
        "tenant": listed[1]["tenant"],
        "id": second["_id"],
        "url": LOCAL,
        "events": ["created"],
        "campaignId": None,
        "status": "active",
        "failureCount": 0,
        "secretToken": "tok",
        "createdAt": "2026-05-28T12:00:01Z",
    }
    assert listed[0]["campaignId"] == "xvr69EYLKXvTkfYuk" and listed[0]["secretToken"] is None
    assert listed[2] == {
        "api": "insigner",
        "tenant": "org_abc123",
        "id": hook["id"],
        "url": LOCAL,
        "events": ["bulk_send.completed"],
        "campaignId": None,
        "status": "active",
        "failureCount": 0,
        "secret": hook["secret"],
        "createdAt": "2026-05-28T12:00:00.000Z",
    }
    only = client.get("/__mock/webhooks?api=insigner").get_json()["webhooks"]
    assert [h["id"] for h in only] == [hook["id"]]
    by_key = client.get(f"/__mock/webhooks?tenant={COLLECT_KEY}").get_json()["webhooks"]
    assert [h["id"] for h in by_key] == [first["_id"], second["_id"]]
    assert client.get("/__mock/webhooks?tenant=nobody-at-all").get_json()["webhooks"] == []
    bad = client.get("/__mock/webhooks?api=stripe")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid-filter"


def test_mock_webhooks__the_answer_is_json_of_plain_lists(client):
    add(client, types=["created", "statusChanged"])
    body = json.loads(client.get("/__mock/webhooks").get_data())
    assert body["webhooks"][0]["events"] == ["created", "statusChanged"]
