"""inSigner's Bulk Send shapes as marshmallow schemas: the reference page's fields, Zod's messages.

inSigner validates with Zod (its messages "Required" and "Invalid email" are Zod's defaults,
api-facts B.3), so the fields below answer with Zod's default texts and count string
lengths as JavaScript does (UTF-16 code units).
"""
from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from marshmallow.utils import missing

from ...clock import parse_instant

BULK_SEND_STATUSES = ("processing", "completed", "failed")
DOCUMENT_STATUSES = ("draft", "pending", "completed", "cancelled", "expired", "declined")
# The scopes of the Authentication page, verbatim.
SCOPES = (
    "*",
    "documents.*", "documents.read", "documents.create", "documents.write", "documents.send", "documents.delete",
    "templates.read",
    "campaigns.*", "campaigns.read", "campaigns.create", "campaigns.update", "campaigns.delete",
    "bulk_sends.*", "bulk_sends.read", "bulk_sends.create", "bulk_sends.delete",
    "webhooks.*", "webhooks.read", "webhooks.create", "webhooks.update", "webhooks.delete",
    "org.read",
)
# Anchored, as marshmallow's Regexp validator only matches a prefix.
KEY_PATTERN = re.compile(r"\Aisk_[A-Za-z0-9_-]{44}\Z")
# Zod's e-mail pattern (zod 3.22+), which the documented "Invalid email" message comes with.
ZOD_EMAIL = re.compile(r"^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$",
                       re.IGNORECASE)


# json.loads joins escaped surrogate pairs, so a surrogate left in a str is a lone one:
# no UTF-8 or UTF-16 encoding of it exists, so it can be neither measured nor answered.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE_MESSAGE = "Invalid string: contains a lone UTF-16 surrogate"




def json_type(value: Any) -> str:
    """Name the JSON type of a parsed value as Zod's messages do."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def js_length(text: str) -> int:
    """Return the length JavaScript sees: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Infinity")
JS_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")


def js_number(text: str) -> float:
    """Convert text as JavaScript's Number() does (NaN for anything it does not read)."""
    text = text.strip()
    if not text:
        return 0.0
    if JS_RADIX.fullmatch(text):
        whole = int(text, 0)
        return float(whole) if whole.bit_length() <= 1024 else math.inf
    if JS_DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    return math.nan


class ZodField(fields.Field):
    """A field whose missing and null values get Zod's messages."""

    expected = "string"

    def _validate_missing(self, value: Any) -> None:
        if value is missing and self.required:
            raise ValidationError("Required")
        if value is None and not self.allow_none:
            raise ValidationError(f"Expected {self.expected}, received null")

    def _type_error(self, value: Any) -> ValidationError:
        return ValidationError(f"Expected {self.expected}, received {json_type(value)}")


class Text(ZodField):
    """A string with optional length limits (in UTF-16 units) and an optional e-mail check."""

    def __init__(self, *, min_length: int | None = None, max_length: int | None = None, email: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_length, self.max_length, self.email = min_length, max_length, email

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self._type_error(value)
        if LONE_SURROGATE.search(value):
            raise ValidationError(LONE_SURROGATE_MESSAGE)
        problems = []
        length = js_length(value)
        if self.email and not ZOD_EMAIL.fullmatch(value):  # JavaScript's $ never matches before a newline
            problems.append("Invalid email")
        if self.min_length is not None and length < self.min_length:
            problems.append(f"String must contain at least {self.min_length} character(s)")
        if self.max_length is not None and length > self.max_length:
            problems.append(f"String must contain at most {self.max_length} character(s)")
        if problems:
            raise ValidationError(problems)
        return value


class Items(ZodField):
    """An array of `inner` values with a length range; element errors are keyed by index."""

    expected = "array"

    def __init__(self, inner: fields.Field, *, min_items: int = 0, max_items: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner, self.min_items, self.max_items = inner, min_items, max_items

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list:
        if not isinstance(value, list):
            raise self._type_error(value)
        if len(value) < self.min_items:
            raise ValidationError(f"Array must contain at least {self.min_items} element(s)")
        if self.max_items is not None and len(value) > self.max_items:
            raise ValidationError(f"Array must contain at most {self.max_items} element(s)")
        out, errors = [], {}
        for index, item in enumerate(value):
            try:
                out.append(self.inner.deserialize(item))
            except ValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out


class Obj(ZodField):
    """A JSON object loaded with `schema` (unknown keys dropped, as Zod's default strips them)."""

    expected = "object"

    def __init__(self, schema: type[Schema], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self._loader: Schema | None = None

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, dict):
            raise self._type_error(value)
        # One schema instance for every element: building one costs more than loading 500 signers.
        if self._loader is None:
            self._loader = self.schema()
        return self._loader.load(value)


class QueryInt(ZodField):
    """An integer query parameter, coerced from text as Zod's `z.coerce.number().int()` does."""

    expected = "number"

    def __init__(self, *, minimum: int, maximum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number = js_number(str(value))
        if math.isnan(number):
            raise ValidationError("Expected number, received nan")
        problems = []
        if math.isfinite(number) and number != int(number) or math.isinf(number):
            problems.append("Expected integer, received float")
        if number < self.minimum:
            problems.append(f"Number must be greater than or equal to {self.minimum}")
        if number > self.maximum:
            problems.append(f"Number must be less than or equal to {self.maximum}")
        if problems:
            raise ValidationError(problems)
        return int(number)


class Choice(ZodField):
    """One of a fixed set of strings (Zod's enum message)."""

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if value not in self.choices:
            expected = " | ".join(f"'{c}'" for c in self.choices)
            raise ValidationError(f"Invalid enum value. Expected {expected}, received '{value}'")
        return value


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


class BulkSendListArgsSchema(Schema):
    """Query of GET /api/v1/bulk-sends; an empty `cursor` is no cursor."""

    class Meta:
        unknown = EXCLUDE

    limit = QueryInt(minimum=1, maximum=100, load_default=25)
    cursor = Text(max_length=500)
    status = Choice(BULK_SEND_STATUSES)

    @pre_load
    def _empty_cursor_is_none(self, data: dict, **kwargs: Any) -> dict:
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


class FieldErrorSchema(Schema):
    field = fields.String(required=True)
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """An RFC 9457 problem, as inSigner sends every error (`errors` only on 422)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema))


# -- entities the control plane can add (fields the body omits get defaults) -------------------------
class StrictBoolean(fields.Field):
    """A JSON boolean and nothing else."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


class Instant(fields.Field):
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


ENTITY_SCHEMAS: dict[str, type[Schema]] = {
    "apiKeys": ApiKeyInSchema,
    "templates": TemplateInSchema,
    "bulkSends": BulkSendInSchema,
    "documents": DocumentInSchema,
}
