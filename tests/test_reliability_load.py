"""Load: 16 clients at once on a real server, both APIs; every acknowledged write counts exactly once.

Each client has its own keep-alive connection and all start together (a barrier). The clock is
frozen, so rate windows cannot roll over in the middle: their counts must be exact.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import COLLECT_KEY, INSIGNER_KEY, basic, bearer, insigner_key

from mockserver.app import create_app
from mockserver.testing.server import ServerThread

CLIENTS = 16
CAMPAIGN, JOHN = "xvr69EYLKXvTkfYuk", "WmTjsFknzHdmfs3Ra"
OTHER_TEAM = "another-teams-key"


@pytest.fixture(params=["memory", "tinydb"])
def server(request, tmp_path) -> Iterator[ServerThread]:
    settings = {"store": request.param, "seed": 42, "freeze_at": "2026-06-01T00:00:00Z"}
    if request.param == "tinydb":
        settings["db"] = str(tmp_path / "load.json")
    with ServerThread(create_app(settings)) as running:
        yield running


def call(
    conn: http.client.HTTPConnection, method: str, path: str, headers: dict | None = None, body: Any = None
) -> tuple[int, http.client.HTTPMessage, Any]:
    payload = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=payload, headers={**(headers or {}), "Content-Type": "application/json"})
    response = conn.getresponse()
    raw = response.read()
    # The headers as http.client keeps them: names are case-insensitive (granian sends them lower-cased).
    return response.status, response.headers, json.loads(raw) if raw else None


def control(server: ServerThread, method: str, path: str, body: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        status, _, answer = call(conn, method, path, body=body)
        assert status < 300, answer
        return answer
    finally:
        conn.close()


def at_once(server: ServerThread, work: Callable[[int, http.client.HTTPConnection], list]) -> list:
    """Run `work(n, connection)` in CLIENTS threads started together; return all they returned."""
    barrier = threading.Barrier(CLIENTS)
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            barrier.wait(timeout=30)
            found = work(n, conn)
            with lock:
                results.extend(found)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[0]
    assert not any(thread.is_alive() for thread in threads)
    return results


# -- Collect ---------------------------------------------------------------------------------------
def test_send_multiple_requests__16_clients_every_acknowledged_write_stored_once(server):
    per_client = 6
    keys = {n: COLLECT_KEY if n % 2 == 0 else OTHER_TEAM for n in range(CLIENTS)}

    def work(n: int, conn: http.client.HTTPConnection) -> list:
        out = []
        for i in range(per_client):
            # John (existing), one contact of this client's own, and one that every client shares.
            body = {
                "campaignId": CAMPAIGN,
                "contacts": [JOHN, {"email": f"c{n}-{i}@example.com"}, {"email": "shared@example.com"}],
            }
            status, _, answer = call(conn, "POST", "/v1/requests", basic(keys[n]), body)
            out.append((keys[n], status, answer))
        return out

    results = at_once(server, work)
    assert Counter(status for _, status, _ in results) == {200: CLIENTS * per_client}
    for key in (COLLECT_KEY, OTHER_TEAM):
        answers = [answer for k, _, answer in results if k == key]
        request_ids = [r["_id"] for answer in answers for r in answer["requests"]]
        assert len(request_ids) == len(set(request_ids)) == 3 * len(answers)
        stored = control(server, "GET", f"/__mock/state/collect/requests?tenant={key}")["items"]
        assert Counter(r["_id"] for r in stored) == Counter(request_ids)  # each one, exactly once
        contacts = control(server, "GET", f"/__mock/state/collect/contacts?tenant={key}")["items"]
        by_email = Counter(c["email"] for c in contacts)
        assert by_email["shared@example.com"] == 1 and max(by_email.values()) == 1
        nb_request = {c["_id"]: c["nbRequest"] for c in contacts}
        assert nb_request[JOHN] == 4 + len(answers)
        shared = next(c for c in contacts if c["email"] == "shared@example.com")
        assert shared["nbRequest"] == len(answers)
        assert Counter(r["contact"]["_id"] for r in stored)[shared["_id"]] == len(answers)
    journal = control(server, "GET", "/__mock/requests?api=collect")
    assert journal["total"] == CLIENTS * per_client
    assert len({entry["id"] for entry in journal["requests"]}) == CLIENTS * per_client


def test_send_multiple_requests__16_clients_rate_window_counts_exactly(server):
    control(server, "PUT", "/__mock/rate-limits", {"collect": {"enabled": True, "requestsPerMinute": 50}})

    def work(n: int, conn: http.client.HTTPConnection) -> list:
        return [
            call(conn, "POST", "/v1/requests", basic(COLLECT_KEY), {"campaignId": CAMPAIGN, "contacts": [JOHN]})[:2]
            for _ in range(5)
        ]

    results = at_once(server, work)
    assert Counter(status for status, _ in results) == {200: 50, 429: CLIENTS * 5 - 50}
    assert all(headers["Retry-After"] == "60" for status, headers in results if status == 429)
    john = next(c for c in control(server, "GET", "/__mock/state/collect/contacts")["items"] if c["_id"] == JOHN)
    assert john["nbRequest"] == 4 + 50  # refused requests changed nothing


# -- inSigner --------------------------------------------------------------------------------------
def test_create_bulk_send__16_clients_every_acknowledged_create_counts_once(server):
    control(server, "PUT", "/__mock/rate-limits", {"insigner": {"bulkSendsPerWindow": 1000, "requestsPerMinute": 1000}})
    before = control(server, "GET", "/__mock/state/insigner/documents")["items"]

    def work(n: int, conn: http.client.HTTPConnection) -> list:
        out = []
        for i in range(4):
            signers = [{"name": f"S{k}", "email": f"s{n}-{i}-{k}@example.com"} for k in range(1 + (n + i) % 3)]
            status, headers, answer = call(
                conn,
                "POST",
                "/api/v1/bulk-sends",
                bearer(INSIGNER_KEY),
                {"templateId": "tpl_abc123", "name": f"load {n}-{i}", "signers": signers},
            )
            out.append((status, headers, answer, len(signers)))
        return out

    results = at_once(server, work)
    assert Counter(status for status, *_ in results) == {201: CLIENTS * 4}
    created = {answer["data"]["id"]: signer_count for _, _, answer, signer_count in results}
    assert len(created) == CLIENTS * 4  # no bulk-send ID handed out twice
    assert len({headers["X-Request-Id"] for _, headers, _, _ in results}) == CLIENTS * 4
    assert all(answer["data"]["totalCount"] == n for _, _, answer, n in results)
    template = next(
        t for t in control(server, "GET", "/__mock/state/insigner/templates")["items"] if t["id"] == "tpl_abc123"
    )
    assert template["usageCount"] == 47 + sum(created.values())
    documents = control(server, "GET", "/__mock/state/insigner/documents")["items"]
    new_documents = Counter(d["bulkSendId"] for d in documents) - Counter(d["bulkSendId"] for d in before)
    assert new_documents == Counter(created)
    assert len({d["id"] for d in documents}) == len(documents)
    listed, cursor = [], ""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    while cursor is not None:  # every page of the list, newest first
        status, _, page = call(conn, "GET", f"/api/v1/bulk-sends?limit=100&cursor={cursor}", bearer(INSIGNER_KEY))
        assert status == 200, page
        listed += [item["id"] for item in page["data"]]
        cursor = page["meta"]["nextCursor"]
    conn.close()
    assert len(listed) == len(set(listed)) and set(created) <= set(listed)


def test_create_bulk_send__16_clients_bulk_window_admits_exactly_its_size(server):
    control(server, "PUT", "/__mock/rate-limits", {"insigner": {"bulkSendsPerWindow": 5, "requestsPerMinute": 1000}})

    def work(n: int, conn: http.client.HTTPConnection) -> list:
        return [
            call(
                conn,
                "POST",
                "/api/v1/bulk-sends",
                bearer(INSIGNER_KEY),
                {
                    "templateId": "tpl_abc123",
                    "name": f"w{n}-{i}",
                    "signers": [{"name": "A", "email": f"a{n}-{i}@example.com"}],
                },
            )[:2]
            for i in range(2)
        ]

    results = at_once(server, work)
    assert Counter(status for status, _ in results) == {201: 5, 429: CLIENTS * 2 - 5}
    assert all(headers["Retry-After"] == "300" for status, headers in results if status == 429)
    template = next(
        t for t in control(server, "GET", "/__mock/state/insigner/templates")["items"] if t["id"] == "tpl_abc123"
    )
    assert template["usageCount"] == 47 + 5  # refused creates used neither the template nor the window


def test_list_bulk_sends__16_clients_key_window_counts_exactly(server):
    limit = 50
    control(server, "PUT", "/__mock/rate-limits", {"insigner": {"requestsPerMinute": limit}})
    other = insigner_key("loadOtherOrganization")

    def work(n: int, conn: http.client.HTTPConnection) -> list:
        key = INSIGNER_KEY if n < CLIENTS - 1 else other  # one client with its own key and window
        return [(key, *call(conn, "GET", "/api/v1/bulk-sends?limit=1", bearer(key))[:2]) for _ in range(5)]

    results = at_once(server, work)
    mine = [(status, headers) for key, status, headers in results if key == INSIGNER_KEY]
    assert Counter(status for status, _ in mine) == {200: limit, 429: len(mine) - limit}
    remaining = sorted(int(headers["RateLimit-Remaining"]) for status, headers in mine if status == 200)
    assert remaining == list(range(limit))  # each count handed out once: no lost or doubled update
    assert all(
        headers["RateLimit-Remaining"] == "0" and headers["Retry-After"] == headers["RateLimit-Reset"]
        for status, headers in mine
        if status == 429
    )
    theirs = [(status, headers) for key, status, headers in results if key == other]
    assert [int(h["RateLimit-Remaining"]) for _, h in theirs] == [limit - 1 - i for i in range(5)]
