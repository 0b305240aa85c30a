"""The emulated APIs and what every one of them offers the app: routes, errors, auth, seed data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..bodies import BodyError, read_json_body
from ..config import API_NAMES as API_NAMES
from ..errors import ApiError, BadRequest, PayloadTooLarge
from . import operations as table
from .operations import Operation

if TYPE_CHECKING:
    from faker import Faker
    from flask import Blueprint, Response
    from marshmallow import Schema

    from ..clock import Clock
    from ..config import Settings
    from ..context import RequestContext
    from ..credentials import Credentials
    from ..ports import RequestLimits
    from ..seeding import Snapshot
    from ..state import MockState
    from ..tenants import Tenant


# The short `message` of the field error `body` that each body problem gets.
BODY_FIELD_MESSAGES = {
    "content-type": "Content-Type must be application/json",
    "utf-8": "Invalid UTF-8",
    "empty": "Required",
    "malformed": "Malformed JSON",
    "too-deep": "Nested too deeply",
    "surrogate": "Invalid Unicode escape",
    "not-object": "Expected object",
}


class Backend(Protocol):
    """What the app asks of every API's backend; each API's views use their own backend's class."""

    def add_entity(self, tenant: Tenant, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and store an entity sent through the control plane; return it as stored."""
        ...

    def reset(self, seed: int) -> None:
        """Return the backend's own sequences to a fresh start under `seed` (a reset that keeps the seed data)."""
        ...

    def export_counters(self) -> dict[str, Any]:
        """The backend's own counters, for a snapshot's `counters` (none: {})."""
        ...

    def restore_counters(self, counters: dict[str, Any]) -> None:
        """Take a snapshot's counters back (those export_counters gave)."""
        ...


BackendType = TypeVar("BackendType", bound=Backend)


@dataclass(frozen=True)
class BuildInputs:
    """What an API's `build` is given: the parts of the state it stands on, already made."""

    settings: Settings
    seed: int
    clock: Clock
    rate_limits: RequestLimits
    # The app's one Faker, made when seed data is first built (not at start-up).
    faker: Callable[[], Faker]


@dataclass(frozen=True)
class Built:
    """What an API's `build` gives: its backend, and its tenants' seed data and fixture keys."""

    backend: Backend
    snapshot: Snapshot
    fixture_tenant_id: str
    fixture_keys: list[dict[str, Any]]
    # Tenants' options: the key entity of a tenant made on first use, and which keys may make one.
    default_key: Callable[[str], dict[str, Any]] | None = None
    accepts: Callable[[str], bool] | None = None


@dataclass
class EmulatedApi:
    """One emulated API as the app and the control plane see it."""

    name: str
    prefix: str
    blueprint: Blueprint
    collections: dict[str, tuple[str, tuple[str, ...]]]
    render_error: Callable[[ApiError], Response]
    # Judge the request's credentials (None: no Authorization header): return the tenant and the
    # credentials with what the key may do, or raise Unauthorized.
    authenticate: Callable[[MockState, Credentials | None], tuple[Tenant, Credentials]]
    # Build the backend and the seed data from the fixtures (at start-up and on each reseed).
    build: Callable[[BuildInputs], Built]
    describe_entity: Callable[[str, dict[str, Any]], dict[str, Any]] = field(default=lambda collection, doc: doc)
    # The API's own response headers (e.g. inSigner's X-Request-Id and RateLimit-*), on every answer.
    decorate: Callable[[RequestContext, Response], Response] | None = None
    # Per collection, the schema that a stored document must load with (a snapshot's are checked with it).
    stored_schemas: Mapping[str, type[Schema]] = field(default_factory=dict)
    # The operations the mock serves: the API's operation table (`apis/<api>/operations.py`).
    operations: tuple[Operation, ...] = ()

    def owns(self, path: str) -> bool:
        return path == self.prefix.rstrip("/") or path.startswith(self.prefix)

    def template_for(self, path: str) -> str:
        """Return the documented path template that `path` fits (any method), else UNSERVED_PATH."""
        return table.template_for(self.operations, path)

    def example_answer(self, method: str, path: str) -> Any:
        """Return the vendor's example answer of the call: what a `malformed` fault cuts in half."""
        return table.example_answer(self.operations, method, path)


def read_body(ctx: RequestContext, *, reject_lone_surrogates: bool = True) -> dict[str, Any]:
    """Return the request's JSON object body, or raise the API error that its problem deserves (400, 413)."""
    try:
        return read_json_body(
            ctx.request,
            ctx.state.settings.max_body_bytes,
            json_content_type=True,
            reject_lone_surrogates=reject_lone_surrogates,
        )
    except BodyError as exc:
        if exc.too_large:
            raise PayloadTooLarge(exc.message) from None
        raise BadRequest(
            exc.message, field_errors=[{"field": "body", "message": BODY_FIELD_MESSAGES.get(exc.problem, exc.message)}]
        ) from None
