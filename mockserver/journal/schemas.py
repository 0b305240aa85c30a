"""The answer of GET /__mock/requests: journal entries in the control plane's shape."""

from __future__ import annotations

from marshmallow import Schema, fields


class JournalEntrySchema(Schema):
    id = fields.Integer()
    time = fields.String(metadata={"format": "date-time"})
    api = fields.String()
    tenant = fields.String(allow_none=True, metadata={"description": "The tenant's id, never the key."})
    method = fields.String()
    path = fields.String()
    query = fields.Dict()
    headers = fields.Dict(metadata={"description": "Credentials cut to the scheme and 8 characters of the key."})
    body = fields.Raw(allow_none=True, metadata={"description": "Parsed JSON, else text."})
    status = fields.Integer(allow_none=True, metadata={"description": "null: the connection was dropped."})
    faultId = fields.String(allow_none=True)
    durationMs = fields.Float()


class JournalSchema(Schema):
    requests = fields.List(fields.Nested(JournalEntrySchema))
    total = fields.Integer()
