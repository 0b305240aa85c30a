"""Property-based tests of the schemas and envelopes with hypothesis: any input, never a 5xx.

Bodies are drawn from any JSON value (NaN and Infinity included), from raw bytes, and from
near-valid shapes that reach the backends (seeded campaign, contacts, template). Every answer
is 2xx or 4xx, every error is in its API's envelope, and every schema refuses what it cannot
load with a ValidationError only. Derandomised (a failure reproduces) and bounded; `make fuzz`
raises the number of examples (MOCKSERVER_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from helpers import (
    COLLECT_KEY,
    INSIGNER_KEY,
    assert_collect_error,
    assert_control_error,
    assert_insigner_problem,
    basic,
    bearer,
    fuzz_examples,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from mockserver.apis.collect import schemas as collect_schemas
from mockserver.apis.collect.errors import error_body
from mockserver.apis.insigner import schemas as insigner_schemas
from mockserver.apis.insigner.errors import problem
from mockserver.app import create_app
from mockserver.faults.rules import FaultRuleError, load_rule
from mockserver.journal.model import JournalQuerySchema

FUZZ = settings(
    max_examples=fuzz_examples(40),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
COLLECT = {**basic(COLLECT_KEY), "Content-Type": "application/json"}
INSIGNER = {**bearer(INSIGNER_KEY), "Content-Type": "application/json"}
CAMPAIGN, CONTACT = "xvr69EYLKXvTkfYuk", "WmTjsFknzHdmfs3Ra"
ITEMS = ["Gwm5sHv6tzikK65We", "4PQd5HKQcBk5BZmsB"]
MEMBERS = ["upKywNKgwyHx3hKfF", "janedoe@example.com"]

# -- strategies ------------------------------------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", " ", "\x00", "é", "😀", "\ud800", "1e999", "null", "2022-07-04"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def maybe(strategy: st.SearchStrategy, junk: st.SearchStrategy = json_values) -> st.SearchStrategy:
    """A field's value: usually of the right kind, sometimes anything at all."""
    return st.one_of(strategy, strategy, junk)


def optional_fields(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """Objects with any subset of `fields`."""
    return st.fixed_dictionaries({}, optional=fields)


emails = st.emails() | st.sampled_from(["a@b.invalid", "x@example.com", "not-an-email", "a@b", "@", "a\n@b.co"])
dates = (
    st.datetimes().map(lambda d: d.isoformat())
    | st.dates().map(str)
    | st.sampled_from(["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2022-13-01", "tomorrow"])
)
collect_contacts = st.lists(
    maybe(
        st.sampled_from([CONTACT, "unknownContact0001"])
        | optional_fields(
            email=maybe(emails),
            firstName=maybe(st.text()),
            lastName=maybe(st.text()),
            company=maybe(st.text()),
            phone=maybe(st.text()),
            tag=maybe(st.lists(st.text())),
            custom=maybe(st.lists(st.dictionaries(st.text(max_size=5), scalars))),
            data=maybe(st.dictionaries(st.text(max_size=5), scalars)),
        )
    ),
    max_size=6,
)
collect_bodies = st.fixed_dictionaries(
    {"campaignId": maybe(st.sampled_from([CAMPAIGN, "unknownCampaign01"])), "contacts": maybe(collect_contacts)},
    optional={
        "items": maybe(st.lists(st.sampled_from(ITEMS) | st.text())),
        "samples": maybe(
            st.lists(
                optional_fields(
                    itemId=maybe(st.sampled_from(ITEMS)), url=maybe(st.sampled_from(["https://a.co/x", "nope"]))
                )
            )
        ),
        "dueDate": maybe(dates),
        "assignedTo": maybe(st.sampled_from(MEMBERS) | st.text()),
        **{flag: maybe(st.booleans()) for flag in collect_schemas.MESSAGE_FLAGS},
    },
)
signers = st.lists(
    maybe(optional_fields(name=maybe(st.text(max_size=210)), email=maybe(emails), phone=maybe(st.text(max_size=25)))),
    max_size=5,
)
insigner_bodies = st.fixed_dictionaries(
    {
        "templateId": maybe(st.sampled_from(["tpl_abc123", "tpl_unknown"])),
        "name": maybe(st.text(max_size=210)),
        "signers": maybe(signers),
    },
    optional={"emailMessage": maybe(st.text(max_size=30))},
)
query_values = st.text(max_size=12) | st.sampled_from(
    ["1", "100", "101", "0", "-1", "1e2", "0x10", "NaN", "Infinity", "completed", "processing", "bs_abc123", ""]
)
list_queries = st.lists(
    st.tuples(st.sampled_from(["limit", "cursor", "status", "other", "limit[]"]) | st.text(max_size=5), query_values),
    max_size=6,
)


def dump(value: Any) -> bytes:
    return json.dumps(value).encode()  # NaN and Infinity come out as the tokens JSON does not have


@pytest.fixture(scope="module")
def client():
    """One small in-memory app for the module, rate limits off (429s are not what is tested)."""
    app = create_app({"store": "memory", "seed": 42, "seed_count": 3})
    app.extensions["mockserver"].rate_limits.update({"insigner": {"enabled": False}})
    yield app.test_client()
    app.extensions["mockserver"].close()


# -- Collect ---------------------------------------------------------------------------------------
@FUZZ
@given(body=json_values | st.binary(max_size=64))
def test_send_multiple_requests__any_body_is_a_4xx_in_the_envelope(client, body):
    raw = body if isinstance(body, bytes) else dump(body)
    response = client.post("/v1/requests", data=raw, headers=COLLECT)
    assert response.status_code in (400, 404), response.get_data(as_text=True)[:300]
    assert_collect_error(response)
    assert client.get("/__mock/requests?limit=1").status_code == 200  # the journal can show what it kept


@FUZZ
@given(body=collect_bodies)
def test_send_multiple_requests__near_valid_bodies_reach_the_backend_and_add_up(client, body):
    response = client.post("/v1/requests", data=dump(body), headers=COLLECT)
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)[:300]
    if response.status_code != 200:
        assert_collect_error(response)
        return
    answer = response.get_json()
    assert len(answer["contacts"]) == len(body["contacts"])
    assert len(answer["requests"]) + len(answer["errors"]) == len(body["contacts"])
    assert len({r["_id"] for r in answer["requests"]}) == len(answer["requests"])
    assert all(r["campaignId"] == CAMPAIGN and r["dueDate"].endswith("Z") for r in answer["requests"])


# -- inSigner --------------------------------------------------------------------------------------
@FUZZ
@given(body=json_values | st.binary(max_size=64))
def test_create_bulk_send__any_body_is_a_4xx_problem(client, body):
    raw = body if isinstance(body, bytes) else dump(body)
    response = client.post("/api/v1/bulk-sends", data=raw, headers=INSIGNER)
    assert response.status_code in (400, 404, 422), response.get_data(as_text=True)[:300]
    assert_insigner_problem(response)
    assert client.get("/__mock/requests?limit=1").status_code == 200  # the journal can show what it kept


@FUZZ
@given(body=insigner_bodies)
def test_create_bulk_send__near_valid_bodies_reach_the_backend_and_add_up(client, body):
    response = client.post("/api/v1/bulk-sends", data=dump(body), headers=INSIGNER)
    assert response.status_code in (201, 400, 404, 422), response.get_data(as_text=True)[:300]
    if response.status_code != 201:
        assert_insigner_problem(response)
        return
    created = response.get_json()["data"]
    assert created["totalCount"] == len(body["signers"]) == created["sentCount"] + created["failedCount"]
    assert created["status"] == ("failed" if created["sentCount"] == 0 else "completed")


@FUZZ
@given(pairs=list_queries)
def test_list_bulk_sends__any_query_is_a_page_or_a_422(client, pairs):
    response = client.get("/api/v1/bulk-sends", query_string=pairs, headers=bearer(INSIGNER_KEY))
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
    if response.status_code == 422:
        assert_insigner_problem(response)
    else:
        page = response.get_json()
        assert page["meta"]["count"] == len(page["data"]) <= 100
        assert page["meta"]["hasMore"] == (page["meta"]["nextCursor"] is not None)


@FUZZ
@given(
    bulk_send_id=st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t and t not in (".", "..")),
    method=st.sampled_from(["GET", "DELETE"]),
)
def test_bulk_send_by_id__any_id_is_a_404_problem(client, bulk_send_id, method):
    response = client.open(f"/api/v1/bulk-sends/{bulk_send_id}", method=method, headers=bearer(INSIGNER_KEY))
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert_insigner_problem(response)


# -- both: faults a request asks for, and the renderers ------------------------------------------------
@FUZZ
@given(
    prefer=st.integers(400, 599).map(lambda code: f"code={code}")
    | st.text(  # what a header can carry: Latin-1
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=20
    ).filter(lambda t: "delay" not in t.lower())
    | st.sampled_from(["code=399", "code=600", "code=²", "code=1e3", "code=500, code=404", "x;code=503"]),
    api=st.sampled_from(["collect", "insigner"]),
)
def test_prefer__any_value_is_its_status_or_a_400_in_the_envelope(client, prefer, api):
    if api == "collect":
        response = client.post(
            "/v1/requests", json={"campaignId": CAMPAIGN, "contacts": [CONTACT]}, headers={**COLLECT, "Prefer": prefer}
        )
    else:
        response = client.get("/api/v1/bulk-sends", headers={**INSIGNER, "Prefer": prefer})
    code = re.fullmatch(r"code=([0-9]{1,6})", prefer)
    asked = int(code.group(1)) if code and 400 <= int(code.group(1)) <= 599 else None
    if asked is not None:
        assert response.status_code == asked
    assert response.status_code < 500 or asked is not None
    if response.status_code >= 400:
        (assert_collect_error if api == "collect" else assert_insigner_problem)(response)


@FUZZ
@given(
    status=st.integers(400, 599),
    detail=st.none() | st.text(max_size=40),
    fields=st.lists(
        st.fixed_dictionaries({"field": st.text(max_size=10), "message": st.text(max_size=10)}), max_size=2
    ),
)
def test_error_renderers__any_status_keeps_the_envelope(status, detail, fields):
    collect = error_body(status, detail, fields)
    assert set(collect) <= {"error", "message", "details"} and collect["error"] and collect["message"]
    body = problem(status, detail, fields)
    assert body["status"] == status and body["type"].startswith("https://docs.insigner.com/errors/")
    assert body["title"] and body["detail"] and ("errors" in body) == (status == 422)


# -- the control plane -----------------------------------------------------------------------------
CONTROL_WRITES = [
    ("POST", "/__mock/reset"),
    ("POST", "/__mock/clock"),
    ("POST", "/__mock/faults"),
    ("PUT", "/__mock/rate-limits"),
    ("POST", "/__mock/state/collect/contacts"),
    ("POST", "/__mock/state/collect/campaigns"),
    ("POST", "/__mock/state/collect/apiKeys"),
    ("POST", "/__mock/state/insigner/templates"),
    ("POST", "/__mock/state/insigner/bulkSends"),
    ("POST", "/__mock/state/insigner/apiKeys"),
    ("POST", "/__mock/state/insigner/documents"),
]


@FUZZ
@given(
    call=st.sampled_from(CONTROL_WRITES),
    body=json_values
    | st.dictionaries(
        st.sampled_from(
            [
                "seed",
                "freeze",
                "advance",
                "unfreeze",
                "status",
                "kind",
                "headers",
                "body",
                "name",
                "email",
                "key",
                "expiresAt",
                "createdAt",
                "insigner",
                "collect",
                "templateId",
                "delayMs",
            ]
        ),
        json_values,
        max_size=3,
    ),
)
def test_control_writes__any_body_is_a_2xx_or_a_4xx_in_the_envelope(client, call, body):
    method, path = call
    response = client.open(path, method=method, data=dump(body), headers={"Content-Type": "application/json"})
    try:
        assert response.status_code < 500, (path, body, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            assert_control_error(response)
        # What a call leaves behind still answers: the APIs and the lists of the control plane.
        for check in ("/__mock/faults", "/__mock/requests", "/__mock/state", "/__mock/clock"):
            assert client.get(check).status_code == 200, check
        if path != "/__mock/faults":  # a fault rule may ask for a 5xx, or a delay
            answer = client.post("/v1/requests", json={"campaignId": CAMPAIGN, "contacts": [CONTACT]}, headers=COLLECT)
            assert answer.status_code < 500, answer.get_data(as_text=True)[:300]
    finally:
        client.post("/__mock/reset")
        client.put("/__mock/rate-limits", json={"insigner": {"enabled": False}})


# -- the schemas themselves --------------------------------------------------------------------------
SCHEMAS = [
    pytest.param(collect_schemas.SendMultipleRequestsSchema, id="collect-send-multiple-requests"),
    pytest.param(insigner_schemas.BulkSendCreateSchema, id="insigner-bulk-send-create"),
    pytest.param(insigner_schemas.BulkSendListArgsSchema, id="insigner-bulk-send-list-args"),
    pytest.param(JournalQuerySchema, id="journal-query"),
    *[pytest.param(schema, id=f"collect-entity-{name}") for name, schema in collect_schemas.ENTITY_SCHEMAS.items()],
    *[pytest.param(schema, id=f"insigner-entity-{name}") for name, schema in insigner_schemas.ENTITY_SCHEMAS.items()],
]


@pytest.mark.parametrize("schema_class", SCHEMAS)
@FUZZ
@given(
    data=json_values
    | st.dictionaries(
        st.text(max_size=12)
        | st.sampled_from(
            [
                "campaignId",
                "contacts",
                "templateId",
                "name",
                "signers",
                "limit",
                "cursor",
                "status",
                "email",
                "key",
                "createdAt",
                "expiresAt",
                "scopes",
                "_count",
                "items",
                "id",
            ]
        ),
        json_values,
        max_size=4,
    )
)
def test_schemas__load_anything_or_raise_only_validation_error(schema_class: type[Schema], data):
    try:
        schema_class().load(data)
    except ValidationError as exc:
        assert exc.messages


@FUZZ
@given(
    body=json_values
    | st.dictionaries(
        st.sampled_from(
            [
                "api",
                "method",
                "path",
                "tenant",
                "status",
                "kind",
                "times",
                "after",
                "probability",
                "delayMs",
                "retryAfter",
                "headers",
                "body",
            ]
        ),
        json_values | st.dictionaries(st.text(max_size=6), st.text(max_size=6)),
        max_size=5,
    )
)
def test_fault_rules__load_anything_or_raise_only_fault_rule_error(body):
    try:
        rule = load_rule(body)
    except FaultRuleError as exc:
        assert str(exc)
    else:
        rule.as_data()  # a loaded rule can be listed
