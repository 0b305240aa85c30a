"""The compiled dumpers give exactly what marshmallow's dump gives."""

from __future__ import annotations

import json

import pytest
from marshmallow import Schema, fields

from mockserver.apis.collect.schemas import SendMultipleRequestsResultSchema
from mockserver.dumping import compile_dumper


class Inner(Schema):
    a = fields.String()
    n = fields.Integer()


class Outer(Schema):
    s = fields.String()
    b = fields.Boolean()
    raw = fields.Raw()
    d = fields.Dict()
    nested = fields.Nested(Inner)
    many = fields.List(fields.Nested(Inner))
    strings = fields.List(fields.String())
    renamed = fields.String(data_key="otherName")


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param({}, id="empty"),
        pytest.param({"s": "x", "b": True, "raw": [1, {"k": None}], "d": {"z": 1, "a": 2}}, id="plain"),
        pytest.param({"s": None, "nested": None, "many": None, "strings": None}, id="nulls"),
        pytest.param({"nested": {"a": "q", "n": 3, "extra": 1}, "many": [{"n": 1}, {"a": "b"}]}, id="nested"),
        pytest.param({"renamed": "r", "unknown": 5, "strings": ["a", "b"]}, id="data-key-and-unknown"),
        pytest.param({"s": 12, "b": 1, "nested": {"n": "4"}}, id="coerced"),
    ],
)
def test_compile_dumper__equals_marshmallow_dump(obj):
    schema = Outer()
    assert json.dumps(compile_dumper(schema)(obj)) == json.dumps(schema.dump(obj))


def test_compile_dumper__collect_result_equals_marshmallow_dump(client, collect_auth):
    body = {
        "campaignId": "xvr69EYLKXvTkfYuk",
        "sendMessage": False,
        "contacts": [
            "WmTjsFknzHdmfs3Ra",
            "unknownContact234",
            {"email": "n@example.com", "tag": ["a"], "company": "C", "phone": "+1"},
        ],
    }
    answer = client.post("/v1/requests", json=body, headers=collect_auth).get_json()
    schema = SendMultipleRequestsResultSchema()
    assert json.dumps(compile_dumper(schema)(answer)) == json.dumps(schema.dump(answer))
