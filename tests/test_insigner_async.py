"""The optional asynchronous mode: a new bulk send is `processing` for N seconds of the mock's clock."""

from __future__ import annotations

import pytest
from helpers import INSIGNER_KEY
from test_insigner_create import create, items, signer, valid

ASYNC_SECONDS = 30


@pytest.fixture
def settings(store_kind: str, tmp_path) -> dict:
    values = {"store": store_kind, "seed": 42, "insigner_async_seconds": ASYNC_SECONDS}
    if store_kind == "tinydb":
        values["db"] = str(tmp_path / "mock.json")
    return values


def status_of(client, bulk_send_id, auth):
    return client.get(f"/api/v1/bulk-sends/{bulk_send_id}", headers=auth).get_json()["data"]


def test_create_bulk_send__async_processing_then_completed(client, insigner_auth, freeze):
    freeze("2026-06-01T12:00:00.000Z")
    body = valid(signers=[signer(), signer(email="x@y.invalid")])
    created = create(client, body, insigner_auth).get_json()["data"]
    assert (created["status"], created["totalCount"], created["sentCount"], created["failedCount"]) == (
        "processing",
        2,
        0,
        0,
    )
    client.post("/__mock/clock", json={"advance": ASYNC_SECONDS - 0.001})
    assert status_of(client, created["id"], insigner_auth)["status"] == "processing"
    processing = client.get("/api/v1/bulk-sends?status=processing", headers=insigner_auth).get_json()["data"]
    assert created["id"] in [b["id"] for b in processing]
    client.post("/__mock/clock", json={"advance": 0.001})
    done = status_of(client, created["id"], insigner_auth)
    assert (done["status"], done["sentCount"], done["failedCount"]) == ("completed", 1, 1)
    assert done["updatedAt"] == "2026-06-01T12:00:30.000Z" and done["createdAt"] == created["createdAt"]


def test_list_bulk_sends__async_completion_seen_by_the_filter(client, insigner_auth):
    client.post("/__mock/clock", json={"freeze": True})
    created = create(client, valid(), insigner_auth).get_json()["data"]["id"]
    client.post("/__mock/clock", json={"advance": ASYNC_SECONDS})
    processing = client.get("/api/v1/bulk-sends?status=processing&limit=100", headers=insigner_auth).get_json()
    assert created not in [b["id"] for b in processing["data"]]
    completed = client.get("/api/v1/bulk-sends?status=completed&limit=1", headers=insigner_auth).get_json()
    assert completed["data"][0]["id"] == created
    # The transition is stored once seen.
    stored = next(b for b in items(client, "bulkSends", tenant=INSIGNER_KEY) if b["id"] == created)
    assert stored["status"] == "completed" and stored["sentCount"] == 2


def test_create_bulk_send__async_all_failed(client, insigner_auth):
    client.post("/__mock/clock", json={"freeze": True})
    created = create(client, valid(signers=[signer(email="a@b.invalid")]), insigner_auth).get_json()["data"]
    client.post("/__mock/clock", json={"advance": ASYNC_SECONDS})
    assert status_of(client, created["id"], insigner_auth)["status"] == "failed"


def test_delete_bulk_send__processing_is_409_until_done(client, insigner_auth):
    client.post("/__mock/clock", json={"freeze": True})
    created = create(client, valid(), insigner_auth).get_json()["data"]["id"]
    response = client.delete(f"/api/v1/bulk-sends/{created}", headers=insigner_auth)
    assert response.status_code == 409
    assert response.get_json()["title"] == "Conflict"
    client.post("/__mock/clock", json={"advance": ASYNC_SECONDS})
    assert client.delete(f"/api/v1/bulk-sends/{created}", headers=insigner_auth).status_code == 204


def test_add_bulk_send__processing_with_completes_at(client, insigner_auth, freeze):
    freeze("2026-06-01T00:00:00Z")
    added = client.post(
        "/__mock/state/insigner/bulkSends",
        json={
            "name": "Queued",
            "templateId": "tpl_abc123",
            "status": "processing",
            "totalCount": 5,
            "completesAt": "2026-06-01T00:00:10Z",
        },
    ).get_json()
    assert status_of(client, added["id"], insigner_auth)["status"] == "processing"
    client.post("/__mock/clock", json={"advance": 10})
    done = status_of(client, added["id"], insigner_auth)
    assert (done["status"], done["sentCount"], done["updatedAt"]) == ("completed", 5, "2026-06-01T00:00:10.000Z")


def test_processing__one_rule_for_seeded_and_asynchronous_bulk_sends(client, insigner_auth):
    # A bulk send that is still processing has sent nothing yet, whoever made it.
    seeded = client.get("/api/v1/bulk-sends?status=processing&limit=100", headers=insigner_auth).get_json()["data"]
    assert seeded, "the seed data has processing bulk sends"
    assert all((b["sentCount"], b["failedCount"]) == (0, 0) for b in seeded), seeded
