"""The schemas of the calls on the whole state: health, reset, clock and state."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from ..control.schemas import ClockSchema
from ..fields import StrictInteger


class HealthSchema(Schema):
    status = fields.String()
    version = fields.String()
    apis = fields.List(fields.String())
    store = fields.String()
    seed = fields.Integer()


class ResetBodySchema(Schema):
    seed = StrictInteger(
        allow_none=True, metadata={"description": "Reseed every ID, Faker value and fault probability."}
    )


class ClockChangeSchema(Schema):
    """Exactly one of freeze, advance, unfreeze (their values are checked by the clock, in its words)."""

    class Meta:
        unknown = EXCLUDE

    freeze = fields.Raw(
        allow_none=True, metadata={"description": "An ISO 8601 instant, or true (the current mock time)."}
    )
    advance = fields.Raw(allow_none=True, metadata={"type": "number", "description": "Seconds, frozen or not."})
    unfreeze = fields.Raw(
        allow_none=True, metadata={"type": "boolean", "description": "true: run on from the current mock time."}
    )


class DeliveriesRanSchema(Schema):
    ran = fields.Integer(metadata={"description": "Delivery attempts that ended while the clock's move waited."})
    running = fields.Integer(metadata={"description": "Attempts still due or in flight when the wait ended."})


class ClockChangedSchema(ClockSchema):
    """The clock after a change; moved on, what the deliveries that fell due did."""

    deliveries = fields.Nested(DeliveriesRanSchema)


class ResetSchema(Schema):
    reset = fields.Boolean()
    seed = fields.Integer()
    clock = fields.Nested(ClockSchema)
    state = fields.Dict(metadata={"description": "Counts per API, tenant and collection."})


class StateSchema(Schema):
    apis = fields.Dict(metadata={"description": "Counts per API, tenant and collection."})


class ItemsSchema(Schema):
    items = fields.List(fields.Dict(), metadata={"description": "Objects in the API's own shape."})
