"""Damaged snapshots, drawn: a real snapshot with one member changed, deleted or repeated.

Every answer to `PUT /__mock/snapshot` is 200 or 400 (409 only where the fixtures' digest was
touched); a 400 changes nothing; after a 200, a fixed sequence of calls of both APIs, the control
plane and the dashboard's data calls answers without a 5xx that no fault rule made.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from helpers import (
    BULK_SEND_EXAMPLE,
    COLLECT_KEY,
    INSIGNER_KEY,
    SEND_EXAMPLE,
    basic,
    bearer,
    fuzz_examples,
    insigner_key,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import create_app

OTHER = insigner_key("fuzz-snapshot")
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 10**12, 2**63, 1e20, -1e12, 1e308, 0.5]),
    st.text(max_size=12),
    st.sampled_from(["", "x", "2030-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "flt_1", "insigner", "collect"]),
    st.just([]),
    st.just({}),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=3),
)


@cache
def app_and_base() -> tuple[Any, dict]:
    """One server, and a snapshot of it holding a bit of everything (rules, windows, a journal, tenants)."""
    app = create_app({"store": "memory", "seed": 42, "seed_count": 2})
    client = app.test_client()
    client.post("/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    client.post("/__mock/faults", json={"api": "insigner", "status": 429, "tenant": OTHER, "times": 1})
    client.post("/__mock/faults", json={"api": "collect", "status": 400, "probability": 0.5})
    client.post("/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=bearer(OTHER))
    client.post("/v1/requests", json=SEND_EXAMPLE, headers=basic(COLLECT_KEY))
    client.get("/api/v1/bulk-sends?limit=2", headers=bearer(INSIGNER_KEY))
    return app, client.get("/__mock/snapshot").json


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a document: the keys and indexes down to it."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):  # the first few of a long list stand for the rest
            found.extend(paths(item, (*prefix, index)))
    return found


def damage(document: dict, place: tuple, action: str, value: Any) -> None:
    *parents, last = place
    holder: Any = document
    for step in parents:
        holder = holder[step]
    if action == "set":
        holder[last] = value
    elif action == "delete":
        del holder[last]
    elif isinstance(holder[last], list) and holder[last]:  # repeat: an array's first item twice
        holder[last].append(json.loads(json.dumps(holder[last][0])))
    else:
        holder[last] = [holder[last], holder[last]]


def answers_after_a_restore(client) -> list[tuple[str, int]]:
    """The fixed sequence: each API's calls, the control plane's reads, the dashboard's data calls."""
    calls = [
        ("GET", "/api/v1/bulk-sends?limit=3", bearer(INSIGNER_KEY), None),
        ("GET", "/api/v1/bulk-sends/bs_abc123", bearer(INSIGNER_KEY), None),
        ("POST", "/api/v1/bulk-sends", bearer(OTHER), BULK_SEND_EXAMPLE),
        ("GET", "/api/v1/bulk-sends?limit=1", bearer(OTHER), None),
        ("POST", "/v1/requests", basic(COLLECT_KEY), SEND_EXAMPLE),
        ("DELETE", "/api/v1/bulk-sends/bs_abc123", bearer(INSIGNER_KEY), None),
        ("GET", "/__mock/requests", {}, None),
        ("GET", "/__mock/requests?tenant=" + OTHER, {}, None),
        ("GET", "/__mock/faults", {}, None),
        ("GET", "/__mock/clock", {}, None),
        ("GET", "/__mock/rate-limits", {}, None),
        ("GET", "/__mock/state", {}, None),
        ("GET", "/__mock/state/insigner/bulkSends", {}, None),
        ("GET", "/__mock/state/collect/contacts", {}, None),
        ("GET", "/__mock/coverage", {}, None),
        ("POST", "/__mock/verify", {}, {"api": "insigner", "method": "GET"}),
        ("POST", "/__mock/clock", {}, {"advance": 3600}),
        ("GET", "/__mock/snapshot", {}, None),
        ("GET", "/__mock/snapshot?tenant=" + OTHER, {}, None),
        ("POST", "/__mock/reset", {}, None),
    ]
    return [
        (f"{method} {path}", client.open(path, method=method, headers=headers, json=body).status_code)
        for method, path, headers, body in calls
    ]


@settings(
    max_examples=fuzz_examples(60),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_snapshot__one_member_damaged__200_or_400_and_a_400_changes_nothing(data):
    app, base = app_and_base()
    client = app.test_client()
    assert client.put("/__mock/snapshot", json=base).status_code == 200
    document = json.loads(json.dumps(base))
    place = data.draw(st.sampled_from(paths(document)), label="place")
    action = data.draw(st.sampled_from(["set", "delete", "repeat"]), label="action")
    damage(document, place, action, data.draw(VALUES, label="value") if action == "set" else None)
    before = client.get("/__mock/snapshot").json
    response = client.put("/__mock/snapshot", json=document)
    touches_fixtures = place[:2] == ("options", "fixtures") or place[:1] == ("fixtureFiles",)
    allowed = {200, 400, 409} if touches_fixtures else {200, 400}
    assert response.status_code in allowed, (place, action, response.json)
    if response.status_code != 200:
        assert client.get("/__mock/snapshot").json == before, (place, action)
        return
    journal_before = client.get("/__mock/requests").json["total"]
    answers = answers_after_a_restore(client)
    control = [(call, status) for call, status in answers if "/__mock/" in call and status >= 500]
    assert not control, (place, action, control)
    # An API's 5xx is one a restored fault rule made (its journal entry names the rule).
    del journal_before
    entries = client.get("/__mock/requests").json["requests"]
    unexplained = [e for e in entries if e["status"] is not None and e["status"] >= 500 and e["faultId"] is None]
    assert not unexplained, (place, action, unexplained)
