"""Snapshots: GET/PUT /__mock/snapshot replay a server byte for byte; damaged documents change nothing."""

from __future__ import annotations

import json
import os

import pytest
from helpers import (
    BULK_SEND_EXAMPLE,
    COLLECT_KEY,
    INSIGNER_KEY,
    SEND_EXAMPLE,
    assert_control_error,
    basic,
    bearer,
    fuzz_examples,
    insigner_key,
    run_serve,
    start_serve,
    web,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import create_app
from mockserver.client import MockServerClient

SMALL = {"store": "memory", "seed": 42, "seed_count": 2}
KEYS = [INSIGNER_KEY, insigner_key("snapshot-a"), insigner_key("snapshot-b")]
COLLECT_KEYS = [COLLECT_KEY, "collect-snapshot-a"]


def new_app(**overrides):
    return create_app({**SMALL, **overrides})


def answer(response) -> tuple:
    """What a client sees: status, headers but Date, body bytes."""
    headers = sorted((name, value) for name, value in response.headers.items() if name != "Date")
    return response.status_code, headers, response.get_data()


# -- the operations the property test draws from --------------------------------------------------------
def create(client, n):
    body = {**BULK_SEND_EXAMPLE, "name": f"Run {n}", "signers": [{"name": "A", "email": f"a{n}@example.com"}]}
    return client.post("/api/v1/bulk-sends", json=body, headers=bearer(KEYS[n % len(KEYS)]))


def list_sends(client, n):
    return client.get(f"/api/v1/bulk-sends?limit={n % 5 + 1}", headers=bearer(KEYS[n % len(KEYS)]))


def get_send(client, n):
    return client.get("/api/v1/bulk-sends/bs_abc123", headers=bearer(KEYS[n % len(KEYS)]))


def delete_newest(client, n):
    listed = client.get("/api/v1/bulk-sends?limit=1", headers=bearer(KEYS[n % len(KEYS)])).json
    target = listed["data"][0]["id"] if listed.get("data") else "bs_missing"
    return client.delete(f"/api/v1/bulk-sends/{target}", headers=bearer(KEYS[n % len(KEYS)]))


def send_collect(client, n):
    body = {**SEND_EXAMPLE, "contacts": ["WmTjsFknzHdmfs3Ra", {"email": f"c{n}@example.com", "firstName": "C"}]}
    return client.post("/v1/requests", json=body, headers=basic(COLLECT_KEYS[n % len(COLLECT_KEYS)]))


def prefer_error(client, n):
    return client.get("/api/v1/bulk-sends", headers={**bearer(KEYS[0]), "Prefer": f"code={500 + n % 4}"})


def add_fault(client, n):
    rule = {"api": ["collect", "insigner"][n % 2], "status": 502 + n % 2, "probability": 0.5, "times": 3}
    return client.post("/__mock/faults", json=rule)


def advance(client, n):
    return client.post("/__mock/clock", json={"advance": 20 + n})


def limits_on(client, n):
    return client.put("/__mock/rate-limits", json={"collect": {"enabled": True, "requestsPerMinute": 2 + n % 3}})


OPERATIONS = [create, list_sends, get_send, delete_newest, send_collect, prefer_error, add_fault, advance, limits_on]
steps = st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 7)), min_size=1, max_size=12)


def replay(client, sequence) -> list[tuple]:
    return [answer(operation(client, n)) for operation, n in sequence]


@settings(
    max_examples=fuzz_examples(15),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(before=steps, after=steps, frozen=st.booleans())
def test_snapshot_restore__the_same_requests_get_the_same_answers(before, after, frozen):
    origin = new_app()
    client = origin.test_client()
    if frozen:
        client.post("/__mock/clock", json={"freeze": "2030-01-01T09:00:00Z"})
    replay(client, before)
    document = client.get("/__mock/snapshot").json
    json.dumps(document)  # a plain JSON document
    expected = replay(client, after)
    if not frozen:
        # A running clock runs on from the snapshot's instant: answers that print the time differ.
        return
    copy = new_app(seed=7, seed_count=3)  # another seed and size: the snapshot's options win
    restored = copy.test_client()
    assert restored.put("/__mock/snapshot", json=document).status_code == 200
    assert replay(restored, after) == expected
    for app in (origin, copy):
        app.extensions["mockserver"].close()


def test_snapshot__a_restored_server_takes_the_same_snapshot(tmp_path):
    app = new_app()
    client = app.test_client()
    client.post("/__mock/clock", json={"freeze": "2030-01-01T09:00:00Z"})
    for n in range(3):
        create(client, n)
        send_collect(client, n)
    add_fault(client, 1)
    document = client.get("/__mock/snapshot").json
    for store in ({"store": "memory"}, {"store": "tinydb", "db": str(tmp_path / "db.json")}):
        other = new_app(**store)
        assert other.test_client().put("/__mock/snapshot", json=document).status_code == 200
        assert other.test_client().get("/__mock/snapshot").json == document
        other.extensions["mockserver"].close()


def test_snapshot__holds_what_shapes_later_answers():
    client = new_app().test_client()
    create(client, 0)
    document = client.get("/__mock/snapshot").json
    assert document["format"] == "mockserver-snapshot/1"
    assert set(document["options"]) == {"seed", "seedCount", "insignerAsyncSeconds", "strictAuth", "fixtures"}
    assert document["options"]["fixtures"].startswith("sha256:")
    assert {"journalNextId", "journalTruncated", "faultNextId", "faultRandom", "requestIds"} <= set(
        document["counters"]
    )
    org = next(t for t in document["tenants"]["insigner"]["tenants"] if t["id"] == "org_abc123")
    assert set(org) == {"id", "fixture", "ids", "sequences", "collections"} and org["fixture"] is True
    # Stored documents as stored: the key entities keep their keys (the control plane never shows them).
    assert any(doc["key"] == INSIGNER_KEY for doc in org["collections"]["apiKeys"])
    assert document["tenants"]["insigner"]["keys"][INSIGNER_KEY] == "org_abc123"
    assert isinstance(document["journal"], list) and isinstance(document["faults"], list)


def test_snapshot__one_tenant_narrows_and_replaces_only_that_tenant():
    client = new_app().test_client()
    mine, other = KEYS[1], KEYS[2]
    client.post("/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=bearer(mine))
    client.post("/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=bearer(other))
    client.post("/__mock/faults", json={"api": "insigner", "tenant": mine, "status": 503, "times": 1})
    client.post("/__mock/faults", json={"api": "insigner", "status": 500, "times": 1})
    narrow = client.get("/__mock/snapshot", query_string={"tenant": mine}).json
    tenant_id = narrow["scope"]["insigner"]
    assert [t["id"] for t in narrow["tenants"]["insigner"]["tenants"]] == [tenant_id]
    assert narrow["tenants"]["collect"]["tenants"] == []
    assert [rule["status"] for rule in narrow["faults"]] == [503]
    assert {entry["tenant"] for entry in narrow["journal"]} == {tenant_id}
    # Elsewhere, that tenant changes and another one too; the narrow snapshot puts back only its own.
    target = new_app().test_client()
    target.post("/api/v1/bulk-sends", json={**BULK_SEND_EXAMPLE, "name": "Other"}, headers=bearer(other))
    assert target.put("/__mock/snapshot", json=narrow).status_code == 200
    names = lambda key: [s["name"] for s in target.get("/api/v1/bulk-sends", headers=bearer(key)).json["data"]]  # noqa: E731
    assert target.get("/api/v1/bulk-sends", headers=bearer(mine)).status_code == 503  # its rule came along
    assert "Q3 Vendor Agreements" in names(mine)
    assert "Other" in names(other)
    assert [rule["tenant"] for rule in target.get("/__mock/faults").json["faults"]] == [mine]


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda d: d.update(format="mockserver-snapshot/0"), "format"),
        (lambda d: d.pop("clock"), "clock"),
        (lambda d: d["clock"].update(now="yesterday", timestamp=None), "clock.now"),
        (lambda d: d["faults"].append({"id": "flt_9", "status": 200}), "faults.0"),
        (lambda d: d["journal"].insert(0, {"id": "x"}), "journal.0.id"),
        (lambda d: d["tenants"]["insigner"]["tenants"][0]["ids"].update(random=[3, [1, 2], None]), "ids.random"),
        (lambda d: d["tenants"]["insigner"]["tenants"][0]["collections"].update(nope=[]), "collections.nope"),
        (lambda d: d["tenants"].update(stripe={}), "tenants.stripe"),
        (lambda d: d["rateLimits"].update(requests=[["a"]]), "rateLimits.requests.0"),
        (lambda d: d["counters"].update(faultRandom="x"), "counters.faultRandom"),
        (lambda d: d["options"].update(seed="42"), "options.seed"),
    ],
)
def test_snapshot__a_damaged_document_is_a_400_naming_it_and_changes_nothing(damage, named):
    client = new_app().test_client()
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    create(client, 0)
    document = client.get("/__mock/snapshot").json
    client.post("/__mock/faults", json={"api": "collect", "status": 500})
    before = client.get("/__mock/snapshot").json
    damage(document)
    response = client.put("/__mock/snapshot", json=document)
    assert response.status_code == 400
    assert_control_error(response)
    assert response.json["error"]["code"] == "invalid-snapshot"
    assert named in response.json["error"]["message"]
    assert client.get("/__mock/snapshot").json == before


def test_snapshot__other_fixtures_409_and_not_json_or_too_large(tmp_path):
    client = new_app().test_client()
    document = client.get("/__mock/snapshot").json
    document["options"]["fixtures"] = "sha256:0"
    response = client.put("/__mock/snapshot", json=document)
    assert response.status_code == 409 and "fixtures" in response.json["error"]["message"]
    assert client.put("/__mock/snapshot", data="{", content_type="application/json").status_code == 400
    huge = b'{"format": "' + b"x" * (64 * 1024 * 1024) + b'"}'
    assert client.put("/__mock/snapshot", data=huge, content_type="application/json").status_code == 413


def test_snapshot__journal_bodies_nested_to_the_journals_bound_restore():
    client = new_app().test_client()
    deep = "[" * 99 + "]" * 99
    client.post("/v1/requests", data='{"campaignId": ' + deep + "}", headers=basic(COLLECT_KEY))
    document = client.get("/__mock/snapshot").json
    assert client.put("/__mock/snapshot", json=document).status_code == 200


def test_serve__starts_from_a_snapshot_and_a_reset_returns_to_it(tmp_path):
    client = new_app(seed=42, seed_count=20).test_client()
    client.post("/__mock/clock", json={"freeze": "2030-01-01T09:00:00Z"})
    created = client.post("/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=bearer(KEYS[1])).json["data"]["id"]
    path = tmp_path / "that.json"
    path.write_text(json.dumps(client.get("/__mock/snapshot").json))
    served = start_serve("--snapshot", str(path))
    try:
        with MockServerClient(served.url) as mock:
            assert mock.clock() == {"now": "2030-01-01T09:00:00.000Z", "frozen": True}
            ids = [s["id"] for s in mock.state("insigner", "bulkSends", tenant=KEYS[1])]
            assert created in ids
            deleted = web.delete(f"{served.url}/api/v1/bulk-sends/{created}", headers=bearer(KEYS[1]))
            assert deleted.status_code == 204
            mock.add_fault(api="*", status=500)
            mock.advance_clock(60)
            mock.reset()
            assert mock.faults() == [] and mock.clock()["now"] == "2030-01-01T09:00:00.000Z"
            again = {s["id"]: s for s in mock.state("insigner", "bulkSends", tenant=KEYS[1])}
            assert created in again and not again[created].get("deleted")  # the reset undid the delete
            assert mock.snapshot()["options"]["seed"] == 42
            # Past the 1 MiB of other bodies: the server reads a snapshot up to 64 MiB.
            big = {**mock.snapshot(), "padding": "x" * (2 * 1024 * 1024)}
            assert mock.restore(big)["restored"] is True
    finally:
        served.stop()


def test_serve__a_bad_snapshot_file_is_one_line(tmp_path):
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    for path, said in ((tmp_path / "bad.json", "format"), (tmp_path / "missing.json", "cannot read")):
        result = run_serve("--port", "0", "--snapshot", str(path))
        assert result.returncode != 0
        assert said in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr


def test_client__snapshot_and_restore(tmp_path):
    from mockserver.testing.server import start_server

    server = start_server(SMALL)
    try:
        with MockServerClient(server.url) as mock:
            mock.freeze_clock("2030-01-01T00:00:00Z")
            document = mock.snapshot()
            mock.advance_clock(3600)
            summary = mock.restore(document)
            assert summary["restored"] is True and mock.clock()["now"] == "2030-01-01T00:00:00.000Z"
            assert mock.snapshot(tenant=COLLECT_KEY)["scope"]["collect"] == "uGFRDeEL3Ct2uYo2c"
    finally:
        server.stop()


PLUGIN_TESTS = """
import requests


def test_fails_in_one_tenant(mockserver):
    key = "isk_" + "F" * 44
    requests.get(mockserver.url + "/api/v1/bulk-sends", headers={"Authorization": "Bearer " + key}, timeout=30)
    assert False


def test_fails_in_two(mockserver):
    requests.get(mockserver.url + "/api/v1/bulk-sends", headers={"Authorization": "Bearer isk_" + "G" * 44}, timeout=30)
    requests.post(mockserver.url + "/v1/requests", json={}, auth=("", "collect_test_key"), timeout=30)
    assert False


def test_passes(mockserver):
    pass
"""


def test_plugin__a_snapshot_of_each_failed_test(pytester, monkeypatch, tmp_path):
    monkeypatch.delenv("MOCKSERVER_URL", raising=False)
    pytester.makepyfile(test_inner=PLUGIN_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--mockserver-snapshot-on-failure={tmp_path}/snaps")
    result.assert_outcomes(passed=1, failed=2)
    files = sorted(path.name for path in (tmp_path / "snaps").iterdir())
    assert files == ["test_inner.py_test_fails_in_one_tenant.json", "test_inner.py_test_fails_in_two.json"]
    one = json.loads((tmp_path / "snaps" / files[0]).read_text())
    two = json.loads((tmp_path / "snaps" / files[1]).read_text())
    assert one["scope"]["insigner"] and one["scope"]["collect"] is None
    assert "scope" not in two
    result.stdout.fnmatch_lines(["*mockserver snapshot*", f"*written to {tmp_path}/snaps/*"])
    assert os.environ.get("MOCKSERVER_URL") is None


# -- damaged documents that passed the check before it was whole ------------------------------------------
def first_with(document, api, collection):
    """The first stored tenant row of `api` that holds documents of `collection`."""
    return next(row for row in document["tenants"][api]["tenants"] if row["collections"].get(collection))


def journal_entry(document):
    return document["journal"][0]


WHOLE_CHECK_DAMAGE = [
    pytest.param(
        lambda d: d["tenants"]["insigner"]["tenants"].append(
            json.loads(json.dumps(d["tenants"]["insigner"]["tenants"][0]))
        ),
        "tenants.insigner.tenants.",
        id="tenant-row-repeated",
    ),
    pytest.param(
        lambda d: first_with(d, "insigner", "bulkSends")["collections"]["bulkSends"][0].update(createdAt=1700000000),
        ".collections.bulkSends.0.createdAt",
        id="stored-createdAt-a-number",
    ),
    pytest.param(
        lambda d: d["rateLimits"]["requests"][0].__setitem__(1, 5), "rateLimits.requests.0", id="window-tenant"
    ),
    pytest.param(
        lambda d: d["rateLimits"]["requests"][0].__setitem__(4, "1"), "rateLimits.requests.0", id="window-count"
    ),
    pytest.param(lambda d: d["clock"].update(timestamp=1e20), "clock.timestamp", id="timestamp-1e20"),
    pytest.param(lambda d: d["clock"].update(timestamp=-1e12), "clock.timestamp", id="timestamp-minus-1e12"),
    pytest.param(lambda d: d["clock"].update(now="9500-01-01T00:00:00Z", timestamp=None), "clock.now", id="clock-9500"),
    pytest.param(
        lambda d: d["counters"]["faultRandom"][1].__setitem__(0, -1), "counters.faultRandom", id="random-negative"
    ),
    pytest.param(lambda d: d["rateLimits"].update(settings="off"), "rateLimits.settings", id="settings-string"),
    pytest.param(lambda d: d["rateLimits"].update(settings={}), "rateLimits.settings.", id="settings-empty"),
    pytest.param(
        lambda d: d["rateLimits"]["settings"]["insigner"].update(requestsPerMinute="120"),
        "rateLimits.settings.insigner.requestsPerMinute",
        id="settings-wrong-type",
    ),
    pytest.param(
        lambda d: d["rateLimits"]["settings"].update(stripe={"enabled": True}),
        "rateLimits.settings.stripe",
        id="unknown-api",
    ),
    pytest.param(
        lambda d: d["options"].update(insignerAsyncSeconds=1e308), "options.insignerAsyncSeconds", id="async-1e308"
    ),
    pytest.param(
        lambda d: d["options"].update(insignerAsyncSeconds=-10), "options.insignerAsyncSeconds", id="async-negative"
    ),
    pytest.param(lambda d: d["options"].update(seedCount=10**12), "options.seedCount", id="seed-count-huge"),
    pytest.param(lambda d: d["options"].update(seedCount=-5), "options.seedCount", id="seed-count-negative"),
    pytest.param(lambda d: journal_entry(d).update(headers="x"), "journal.0.headers", id="journal-headers"),
    pytest.param(lambda d: journal_entry(d).update(query=3), "journal.0.query", id="journal-query"),
    pytest.param(lambda d: journal_entry(d).update(tenant=["a"]), "journal.0.tenant", id="journal-tenant"),
    pytest.param(lambda d: journal_entry(d).update(time={}), "journal.0.time", id="journal-time"),
    pytest.param(lambda d: journal_entry(d).update(status="OK"), "journal.0.status", id="journal-status"),
    pytest.param(lambda d: d["journal"].append(dict(journal_entry(d))), "journal.1.id", id="journal-id-repeated"),
    pytest.param(lambda d: d["counters"].update(faultNextId=-1), "counters.faultNextId", id="fault-next-id-negative"),
    pytest.param(lambda d: d["faults"].append(dict(d["faults"][0])), "faults.1.id", id="rule-id-repeated"),
    pytest.param(
        lambda d: (
            d.update(journal=[{**journal_entry(d), "id": n} for n in range(1, 2001)])
            or d["counters"].update(journalNextId=2000)
        ),
        "journal",
        id="journal-past-its-bound",
    ),
]


@pytest.mark.parametrize(("damage", "named"), WHOLE_CHECK_DAMAGE)
def test_snapshot__damage_the_whole_check_names__400_and_nothing_changes(damage, named):
    client = new_app().test_client()
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    create(client, 0)
    client.post("/__mock/faults", json={"api": "collect", "status": 500})
    document = client.get("/__mock/snapshot").json
    assert document["journal"] and document["faults"] and document["rateLimits"]["requests"]
    before = client.get("/__mock/snapshot").json
    damage(document)
    response = client.put("/__mock/snapshot", json=document)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "invalid-snapshot"
    assert named in response.json["error"]["message"], response.json
    assert client.get("/__mock/snapshot").json == before
    # and the server still answers both APIs
    assert list_sends(client, 0).status_code == 200
    assert client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY)).status_code in (200, 500)


def test_snapshot__a_restore_that_fails_after_the_check__puts_the_state_back(monkeypatch):
    client = new_app().test_client()
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    create(client, 0)
    document = client.get("/__mock/snapshot").json
    create(client, 1)
    client.post("/__mock/faults", json={"api": "collect", "status": 500})
    before = client.get("/__mock/snapshot").json
    state = client.application.extensions["mockserver"]
    real = type(state.journal).restore
    calls = []

    def fails_once(self, *args):
        calls.append(1)
        if len(calls) == 1:  # the snapshot's own journal: fail midway, after the tenants changed
            raise RuntimeError("disk on fire")
        return real(self, *args)

    monkeypatch.setattr(type(state.journal), "restore", fails_once)
    response = client.put("/__mock/snapshot", json=document)
    assert response.status_code == 400 and "nothing changed" in response.json["error"]["message"]
    assert client.get("/__mock/snapshot").json == before


def test_reset__after_a_restore__returns_to_the_start_up_options():
    client = new_app().test_client()
    start = client.get("/__mock/snapshot").json["options"]
    document = client.get("/__mock/snapshot").json
    document["options"].update(strictAuth=True, seedCount=3, insignerAsyncSeconds=30, seed=7)
    assert client.put("/__mock/snapshot", json=document).status_code == 200
    assert client.get("/__mock/snapshot").json["options"]["strictAuth"] is True
    assert client.get("/api/v1/bulk-sends", headers=bearer(KEYS[1])).status_code == 401  # strict: unknown key
    client.post("/__mock/reset")
    assert client.get("/__mock/snapshot").json["options"] == start
    assert client.get("/api/v1/bulk-sends", headers=bearer(KEYS[1])).status_code == 200
    created = create(client, 0).json["data"]
    assert created["status"] != "processing"  # asynchronous seconds back to 0


def test_snapshot__one_tenant_restore_replaces_its_rules_and_journal_entries():
    client = new_app().test_client()
    mine = KEYS[1]
    client.post("/__mock/faults", json={"api": "insigner", "tenant": mine, "status": 500, "times": 1})
    assert list_sends(client, 1).status_code == 500  # seen once: used up, still listed
    narrow = client.get("/__mock/snapshot", query_string={"tenant": mine}).json
    assert len(narrow["journal"]) == 1 and len(narrow["faults"]) == 1
    assert client.put("/__mock/snapshot", json=narrow).status_code == 200
    rules = client.get("/__mock/faults").json["faults"]
    assert len(rules) == 1, rules  # replaced, not added beside the live one
    assert list_sends(client, 1).status_code == 200  # the restored rule is used up as it was
    tenant_id = narrow["scope"]["insigner"]
    entries = [e for e in client.get("/__mock/requests").json["requests"] if e["tenant"] == tenant_id]
    assert [e["status"] for e in entries] == [500, 200], entries


def test_serve__a_damaged_snapshot_file__one_line_naming_the_file_and_the_field(tmp_path):
    document = new_app().test_client().get("/__mock/snapshot").json
    document["clock"]["timestamp"] = 1e20
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(document))
    result = run_serve("--port", "0", "--snapshot", str(path))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and "clock.timestamp" in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_snapshot__of_other_fixtures__409_names_the_files_that_differ(tmp_path):
    import shutil

    from mockserver.config import shipped_fixtures

    folder = tmp_path / "fixtures"
    shutil.copytree(shipped_fixtures(), folder)
    campaigns = folder / "collect" / "campaigns.json"
    campaigns.write_text(campaigns.read_text().replace("]", "]\n", 1))
    (folder / "insigner" / "extra.json").write_text("[]")
    document = new_app().test_client().get("/__mock/snapshot").json
    other = new_app(fixtures=str(folder)).test_client()
    other.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    before = other.get("/__mock/snapshot").json
    response = other.put("/__mock/snapshot", json=document)
    assert response.status_code == 409 and response.json["error"]["code"] == "other-fixtures"
    message = response.json["error"]["message"]
    assert "collect/campaigns.json" in message and "insigner/extra.json" in message, message
    assert "insigner/templates.json" not in message
    assert other.get("/__mock/snapshot").json == before
