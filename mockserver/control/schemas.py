"""The schemas every /__mock call may share: the error envelope, the clock's answer, the tenant query."""

from __future__ import annotations

from marshmallow import Schema, fields


class ControlErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class ControlErrorSchema(Schema):
    """Every control-plane error."""

    error = fields.Nested(ControlErrorDetailSchema, required=True)


class ClockSchema(Schema):
    now = fields.String(metadata={"format": "date-time"})
    frozen = fields.Boolean()


class TenantQuerySchema(Schema):
    tenant = fields.String(metadata={"description": "An API key: only its tenant (created if new)."})
