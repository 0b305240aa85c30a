"""The answers of /__mock/scenarios: the list, and what applying one did."""

from __future__ import annotations

from marshmallow import Schema, fields

from ..control.schemas import ClockSchema
from ..faults.schemas import FaultSchema
from ..ratelimits.schemas import RateLimitsSchema


class ScenarioSummarySchema(Schema):
    name = fields.String()
    description = fields.String()


class ScenarioListSchema(Schema):
    scenarios = fields.List(fields.Nested(ScenarioSummarySchema))


class ScenarioAppliedSchema(ScenarioSummarySchema):
    """What applying a scenario did, in the order it does it (absent: the scenario has none of it)."""

    entities = fields.List(fields.Dict())
    webhooks = fields.List(fields.Dict())
    rateLimits = fields.Nested(RateLimitsSchema)
    clock = fields.Nested(ClockSchema)
    faults = fields.List(fields.Nested(FaultSchema))
