"""The compiled dumpers give exactly what marshmallow's dump gives."""

from __future__ import annotations

import json

import pytest
from helpers import BULK_SEND_EXAMPLE
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
    f = fields.Float()
    i = fields.Integer(allow_none=True)


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param({}, id="empty"),
        pytest.param({"s": "x", "b": True, "raw": [1, {"k": None}], "d": {"z": 1, "a": 2}}, id="plain"),
        pytest.param({"s": None, "nested": None, "many": None, "strings": None}, id="nulls"),
        pytest.param({"nested": {"a": "q", "n": 3, "extra": 1}, "many": [{"n": 1}, {"a": "b"}]}, id="nested"),
        pytest.param({"renamed": "r", "unknown": 5, "strings": ["a", "b"]}, id="data-key-and-unknown"),
        pytest.param({"s": 12, "b": 1, "nested": {"n": "4"}}, id="coerced"),
        pytest.param({"f": 1.5, "i": 7}, id="exact-types"),
        pytest.param({"f": 3, "i": True, "s": False, "b": 0}, id="near-types-coerced"),
        pytest.param({"f": None, "i": None, "b": None}, id="number-nulls"),
    ],
)
def test_compile_dumper__equals_marshmallow_dump(obj):
    schema = Outer()
    assert json.dumps(compile_dumper(schema)(obj)) == json.dumps(schema.dump(obj))


def test_compile_dumper__json_keys_reads_each_value_under_its_data_key():
    schema = Outer()
    obj = {"otherName": "r", "renamed": "not read", "f": 2, "i": 1.0}
    assert compile_dumper(schema, json_keys=True)(obj) == {"otherName": "r", "f": 2.0, "i": 1}
    assert type(compile_dumper(schema, json_keys=True)(obj)["f"]) is float


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


def test_compile_dumper__insigner_answers_equal_marshmallow_dump(client, insigner_auth):
    from mockserver.apis.insigner.schemas import BulkSendCreatedSchema, BulkSendListSchema, BulkSendSchema

    created = client.post("/api/v1/bulk-sends", json=BULK_SEND_EXAMPLE, headers=insigner_auth).get_json()["data"]
    got = client.get(f"/api/v1/bulk-sends/{created['id']}", headers=insigner_auth).get_json()["data"]
    page = client.get("/api/v1/bulk-sends?limit=5", headers=insigner_auth).get_json()
    for schema, answer in (
        (BulkSendCreatedSchema(), created),
        (BulkSendSchema(), got),
        (BulkSendSchema(), {**got, "emailMessage": None}),
        (BulkSendListSchema(), page),
    ):
        assert json.dumps(compile_dumper(schema)(answer)) == json.dumps(schema.dump(answer))
    assert list(got) == list(BulkSendSchema().fields)


def test_compile_dumper__an_echoed_contact_equals_its_schemas_dump():
    from mockserver.apis.collect.schemas import DUMP_ECHOED_CONTACT, ECHOED_CONTACT_SCHEMA

    contact = {
        "_id": "c1", "email": "n@example.com", "company": "C", "phone": "+1", "lastName": "L",
        "createdAt": "2030-01-01T00:00:00Z", "firstName": "F", "tag": ["a"], "custom": [{"k": 1}],
        "data": {"x": None}, "nbRequest": 3, "lastActivity": "2030-01-02T00:00:00Z", "other": 1,
    }  # fmt: skip
    for obj in (contact, {"_id": "c2", "email": "m@example.com"}):
        assert json.dumps(DUMP_ECHOED_CONTACT(obj)) == json.dumps(ECHOED_CONTACT_SCHEMA.dump(obj))
    assert "nbRequest" not in DUMP_ECHOED_CONTACT(contact)  # the schema's exclusions hold
