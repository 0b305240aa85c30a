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
