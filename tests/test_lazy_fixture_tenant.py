"""The fixture tenant after a reset: its data is stored on first use, and nothing shows the difference."""

from __future__ import annotations

import threading

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer

from mockserver.app import create_app
from mockserver.state import mock_state


def fixture_tables(app, api: str) -> list[str]:
    state = mock_state(app)
    tenant = state.tenants[api].fixture_tenant
    return [name for name in state.store.db.tables() if name.startswith(f"{api}/{tenant.id}/")]


@pytest.fixture
def app():
    application = create_app({"store": "memory", "seed": 42})
    yield application
    mock_state(application).close()


def test_reset__memory_store_holds_no_fixture_data_until_a_key_of_it_is_used(app):
    client = app.test_client()
    assert client.post("/__mock/reset").status_code == 200
    assert fixture_tables(app, "insigner") == [] and fixture_tables(app, "collect") == []

    answer = client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY))

    assert answer.status_code == 200 and answer.get_json()["data"]["id"] == "bs_abc123"
    assert fixture_tables(app, "insigner") != [] and fixture_tables(app, "collect") == []


def test_reset__summary_counts_are_those_of_the_stored_data(app):
    client = app.test_client()
    pending = client.post("/__mock/reset").get_json()["state"]
    assert client.get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY)).status_code == 200
    assert client.post("/v1/requests", headers=basic(COLLECT_KEY), json={}).status_code == 400
    assert fixture_tables(app, "insigner") != [] and fixture_tables(app, "collect") != []

    assert client.get("/__mock/state").get_json()["apis"] == pending


def test_reset__a_pending_tenant_used_by_many_threads_at_once_is_stored_once(app):
    client = app.test_client()
    client.post("/__mock/reset")
    answers: list[int] = []
    barrier = threading.Barrier(8)

    def first_use() -> None:
        barrier.wait()
        answers.append(app.test_client().get("/api/v1/bulk-sends", headers=bearer(INSIGNER_KEY)).status_code)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200] * 8
    tenants = mock_state(app).tenants["insigner"]
    assert len(tenants.fixture_tenant.collection("bulkSends")) == tenants.snapshot.sizes()["bulkSends"] == 21


def test_reset__a_request_holding_the_old_tenant_never_stores_its_data(app):
    state = mock_state(app)
    old = state.tenants["insigner"].fixture_tenant
    app.test_client().post("/__mock/reset")
    new = state.tenants["insigner"].fixture_tenant

    assert old.dropped and old.unfilled == set() and old.fill is None and new is not old
    new.collection("bulkSends")
    assert len(new.collection("bulkSends")) == state.tenants["insigner"].snapshot.sizes()["bulkSends"] == 21


def test_file_store__reopened_after_a_reset_holds_the_fixture_and_the_key_made_tenants(tmp_path):
    settings = {"store": "tinydb", "db": str(tmp_path / "mock.json"), "seed": 42}
    first = create_app(settings)
    client = first.test_client()
    client.post("/__mock/reset")
    assert client.get("/api/v1/bulk-sends", headers=bearer("isk_" + "Z" * 44)).status_code == 200
    mock_state(first).close()

    again = create_app(settings).test_client()

    assert again.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(INSIGNER_KEY)).status_code == 200
    assert again.get("/api/v1/bulk-sends/bs_abc123", headers=bearer("isk_" + "Z" * 44)).status_code == 200
    counts = again.get("/__mock/state").get_json()["apis"]["insigner"]
    assert all(tenant["bulkSends"] == 21 for tenant in counts.values()) and len(counts) == 2


def test_new_tenant__stores_only_the_collections_its_calls_touch_and_counts_all(app):
    client = app.test_client()
    key = "isk_" + "Q" * 44
    assert client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(key)).status_code == 200
    state = mock_state(app)
    tenant = state.tenants["insigner"].for_key(key, create=False)
    stored = {name.rsplit("/", 1)[1] for name in state.store.db.tables() if name.startswith(f"insigner/{tenant.id}/")}

    assert {"apiKeys", "bulkSends"} <= stored and "templates" not in stored
    counts = client.get("/__mock/state").get_json()["apis"]["insigner"][tenant.id]
    assert counts["templates"] == 21 and counts["bulkSends"] == 21

    templates = client.get(f"/__mock/state/insigner/templates?tenant={key}").get_json()["items"]
    assert len(templates) == 21
