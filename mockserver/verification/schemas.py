"""The answers of POST /__mock/verify: the count held (200), or it did not (409, with near misses)."""

from __future__ import annotations

from marshmallow import Schema, fields

from ..control.schemas import ControlErrorDetailSchema
from ..journal.schemas import JournalEntrySchema


class VerifiedSchema(Schema):
    """POST /__mock/verify when the count holds."""

    ok = fields.Boolean()
    count = fields.Integer()
    requests = fields.List(fields.Integer(), metadata={"description": "The journal ids of the matching requests."})
    journalTruncated = fields.Boolean(metadata={"description": "The journal's bound dropped entries since emptied."})


class DifferenceSchema(Schema):
    field = fields.String(metadata={"description": "path, status, tenant, query.<name>, headers.<name>, body.<path>"})
    expected = fields.Raw(allow_none=True)
    actual = fields.Raw(allow_none=True, metadata={"description": "Absent when the request lacks the member."})


class NearMissSchema(Schema):
    request = fields.Nested(JournalEntrySchema)
    differences = fields.List(fields.Nested(DifferenceSchema))


class VerificationFailedSchema(Schema):
    """POST /__mock/verify when the count does not hold: the sentence and up to 3 near misses."""

    error = fields.Nested(ControlErrorDetailSchema, required=True)
    ok = fields.Boolean()
    count = fields.Integer()
    requests = fields.List(fields.Integer(), metadata={"description": "The journal ids of the matching requests."})
    nearMisses = fields.List(fields.Nested(NearMissSchema))
    journalTruncated = fields.Boolean(metadata={"description": "The journal's bound dropped entries since emptied."})
