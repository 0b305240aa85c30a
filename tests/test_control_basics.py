"""/__mock: health, reset, clock, state."""

from __future__ import annotations

import http.client
import json

import pytest
from helpers import basic, insigner_key

from mockserver import __version__
from mockserver.app import create_app
from mockserver.testing.server import ServerThread


def test_health(client, store_kind):
    data = client.get("/__mock/health").get_json()
    assert data["status"] == "ok" and data["version"] == __version__
    assert "collect" in data["apis"]
    assert data["store"] == store_kind and data["seed"] == 42


def test_reset__drops_new_data_and_tenants(client):
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "gone@example.com"}]}
    client.post("/v1/requests", json=body, headers=basic("some-new-key"))
    assert client.post("/__mock/reset").status_code == 200
    tenants = client.get("/__mock/state").get_json()["apis"]["collect"]
    assert list(tenants) == ["uGFRDeEL3Ct2uYo2c"]
    assert tenants["uGFRDeEL3Ct2uYo2c"]["requests"] == 0


def test_reset__is_post_only(client):
    assert client.get("/__mock/reset").status_code == 405


@pytest.mark.parametrize("body", [{"seed": "x"}, {"seed": True}, [1]])
def test_reset__bad_seed(client, body):
    response = client.post("/__mock/reset", json=body)
    assert response.status_code == 400
    assert set(response.get_json()["error"]) == {"code", "message"}


def test_clock__freeze_advance_unfreeze(client):
    frozen = client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"}).get_json()
    # A freeze at a later instant acts as an advance: it says what the deliveries due did.
    assert frozen == {"now": "2030-01-01T00:00:00.000Z", "frozen": True, "deliveries": {"ran": 0, "running": 0}}
    assert client.post("/__mock/clock", json={"advance": 90.5}).get_json()["now"] == "2030-01-01T00:01:30.500Z"
    running = client.post("/__mock/clock", json={"unfreeze": True}).get_json()
    assert running["frozen"] is False and running["now"].startswith("2030-01-01T00:01")
    client.post("/__mock/clock", json={"freeze": True})
    assert client.get("/__mock/clock").get_json()["frozen"] is True


def test_clock__reset_returns_to_startup_mode(client):
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    client.post("/__mock/reset")
    assert client.get("/__mock/clock").get_json()["frozen"] is False


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"freeze": "yesterday"}, id="bad-instant"),
        pytest.param({"advance": "10"}, id="advance-string"),
        pytest.param({"freeze": True, "advance": 1}, id="two-actions"),
        pytest.param({"unfreeze": False}, id="unfreeze-false"),
        pytest.param({"freeze": None}, id="freeze-null"),
        pytest.param({"advance": None}, id="advance-null"),
        pytest.param({"unfreeze": None}, id="unfreeze-null"),
    ],
)
def test_clock__bad_body(client, body):
    response = client.post("/__mock/clock", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid-clock" or body == {}


def test_state__counts_and_collections(client):
    counts = client.get("/__mock/state").get_json()["apis"]["collect"]["uGFRDeEL3Ct2uYo2c"]
    assert counts["campaigns"] >= 1 and counts["teams"] == 1
    for collection in ("teams", "members", "campaigns", "contacts", "requests", "apiKeys"):
        response = client.get(f"/__mock/state/collect/{collection}")
        assert response.status_code == 200
        assert len(response.get_json()["items"]) == counts[collection]


@pytest.mark.parametrize("path", ["/__mock/state/nope/contacts", "/__mock/state/collect/nope"])
def test_state__unknown_api_or_collection(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not-found"


def test_state__add_contact_and_key(client):
    created = client.post("/__mock/state/collect/contacts", json={"email": "new@example.com", "firstName": "N"})
    assert created.status_code == 201
    contact = created.get_json()
    assert len(contact["_id"]) == 17 and contact["nbRequest"] == 0
    key = client.post("/__mock/state/collect/apiKeys", json={"key": "added-key"}).get_json()
    assert key == {"key": "added-key", "revoked": False, "expiresAt": None}
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [contact["_id"]]}
    response = client.post("/v1/requests", json=body, headers=basic("added-key"))
    assert response.get_json()["requests"][0]["contact"]["_id"] == contact["_id"]


def test_state__add_campaign_with_defaults_for_a_tenant(client):
    created = client.post("/__mock/state/collect/campaigns?tenant=my-key", json={"name": "Mine"}).get_json()
    assert created["dueDays"] == 7 and created["status"] == "open"
    body = {"campaignId": created["_id"], "contacts": ["WmTjsFknzHdmfs3Ra"]}
    assert client.post("/v1/requests", json=body, headers=basic("my-key")).status_code == 200
    assert client.post("/v1/requests", json=body, headers=basic("collect_test_key")).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        pytest.param({"firstName": "x"}, "email", id="contact-without-email"),
        pytest.param({"email": "bad"}, "email", id="contact-bad-email"),
    ],
)
def test_state__add_invalid_entity(client, body, field):
    response = client.post("/__mock/state/collect/contacts", json=body)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["message"]


def test_unknown_control_path__control_envelope(client):
    response = client.get("/__mock/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not-found"


def test_access_log__one_line_per_request_without_keys(client, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="mockserver.access")
    client.get("/__mock/state/collect/contacts?tenant=secret-key-123456")
    client.post("/v1/requests", json={}, headers=basic("another-secret-key"))
    lines = [r.getMessage() for r in caplog.records if r.name == "mockserver.access"]
    assert len(lines) == 2
    assert '"POST /v1/requests" 400' in lines[1]
    assert "secret-key-123456" not in "\n".join(lines) and "another-secret-key" not in "\n".join(lines)


def test_reset__a_seed_holds_for_that_reset_only(client):
    fresh = client.get("/__mock/state/insigner/templates").get_json()["items"]
    reseeded = client.post("/__mock/reset", json={"seed": 7}).get_json()
    assert reseeded["seed"] == 7 and client.get("/__mock/health").get_json()["seed"] == 7
    assert client.get("/__mock/state/insigner/templates").get_json()["items"] != fresh
    plain = client.post("/__mock/reset").get_json()
    assert plain["seed"] == 42 and client.get("/__mock/health").get_json()["seed"] == 42
    assert client.get("/__mock/state/insigner/templates").get_json()["items"] == fresh


def tenants_of(client) -> dict[str, list[str]]:
    return {api: list(tenants) for api, tenants in client.get("/__mock/state").get_json()["apis"].items()}


@pytest.mark.parametrize(
    "api, collection, tenant, known_id",
    [
        pytest.param("collect", "contacts", "uGFRDeEL3Ct2uYo2c", "WmTjsFknzHdmfs3Ra", id="collect-team"),
        pytest.param("insigner", "bulkSends", "org_abc123", "bs_abc123", id="insigner-organization"),
    ],
)
def test_state__tenant_given_as_a_tenant_id(client, api, collection, tenant, known_id):
    before = tenants_of(client)
    answer = client.get(f"/__mock/state/{api}/{collection}", query_string={"tenant": tenant})
    assert answer.status_code == 200, answer.get_json()
    assert known_id in {item.get("_id") or item.get("id") for item in answer.get_json()["items"]}
    overview = client.get("/__mock/state", query_string={"tenant": tenant}).get_json()["apis"]
    assert list(overview[api]) == [tenant] and overview[api][tenant][collection] >= 1
    added = client.post(
        f"/__mock/state/{api}/templates" if api == "insigner" else f"/__mock/state/{api}/members",
        query_string={"tenant": tenant},
        json={"name": "By id"} if api == "insigner" else {"email": "by-id@example.com"},
    )
    assert added.status_code == 201, added.get_json()
    assert tenants_of(client) == before  # a tenant id is never read as a new key


def test_state__an_unseen_key_gets_its_tenant_first_where_its_format_fits(client):
    overview = client.get("/__mock/state", query_string={"tenant": "brand-new-collect-key"}).get_json()["apis"]
    ((_, counts),) = overview["collect"].items()
    assert counts["contacts"] >= 2 and counts["campaigns"] >= 1  # counted once the fresh copy exists
    assert overview["insigner"] == {}  # not an isk_ key: no organization is made for it
    assert tenants_of(client)["insigner"] == ["org_abc123"]
    key = insigner_key("stateoverview")
    both = client.get("/__mock/state", query_string={"tenant": key}).get_json()["apis"]
    assert len(both["collect"]) == 1 and next(iter(both["collect"].values()))["contacts"] >= 2
    assert len(both["insigner"]) == 1 and next(iter(both["insigner"].values()))["bulkSends"] >= 1
    items = client.get("/__mock/state/insigner/templates", query_string={"tenant": insigner_key("statelist")})
    assert any(item["id"] == "tpl_abc123" for item in items.get_json()["items"])


def test_control_calls__other_than_state_create_no_tenant(client):
    before = tenants_of(client)
    key = insigner_key("neverused")
    assert client.get("/__mock/requests", query_string={"tenant": key}).status_code == 200
    assert client.post("/__mock/faults", json={"status": 503, "tenant": key}).status_code == 201
    assert client.get("/__mock/faults").status_code == 200
    assert tenants_of(client) == before


def _chunked_reset(port: int, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("POST", "/__mock/reset")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    return response.status, answer


def test_reset__a_chunked_body_is_read_though_it_has_no_length():
    # A body with no Content-Length is not an empty one: its seed still reseeds, its bad seed is refused.
    with ServerThread(create_app({"seed": 42})) as server:
        status, answer = _chunked_reset(server.port, b'{"seed": 7}')
        assert (status, answer["seed"]) == (200, 7)
        status, answer = _chunked_reset(server.port, b'{"seed": "x"}')
        assert (status, answer["error"]["code"]) == (400, "invalid-reset")
        status, answer = _chunked_reset(server.port, b"{}")
        assert (status, answer["seed"]) == (200, 42)


@pytest.mark.parametrize("body", [None, b"", b"{}", b"  "])
def test_reset__with_no_seed_returns_to_the_start_up_seed(body):
    client = create_app({"seed": 42}).test_client()
    assert client.post("/__mock/reset", json={"seed": 9}).get_json()["seed"] == 9
    answer = client.post("/__mock/reset", data=body, content_type="application/json")
    assert (answer.status_code, answer.get_json()["seed"]) == (200, 42)
