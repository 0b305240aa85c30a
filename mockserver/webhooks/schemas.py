"""The query and the answer of GET /__mock/webhooks (webhooks.md, section 4)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from ..config import API_NAMES


class WebhooksQuerySchema(Schema):
    """Filters: one API, one tenant (its id or one of its keys)."""

    class Meta:
        unknown = EXCLUDE

    api = fields.String(validate=validate.OneOf(API_NAMES))
    tenant = fields.String(validate=validate.Length(min=1, max=500))


class RegisteredWebhookSchema(Schema):
    """One webhook, in one shape for both APIs (`secret` on inSigner, `secretToken` on Collect)."""

    api = fields.String(required=True)
    tenant = fields.String(required=True)
    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    campaignId = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)
    failureCount = fields.Integer(required=True)
    secret = fields.String()
    secretToken = fields.String(allow_none=True)
    createdAt = fields.String(required=True)


class WebhooksSchema(Schema):
    """The answer of GET /__mock/webhooks: by API, then oldest first."""

    webhooks = fields.List(fields.Nested(RegisteredWebhookSchema), required=True)


ATTEMPT_STATES = ("pending", "sending", "delivered", "failed", "abandoned", "suppressed")


class DeliveriesQuerySchema(Schema):
    """Filters of GET /__mock/deliveries; `limit` keeps the newest N."""

    class Meta:
        unknown = EXCLUDE

    api = fields.String(validate=validate.OneOf(API_NAMES))
    tenant = fields.String(validate=validate.Length(min=1, max=500))
    webhook = fields.String(validate=validate.Length(min=1, max=200))
    event = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "A glob: bulk_send.*"})
    state = fields.String(validate=validate.OneOf(ATTEMPT_STATES))
    status = fields.Integer(validate=validate.Range(min=100, max=599), metadata={"description": "The receiver's."})
    delivery = fields.String(validate=validate.Length(min=1, max=200))
    limit = fields.Integer(validate=validate.Range(min=1, max=100_000))


class SentRequestSchema(Schema):
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    body = fields.Raw(required=True, metadata={"description": "The body the mock sent, parsed."})
    bytes = fields.Integer(required=True)


class ReceiverAnswerSchema(Schema):
    status = fields.Integer(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    body = fields.String(required=True, metadata={"description": "As text, at most 4 KiB kept."})


class AttemptSchema(Schema):
    """One attempt of a delivery (webhooks.md, section 4)."""

    id = fields.String(required=True)
    deliveryId = fields.String(required=True)
    eventId = fields.String(required=True)
    api = fields.String(required=True)
    tenant = fields.String(required=True)
    webhookId = fields.String(required=True)
    event = fields.String(required=True)
    url = fields.String(required=True)
    attempt = fields.Integer(required=True)
    trigger = fields.String(required=True)
    state = fields.String(required=True)
    dueAt = fields.String(required=True)
    sentAt = fields.String(allow_none=True, required=True)
    request = fields.Nested(SentRequestSchema, allow_none=True, required=True)
    response = fields.Nested(ReceiverAnswerSchema, allow_none=True, required=True)
    error = fields.String(allow_none=True, required=True)
    durationMs = fields.Float(allow_none=True, required=True)
    signatureValid = fields.Boolean(required=True)
    faultId = fields.String(allow_none=True, required=True)
    nextAttemptAt = fields.String(allow_none=True, required=True)


class AttemptsSchema(Schema):
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)
    total = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    truncated = fields.Boolean(required=True)


class DeliverySchema(Schema):
    id = fields.String(required=True)
    eventId = fields.String(required=True)
    webhookId = fields.String(required=True)
    event = fields.String(required=True)
    state = fields.String(required=True)
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)


class SettleBodySchema(Schema):
    withinMs = fields.Integer(metadata={"description": "Real time to wait, 0-30,000 (default 10,000)."})


class SettledSchema(Schema):
    pending = fields.Integer(required=True)
    nextDueAt = fields.String(allow_none=True, required=True)


class AttemptDifferenceSchema(Schema):
    field = fields.String(metadata={"description": "event, state, status, headers.<name>, body.<dot path>, ..."})
    expected = fields.Raw(allow_none=True)
    actual = fields.Raw(allow_none=True)


class AttemptNearMissSchema(Schema):
    attempt = fields.Nested(AttemptSchema)
    differences = fields.List(fields.Nested(AttemptDifferenceSchema))


class DeliveriesVerifiedSchema(Schema):
    ok = fields.Boolean()
    count = fields.Integer()
    attempts = fields.List(fields.String(), metadata={"description": "The ids of the matching attempts."})


class DeliveriesVerificationFailedSchema(Schema):
    error = fields.Dict()
    ok = fields.Boolean()
    count = fields.Integer()
    attempts = fields.List(fields.String())
    nearMisses = fields.List(fields.Nested(AttemptNearMissSchema))


class TriggeredSchema(Schema):
    eventId = fields.String(required=True)
    deliveries = fields.List(fields.String(), required=True, metadata={"description": "One per subscribed webhook."})
