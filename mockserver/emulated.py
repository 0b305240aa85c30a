"""What an emulated API is to the app, and what the app's state is to an API and to the concerns.

`EmulatedApi` is one API as the pipeline, the control plane and the OpenAPI document see it
(each API builds its own in `apis/<api>/__init__.py`); `Caller` is who calls it once it accepted
the credentials. `AppState` is the app's state as everything below the composition root sees it:
the parts every request stands on (settings, clock, store, tenants, the APIs and their backends)
and, through `part`, a concern's own model by its class. Nothing here names a concern, so a
concern that names these names no other concern (the contracts count type-only imports).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from . import operations as table
from .operations import Operation

if TYPE_CHECKING:
    from datetime import datetime

    from faker import Faker
    from flask import Blueprint, Response
    from marshmallow import Schema

    from .clock import Clock
    from .config import Settings
    from .credentials import Credentials
    from .egress import EgressPolicy
    from .errors import ApiError
    from .ports import Decision, PreparedEvent, RequestLimits, WebhookEvents
    from .seeding import Snapshot
    from .store import Store
    from .tenants import Tenant, Tenants


class Backend(Protocol):
    """What the app asks of every API's backend; each API's views use their own backend's class."""

    def add_entity(self, tenant: Tenant, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and store an entity sent through the control plane; return it as stored."""
        ...

    def registered_webhooks(self, tenant: Tenant) -> list[dict[str, Any]]:
        """The tenant's live webhooks, oldest first, as GET /__mock/webhooks shows them (without api and tenant)."""
        ...

    def record_delivery(self, tenant: Tenant, webhook_id: str, ok: bool, last: bool) -> str | None:
        """Count an attempt's outcome in the webhook (`failureCount`, and the status it leads to); return the status.

        `last`: the failed attempt was its delivery's last. None: the webhook is gone.
        """
        ...

    def prepare_event(self, tenant: Tenant, name: str, given: dict[str, Any]) -> PreparedEvent:
        """Make a documented event of an entity ready to emit (POST /__mock/webhooks/trigger).

        Raise ValueError naming the member for an event the API does not document or a missing
        member, LookupError for an unknown entity.
        """
        ...

    def on_clock(self, tenants: list[Tenant], now: datetime) -> None:
        """The mock's clock reached `now`: make the changes due by then (in the store's transaction)."""
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
PartType = TypeVar("PartType")


class AppState(Protocol):
    """The app's state as the APIs, the concerns and the control plane's kit see it (`state.MockState` fills it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def store(self) -> Store: ...

    @property
    def tenants(self) -> Mapping[str, Tenants]: ...

    @property
    def apis(self) -> Mapping[str, EmulatedApi]: ...

    @property
    def backends(self) -> Mapping[str, Backend]: ...

    def backend(self, api: str, kind: type[BackendType]) -> BackendType:
        """Return the backend of `api`, as the class its views know it by."""
        ...

    def tenant_ids(self, value: str) -> dict[str, str | None]:
        """Return, per API, the id of the tenant that `value` (an API key or a tenant id) names; create none."""
        ...

    def part(self, kind: type[PartType]) -> PartType:
        """Return the app's one `kind` (a concern's model: the journal, the fault engine, ...)."""
        ...


@dataclass(slots=True)
class Caller:
    """Who calls an emulated API, once the API accepted the credentials: nothing here is optional.

    The stages after authentication and the views receive it; before, or on a refused request,
    there is none (`RequestContext.caller` is None).
    """

    api: EmulatedApi
    tenant: Tenant
    credentials: Credentials
    key: str


class AnsweredRequest(Protocol):
    """What an API's `decorate` reads of a request (`context.RequestContext` fills it)."""

    @property
    def state(self) -> AppState: ...

    @property
    def caller(self) -> Caller | None: ...

    @property
    def rate_limit(self) -> Decision | None: ...


@dataclass(frozen=True)
class BuildInputs:
    """What an API's `build` is given: the parts of the state it stands on, already made."""

    settings: Settings
    seed: int
    clock: Clock
    rate_limits: RequestLimits
    # The app's one Faker, made when seed data is first built (not at start-up).
    faker: Callable[[], Faker]
    # Where webhooks may be delivered: what registration checks a URL against.
    egress: EgressPolicy
    # Where the API's events go (the webhooks concern's deliveries).
    events: WebhookEvents


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
    authenticate: Callable[[AppState, Credentials | None], tuple[Tenant, Credentials]]
    # Build the backend and the seed data from the fixtures (at start-up and on each reseed).
    build: Callable[[BuildInputs], Built]
    describe_entity: Callable[[str, dict[str, Any]], dict[str, Any]] = field(default=lambda collection, doc: doc)
    # The API's own response headers (e.g. inSigner's X-Request-Id and RateLimit-*), on every answer.
    decorate: Callable[[AnsweredRequest, Response], Response] | None = None
    # Per collection, the schema that a stored document must load with (a snapshot's are checked with it).
    stored_schemas: Mapping[str, type[Schema]] = field(default_factory=dict)
    # The operations the mock serves: the API's operation table (`apis/<api>/operations.py`).
    operations: tuple[Operation, ...] = ()
    # The events the mock delivers to its webhooks: name -> the schema of a delivery's body, and the
    # headers each delivery carries (name -> what it says), for the OpenAPI document's `webhooks`.
    events: Mapping[str, type[Schema]] = field(default_factory=dict)
    event_headers: Mapping[str, str] = field(default_factory=dict)

    def owns(self, path: str) -> bool:
        return path == self.prefix.rstrip("/") or path.startswith(self.prefix)

    def template_for(self, path: str) -> str:
        """Return the documented path template that `path` fits (any method), else UNSERVED_PATH."""
        return table.template_for(self.operations, path)

    def example_answer(self, method: str, path: str) -> Any:
        """Return the vendor's example answer of the call: what a `malformed` fault cuts in half."""
        return table.example_answer(self.operations, method, path)
