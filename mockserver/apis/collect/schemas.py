"""Collect's request and response shapes as marshmallow schemas (the reference page's fields)."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ...clock import to_utc
from ...dumping import compile_dumper
from ...egress import parse_url
from ...fields import FieldErrorSchema, StrictBoolean
from ...loading import Loader, compile_loader

DOCUMENTED_MAX_CONTACTS = 50
# The webhook types of "Add a webhook", in the page's order and spellings (webhooks.md, section 1).
WEBHOOK_TYPES = (
    "created",
    "statusChanged",
    "portalSubmited",
    "dueDateChanged",
    "portalViewed",
    "docUploaded",
    "docDeleted",
    "docParsed",
    "itemApproved",
    "itemRejected",
    "itemReopened",
    "itemCancelValidation",
    "formSubmited",
    "emailSent",
    "emailClicked",
    "emailBounced",
    "emailOpened",
    "emailMarkedAsSpam",
    "emailBlocked",
    "emailUnsub",
    "smsSent",
    "smsDelivered",
    "smsClicked",
    "smsFailed",
    "smsUndelivered",
)
WEBHOOK_STATUSES = ("active", "paused")


class IsoDate(fields.Field[Any]):
    """An ISO 8601 date or date-time; kept as `date` or `datetime` (naive: the team's time zone)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date | datetime:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("Not a valid ISO 8601 date.")
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                to_utc(parsed)  # raises ValueError for year 0 or 10000 once in UTC
            return parsed
        except ValueError:
            raise ValidationError("Not a valid ISO 8601 date.") from None


class ContactSchema(Schema):
    """An inline contact object; unknown keys are ignored."""

    class Meta:
        unknown = EXCLUDE

    # The page sets no length on any field: only the body's size bounds them. An address longer
    # than 254 characters is not a valid one (RFC 5321), so the e-mail keeps that limit.
    email = fields.Email(required=True, validate=validate.Length(max=254))
    firstName = fields.String()
    lastName = fields.String()
    company = fields.String()
    phone = fields.String()
    tag = fields.List(fields.String())
    custom = fields.List(fields.Dict())
    data = fields.Dict()


class ContactRef(fields.Field[Any]):
    """One entry of `contacts`: an existing contact's ID, or a contact object."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | dict[str, Any]:
        if isinstance(value, str):
            if not value.strip():
                raise ValidationError("Must be a contact ID or a contact object.")
            return value
        if isinstance(value, dict):
            loaded = LOAD_CONTACT(value)
            return loaded if loaded is not None else CONTACT_SCHEMA.load(value)
        raise ValidationError("Must be a contact ID (string) or a contact object.")


class SampleSchema(Schema):
    """A sample of a document element; additional properties are allowed."""

    class Meta:
        unknown = INCLUDE

    itemId = fields.String(required=True, validate=validate.Length(min=1))
    url = fields.String(required=True)  # "url string": the page asks for no scheme


class Samples(fields.Field[Any]):
    """`samples`: documented as an array of objects, typed as an object: both are accepted."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise ValidationError("Must be an array of {itemId, url} objects.")
        loaded = LOAD_SAMPLES(value)
        return loaded if loaded is not None else SAMPLES_SCHEMA.load(value)


class SendMultipleRequestsSchema(Schema):
    """Body of POST /v1/requests."""

    class Meta:
        unknown = EXCLUDE

    campaignId = fields.String(required=True, validate=validate.Length(min=1))
    contacts = fields.List(ContactRef(), required=True)
    items = fields.List(fields.String(validate=validate.Length(min=1)))
    samples = Samples()
    dueDate = IsoDate()
    assignedTo = fields.String(validate=validate.Length(min=1))
    sendMessage = StrictBoolean()
    sendCompletionMessage = StrictBoolean()
    sendRejectionMessage = StrictBoolean()
    sendReopenMessage = StrictBoolean()

    def __init__(self, *args: Any, max_contacts: int = DOCUMENTED_MAX_CONTACTS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_contacts = max_contacts

    @validates_schema
    def contacts_count(self, data: dict[str, Any], **kwargs: Any) -> None:
        contacts = data.get("contacts")
        if contacts is not None and not 1 <= len(contacts) <= self.max_contacts:
            raise ValidationError(f"Between 1 and {self.max_contacts} contacts per call.", field_name="contacts")


class TargetUrl(fields.String):
    """An http or https URL of at most 2,048 characters (marshmallow's URL message)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse_url(text)
        except ValueError:
            raise ValidationError("Not a valid URL.") from None
        return text


class WebhookSchema(Schema):
    """Body of POST /v1/webhooks (unknown keys are ignored)."""

    class Meta:
        unknown = EXCLUDE

    targetUrl = TargetUrl(required=True)
    types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_TYPES)),
        validate=validate.Length(min=1, error="At least one type."),
    )
    campaignId = fields.String(validate=validate.Length(min=1))
    secretToken = fields.String(validate=validate.Length(max=256))


class WebhookChangeSchema(WebhookSchema):
    """Body of POST /v1/webhooks/{webhookId}: the same fields and `status`, none required."""

    targetUrl = TargetUrl()
    status = fields.String(validate=validate.OneOf(WEBHOOK_STATUSES))


class WebhookOutSchema(Schema):
    """A webhook as the "Add a webhook" example shows it, then the members "Modify a webhook" lists."""

    _id = fields.String(required=True)
    types = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    createdAt = fields.String(required=True)
    targetUrl = fields.String(required=True)
    campaignId = fields.String()
    secretToken = fields.String()


MESSAGE_FLAGS = ("sendMessage", "sendCompletionMessage", "sendRejectionMessage", "sendReopenMessage")


class ContactOutSchema(Schema):
    """A contact as Collect returns it (the key order of the reference example)."""

    _id = fields.String(required=True)
    email = fields.String(required=True)
    company = fields.String()
    phone = fields.String()
    lastName = fields.String()
    createdAt = fields.String()
    firstName = fields.String()
    tag = fields.List(fields.String())
    custom = fields.Raw()
    data = fields.Raw()
    nbRequest = fields.Integer()
    lastActivity = fields.String()


class EchoedContact(fields.Field[Any]):
    """An entry of the response's `contacts`: the ID string as sent, or the contact object."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        return DUMP_ECHOED_CONTACT(value)  # the schema's dump, compiled (py-spy: 9 us of the call's 208)


class RequestOutSchema(Schema):
    """A request as the reference example shows it."""

    # `required` says what every answer has (the OpenAPI document); dumping ignores it.
    _id = fields.String(required=True)
    status = fields.String(required=True)
    contact = fields.Nested(ContactOutSchema, required=True)
    dueDate = fields.String(required=True)
    privacy = fields.String(required=True)
    branding = fields.Dict(required=True)
    createdAt = fields.String(required=True)
    portalUrl = fields.String(required=True)
    campaignId = fields.String(required=True)
    sendMessage = fields.Boolean()
    sendCompletionMessage = fields.Boolean()
    sendRejectionMessage = fields.Boolean()
    sendReopenMessage = fields.Boolean()


class RequestEventSchema(Schema):
    """The body of a `created` delivery (mock-defined: the vendor documents no payload)."""

    _id = fields.String(required=True, metadata={"description": "The event's own 17-character id."})
    type = fields.String(required=True, metadata={"enum": ["created"]})
    createdAt = fields.String(required=True)
    data = fields.Nested(RequestOutSchema, required=True)


class SendMultipleRequestsResultSchema(Schema):
    """The 200 body of POST /v1/requests: errors, contacts, requests."""

    errors = fields.List(fields.Dict(), required=True)
    contacts = fields.List(EchoedContact(), required=True)
    requests = fields.List(fields.Nested(RequestOutSchema), required=True)


@functools.lru_cache(maxsize=8)
def send_multiple_requests_schema(max_contacts: int) -> SendMultipleRequestsSchema:
    """Return the (reusable) body schema for a team's contacts-per-call limit."""
    return SendMultipleRequestsSchema(max_contacts=max_contacts)


@functools.lru_cache(maxsize=8)
def send_multiple_requests_loader(max_contacts: int) -> Loader:
    """Return the compiled loader of that schema: its load, for bodies it accepts (None otherwise).

    cProfile of the call (the vendor's example, in-process): marshmallow's load was ~45 us of
    ~240; compiled, the same fields' own checks take ~10 us (mockserver/loading.py).
    """
    schema = send_multiple_requests_schema(max_contacts)
    return compile_loader(schema, checks=(schema.contacts_count,))


# Schema instances are reusable and building one is costly: build each once.
CONTACT_SCHEMA = ContactSchema()
SAMPLES_SCHEMA = SampleSchema(many=True)
# Their compiled loads, for the contacts and samples a body accepts (None: the schema words why).
LOAD_CONTACT = compile_loader(CONTACT_SCHEMA)
LOAD_SAMPLES = compile_loader(SAMPLES_SCHEMA)
ECHOED_CONTACT_SCHEMA = ContactOutSchema(exclude=("nbRequest", "lastActivity"))
DUMP_ECHOED_CONTACT = compile_dumper(ECHOED_CONTACT_SCHEMA)


class ErrorSchema(Schema):
    """Collect's error body (mock-defined: the vendor documents only the status texts)."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.List(fields.Nested(FieldErrorSchema))


# Schemas of the entities the control plane can add (fields the body omits get defaults).
class TeamInSchema(Schema):
    class Meta:
        unknown = INCLUDE

    _id = fields.String(validate=validate.Length(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tz = fields.String(load_default="Europe/Paris")
    maxContactsPerCall = fields.Integer(load_default=DOCUMENTED_MAX_CONTACTS, validate=validate.Range(min=1))


class MemberInSchema(Schema):
    class Meta:
        unknown = INCLUDE

    _id = fields.String(validate=validate.Length(min=1))
    email = fields.Email(required=True)
    firstName = fields.String()
    lastName = fields.String()
    role = fields.String(load_default="member", validate=validate.OneOf(["admin", "member"]))
    status = fields.String(load_default="active")


class CampaignItemSchema(Schema):
    class Meta:
        unknown = INCLUDE

    id = fields.String(validate=validate.Length(min=1))
    name = fields.String(load_default="Document")
    type = fields.String(load_default="document")


class CampaignInSchema(Schema):
    class Meta:
        unknown = INCLUDE

    _id = fields.String(validate=validate.Length(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "closed", "archived"]))
    dueDays = fields.Integer(load_default=7, validate=validate.Range(min=0, max=3650))
    branding = fields.Dict(load_default=lambda: {"useBranding": False})
    items = fields.List(fields.Nested(CampaignItemSchema), load_default=list)
    createdAt = IsoDate()


class ContactInSchema(ContactSchema):
    class Meta:
        unknown = INCLUDE

    _id = fields.String(validate=validate.Length(min=1))
    nbRequest = fields.Integer(load_default=0, validate=validate.Range(min=0))
    createdAt = IsoDate()


class ApiKeyInSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=500))
    revoked = StrictBoolean(load_default=False)
    expiresAt = IsoDate(allow_none=True, load_default=None)


class WebhookInSchema(Schema):
    """A webhook declared ahead (registered in the vendor's dashboard rather than through the API)."""

    class Meta:
        unknown = INCLUDE

    _id = fields.String(validate=validate.Length(min=1, max=200))
    targetUrl = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_TYPES)),
        load_default=lambda: list(WEBHOOK_TYPES),
        validate=validate.Length(min=1),
    )
    status = fields.String(load_default="active", validate=validate.OneOf(WEBHOOK_STATUSES))
    campaignId = fields.String(validate=validate.Length(min=1))
    secretToken = fields.String(validate=validate.Length(max=256))
    failureCount = fields.Integer(load_default=0, validate=validate.Range(min=0))
    createdAt = IsoDate()


ENTITY_SCHEMAS: dict[str, type[Schema]] = {
    "teams": TeamInSchema,
    "members": MemberInSchema,
    "campaigns": CampaignInSchema,
    "contacts": ContactInSchema,
    "apiKeys": ApiKeyInSchema,
    "webhooks": WebhookInSchema,
}
