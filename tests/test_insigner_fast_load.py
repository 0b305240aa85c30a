"""inSigner's create body has a compiled loader: exactly what its marshmallow schema loads, faster.

The loader accepts what the schema accepts, giving the same dict (same keys, same order, nested
signers too), and gives None for what the schema refuses, so marshmallow's load still words
every 422. Both directions are checked on generated bodies near the schema's edges.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from mockserver.apis.insigner import views
from mockserver.apis.insigner.examples import CREATE_REQUEST
from mockserver.errors import ValidationFailed
from mockserver.loading import compile_loader

SCHEMA = views.CREATE_ARGS
LOADER = compile_loader(SCHEMA)

EMAILS = ["alice@vendor-a.com", "a@b.co", "x@y", "a..b@c.de", ".a@b.cd", "a@b.c", "A+b@EX-ample.ORG", "a@b.co\n"]
texts = st.one_of(
    st.text(max_size=12),
    st.text(min_size=195, max_size=205),
    st.sampled_from(["", "\ud800", "a\udfffb", "é" * 201, "😀" * 101, "a" * 1001, "a" * 255, *EMAILS]),
    st.sampled_from(EMAILS),
)
anything = st.one_of(texts, st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2), st.just({}))
signers = st.one_of(
    st.fixed_dictionaries(
        {"name": st.one_of(st.text(min_size=1, max_size=10), texts), "email": st.sampled_from(EMAILS)},
        optional={"phone": st.one_of(st.text(max_size=22), anything), "role": anything},
    ),
    st.dictionaries(st.sampled_from(["name", "email", "phone", "other"]), anything, max_size=4),
    anything,
)
GOOD_EMAILS = ["alice@vendor-a.com", "a@b.co", "A+b@EX-ample.ORG"]
good_signer = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=10), "email": st.sampled_from(GOOD_EMAILS)},
    optional={"phone": st.text(max_size=20), "role": anything},
)
good_body = st.fixed_dictionaries(
    {
        "templateId": st.one_of(st.just("tpl_abc123"), st.text(min_size=1, max_size=10)),
        "name": st.text(min_size=1, max_size=10),
        "signers": st.lists(good_signer, min_size=1, max_size=4),
    },
    optional={"emailMessage": st.text(max_size=20), "unknown": anything},
)


@st.composite
def one_change(draw):
    """A body the schema accepts, with one field (or one signer's field) set, dropped or made edgy."""
    body = draw(good_body)
    if draw(st.booleans()):
        target, keys = body, ["templateId", "name", "signers", "emailMessage"]
    else:
        target, keys = draw(st.sampled_from(body["signers"])), ["name", "email", "phone"]
    key = draw(st.sampled_from(keys))
    if draw(st.integers(0, 4)) == 0:
        target.pop(key, None)
    else:
        target[key] = draw(st.one_of(texts, anything, st.lists(signers, max_size=2)))
    return body


bodies = st.one_of(good_body, one_change(), signers, anything)


def marshmallow_load(data):
    try:
        return SCHEMA.load(data)
    except ValidationError:
        return None


@settings(max_examples=600, deadline=None)
@given(bodies)
def test_fast_load__the_schemas_result_for_what_it_accepts_and_none_for_what_it_refuses(data):
    expected = marshmallow_load(data)
    got = LOADER(data)
    if expected is None:
        assert got is None
    else:
        # The same dict, key order included (json.dumps keeps it), down to each signer.
        assert got is not None
        assert json.dumps(got) == json.dumps(expected)


def test_fast_load__the_vendors_example_and_500_signers_take_the_fast_path():
    assert json.dumps(LOADER(CREATE_REQUEST)) == json.dumps(SCHEMA.load(CREATE_REQUEST))
    body = {**CREATE_REQUEST, "signers": [{"name": f"n{i}", "email": f"s{i}@vendor.com"} for i in range(500)]}
    assert LOADER(body) == SCHEMA.load(body)
    assert LOADER({**body, "signers": body["signers"] * 2}) is None  # 1,000 signers: refused, marshmallow says why


def test_fast_load__a_refused_body_still_gets_marshmallows_words():
    # Through the view's load with its compiled loader: the 422 lists every problem, as before.
    body = {"templateId": "tpl_abc123", "name": "", "signers": [{"name": "A", "email": "nope"}]}
    with pytest.raises(ValidationFailed) as refused:
        views.load(SCHEMA, body, "detail", views.load_create_fast)
    assert {error["field"] for error in refused.value.field_errors} == {"name", "signers.0.email"}
    assert views.load(SCHEMA, CREATE_REQUEST, "detail", views.load_create_fast) == SCHEMA.load(CREATE_REQUEST)
