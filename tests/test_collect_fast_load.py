"""Collect's send body has a compiled loader: exactly what its marshmallow schema loads, faster.

The loader accepts what the schema accepts, giving the same dict (same keys, same order, the
contacts and samples too), and gives None for what the schema refuses, so marshmallow's load
still words every 400. Both directions are checked on generated bodies near the schema's edges.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from mockserver.apis.collect.examples import SEND_MULTIPLE_REQUESTS_REQUEST
from mockserver.apis.collect.schemas import (
    CONTACT_SCHEMA,
    LOAD_CONTACT,
    LOAD_SAMPLES,
    SAMPLES_SCHEMA,
    SendMultipleRequestsSchema,
    send_multiple_requests_loader,
    send_multiple_requests_schema,
)

LIMIT = 3
SCHEMA = send_multiple_requests_schema(LIMIT)
LOADER = send_multiple_requests_loader(LIMIT)

EMAILS = ["elon@example.com", "a@b.co", "x@y", "a..b@c.de", "nope", "", "a@" + "b" * 250 + ".com", "A+b@EX-ample.ORG"]
texts = st.one_of(st.text(max_size=8), st.sampled_from(["", " ", "\t", "x", *EMAILS]))
dates = st.sampled_from(
    [
        "2030-01-01",
        "2030-01-01T10:00:00Z",
        "2030-01-01T10:00:00+02:00",
        "0001-01-01T00:00:00+01:00",
        "2030-13-01",
        "",
        " ",
        "tomorrow",
        "2030-01-01T10:00:00",
    ]
)
anything = st.one_of(
    texts,
    st.none(),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.just({}),
    st.just({"a": 1}),
)
contact = st.one_of(
    st.fixed_dictionaries(
        {"email": st.sampled_from(EMAILS)},
        optional={
            "firstName": st.one_of(texts, anything),
            "lastName": texts,
            "company": texts,
            "phone": anything,
            "tag": st.one_of(st.lists(texts, max_size=2), st.lists(anything, max_size=2), anything),
            "custom": st.one_of(st.lists(st.just({"k": "v"}), max_size=2), st.lists(anything, max_size=2)),
            "data": anything,
            "other": anything,
        },
    ),
    st.dictionaries(st.sampled_from(["email", "firstName", "tag", "x"]), anything, max_size=3),
)
contact_ref = st.one_of(st.text(max_size=6), contact, anything)
sample = st.one_of(
    st.fixed_dictionaries(
        {"itemId": texts, "url": st.one_of(texts, anything)}, optional={"extra": anything, "more": texts}
    ),
    st.dictionaries(st.sampled_from(["itemId", "url", "x"]), anything, max_size=3),
    anything,
)
flags = {
    name: st.one_of(st.booleans(), anything)
    for name in ("sendMessage", "sendCompletionMessage", "sendRejectionMessage", "sendReopenMessage")
}
body = st.fixed_dictionaries(
    {
        "campaignId": st.one_of(st.just("xvr69EYLKXvTkfYuk"), texts, anything),
        "contacts": st.one_of(st.lists(contact_ref, min_size=0, max_size=LIMIT + 1), anything),
    },
    optional={
        "items": st.one_of(st.lists(texts, max_size=3), st.lists(anything, max_size=2), anything),
        "samples": st.one_of(sample, st.lists(sample, max_size=3), anything),
        "dueDate": st.one_of(dates, anything),
        "assignedTo": st.one_of(texts, anything),
        "unknown": anything,
        **flags,
    },
)
GOOD_EMAILS = ["elon@example.com", "a@b.co", "A+b@EX-ample.ORG"]
good_contact = st.one_of(
    st.text(min_size=1, max_size=6).filter(str.strip),
    st.fixed_dictionaries(
        {"email": st.sampled_from(GOOD_EMAILS)},
        optional={"firstName": st.text(max_size=5), "tag": st.lists(st.text(max_size=3), max_size=2), "x": anything},
    ),
)
good_body = st.fixed_dictionaries(
    {"campaignId": st.text(min_size=1, max_size=6), "contacts": st.lists(good_contact, min_size=1, max_size=LIMIT)},
    optional={
        "items": st.lists(st.text(min_size=1, max_size=4), max_size=2),
        "samples": st.lists(
            st.fixed_dictionaries(
                {"itemId": st.text(min_size=1, max_size=3), "url": st.text(max_size=4)},
                optional={"a": anything, "b": anything},
            ),
            max_size=2,
        ),
        "dueDate": st.sampled_from(["2030-01-01", "2030-01-01T10:00:00Z"]),
        "assignedTo": st.text(min_size=1, max_size=4),
        "sendMessage": st.booleans(),
        "unknown": anything,
    },
)
KEYS = ["campaignId", "contacts", "items", "samples", "dueDate", "assignedTo", "sendMessage", "sendReopenMessage"]


@st.composite
def one_change(draw):
    """A body the schema accepts, with one field (or one contact's field) set, dropped or made edgy."""
    data = draw(good_body)
    contacts = [c for c in data["contacts"] if isinstance(c, dict)]
    if contacts and draw(st.booleans()):
        target, keys = draw(st.sampled_from(contacts)), ["email", "firstName", "tag", "custom", "data"]
    else:
        target, keys = data, KEYS
    key = draw(st.sampled_from(keys))
    if draw(st.integers(0, 4)) == 0:
        target.pop(key, None)
    else:
        target[key] = draw(st.one_of(texts, dates, anything, st.lists(contact_ref, max_size=2), sample))
    return data


bodies = st.one_of(
    good_body, one_change(), body, st.dictionaries(st.sampled_from(["campaignId", "contacts", "x"]), anything), anything
)


def marshmallow_load(schema, data):
    try:
        return schema.load(data)
    except ValidationError:
        return None


def same(got, expected):
    if expected is None:
        return got is None
    # The same dict, key order included (json.dumps keeps it; dates are shown by their text).
    return got is not None and json.dumps(got, default=str) == json.dumps(expected, default=str)


@settings(max_examples=800, deadline=None)
@given(bodies)
def test_fast_load__the_schemas_result_for_what_it_accepts_and_none_for_what_it_refuses(data):
    assert same(LOADER(data), marshmallow_load(SCHEMA, data))


@settings(max_examples=400, deadline=None)
@given(contact)
def test_fast_load__a_contact_loads_as_the_contact_schema_loads_it(data):
    assert same(LOAD_CONTACT(data), marshmallow_load(CONTACT_SCHEMA, data))


@settings(max_examples=400, deadline=None)
@given(st.lists(sample, max_size=3))
def test_fast_load__samples_keep_their_unknown_members_in_the_schemas_order(data):
    assert same(LOAD_SAMPLES(data), marshmallow_load(SAMPLES_SCHEMA, data))


def test_fast_load__the_vendors_example_takes_the_fast_path():
    loaded = send_multiple_requests_loader(50)(SEND_MULTIPLE_REQUESTS_REQUEST)
    assert loaded is not None
    assert loaded == send_multiple_requests_schema(50).load(SEND_MULTIPLE_REQUESTS_REQUEST)


def test_fast_load__the_teams_contact_limit_is_checked():
    body = {**SEND_MULTIPLE_REQUESTS_REQUEST, "contacts": ["c1", "c2", "c3", "c4"]}
    assert LOADER(body) is None  # 4 contacts, the limit 3: refused, and marshmallow says why
    assert send_multiple_requests_loader(4)(body) is not None


def test_fast_load__every_hook_of_the_schema_is_given_to_the_loader():
    # A hook the compiled loader is not given would be skipped on the fast path: the only one
    # is the contact count, which it runs. (A test may read marshmallow's registry of hooks.)
    hooks = {name for names in SendMultipleRequestsSchema._hooks.values() for name, *_ in names}
    assert hooks == {"contacts_count"}
    assert not any(ContactHooks for ContactHooks in type(CONTACT_SCHEMA)._hooks.values())
    assert not any(hooks for hooks in type(SAMPLES_SCHEMA)._hooks.values())
