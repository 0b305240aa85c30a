"""GET and DELETE /api/v1/bulk-sends/{id}: the vendor's example, 404s, soft delete, 409."""

from __future__ import annotations

import pytest
from helpers import INSIGNER_KEY, basic, bearer, insigner_key
from test_insigner_create import TYPES, compact, create, items, valid, vendor_example


def get(client, bulk_send_id, auth):
    return client.get(f"/api/v1/bulk-sends/{bulk_send_id}", headers=auth)


def delete(client, bulk_send_id, auth):
    return client.delete(f"/api/v1/bulk-sends/{bulk_send_id}", headers=auth)


def test_get_bulk_send__vendor_example(client, insigner_auth):
    response = get(client, "bs_abc123", insigner_auth)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data() == compact(vendor_example("get_response"))


def test_get_bulk_send__created_one_with_documented_fields(client, insigner_auth, freeze):
    freeze("2026-06-01T08:30:00.250Z")
    created = create(client, valid(), insigner_auth).get_json()["data"]
    data = get(client, created["id"], insigner_auth).get_json()["data"]
    assert list(data) == [
        "id",
        "name",
        "status",
        "totalCount",
        "sentCount",
        "failedCount",
        "emailMessage",
        "templateId",
        "createdAt",
        "updatedAt",
    ]
    assert data["emailMessage"] is None
    assert data["createdAt"] == data["updatedAt"] == "2026-06-01T08:30:00.250Z"
    assert {k: v for k, v in data.items() if k in created} == created


@pytest.mark.parametrize("bulk_send_id", ["bs_nope", "BS_ABC123", "x" * 300])
def test_get_bulk_send__unknown_is_404(client, insigner_auth, bulk_send_id):
    response = get(client, bulk_send_id, insigner_auth)
    assert response.status_code == 404
    assert response.get_json() == {
        "type": TYPES + "not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "Bulk send not found",
    }


def test_get_bulk_send__another_organizations_is_404(client, insigner_auth):
    theirs = create(client, valid(), bearer(insigner_key("org-b"))).get_json()["data"]["id"]
    assert get(client, theirs, bearer(insigner_key("org-b"))).status_code == 200
    assert get(client, theirs, insigner_auth).status_code == 404
    assert delete(client, theirs, insigner_auth).status_code == 404


def test_delete_bulk_send__soft_deletes_it_and_its_documents(client, insigner_auth, freeze):
    freeze("2026-06-01T08:30:00.000Z")
    keep = create(client, valid(), bearer(insigner_key("org-b"))).get_json()["data"]["id"]
    gone = create(client, valid(), insigner_auth).get_json()["data"]["id"]
    client.post("/__mock/clock", json={"advance": 60})
    response = delete(client, gone, insigner_auth)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert get(client, gone, insigner_auth).status_code == 404
    assert delete(client, gone, insigner_auth).status_code == 404
    listed = client.get("/api/v1/bulk-sends?limit=100", headers=insigner_auth).get_json()["data"]
    assert gone not in [b["id"] for b in listed]
    stored = next(b for b in items(client, "bulkSends", tenant=INSIGNER_KEY) if b["id"] == gone)
    assert stored["deleted"] is True and stored["deletedAt"] == "2026-06-01T08:31:00.000Z"
    documents = [d for d in items(client, "documents", tenant=INSIGNER_KEY) if d["bulkSendId"] == gone]
    assert len(documents) == 2 and all(d["deleted"] and d["deletedAt"] == stored["deletedAt"] for d in documents)
    others = items(client, "documents", tenant=insigner_key("org-b"))
    assert {d["bulkSendId"] for d in others} == {keep} and not any(d["deleted"] for d in others)


def test_delete_bulk_send__seeded_one(client, insigner_auth):
    assert delete(client, "bs_abc123", insigner_auth).status_code == 204
    assert get(client, "bs_abc123", insigner_auth).status_code == 404
    # Another organization's copy of the seed data is untouched.
    assert get(client, "bs_abc123", bearer(insigner_key("org-b"))).status_code == 200


def test_delete_bulk_send__processing_is_409(client, insigner_auth):
    processing = client.get("/api/v1/bulk-sends?status=processing", headers=insigner_auth).get_json()["data"]
    assert processing, "the seed data has a processing bulk send"
    response = delete(client, processing[0]["id"], insigner_auth)
    assert response.status_code == 409
    assert response.get_json() == {
        "type": TYPES + "conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "Bulk send is still processing and cannot be deleted",
    }
    assert get(client, processing[0]["id"], insigner_auth).status_code == 200


def test_delete_bulk_send__documents_added_through_the_control_plane_too(client, insigner_auth):
    added = client.post("/__mock/state/insigner/documents", json={"name": "Extra", "bulkSendId": "bs_abc123"})
    assert added.status_code == 201
    client.delete("/api/v1/bulk-sends/bs_abc123", headers=insigner_auth)
    stored = next(d for d in items(client, "documents", tenant=INSIGNER_KEY) if d["id"] == added.get_json()["id"])
    assert stored["deleted"] is True


def test_delete_bulk_send__survives_a_restart_of_the_file_store(tmp_path):
    from mockserver.app import create_app

    settings = {"store": "tinydb", "db": str(tmp_path / "mock.json")}
    app = create_app(settings)
    client = app.test_client()
    created = create(client, valid(), bearer(INSIGNER_KEY)).get_json()["data"]["id"]
    assert delete(client, created, bearer(INSIGNER_KEY)).status_code == 204
    app.extensions["mockserver"].close()
    restarted = create_app(settings)
    again = restarted.test_client()
    try:
        assert get(again, created, bearer(INSIGNER_KEY)).status_code == 404
        documents = [d for d in items(again, "documents", tenant=INSIGNER_KEY) if d["bulkSendId"] == created]
    finally:
        restarted.extensions["mockserver"].close()
    assert len(documents) == 2 and all(d["deleted"] for d in documents)


def test_delete_bulk_send__204_has_no_content_type(client, insigner_auth):
    response = client.delete("/api/v1/bulk-sends/bs_abc123", headers=insigner_auth)
    assert response.status_code == 204 and response.get_data() == b""
    assert "Content-Type" not in response.headers
    control = client.delete("/__mock/faults")
    assert control.status_code == 204 and "Content-Type" not in control.headers


@pytest.mark.parametrize(
    "path, auth, allow",
    [
        pytest.param("/v1/requests", "collect", {"POST"}, id="collect"),
        pytest.param("/api/v1/bulk-sends", "insigner", {"GET", "POST"}, id="insigner-list"),
        pytest.param("/api/v1/bulk-sends/bs_abc123", "insigner", {"GET", "DELETE"}, id="insigner-one"),
    ],
)
def test_options__204_with_allow(client, insigner_auth, path, auth, allow):
    headers = basic("collect_test_key") if auth == "collect" else insigner_auth
    response = client.options(path, headers=headers)
    assert response.status_code == 204 and response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert allow <= {method.strip() for method in response.headers["Allow"].split(",")}


@pytest.mark.parametrize("path", ["/api/v2/bulk-sends", "/api/nowhere", "/api"])
def test_unrouted_path_under_insigners_prefix__insigners_404(client, insigner_auth, path):
    response = client.get(path, headers=insigner_auth)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith("/not-found")
    assert response.headers["X-Request-Id"].startswith("req_")
