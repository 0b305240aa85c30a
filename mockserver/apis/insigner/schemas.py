"""inSigner's Bulk Send shapes as marshmallow schemas: the reference page's fields, Zod's messages.

inSigner validates with Zod (its messages "Required" and "Invalid email" are Zod's defaults,
api-facts B.3): the request schemas are built from the Zod field kit of zod.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from ...clock import parse_instant
from ...egress import parse_url
from ...fields import FieldErrorSchema, JsonEncoded, StrictBoolean
from .zod import Choice, Items, Obj, QueryInt, Text

BULK_SEND_STATUSES = ("processing", "completed", "failed")
DOCUMENT_STATUSES = ("draft", "pending", "completed", "cancelled", "expired", "declined")
# The scopes of the Authentication page, verbatim.
SCOPES = (
    "*",
    "documents.*",
    "documents.read",
    "documents.create",
    "documents.write",
    "documents.send",
    "documents.delete",
    "templates.read",
    "campaigns.*",
    "campaigns.read",
    "campaigns.create",
    "campaigns.update",
    "campaigns.delete",
    "bulk_sends.*",
    "bulk_sends.read",
    "bulk_sends.create",
    "bulk_sends.delete",
    "webhooks.*",
    "webhooks.read",
    "webhooks.create",
    "webhooks.update",
    "webhooks.delete",
    "org.read",
)
# Anchored, as marshmallow's Regexp validator only matches a prefix.
KEY_PATTERN = re.compile(r"\Aisk_[A-Za-z0-9_-]{44}\Z")
# Webhooks (webhooks.md, section 1): an event name is `resource.action` in lower case.
EVENT_PATTERN = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")
WEBHOOK_STATUSES = ("active", "inactive")
# The names the vendor's pages show; any other of the same form is accepted (mock-defined).
DOCUMENTED_EVENTS = (
    "bulk_send.completed",
    "bulk_send.failed",
    "document.completed",
    "document.declined",
    "signer.completed",
)
SECRET_PATTERN = re.compile(r"[0-9a-f]{64}")


# -- requests ------------------------------------------------------------------------------------
class SignerSchema(Schema):
    """One entry of `signers`."""

    class Meta:
        unknown = EXCLUDE

    name = Text(required=True, min_length=1, max_length=200)
    email = Text(required=True, max_length=254, email=True)
    phone = Text(max_length=20)


class BulkSendCreateSchema(Schema):
    """Body of POST /api/v1/bulk-sends (unknown keys are dropped)."""

    class Meta:
        unknown = EXCLUDE

    templateId = Text(required=True, min_length=1)
    name = Text(required=True, min_length=1, max_length=200)
    emailMessage = Text(max_length=1000)
    signers = Items(Obj(SignerSchema), required=True, min_items=1, max_items=500)


class WebhookCreateSchema(Schema):
    """Body of POST /api/v1/webhooks (unknown keys are dropped)."""

    class Meta:
        unknown = EXCLUDE

    url = Text(required=True, max_length=2048, url=parse_url)
    events = Items(Text(max_length=100, pattern=EVENT_PATTERN), required=True, min_items=1, max_items=50)
    description = Text(max_length=500)


class WebhookUpdateSchema(Schema):
    """Body of PATCH /api/v1/webhooks/{id}: every field may be left out (`{}` changes nothing)."""

    class Meta:
        unknown = EXCLUDE

    url = Text(max_length=2048, url=parse_url)
    events = Items(Text(max_length=100, pattern=EVENT_PATTERN), min_items=1, max_items=50)
    status = Choice(WEBHOOK_STATUSES)
    description = Text(max_length=500)


class WebhookListArgsSchema(Schema):
    """Query of GET /api/v1/webhooks, as the bulk sends' list reads its own."""

    class Meta:
        unknown = EXCLUDE

    limit = QueryInt(minimum=1, maximum=100, load_default=25)
    cursor = Text(max_length=500)

    @pre_load
    def _empty_cursor_is_none(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not (k == "cursor" and v == "")}


class BulkSendListArgsSchema(Schema):
    """Query of GET /api/v1/bulk-sends; an empty `cursor` is no cursor."""

    class Meta:
        unknown = EXCLUDE

    limit = QueryInt(minimum=1, maximum=100, load_default=25)
    cursor = Text(max_length=500)
    status = Choice(BULK_SEND_STATUSES)

    @pre_load
    def _empty_cursor_is_none(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # JavaScript servers test `if (cursor)`: an empty cursor means the first page.
        if not isinstance(data, dict):
            return data  # marshmallow refuses it: "Invalid input type"
        return {k: v for k, v in data.items() if not (k == "cursor" and v == "")}


# -- answers -------------------------------------------------------------------------------------
class BulkSendSchema(Schema):
    """A bulk send as GET /api/v1/bulk-sends/{id} returns it (the reference example's order)."""

    # `required` says what every answer has (the OpenAPI document); dumping ignores it.
    id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    totalCount = fields.Integer(required=True)
    sentCount = fields.Integer(required=True)
    failedCount = fields.Integer(required=True)
    emailMessage = fields.String(allow_none=True)
    templateId = fields.String(required=True)
    createdAt = fields.String(required=True)
    updatedAt = fields.String(required=True)


class BulkSendListItemSchema(BulkSendSchema):
    """A bulk send in a list: no `emailMessage`."""

    class Meta:
        exclude = ("emailMessage",)


class BulkSendCreatedSchema(BulkSendSchema):
    """The `data` of the 201 answer to POST /api/v1/bulk-sends: no `emailMessage`, no `updatedAt`."""

    class Meta:
        exclude = ("emailMessage", "updatedAt")


class PageMetaSchema(Schema):
    """`meta` of every list answer."""

    count = fields.Integer(required=True)
    hasMore = fields.Boolean(required=True)
    nextCursor = fields.String(allow_none=True, required=True)


class BulkSendListSchema(Schema):
    """The answer to GET /api/v1/bulk-sends."""

    data = fields.List(fields.Nested(BulkSendListItemSchema), required=True)
    meta = fields.Nested(PageMetaSchema, required=True)


class BulkSendAnswerSchema(Schema):
    """The answer to GET /api/v1/bulk-sends/{id}."""

    data = fields.Nested(BulkSendSchema, required=True)


class BulkSendCreatedAnswerSchema(Schema):
    """The 201 answer to POST /api/v1/bulk-sends."""

    data = fields.Nested(BulkSendCreatedSchema, required=True)


class WebhookCreatedSchema(Schema):
    """The `data` of the 201 answer to POST /api/v1/webhooks, in the example's order (the only one with `secret`)."""

    id = fields.String(required=True)
    url = fields.String(required=True)
    # The vendor's quirk, kept: `events` is a JSON-encoded string of the list.
    events = JsonEncoded(required=True)
    status = fields.String(required=True)
    description = fields.String(allow_none=True, required=True)
    secret = fields.String(required=True)
    createdAt = fields.String(required=True)


class WebhookSchema(Schema):
    """A webhook as GET /api/v1/webhooks/{id} shows it: no `secret` ("never included after creation")."""

    id = fields.String(required=True)
    url = fields.String(required=True)
    events = JsonEncoded(required=True)
    status = fields.String(required=True)
    failureCount = fields.Integer(required=True)
    description = fields.String(allow_none=True, required=True)
    createdAt = fields.String(required=True)


class WebhookCreatedAnswerSchema(Schema):
    """The 201 answer to POST /api/v1/webhooks."""

    data = fields.Nested(WebhookCreatedSchema, required=True)


class WebhookAnswerSchema(Schema):
    """The answer to GET and PATCH /api/v1/webhooks/{id}."""

    data = fields.Nested(WebhookSchema, required=True)


class WebhookListSchema(Schema):
    """The answer to GET /api/v1/webhooks."""

    data = fields.List(fields.Nested(WebhookSchema), required=True)
    meta = fields.Nested(PageMetaSchema, required=True)


class BulkSendEventSchema(Schema):
    """The body of a `bulk_send.*` delivery: the documented members only (webhooks.md, section 2)."""

    event = fields.String(required=True, metadata={"enum": ["bulk_send.completed", "bulk_send.failed"]})
    data = fields.Nested(BulkSendSchema, required=True)


class ProblemSchema(Schema):
    """An RFC 9457 problem, as inSigner sends every error (`errors` only on 422)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema))


# -- entities the control plane can add (fields the body omits get defaults) -------------------------
class Instant(fields.Field[Any]):
    """An ISO 8601 date-time, kept as an aware UTC datetime (naive means UTC)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("Not a valid ISO 8601 date-time.")
        try:
            return parse_instant(value)
        except ValueError:  # not ISO 8601, or out of range once in UTC
            raise ValidationError("Not a valid ISO 8601 date-time.") from None


class ApiKeyInSchema(Schema):
    key = fields.String(validate=validate.Regexp(KEY_PATTERN, error="must be isk_ and 44 URL-safe characters"))
    name = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), load_default=lambda: ["*"])
    revoked = StrictBoolean(load_default=False)
    expiresAt = Instant(allow_none=True, load_default=None)


class TemplateCountSchema(Schema):
    fields_ = fields.Integer(data_key="fields", load_default=1, validate=validate.Range(min=0))
    signers = fields.Integer(load_default=1, validate=validate.Range(min=0))


class TemplateInSchema(Schema):
    id = fields.String(validate=validate.Length(min=1, max=200))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, load_default=None)
    category = fields.String(allow_none=True, load_default=None)
    fileSize = fields.Integer(load_default=0, validate=validate.Range(min=0))
    usageCount = fields.Integer(load_default=0, validate=validate.Range(min=0))
    isPublic = StrictBoolean(load_default=False)
    createdAt = Instant()
    updatedAt = Instant()
    counts = fields.Nested(TemplateCountSchema, data_key="_count", load_default=lambda: {"fields_": 1, "signers": 1})


class BulkSendInSchema(Schema):
    id = fields.String(validate=validate.Length(min=1, max=200))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    templateId = fields.String(required=True, validate=validate.Length(min=1))
    status = fields.String(load_default="completed", validate=validate.OneOf(BULK_SEND_STATUSES))
    totalCount = fields.Integer(load_default=0, validate=validate.Range(min=0))
    sentCount = fields.Integer(load_default=0, validate=validate.Range(min=0))
    failedCount = fields.Integer(load_default=0, validate=validate.Range(min=0))
    emailMessage = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))
    createdAt = Instant()
    updatedAt = Instant()
    completesAt = Instant(allow_none=True, load_default=None)


class DocumentInSchema(Schema):
    id = fields.String(validate=validate.Length(min=1, max=200))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    status = fields.String(load_default="pending", validate=validate.OneOf(DOCUMENT_STATUSES))
    templateId = fields.String(allow_none=True, load_default=None)
    bulkSendId = fields.String(allow_none=True, load_default=None)
    createdAt = Instant()


class WebhookInSchema(Schema):
    """A webhook declared ahead (an app that registers its webhook in the vendor's dashboard)."""

    id = fields.String(validate=validate.Regexp(re.compile(r"\Awh_[A-Za-z0-9_-]{1,64}\Z")))
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    events = fields.List(
        fields.String(
            validate=[validate.Length(max=100), validate.Regexp(re.compile(rf"\A{EVENT_PATTERN.pattern}\Z"))]
        ),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    status = fields.String(load_default="active", validate=validate.OneOf(WEBHOOK_STATUSES))
    description = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))
    secret = fields.String(
        validate=validate.Regexp(re.compile(rf"\A{SECRET_PATTERN.pattern}\Z"), error="must be 64 lowercase hex")
    )
    failureCount = fields.Integer(load_default=0, validate=validate.Range(min=0))
    createdAt = Instant()


ENTITY_SCHEMAS: dict[str, type[Schema]] = {
    "apiKeys": ApiKeyInSchema,
    "templates": TemplateInSchema,
    "bulkSends": BulkSendInSchema,
    "documents": DocumentInSchema,
    "webhooks": WebhookInSchema,
}
