"""The answers of /__mock/faults: a rule as listed, the list."""

from __future__ import annotations

from marshmallow import Schema, fields

from .rules import FaultRuleSchema


class FaultSchema(FaultRuleSchema):
    """A fault rule as listed: as given, with its id and live counters.

    A delivery rule (`"target": "delivery"`) is listed with its own members instead of a request
    rule's: `target`, `webhook`, `event`, `attempt`, `copies`, `delaySeconds`, `staleSeconds`.
    """

    target = fields.String(metadata={"description": "delivery, on a rule of webhook deliveries."})
    webhook = fields.String(allow_none=True)
    event = fields.String()
    attempt = fields.Integer(allow_none=True)
    copies = fields.Integer()
    delaySeconds = fields.Float()
    staleSeconds = fields.Integer()
    hits = fields.Integer()
    remaining = fields.Integer(allow_none=True)


class FaultListSchema(Schema):
    faults = fields.List(fields.Nested(FaultSchema))
