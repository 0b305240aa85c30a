"""The snapshot document's schemas: every member of the type, and within the bounds, that the CLI and the APIs accept.

`validate_document` checks a whole `mockserver-snapshot/1` document before anything changes and
returns the first problem as `(where, message)`, `where` a dot path (`journal.3.time`). The
options use the CLI's own ranges (config.RANGES); the clock the clock's span; rate-limit
settings must be whole and typed, for the known APIs only; stored documents must load with the
schema the control plane uses to add an entity of their collection.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate

from ..clock import EARLIEST, LATEST, check_in_range, parse_instant
from ..config import RANGES
from ..errors import flatten_messages
from ..fields import StrictBoolean, StrictInteger, StrictNumber
from ..ids import set_random_state


def ranged(name: str) -> validate.Range:
    low, high = RANGES[name]
    return validate.Range(min=low, max=high)


class RandomState(fields.Field[Any]):
    """A state of Python's `random.Random` as `ids.random_state` writes it."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            set_random_state(random.Random(), value)
        except (ValueError, OverflowError):  # a word outside 32 bits overflows in setstate
            raise ValidationError("is not a random state") from None
        return value


class ClockInstant(fields.String):
    """An ISO 8601 instant the mock's clock may show (1970 to 9000)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            check_in_range(parse_instant(text))
        except ValueError as exc:
            message = str(exc) if str(exc).startswith("must be from") else "must be an ISO 8601 instant"
            raise ValidationError(message) from None
        return text


class Strict(Schema):
    class Meta:
        unknown = INCLUDE  # a later version of the format may add members; those we know are checked


class OptionsSchema(Strict):
    seed = StrictInteger(required=True, validate=ranged("seed"))
    seedCount = StrictInteger(required=True, validate=ranged("seed_count"))
    insignerAsyncSeconds = StrictNumber(required=True, validate=ranged("insigner_async_seconds"))
    strictAuth = StrictBoolean(required=True)
    fixtures = fields.String(required=True)


class ClockSchema(Strict):
    now = ClockInstant(required=True)
    frozen = StrictBoolean(required=True)
    timestamp = StrictNumber(
        allow_none=True, validate=validate.Range(min=EARLIEST.timestamp(), max=LATEST.timestamp(), max_inclusive=False)
    )


class IdsSchema(Strict):
    random = RandomState(required=True)
    firstIds = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class JournalEntrySchema(Strict):
    id = StrictInteger(required=True, validate=validate.Range(min=1))
    time = ClockInstant(required=True)
    api = fields.String(required=True)
    tenant = fields.String(required=True, allow_none=True)
    method = fields.String(required=True)
    path = fields.String(required=True)
    query = fields.Dict(
        required=True,
        keys=fields.String(),
        values=fields.Raw(
            validate=lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(s, str) for s in v))
        ),
    )
    headers = fields.Dict(required=True, keys=fields.String(), values=fields.String())
    body = fields.Raw(required=True, allow_none=True)
    status = StrictInteger(required=True, allow_none=True, validate=validate.Range(min=100, max=599))
    faultId = fields.String(required=True, allow_none=True)
    durationMs = StrictNumber(required=True, allow_none=True, validate=validate.Range(min=0))
    bodyWhole = StrictBoolean(required=True)


class RuleCountsSchema(Strict):
    """What the rules' listing adds to a rule (its body is checked by faults.rules.load_rule)."""

    id = fields.String(required=True)
    seen = StrictInteger(load_default=0, validate=validate.Range(min=0))
    hits = StrictInteger(load_default=0, validate=validate.Range(min=0))


class CountersSchema(Strict):
    journalNextId = StrictInteger(required=True, validate=validate.Range(min=0))
    journalTruncated = StrictBoolean(required=True)
    faultNextId = StrictInteger(required=True, validate=validate.Range(min=0))
    faultRandom = RandomState(required=True)
    requestIds = fields.Nested(IdsSchema, required=True)


def document_schema(
    collections: Mapping[str, Mapping[str, tuple[Any, ...]]],
    rate_limit_defaults: Mapping[str, Mapping[str, Any]],
    scoped: bool,
) -> Schema:
    """The schema of a snapshot of a server with these APIs' `collections` and rate-limit settings."""
    apis = list(collections)
    settings = {
        api: fields.Nested(
            Schema.from_dict(
                {
                    name: StrictBoolean(required=True)
                    if isinstance(value, bool)
                    else StrictInteger(required=True, validate=validate.Range(min=1))
                    for name, value in defaults.items()
                },
                name=f"{api}RateLimitSettings",
            )(unknown=RAISE),
            required=True,
        )
        for api, defaults in rate_limit_defaults.items()
    }
    count = StrictInteger(validate=validate.Range(min=0))
    with_requests = [api for api, defaults in rate_limit_defaults.items() if "requestsPerMinute" in defaults]
    rate_limits = Schema.from_dict(
        {
            "settings": fields.Nested(
                Schema.from_dict(dict(settings), name="RateLimitSettings")(unknown=RAISE), required=True
            ),
            "requests": fields.List(
                fields.Tuple(
                    (
                        fields.String(validate=validate.OneOf(with_requests)),
                        fields.String(),
                        fields.String(),
                        StrictNumber(),
                        count,
                    )
                ),
                required=True,
            ),
            "bulkSends": fields.List(fields.Tuple((fields.String(), StrictNumber(), count)), required=True),
        },
        name="RateLimits",
    )
    api_tenants = {
        api: fields.Nested(
            Schema.from_dict(
                {
                    "tenants": fields.List(
                        fields.Nested(
                            Schema.from_dict(
                                {
                                    "id": fields.String(required=True),
                                    "fixture": StrictBoolean(required=True),
                                    "ids": fields.Nested(IdsSchema, required=True),
                                    # The tenant's own sequences (webhooks); a snapshot from before has none.
                                    "sequences": fields.Dict(
                                        keys=fields.String(validate=validate.Length(min=1, max=100)),
                                        values=fields.Nested(IdsSchema),
                                    ),
                                    "collections": fields.Dict(
                                        required=True,
                                        keys=fields.String(validate=validate.OneOf(list(names))),
                                        values=fields.List(fields.Dict()),
                                    ),
                                },
                                name=f"{api}Tenant",
                            )(unknown=INCLUDE)
                        ),
                        required=True,
                    ),
                    "keys": fields.Dict(required=True, keys=fields.String(), values=fields.String()),
                },
                name=f"{api}Tenants",
            )(unknown=INCLUDE),
            required=not scoped,
        )
        for api, names in collections.items()
    }
    members: dict[str, fields.Field[Any]] = {
        "format": fields.String(required=True),
        "options": fields.Nested(OptionsSchema, required=True),
        "fixtureFiles": fields.Dict(keys=fields.String(), values=fields.String()),
        "clock": fields.Nested(ClockSchema, required=True),
        "rateLimits": fields.Nested(rate_limits, required=True),
        "faults": fields.List(fields.Dict(), required=True),
        "journal": fields.List(fields.Nested(JournalEntrySchema), required=True),
        "tenants": fields.Nested(Schema.from_dict(dict(api_tenants), name="Tenants")(unknown=RAISE), required=True),
        "counters": fields.Nested(CountersSchema, required=True),
        "scope": fields.Dict(keys=fields.String(validate=validate.OneOf(apis)), values=fields.String(allow_none=True)),
    }
    return Schema.from_dict(members, name="Snapshot")(unknown=INCLUDE)


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """The first of marshmallow's messages as (dot path, message)."""
    problems = flatten_messages(exc.messages)
    where = problems[0]["field"] if problems else "snapshot"
    message = problems[0]["message"] if problems else "is not a snapshot"
    # marshmallow names a Dict's bad key or value by `key`/`value` under the entry's name.
    where = where.removesuffix(".key").removesuffix(".value")
    return where, message.rstrip(".")


def validate_document(schema: Schema, doc: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return the first problem of `doc` under `schema`, or None."""
    try:
        schema.load(doc)
    except ValidationError as exc:
        return first_problem(exc)
    return None
