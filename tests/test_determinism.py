"""Same seed, same calls: same IDs and bytes; another seed: other IDs."""

from __future__ import annotations

from helpers import basic

from mockserver.app import create_app

BODY = {
    "campaignId": "xvr69EYLKXvTkfYuk",
    "contacts": [
        "WmTjsFknzHdmfs3Ra",
        {"email": "a@example.com"},
        {"email": "b@example.com"},
        {"email": "c@example.com"},
    ],
}


def run_calls(client) -> list[bytes]:
    client.post("/__mock/clock", json={"freeze": "2024-01-01T00:00:00Z"})
    out = [client.post("/v1/requests", json=BODY, headers=basic("collect_test_key")).get_data()]
    out.append(client.post("/v1/requests", json=BODY, headers=basic("lazy-tenant-key")).get_data())
    out.append(client.get("/__mock/state/collect/contacts").get_data())
    return out


def test_same_seed_same_calls__same_bytes_after_reset(client):
    first = run_calls(client)
    client.post("/__mock/reset")
    assert run_calls(client) == first


def test_same_seed__two_apps_agree():
    assert run_calls(create_app({"seed": 7}).test_client()) == run_calls(create_app({"seed": 7}).test_client())


def test_other_seed__other_ids_and_seed_data():
    a = run_calls(create_app({"seed": 1}).test_client())
    b = run_calls(create_app({"seed": 2}).test_client())
    assert a[2] != b[2]


def test_reset_with_seed__reseeds(client):
    client.post("/__mock/reset", json={"seed": 7})
    seeded = run_calls(client)
    assert client.get("/__mock/health").get_json()["seed"] == 7
    assert run_calls(create_app({"seed": 7}).test_client()) == seeded


def test_seed_data__faker_set_dated_before_the_reference(client):
    contacts = client.get("/__mock/state/collect/contacts").get_json()["items"]
    assert 2 <= len(contacts) <= 21
    assert all(c["createdAt"] <= "2022-07-04T00:00:00Z" for c in contacts)
    campaigns = client.get("/__mock/state/collect/campaigns").get_json()["items"]
    assert all(c["items"] for c in campaigns)
