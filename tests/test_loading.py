"""Compiled loaders (mockserver/loading.py): the schema's load for what it accepts, None for the rest."""

from __future__ import annotations

import pytest
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, validate

from mockserver.loading import compile_loader


class Tags(fields.List):
    """A List with its own rule: at most two items (its _deserialize, not List's, decides)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list) and len(value) > 2:
            raise ValidationError("At most two.")
        return super()._deserialize(value, attr, data, **kwargs)


def schema_of(unknown=RAISE, many=False, **declared):
    meta = type("Meta", (), {"unknown": unknown})
    return type("Declared", (Schema,), {"Meta": meta, **declared})(many=many)


def load_or_none(schema, data):
    try:
        return schema.load(data)
    except ValidationError:
        return None


BODIES = [
    {"name": "a", "tags": ["x"]},
    {"name": "a", "tags": ["x", "y", "z"]},
    {"name": "", "tags": []},
    {"name": "a", "tags": [None]},
    {"name": None},
    {"tags": ["x"]},
    {"name": "a", "other": 1, "more": [2]},
    {"name": 5},
    [],
    "text",
]


@pytest.mark.parametrize("unknown", [RAISE, INCLUDE, EXCLUDE])
@pytest.mark.parametrize("data", BODIES)
def test_compiled__agrees_with_the_schema_for_each_unknown_option(unknown, data):
    schema = schema_of(
        unknown, name=fields.String(required=True, validate=validate.Length(min=1)), tags=Tags(fields.String())
    )
    expected = load_or_none(schema, data)
    got = compile_loader(schema)(data)
    assert got == expected and (got is None or list(got) == list(expected))


@pytest.mark.parametrize("data", [[{"n": 1}, {"n": 2}], [{"n": "x"}], {"n": 1}, [], [None]])
def test_compiled__many(data):
    schema = schema_of(EXCLUDE, many=True, n=fields.Integer(required=True))
    assert compile_loader(schema)(data) == load_or_none(schema, data)


@pytest.mark.parametrize(
    "field",
    [
        fields.Nested(Schema.from_dict({"a": fields.String()})),
        fields.String(data_key="other"),
        fields.String(load_default="x"),
        fields.String(allow_none=True),
        fields.String(post_load=str.upper),
        fields.List(fields.String(allow_none=True)),
    ],
    ids=["nested", "data_key", "load_default", "allow_none", "post_load", "list_of_nullable"],
)
def test_compiled__a_field_it_does_not_know_means_no_compiled_load_at_all(field):
    # Even for data the schema accepts: the caller then always loads with the schema.
    schema = schema_of(EXCLUDE, field=field)
    assert compile_loader(schema)({}) is None


def test_compiled__schema_checks_run_and_refuse():
    schema = schema_of(EXCLUDE, n=fields.Integer())

    def at_most_one(data):
        if data.get("n", 0) > 1:
            raise ValidationError("too many")

    loader = compile_loader(schema, checks=(at_most_one,))
    assert loader({"n": 1}) == {"n": 1}
    assert loader({"n": 2}) is None
