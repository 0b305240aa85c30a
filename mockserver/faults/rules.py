"""A fault rule as data: the dataclass the engine keeps and the schema that validates and lists it."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..config import API_NAMES
from ..errors import describe_problems
from ..fields import StrictInteger, StrictNumber
from ..patterns import ANY, match_fields

KINDS = ("error", "delay", "drop", "malformed")
# What a rule of `"target": "delivery"` does to a webhook delivery's attempt (webhooks.md, section 5).
DELIVERY_KINDS = (
    "lose",
    "fail",
    "duplicate",
    "delay",
    "reorder",
    "badSignature",
    "missingSignature",
    "staleTimestamp",
    "tamperedBody",
)
# Kinds that change what inSigner signs: Collect sends no signature over its body nor a timestamp.
INSIGNER_ONLY_KINDS = ("tamperedBody", "staleTimestamp")
MAX_DELIVERY_DELAY_SECONDS = 7 * 86_400
MAX_COPIES = 10
# Waits are capped, as httpbin caps its delays: a typo must not hold a connection for hours.
MAX_DELAY_MS = 60_000
# Rules live in memory until deleted: their number and size are bounded, as the journal and the
# tenants are, so a script cannot grow the server without limit.
MAX_RULES = 1000
MAX_BODY = 64 * 1024  # bytes of a rule's `body`, as UTF-8 (JSON: as the mock would send it)
MAX_HEADERS = 50
MAX_RETRY_AFTER = 86_400
# RFC 9110 token characters for a header name; a value is visible ASCII, spaces and tabs: other
# text has no single way onto the wire (werkzeug writes Latin-1, granian UTF-8; beyond Latin-1,
# werkzeug's server fails). Matched whole: `$` would let a trailing newline, a header of its own, through.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
# The framing of the answer is the server's business: a wrong one would break the connection.
FRAMING_HEADERS = ("content-length", "transfer-encoding", "connection")


class FaultRuleError(ValueError):
    """A rule that cannot be used; the message names the field (`status: ...`)."""


@dataclass(frozen=True)
class FaultRule:
    """One rule: what it matches, what it does, and its lifetime; `id` is given when it is added."""

    api: str = ANY
    method: str = ANY
    path: str = ANY
    tenant: str | None = None
    status: int | None = None
    kind: str = "error"
    times: int | None = None
    after: int = 0
    probability: float = 1.0
    delay_ms: int = 0
    retry_after: int = 30
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    id: str | None = None
    # A delivery rule's own: what it matches besides api and tenant, and what its kind needs.
    target: str = "request"
    webhook: str | None = None
    event: str = ANY
    attempt: int | None = None
    copies: int = 1
    delay_seconds: float = 0
    stale_seconds: int = 600

    @property
    def on_deliveries(self) -> bool:
        return self.target == "delivery"

    def as_data(self) -> dict[str, Any]:
        """Return the rule as the control plane lists it (without live counters)."""
        schema = DELIVERY_RULE_SCHEMA if self.on_deliveries else RULE_SCHEMA
        return schema.dump(asdict(self))


class HeaderMap(fields.Dict):
    """Response headers to set: names are HTTP tokens, values strings without control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        headers: dict[str, str] = super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-untyped-call]  # marshmallow leaves Dict._deserialize unannotated
        if len(headers) > MAX_HEADERS:
            raise ValidationError(f"At most {MAX_HEADERS} headers.")
        for name, text in headers.items():
            if not HEADER_NAME.fullmatch(name):
                raise ValidationError(f"{name!r} is not a valid header name.")
            if name.lower() in FRAMING_HEADERS:
                raise ValidationError(f"{name} is set by the server, not by a rule.")
            if not HEADER_VALUE.fullmatch(text) or len(text) > 8192:
                raise ValidationError(f"The value of {name} has characters other than printable ASCII, or is too long.")
        return headers


class FaultRuleSchema(Schema):
    """The body of POST /__mock/faults (and each rule of a scenario); also how rules are listed."""

    class Meta:
        unknown = RAISE

    id = fields.String(dump_only=True, metadata={"description": "Given by the mock (flt_1, flt_2, ...)."})
    target = fields.String(
        load_only=True,
        load_default="request",
        validate=validate.OneOf(["request"]),
        metadata={"description": "request (the default): a rule on requests; delivery: see webhooks."},
    )
    api, method, path, tenant = match_fields("every tenant")
    status = StrictInteger(
        load_default=None,
        allow_none=True,
        validate=validate.Range(400, 599),
        metadata={"description": "The status of kind error, 400-599."},
    )
    kind = fields.String(load_default="error", validate=validate.OneOf(KINDS))
    times = StrictInteger(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={"description": "Fire on this many requests, then stop; null: until deleted."},
    )
    after = StrictInteger(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "Let this many matching requests pass first."},
    )
    probability = StrictNumber(
        load_default=1.0,
        validate=validate.Range(0, 1),
        metadata={"description": "Chance of firing, drawn from the seeded random source."},
    )
    delay_ms = StrictInteger(
        data_key="delayMs",
        load_default=0,
        validate=validate.Range(0, MAX_DELAY_MS),
        metadata={"description": f"Wait before answering, at most {MAX_DELAY_MS} ms."},
    )
    retry_after = StrictInteger(
        data_key="retryAfter",
        load_default=30,
        validate=validate.Range(0, MAX_RETRY_AFTER),
        metadata={"description": "Retry-After seconds, sent on 429 and 503."},
    )
    headers = HeaderMap(load_default=dict, metadata={"description": "Headers that override the default ones."})
    body = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={"description": "A body that overrides the default one (JSON, or a string sent as it is)."},
    )

    @validates_schema
    def _kind_needs(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, status = data.get("kind"), data.get("status")
        if kind == "error" and status is None:
            raise ValidationError("Required for kind error (400-599).", field_name="status")
        if kind != "error" and status is not None:
            raise ValidationError(
                f"Only for kind error; to delay an error use kind error with delayMs, not kind {kind}.",
                field_name="status",
            )
        if kind == "delay" and not data.get("delay_ms"):
            raise ValidationError("Must be at least 1 for kind delay.", field_name="delayMs")
        body = data.get("body")
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        if body is not None and len(text.encode("utf-8", "surrogatepass")) > MAX_BODY:
            raise ValidationError(f"At most {MAX_BODY} bytes.", field_name="body")
        # Half of a JSON number may still parse ("12" of "1234"): only containers are cut.
        if kind == "malformed" and not isinstance(data.get("body"), (dict, list, str, type(None))):
            raise ValidationError(
                "For kind malformed: an object or array (sent cut in half) or a string (sent as it is).",
                field_name="body",
            )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> FaultRule:
        return FaultRule(**data)


class DeliveryRuleSchema(Schema):
    """A rule of `"target": "delivery"`: it matches webhook delivery attempts, never requests."""

    class Meta:
        unknown = RAISE

    id = fields.String(dump_only=True, metadata={"description": "Given by the mock (flt_1, flt_2, ...)."})
    target = fields.String(required=True, validate=validate.OneOf(["delivery"]))
    api = fields.String(load_default=ANY, validate=validate.OneOf((*API_NAMES, ANY)))
    tenant = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))
    webhook = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    event = fields.String(
        load_default=ANY, validate=validate.Length(min=1, max=200), metadata={"description": "A glob: bulk_send.*"}
    )
    attempt = StrictInteger(load_default=None, allow_none=True, validate=validate.Range(min=1))
    kind = fields.String(required=True, validate=validate.OneOf(DELIVERY_KINDS))
    times = StrictInteger(load_default=None, allow_none=True, validate=validate.Range(min=1))
    after = StrictInteger(load_default=0, validate=validate.Range(min=0))
    probability = StrictNumber(load_default=1.0, validate=validate.Range(0, 1))
    copies = StrictInteger(load_default=1, validate=validate.Range(1, MAX_COPIES))
    delay_seconds = StrictNumber(
        data_key="delaySeconds", load_default=0, validate=validate.Range(0, MAX_DELIVERY_DELAY_SECONDS)
    )
    stale_seconds = StrictInteger(
        data_key="staleSeconds", load_default=600, validate=validate.Range(1, 10 * 365 * 86_400)
    )

    @validates_schema
    def _kind_needs(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("kind") in INSIGNER_ONLY_KINDS and data.get("api") == "collect":
            raise ValidationError(
                f"{data['kind']} is inSigner's only: Collect signs no body and sends no timestamp.", field_name="kind"
            )
        if data.get("kind") == "delay" and not data.get("delay_seconds"):
            raise ValidationError("Must be more than 0 for kind delay.", field_name="delaySeconds")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> FaultRule:
        return FaultRule(**data)


RULE_SCHEMA = FaultRuleSchema()
DELIVERY_RULE_SCHEMA = DeliveryRuleSchema()


def load_rule(body: Any) -> FaultRule:
    """Validate a rule body (a delivery rule when its `target` says so); raise FaultRuleError naming the field."""
    if not isinstance(body, dict):
        raise FaultRuleError("body: a fault rule must be a JSON object")
    schema = DELIVERY_RULE_SCHEMA if body.get("target") == "delivery" else RULE_SCHEMA
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise FaultRuleError(describe_problems(exc.messages)) from None
