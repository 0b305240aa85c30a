"""inSigner organizations: isolation, seed data, the state calls, entities added through the control plane."""

from __future__ import annotations

import json

import pytest
from helpers import INSIGNER_KEY, bearer, insigner_key
from test_insigner_create import compact, create, items, valid, vendor_example

from mockserver.app import create_app

COLLECTIONS = ("organizations", "apiKeys", "templates", "bulkSends", "documents")


def test_organizations__are_isolated(client, insigner_auth):
    a, b = bearer(insigner_key("org-a")), bearer(insigner_key("org-b"))
    mine = create(client, valid(name="A's"), a).get_json()["data"]["id"]
    # B's own window is untouched by A's create; B's first ID is the fixtures' first too.
    theirs = create(client, valid(name="B's"), b).get_json()["data"]["id"]
    assert mine == theirs == "bs_def456"
    assert client.get(f"/api/v1/bulk-sends/{mine}", headers=a).get_json()["data"]["name"] == "A's"
    assert client.get(f"/api/v1/bulk-sends/{mine}", headers=b).get_json()["data"]["name"] == "B's"
    assert client.get(f"/api/v1/bulk-sends/{mine}", headers=insigner_auth).status_code == 404
    client.delete("/api/v1/bulk-sends/bs_abc123", headers=a)
    assert client.get("/api/v1/bulk-sends/bs_abc123", headers=b).status_code == 200
    usage = {
        key: next(t for t in items(client, "templates", tenant=key) if t["id"] == "tpl_abc123")["usageCount"]
        for key in (insigner_key("org-a"), insigner_key("org-b"), INSIGNER_KEY)
    }
    assert usage == {insigner_key("org-a"): 49, insigner_key("org-b"): 49, INSIGNER_KEY: 47}


def test_organizations__fresh_one_has_the_seed_data(client):
    key = insigner_key("fresh")
    response = client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(key))
    assert response.get_data() == compact(vendor_example("get_response"))
    assert items(client, "organizations", tenant=key) == items(client, "organizations", tenant=INSIGNER_KEY)
    assert len(items(client, "bulkSends", tenant=key)) == len(items(client, "bulkSends", tenant=INSIGNER_KEY))


def test_state__insigner_counts_and_collections(client):
    counts = client.get("/__mock/state").get_json()["apis"]["insigner"]["org_abc123"]
    assert counts == {"organizations": 1, "apiKeys": 9, "templates": 21, "bulkSends": 21, "documents": 0, "webhooks": 0}
    for collection in COLLECTIONS:
        response = client.get(f"/__mock/state/insigner/{collection}")
        assert response.status_code == 200
        assert len(response.get_json()["items"]) == counts[collection]


def test_state__organization_fixture(client):
    assert items(client, "organizations") == [
        {
            "id": "org_abc123",
            "name": "Acme Corporation",
            "slug": "acme-corporation",
            "type": "business",
            "image": "https://storage.example.com/logos/acme.png",
            "signatureLevel": "advanced",
            "timestampProvider": "default",
            "defaultOtpMethod": "email",
            "createdAt": "2025-01-15T10:00:00.000Z",
            "updatedAt": "2026-05-28T14:00:00.000Z",
            "_count": {"members": 12, "documents": 1847, "templates": 23, "campaigns": 5, "apiKeys": 3},
        }
    ]


def test_state__template_fixture(client):
    template = next(t for t in items(client, "templates") if t["id"] == "tpl_abc123")
    assert json.dumps(template) == json.dumps(
        {
            "id": "tpl_abc123",
            "name": "Standard NDA",
            "description": "Mutual non-disclosure agreement",
            "category": "Legal",
            "fileSize": 185000,
            "usageCount": 47,
            "isPublic": False,
            "createdAt": "2026-03-15T10:00:00.000Z",
            "updatedAt": "2026-05-20T14:30:00.000Z",
            "_count": {"fields": 8, "signers": 2},
        }
    )


def test_state__bulk_sends_show_the_deleted_flag(client):
    stored = next(b for b in items(client, "bulkSends") if b["id"] == "bs_abc123")
    assert stored["deleted"] is False and "deletedAt" not in stored


def test_state__malformed_insigner_tenant_key_is_404(client):
    response = client.get("/__mock/state/insigner/bulkSends", query_string={"tenant": "not-an-isk-key"})
    assert response.status_code == 404
    assert list(client.get("/__mock/state").get_json()["apis"]["insigner"]) == ["org_abc123"]


def test_seed_data__faker_set_covers_every_status_before_the_examples(client):
    bulk_sends = items(client, "bulkSends")
    faker_made = [b for b in bulk_sends if b["id"] != "bs_abc123"]
    assert len(faker_made) == 20
    assert {b["status"] for b in faker_made} == {"processing", "completed", "failed"}
    assert all(
        b["createdAt"] < "2026-05-28T10:00:00.000Z" and b["updatedAt"] < "2026-05-28T10:00:00.000Z" for b in faker_made
    )
    assert all(b["sentCount"] + b["failedCount"] <= b["totalCount"] for b in bulk_sends)
    template_ids = {t["id"] for t in items(client, "templates")}
    assert {b["templateId"] for b in bulk_sends} <= template_ids
    assert all(t["id"].startswith("tpl_") for t in items(client, "templates"))


@pytest.mark.parametrize("seed_count, expected", [(0, 1), (3, 4)])
def test_seed_data__count_is_configurable(seed_count, expected):
    client = create_app({"seed_count": seed_count}).test_client()
    assert len(items(client, "bulkSends")) == expected
    if seed_count:
        assert {b["status"] for b in items(client, "bulkSends")} == {"processing", "completed", "failed"}


def test_seed_data__same_seed_same_bytes_other_seed_other_data():
    def snapshot(seed):
        client = create_app({"seed": seed}).test_client()
        client.post("/__mock/clock", json={"freeze": "2026-06-01T00:00:00Z"})
        create(client, valid(), bearer(INSIGNER_KEY))
        create(client, valid(), bearer(insigner_key("det")))
        return [client.get(f"/__mock/state/insigner/{c}").get_data() for c in COLLECTIONS]

    assert snapshot(7) == snapshot(7)
    assert snapshot(7)[3] != snapshot(8)[3]


def test_reset__drops_new_organizations_and_data(client, insigner_auth):
    create(client, valid(), bearer(insigner_key("gone")))
    client.delete("/api/v1/bulk-sends/bs_abc123", headers=insigner_auth)
    client.post("/__mock/reset")
    assert list(client.get("/__mock/state").get_json()["apis"]["insigner"]) == ["org_abc123"]
    assert client.get("/api/v1/bulk-sends/bs_abc123", headers=insigner_auth).status_code == 200


def test_state__survives_a_restart_with_the_file_store(tmp_path):
    settings = {"store": "tinydb", "db": str(tmp_path / "mock.json")}
    app = create_app(settings)
    created = create(app.test_client(), valid(), bearer(INSIGNER_KEY)).get_json()["data"]["id"]
    app.extensions["mockserver"].close()
    restarted = create_app(settings)
    again = restarted.test_client()
    try:
        assert again.get(f"/api/v1/bulk-sends/{created}", headers=bearer(INSIGNER_KEY)).status_code == 200
        assert again.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY)).status_code == 200
    finally:
        restarted.extensions["mockserver"].close()


# -- entities added through the control plane -------------------------------------------------------------------
def test_add_template__defaults_and_use(client, insigner_auth, freeze):
    freeze("2026-06-01T00:00:00Z")
    response = client.post("/__mock/state/insigner/templates", json={"name": "Offer Letter"})
    assert response.status_code == 201
    template = response.get_json()
    assert template == {
        "id": template["id"],
        "name": "Offer Letter",
        "description": None,
        "category": None,
        "fileSize": 0,
        "usageCount": 0,
        "isPublic": False,
        "createdAt": "2026-06-01T00:00:00.000Z",
        "updatedAt": "2026-06-01T00:00:00.000Z",
        "_count": {"fields": 1, "signers": 1},
    }
    assert template["id"].startswith("tpl_")
    assert create(client, valid(templateId=template["id"]), insigner_auth).status_code == 201
    stored = next(t for t in items(client, "templates") if t["id"] == template["id"])
    assert stored["usageCount"] == 2


def test_add_bulk_send__shows_in_the_api(client, insigner_auth):
    body = {
        "id": "bs_mine",
        "name": "b",
        "templateId": "tpl_abc123",
        "status": "failed",
        "totalCount": 1,
        "sentCount": 0,
        "failedCount": 1,
        "createdAt": "2030-01-01T00:00:00Z",
    }
    assert client.post("/__mock/state/insigner/bulkSends", json=body).status_code == 201
    data = client.get("/api/v1/bulk-sends/bs_mine", headers=insigner_auth).get_json()["data"]
    assert data["createdAt"] == data["updatedAt"] == "2030-01-01T00:00:00.000Z" and data["emailMessage"] is None
    first = client.get("/api/v1/bulk-sends?limit=1", headers=insigner_auth).get_json()["data"][0]
    assert first["id"] == "bs_mine"


def test_add_document__defaults(client):
    response = client.post("/__mock/state/insigner/documents", json={"name": "Loose document"})
    assert response.status_code == 201
    document = response.get_json()
    assert document["id"].startswith("cm") and len(document["id"]) == 25
    assert (document["status"], document["bulkSendId"], document["deleted"]) == ("pending", None, False)


@pytest.mark.parametrize(
    "collection, body, field",
    [
        pytest.param("templates", {}, "name", id="template-name-missing"),
        pytest.param("templates", {"name": "x", "usageCount": -1}, "usageCount", id="template-negative-usage"),
        pytest.param("templates", {"name": "x", "createdAt": "yesterday"}, "createdAt", id="template-bad-date"),
        pytest.param("bulkSends", {"name": "x"}, "templateId", id="bulk-send-template-missing"),
        pytest.param(
            "bulkSends", {"name": "x", "templateId": "tpl_nope"}, "templateId", id="bulk-send-unknown-template"
        ),
        pytest.param(
            "bulkSends",
            {"name": "x", "templateId": "tpl_abc123", "status": "done"},
            "status",
            id="bulk-send-bad-status",
        ),
        pytest.param(
            "bulkSends",
            {"name": "x", "templateId": "tpl_abc123", "totalCount": 1, "sentCount": 2},
            "totalCount",
            id="bulk-send-counts",
        ),
        pytest.param("documents", {"name": "x", "status": "sent"}, "status", id="document-bad-status"),
        pytest.param(
            "documents", {"name": "x", "bulkSendId": "bs_nope"}, "bulkSendId", id="document-unknown-bulk-send"
        ),
        pytest.param(
            "documents", {"name": "x", "templateId": "tpl_nope"}, "templateId", id="document-unknown-template"
        ),
        pytest.param("organizations", {"name": "Other"}, "organizations", id="second-organization"),
        pytest.param("templates", {"name": "\ud800"}, "body", id="lone-surrogate"),
    ],
)
def test_add_entity__invalid_is_400(memory_client, collection, body, field):
    client = memory_client
    response = client.post(f"/__mock/state/insigner/{collection}", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(field + ":")


def test_add_entity__duplicate_id_is_409(client):
    response = client.post(
        "/__mock/state/insigner/bulkSends", json={"id": "bs_abc123", "name": "x", "templateId": "tpl_abc123"}
    )
    assert response.status_code == 409


def test_reset_with_seed__reseeds_the_organizations(client):
    client.post("/__mock/reset", json={"seed": 7})
    fresh = create_app({"seed": 7}).test_client()
    assert (
        client.get("/__mock/state/insigner/bulkSends").get_data()
        == fresh.get("/__mock/state/insigner/bulkSends").get_data()
    )
