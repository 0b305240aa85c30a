"""The answers of /__mock/faults: a rule as listed, the list."""

from __future__ import annotations

from marshmallow import Schema, fields

from .rules import FaultRuleSchema


class FaultSchema(FaultRuleSchema):
    """A fault rule as listed: as given, with its id and live counters."""

    hits = fields.Integer()
    remaining = fields.Integer(allow_none=True)


class FaultListSchema(Schema):
    faults = fields.List(fields.Nested(FaultSchema))
