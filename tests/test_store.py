"""The store: concurrent writers, atomic file writes, reopening, damaged files."""

from __future__ import annotations

import threading

import pytest
from helpers import basic

from mockserver.app import create_app
from mockserver.store import Store, StoreError


def test_concurrent_writers__lose_nothing_and_duplicate_no_id(app):
    client_auth = basic("collect_test_key")
    barrier = threading.Barrier(16)
    results: list[dict] = []
    failures: list[str] = []

    def worker(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        for i in range(5):
            body = {
                "campaignId": "xvr69EYLKXvTkfYuk",
                "contacts": ["WmTjsFknzHdmfs3Ra", {"email": f"w{n}-{i}@example.com"}],
            }
            response = client.post("/v1/requests", json=body, headers=client_auth)
            if response.status_code != 200:
                failures.append(response.get_data(as_text=True))
            else:
                results.append(response.get_json())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    request_ids = [r["_id"] for result in results for r in result["requests"]]
    assert len(request_ids) == 160 == len(set(request_ids))
    client = app.test_client()
    stored = client.get("/__mock/state/collect/requests").get_json()["items"]
    assert sorted(r["_id"] for r in stored) == sorted(request_ids)
    contacts = client.get("/__mock/state/collect/contacts").get_json()["items"]
    john = next(c for c in contacts if c["_id"] == "WmTjsFknzHdmfs3Ra")
    assert john["nbRequest"] == 4 + 80
    assert len({c["_id"] for c in contacts}) == len(contacts)


def test_file_store__reopened_after_clean_stop_keeps_everything(tmp_path):
    db = tmp_path / "state.json"
    app = create_app({"store": "tinydb", "db": str(db)})
    client = app.test_client()
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "kept@example.com"}]}
    created = client.post("/v1/requests", json=body, headers=basic("collect_test_key")).get_json()
    client.post("/v1/requests", json=body, headers=basic("another-teams-key"))
    app.extensions["mockserver"].close()

    reopened = create_app({"store": "tinydb", "db": str(db)}).test_client()
    requests = reopened.get("/__mock/state/collect/requests?tenant=collect_test_key").get_json()["items"]
    assert [r["_id"] for r in requests] == [created["requests"][0]["_id"]]
    again = reopened.post("/v1/requests", json=body, headers=basic("collect_test_key")).get_json()
    assert again["requests"][0]["contact"]["nbRequest"] == 2
    assert again["requests"][0]["_id"] != created["requests"][0]["_id"]
    other = reopened.get("/__mock/state/collect/requests?tenant=another-teams-key").get_json()["items"]
    assert len(other) == 1
    reopened.application.extensions["mockserver"].close()


def test_file_store__every_acknowledged_write_is_on_disk(tmp_path):
    db = tmp_path / "state.json"
    app = create_app({"store": "tinydb", "db": str(db)})
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "disk@example.com"}]}
    response = app.test_client().post("/v1/requests", json=body, headers=basic("collect_test_key"))
    request_id = response.get_json()["requests"][0]["_id"]
    # No clean stop: what a second process would find on disk right after the answer.
    crashed = create_app({"store": "tinydb", "db": str(db)})
    stored = crashed.test_client().get("/__mock/state/collect/requests?tenant=collect_test_key").get_json()
    assert [r["_id"] for r in stored["items"]] == [request_id]
    app.extensions["mockserver"].close()
    crashed.extensions["mockserver"].close()


def test_file_store__clean_stop_folds_the_journal_into_the_file(tmp_path):
    db = tmp_path / "state.json"
    app = create_app({"store": "tinydb", "db": str(db)})
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "folded@example.com"}]}
    app.test_client().post("/v1/requests", json=body, headers=basic("collect_test_key"))
    assert (tmp_path / "state.json.wal").exists()
    app.extensions["mockserver"].close()
    assert not (tmp_path / "state.json.wal").exists()
    assert "folded@example.com" in db.read_text()


def test_file_store__journal_is_folded_when_it_grows(tmp_path, monkeypatch):
    from mockserver.store import tinystore

    monkeypatch.setattr(tinystore, "WAL_COMPACT_BYTES", 0)
    monkeypatch.setattr(tinystore, "WAL_FILE_RATIO", 0)
    db = tmp_path / "state.json"
    app = create_app({"store": "tinydb", "db": str(db)})
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "grown@example.com"}]}
    app.test_client().post("/v1/requests", json=body, headers=basic("collect_test_key"))
    assert "grown@example.com" in db.read_text()
    app.extensions["mockserver"].close()


def test_file_store__torn_last_journal_line_is_ignored(tmp_path):
    db = tmp_path / "state.json"
    app = create_app({"store": "tinydb", "db": str(db)})
    body = {"campaignId": "xvr69EYLKXvTkfYuk", "contacts": [{"email": "whole@example.com"}]}
    app.test_client().post("/v1/requests", json=body, headers=basic("collect_test_key"))
    app.extensions["mockserver"].store._file._wal.close()  # a crash: no clean stop
    with open(tmp_path / "state.json.wal", "ab") as wal:
        wal.write(b'{"set": [["collect/x/contacts", 99, {"_id": "half')
    reopened = create_app({"store": "tinydb", "db": str(db)})
    contacts = reopened.test_client().get("/__mock/state/collect/contacts").get_json()["items"]
    assert "whole@example.com" in [c["email"] for c in contacts]
    reopened.extensions["mockserver"].close()


def test_file_store__damaged_journal_is_a_clear_error(tmp_path):
    db = tmp_path / "state.json"
    db.write_text("{}")
    (tmp_path / "state.json.wal").write_bytes(b'garbage\n{"set": []}\n')
    with pytest.raises(StoreError, match="damaged at line 1"):
        Store("tinydb", str(db))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{half a file", id="truncated"),
        pytest.param("[1, 2, 3]", id="not-tables"),
        pytest.param("\xff\xfe", id="binary"),
    ],
)
def test_file_store__damaged_file_is_a_clear_error(tmp_path, content):
    db = tmp_path / "state.json"
    db.write_text(content, encoding="latin-1")
    with pytest.raises(StoreError, match=r"state\.json"):
        Store("tinydb", str(db))


def test_file_store__no_temporary_files_left(tmp_path):
    db = tmp_path / "state.json"
    app = create_app({"store": "tinydb", "db": str(db)})
    app.test_client().post("/__mock/reset")
    app.extensions["mockserver"].close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


@pytest.mark.parametrize("kind", ["memory", "tinydb"])
def test_collection_descending__ordered_pages_from_any_position(tmp_path, kind):
    import random

    store = Store(kind, str(tmp_path / "s.json") if kind == "tinydb" else None)
    docs = [{"id": f"bs_{n:04d}", "createdAt": f"2026-01-01T00:00:{n % 60:02d}.000Z"} for n in range(300)]
    random.Random(3).shuffle(docs)
    with store.transaction():
        coll = store.collection("t", "id", (), ("createdAt", "id"))
        coll.insert_many(docs[:150])
        for doc in docs[150:]:
            coll.insert(doc)
    expected = sorted(docs, key=lambda d: (d["createdAt"], d["id"]), reverse=True)
    assert [d["id"] for d in coll.descending()] == [d["id"] for d in expected]
    cursor = expected[99]
    assert [d["id"] for d in coll.descending(below=cursor)][:5] == [d["id"] for d in expected[100:105]]
    store.close()
    reopened = Store(kind, str(tmp_path / "s.json")) if kind == "tinydb" else None
    if reopened is not None:
        again = reopened.collection("t", "id", (), ("createdAt", "id"))
        assert [d["id"] for d in again.descending()] == [d["id"] for d in expected]
        reopened.close()
