"""POST /v1/requests: the reference example, every validation rule, references, bookkeeping."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from helpers import GOLDEN_COLLECT_TIME, basic

from mockserver.apis.collect import examples

EXAMPLE_REQUEST = examples.SEND_MULTIPLE_REQUESTS_REQUEST


def vendor_example_response() -> dict:
    """Return the vendor's 200 example (test_vendor_examples checks the copy against the page)."""
    return copy.deepcopy(examples.SEND_MULTIPLE_REQUESTS)


def send(client, body, auth):
    return client.post("/v1/requests", json=body, headers=auth)


def test_send_multiple_requests__vendor_example(client, collect_auth, freeze):
    freeze(GOLDEN_COLLECT_TIME)
    response = send(client, EXAMPLE_REQUEST, collect_auth)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    expected = vendor_example_response()
    # The vendor's example contradicts its own request in two fields (docs/reference/collect.md):
    # the first request shows sendCompletionMessage although the call did not set it, and
    # Elon's contact shows company "Tesla" although the call sent no company.
    del expected["requests"][0]["sendCompletionMessage"]
    del expected["requests"][1]["contact"]["company"]
    got = response.get_json()
    assert got == expected
    assert json.dumps(got) == json.dumps(expected), "key order differs from the reference example"


def test_send_multiple_requests__bookkeeping(client, collect_auth, freeze):
    freeze(GOLDEN_COLLECT_TIME)
    send(client, EXAMPLE_REQUEST, collect_auth)
    client.post("/__mock/clock", json={"advance": 3600})
    second = send(client, {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}, collect_auth)
    contact = second.get_json()["requests"][0]["contact"]
    assert contact["nbRequest"] == 6
    assert contact["lastActivity"] == "2022-07-04T08:20:06Z"
    stored = client.get("/__mock/state/collect/contacts").get_json()["items"]
    john = next(c for c in stored if c["_id"] == "WmTjsFknzHdmfs3Ra")
    assert john["nbRequest"] == 6
    requests = client.get("/__mock/state/collect/requests").get_json()["items"]
    assert len(requests) == 3


def test_send_multiple_requests__reuses_contact_by_email(client, collect_auth):
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "JohnDoe@example.com", "firstName": "X"}]}
    data = send(client, body, collect_auth).get_json()
    assert data["contacts"][0]["_id"] == "WmTjsFknzHdmfs3Ra"
    assert data["contacts"][0]["firstName"] == "John"
    assert "nbRequest" not in data["contacts"][0]
    assert data["requests"][0]["contact"]["nbRequest"] == 5


def test_send_multiple_requests__unknown_contact_id_is_partial_success(client, collect_auth):
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["NoSuchContact2345", "WmTjsFknzHdmfs3Ra"]}
    response = send(client, body, collect_auth)
    assert response.status_code == 200
    data = response.get_json()
    assert data["errors"] == [
        {"index": 0, "contact": "NoSuchContact2345", "message": "The specified object could not be found."}
    ]
    assert data["contacts"] == ["NoSuchContact2345", "WmTjsFknzHdmfs3Ra"]
    assert [r["contact"]["_id"] for r in data["requests"]] == ["WmTjsFknzHdmfs3Ra"]


def test_send_multiple_requests__default_due_date_in_team_zone(client, collect_auth, freeze):
    # 23:30 UTC on 1 January is 00:30 on 2 January in Paris: the days differ, and Paris's counts,
    # so due 9 January 23:59 Paris (counting from the UTC day would say 8 January).
    freeze("2023-01-01T23:30:00Z")
    data = send(client, {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}, collect_auth)
    assert data.get_json()["requests"][0]["dueDate"] == "2023-01-09T22:59:00Z"


@pytest.mark.parametrize(
    "due, expected",
    [
        pytest.param("2022-08-01T10:00:00Z", "2022-08-01T10:00:00Z", id="utc"),
        pytest.param("2022-08-01T10:00:00+02:00", "2022-08-01T08:00:00Z", id="offset"),
        pytest.param("2022-08-01T10:00:00", "2022-08-01T08:00:00Z", id="naive-is-team-zone"),
        pytest.param("2022-08-01", "2022-08-01T21:59:00Z", id="date-is-2359-team-zone"),
    ],
)
def test_send_multiple_requests__given_due_date(client, collect_auth, due, expected):
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"], "dueDate": due}
    assert send(client, body, collect_auth).get_json()["requests"][0]["dueDate"] == expected


def test_send_multiple_requests__flags_and_references(client, collect_auth):
    body = {
        "campaignId": "xvr69EYLKXvTkfYuk",
        "contacts": ["WmTjsFknzHdmfs3Ra"],
        "sendMessage": False,
        "sendReopenMessage": True,
        "items": ["Gwm5sHv6tzikK65We"],
        "assignedTo": "janedoe@example.com",
        "samples": [{"itemId": "Gwm5sHv6tzikK65We", "url": "https://example.com/id.pdf"}],
    }
    response = send(client, body, collect_auth)
    assert response.status_code == 200
    request = response.get_json()["requests"][0]
    assert list(request)[-2:] == ["sendMessage", "sendReopenMessage"]
    assert request["sendMessage"] is False and request["sendReopenMessage"] is True
    stored = client.get("/__mock/state/collect/requests").get_json()["items"][0]
    assert stored["assignedTo"] == "ABx6DYtqExcgJ4FAX"
    assert stored["items"] == ["Gwm5sHv6tzikK65We"]


def valid(**changes):
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": ["WmTjsFknzHdmfs3Ra"]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.mark.parametrize(
    "body, field",
    [
        pytest.param(valid(campaignId=...), "campaignId", id="campaign-missing"),
        pytest.param(valid(campaignId=12), "campaignId", id="campaign-not-string"),
        pytest.param(valid(campaignId=""), "campaignId", id="campaign-empty"),
        pytest.param(valid(contacts=...), "contacts", id="contacts-missing"),
        pytest.param(valid(contacts=[]), "contacts", id="contacts-empty"),
        pytest.param(valid(contacts=["WmTjsFknzHdmfs3Ra"] * 51), "contacts", id="contacts-over-50"),
        pytest.param(valid(contacts="WmTjsFknzHdmfs3Ra"), "contacts", id="contacts-not-list"),
        pytest.param(valid(contacts=[12]), "contacts.0", id="contact-number"),
        pytest.param(valid(contacts=[""]), "contacts.0", id="contact-empty-id"),
        pytest.param(valid(contacts=[None]), "contacts.0", id="contact-null"),
        pytest.param(valid(contacts=[{"firstName": "A"}]), "contacts.0.email", id="contact-email-missing"),
        pytest.param(
            valid(contacts=["WmTjsFknzHdmfs3Ra", "x", {"email": "nope"}]),
            "contacts.2.email",
            id="contact-email-invalid",
        ),
        pytest.param(valid(contacts=[{"email": "a@b.co", "tag": "x"}]), "contacts.0.tag", id="contact-tag-not-list"),
        pytest.param(
            valid(contacts=[{"email": "a@b.co", "firstName": 3}]), "contacts.0.firstName", id="contact-name-not-string"
        ),
        pytest.param(valid(items="Gwm5sHv6tzikK65We"), "items", id="items-not-list"),
        pytest.param(valid(items=[1]), "items.0", id="item-not-string"),
        pytest.param(valid(samples=[{"url": "https://x.io/a"}]), "samples.0.itemId", id="sample-item-missing"),
        pytest.param(
            valid(samples=[{"itemId": "Gwm5sHv6tzikK65We", "url": 5}]), "samples.0.url", id="sample-url-number"
        ),
        pytest.param(valid(samples="x"), "samples", id="samples-not-list"),
        pytest.param(valid(dueDate="next week"), "dueDate", id="due-date-not-iso"),
        pytest.param(valid(dueDate=20220711), "dueDate", id="due-date-number"),
        pytest.param(valid(assignedTo=5), "assignedTo", id="assignee-not-string"),
        pytest.param(valid(sendMessage="false"), "sendMessage", id="flag-string"),
        pytest.param(valid(sendCompletionMessage=1), "sendCompletionMessage", id="flag-number"),
        pytest.param(valid(sendRejectionMessage=None), "sendRejectionMessage", id="flag-null"),
        pytest.param(valid(sendReopenMessage=[]), "sendReopenMessage", id="flag-list"),
    ],
)
def test_send_multiple_requests__invalid_field(client, collect_auth, body, field):
    response = send(client, body, collect_auth)
    assert response.status_code == 400, response.get_data(as_text=True)
    data = response.get_json()
    assert data["error"] == "Bad Request"
    assert data["message"] == "Your request is invalid."
    assert field in [d["field"] for d in data["details"]]
    assert client.get("/__mock/state/collect/requests").get_json()["items"] == []


@pytest.mark.parametrize(
    "raw, content_type",
    [
        pytest.param(b"{not json", "application/json", id="malformed"),
        pytest.param(b'{"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [', "application/json", id="truncated"),
        pytest.param(b"[1, 2]", "application/json", id="array"),
        pytest.param(b'"text"', "application/json", id="string"),
        pytest.param(b"", "application/json", id="empty"),
        pytest.param(b'{"campaignId": "\xff"}', "application/json", id="invalid-utf8"),
        pytest.param(b"campaignId=x", "application/x-www-form-urlencoded", id="form-encoded"),
        pytest.param(b'{"a": NaN}', "application/json", id="nan"),
    ],
)
def test_send_multiple_requests__bad_body(client, collect_auth, raw, content_type):
    response = client.post("/v1/requests", data=raw, headers={**collect_auth, "Content-Type": content_type})
    assert response.status_code == 400
    assert response.get_json()["message"] == "Your request is invalid."


@pytest.mark.parametrize(
    "body, field",
    [
        pytest.param(valid(campaignId="NoSuchCampaign234"), "campaignId", id="campaign"),
        pytest.param(valid(items=["NoSuchItem2345678"]), "items.0", id="item"),
        pytest.param(
            valid(samples=[{"itemId": "NoSuchItem2345678", "url": "https://x.io/a"}]),
            "samples.0.itemId",
            id="sample-item",
        ),
        pytest.param(valid(assignedTo="nobody@example.com"), "assignedTo", id="assignee-email"),
        pytest.param(valid(assignedTo="NoSuchMember23456"), "assignedTo", id="assignee-id"),
    ],
)
def test_send_multiple_requests__unknown_reference(client, collect_auth, body, field):
    response = send(client, body, collect_auth)
    assert response.status_code == 404
    data = response.get_json()
    assert data == {
        "error": "Not Found",
        "message": "The specified object could not be found.",
        "details": data["details"],
    }
    assert field in [d["field"] for d in data["details"]]
    assert client.get("/__mock/state/collect/requests").get_json()["items"] == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer collect_test_key"}, id="bearer"),
        pytest.param({"Authorization": "Basic"}, id="no-credentials"),
        pytest.param({"Authorization": "Basic !!!notbase64"}, id="undecodable"),
        pytest.param({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, id="no-colon"),
        pytest.param(basic(""), id="empty-key"),
        pytest.param(basic("collect_revoked_key"), id="revoked"),
        pytest.param(basic("collect_expired_key"), id="expired"),
    ],
)
def test_send_multiple_requests__unauthorized(client, headers):
    response = client.post("/v1/requests", json=valid(), headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "Unauthorized", "message": "Your API key is wrong."}


def test_send_multiple_requests__username_is_ignored(client):
    header = {"Authorization": "Basic " + base64.b64encode(b"someone:collect_test_key").decode()}
    assert client.post("/v1/requests", json=valid(), headers=header).status_code == 200


def test_send_multiple_requests__wrong_method_gets_405_with_allow(client, collect_auth):
    response = client.get("/v1/requests", headers=collect_auth)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json()["error"] == "Method Not Allowed"


def test_unknown_collect_path__404_in_collect_body(client, collect_auth):
    response = client.get("/v1/contacts/x", headers=collect_auth)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Not Found", "message": "The specified object could not be found."}


def test_send_multiple_requests__body_over_1_mib_gets_413(client, collect_auth):
    body = json.dumps(valid(padding="x" * (1024 * 1024)))
    response = client.post("/v1/requests", data=body, headers={**collect_auth, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.get_json()["error"] == "Payload Too Large"


def test_send_multiple_requests__unknown_key_gets_own_tenant(client):
    mine, theirs = basic("team-a-key"), basic("team-b-key")
    send(client, valid(), mine)
    send(client, valid(), mine)
    data = send(client, valid(), theirs).get_json()
    assert data["requests"][0]["contact"]["nbRequest"] == 5
    assert send(client, valid(), mine).get_json()["requests"][0]["contact"]["nbRequest"] == 7


@pytest.mark.parametrize("settings", [{"strict_auth": True}], indirect=False)
def test_send_multiple_requests__strict_auth_rejects_unknown_key(settings):
    from mockserver.app import create_app

    app = create_app(settings)
    client = app.test_client()
    assert client.post("/v1/requests", json=valid(), headers=basic("unknown-key")).status_code == 401
    assert client.post("/v1/requests", json=valid(), headers=basic("collect_test_key")).status_code == 200


@pytest.mark.parametrize(
    "contact, sample_url",
    [
        pytest.param(
            {"email": "long@example.com", "firstName": "F" * 300, "lastName": "L" * 300}, None, id="long-names"
        ),
        pytest.param(
            {"email": "co@example.com", "company": "C" * 500, "phone": "+33 " + "1" * 80}, None, id="long-phone"
        ),
        pytest.param({"email": "tags@example.com", "tag": [f"t{n}" for n in range(150)]}, None, id="150-tags"),
        pytest.param({"email": "longtag@example.com", "tag": ["x" * 1000]}, None, id="long-tag"),
        pytest.param({"email": "url@example.com"}, "s3://bucket/id.pdf", id="sample-url-not-http"),
        pytest.param({"email": "rel@example.com"}, "documents/id.pdf", id="sample-url-relative"),
    ],
)
def test_send_multiple_requests__accepts_what_the_page_sets_no_limit_on(client, collect_auth, contact, sample_url):
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [contact]}
    if sample_url is not None:
        body["samples"] = [{"itemId": "Gwm5sHv6tzikK65We", "url": sample_url}]
    response = send(client, body, collect_auth)
    assert response.status_code == 200, response.get_json()
    created = response.get_json()["contacts"][0]
    assert {name: created[name] for name in contact} == contact


def test_send_multiple_requests__golden_ids_per_kind_survive_other_creations(client, collect_auth, freeze):
    # A campaign added first takes no ID of the contacts' or requests' sequences.
    added = client.post("/__mock/state/collect/campaigns", json={"name": "Added first"})
    assert added.status_code == 201 and added.get_json()["_id"] not in {"ngxhLDiDGEBS2jjKh", "nw42MmBsJoccgutST"}
    freeze(GOLDEN_COLLECT_TIME)
    got = send(client, EXAMPLE_REQUEST, collect_auth).get_json()
    assert got["contacts"][1]["_id"] == "ngxhLDiDGEBS2jjKh"
    assert [request["_id"] for request in got["requests"]] == ["nw42MmBsJoccgutST", "jdDzbxP8MnfBdrRuM"]
