"""GET /api/v1/bulk-sends: newest first, filters, every query rule, cursor pagination."""

from __future__ import annotations

import pytest
from helpers import INSIGNER_KEY, bearer, insigner_key
from test_insigner_create import PROBLEM, TYPES, compact, create, valid, vendor_example

LIST_FIELDS = ["id", "name", "status", "totalCount", "sentCount", "failedCount", "templateId", "createdAt", "updatedAt"]


def listing(client, auth, **query):
    return client.get("/api/v1/bulk-sends", query_string=query, headers=auth)


def add_bulk_send(client, **fields):
    body = {"name": "Added", "templateId": "tpl_abc123", "totalCount": 1, "sentCount": 1, **fields}
    response = client.post("/__mock/state/insigner/bulkSends", json=body, query_string={"tenant": INSIGNER_KEY})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def walk(client, auth, limit, between=None, **query):
    """Follow nextCursor to the end; return the ids in order and the pages' metas."""
    seen, metas, cursor = [], [], None
    while True:
        params = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        page = listing(client, auth, **params).get_json()
        seen += [item["id"] for item in page["data"]]
        metas.append(page["meta"])
        if not page["meta"]["hasMore"]:
            return seen, metas
        cursor = page["meta"]["nextCursor"]
        if between:
            between(len(metas))


def test_list_bulk_sends__fresh_organization(client, insigner_auth):
    response = listing(client, insigner_auth)
    assert response.status_code == 200
    page = response.get_json()
    assert list(page) == ["data", "meta"]
    assert page["meta"] == {"count": 21, "hasMore": False, "nextCursor": None}
    assert all(list(item) == LIST_FIELDS for item in page["data"])
    assert page["data"][0]["id"] == "bs_abc123"
    keys = [(item["createdAt"], item["id"]) for item in page["data"]]
    assert keys == sorted(keys, reverse=True)


def test_list_bulk_sends__vendor_example_item(client, insigner_auth):
    expected = vendor_example("list_response")["data"][0]
    page = listing(client, insigner_auth, status="completed").get_json()
    assert compact(page["data"][0]) == compact(expected)


def test_list_bulk_sends__default_limit_is_25(client, insigner_auth):
    for index in range(10):
        add_bulk_send(client, name=f"Old {index}", createdAt="2024-01-01T00:00:00Z")
    page = listing(client, insigner_auth).get_json()
    assert page["meta"] == {"count": 25, "hasMore": True, "nextCursor": page["data"][-1]["id"]}


def test_list_bulk_sends__newest_first_with_ties_by_id(client, insigner_auth, freeze):
    freeze("2026-07-01T00:00:00.000Z")
    for name in ("a", "b", "c"):
        add_bulk_send(client, name=name)
    created = create(client, valid(), insigner_auth).get_json()["data"]["id"]
    data = listing(client, insigner_auth, limit=5).get_json()["data"]
    same_time = [item["id"] for item in data[:4]]
    assert created in same_time and same_time == sorted(same_time, reverse=True)
    assert data[4]["id"] == "bs_abc123"


@pytest.mark.parametrize("status", ["processing", "completed", "failed"])
def test_list_bulk_sends__status_filter(client, insigner_auth, status):
    data = listing(client, insigner_auth, status=status, limit=100).get_json()["data"]
    assert data and {item["status"] for item in data} == {status}


@pytest.mark.parametrize(
    "query, count",
    [
        pytest.param({"limit": "1"}, 1, id="one"),
        pytest.param({"limit": "100"}, 21, id="hundred"),
        pytest.param({"limit": " 5 "}, 5, id="spaces"),
        pytest.param({"limit": "5.0"}, 5, id="integral-float"),
        pytest.param({"limit": "0x10"}, 16, id="hexadecimal-as-javascript-reads-it"),
        pytest.param({"cursor": ""}, 21, id="empty-cursor-is-first-page"),
        pytest.param({"unknown": "x"}, 21, id="unknown-parameter-ignored"),
    ],
)
def test_list_bulk_sends__valid_query(client, insigner_auth, query, count):
    response = listing(client, insigner_auth, **query)
    assert response.status_code == 200
    assert response.get_json()["meta"]["count"] == count


@pytest.mark.parametrize(
    "query, field, message",
    [
        pytest.param({"limit": "0"}, "limit", "Number must be greater than or equal to 1", id="limit-0"),
        pytest.param({"limit": "-3"}, "limit", "Number must be greater than or equal to 1", id="limit-negative"),
        pytest.param({"limit": "101"}, "limit", "Number must be less than or equal to 100", id="limit-101"),
        pytest.param({"limit": ""}, "limit", "Number must be greater than or equal to 1", id="limit-empty"),
        pytest.param({"limit": "ten"}, "limit", "Expected number, received nan", id="limit-word"),
        pytest.param({"limit": "2.5"}, "limit", "Expected integer, received float", id="limit-fraction"),
        pytest.param({"limit": "1e400"}, "limit", "Number must be less than or equal to 100", id="limit-infinite"),
        pytest.param(
            {"limit": "0x" + "f" * 300}, "limit", "Number must be less than or equal to 100", id="limit-huge-hex"
        ),
        pytest.param({"limit": "1_000"}, "limit", "Expected number, received nan", id="limit-underscores"),
        pytest.param({"limit": "inf"}, "limit", "Expected number, received nan", id="limit-python-only-spelling"),
        pytest.param(
            {"status": "pending"},
            "status",
            "Invalid enum value. Expected 'processing' | 'completed' | 'failed', received 'pending'",
            id="status-unknown",
        ),
        pytest.param(
            {"status": "COMPLETED"},
            "status",
            "Invalid enum value. Expected 'processing' | 'completed' | 'failed', received 'COMPLETED'",
            id="status-case",
        ),
        pytest.param({"cursor": "bs_nope"}, "cursor", "Invalid cursor", id="cursor-unknown"),
        pytest.param({"cursor": "tpl_abc123"}, "cursor", "Invalid cursor", id="cursor-not-a-bulk-send"),
        pytest.param(
            {"cursor": "c" * 501}, "cursor", "String must contain at most 500 character(s)", id="cursor-too-long"
        ),
    ],
)
def test_list_bulk_sends__invalid_query_is_422(client, insigner_auth, query, field, message):
    response = listing(client, insigner_auth, **query)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["type"] == TYPES + "validation-error"
    assert problem["detail"] == "The query parameters contain invalid values"
    assert {"field": field, "message": message} in problem["errors"]


def test_list_bulk_sends__another_organizations_cursor_is_422(client, insigner_auth):
    theirs = bearer(insigner_key("org-b"))
    added = client.post(
        "/__mock/state/insigner/bulkSends",
        query_string={"tenant": insigner_key("org-b")},
        json={"id": "bs_theirs", "name": "Theirs", "templateId": "tpl_abc123"},
    )
    assert added.status_code == 201
    assert listing(client, theirs, cursor="bs_theirs").status_code == 200
    response = listing(client, insigner_auth, cursor="bs_theirs")
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "cursor", "message": "Invalid cursor"}]


def test_list_bulk_sends__full_walk_with_inserts_between_pages(client, insigner_auth, freeze):
    freeze("2026-07-01T00:00:00.000Z")
    for index in range(14):
        add_bulk_send(client, name=f"Extra {index}", createdAt=f"2025-0{1 + index % 9}-1{index % 10}T00:00:00Z")
    expected = [item["id"] for item in listing(client, insigner_auth, limit=100).get_json()["data"]]
    assert len(expected) == 35
    old = []

    def insert(page_number):
        # A new bulk send is newer than every page already read; an old one lands after the cursor.
        client.post("/__mock/clock", json={"advance": 301})
        assert create(client, valid(name=f"New {page_number}"), insigner_auth).status_code == 201
        old.append(add_bulk_send(client, name=f"Backdated {page_number}", createdAt="2020-01-01T00:00:00Z")["id"])

    seen, metas = walk(client, insigner_auth, 4, between=insert)
    assert len(metas) >= 9
    assert seen[:35] == expected
    assert sorted(seen[35:], reverse=True) == seen[35:] and set(seen[35:]) <= set(old)
    assert len(seen) == len(set(seen))
    assert all(m["count"] == 4 and m["nextCursor"] for m in metas[:-1])
    assert metas[-1]["nextCursor"] is None


def test_list_bulk_sends__walk_with_status_filter(client, insigner_auth):
    everything = listing(client, insigner_auth, limit=100, status="completed").get_json()["data"]
    seen, _ = walk(client, insigner_auth, 2, status="completed")
    assert seen == [item["id"] for item in everything]


def test_list_bulk_sends__cursor_of_a_deleted_item_still_works(client, insigner_auth):
    first = listing(client, insigner_auth, limit=1).get_json()
    assert first["meta"]["nextCursor"] == "bs_abc123"
    assert client.delete("/api/v1/bulk-sends/bs_abc123", headers=insigner_auth).status_code == 204
    second = listing(client, insigner_auth, limit=3, cursor="bs_abc123").get_json()
    rest = listing(client, insigner_auth, limit=3).get_json()
    assert second == rest


def test_list_bulk_sends__deleted_are_hidden(client, insigner_auth):
    client.delete("/api/v1/bulk-sends/bs_abc123", headers=insigner_auth)
    data = listing(client, insigner_auth, limit=100).get_json()["data"]
    assert "bs_abc123" not in [item["id"] for item in data] and len(data) == 20
