"""Per-app state (settings, store, clock, tenants, limits, faults, journal, scenarios) in app.extensions.

MockState holds; it is built in one step from the settings, the APIs' tables and the scenarios
(each API's `build` gets BuildInputs, never the half-built state). What changes it lives with its
concern: a reset in lifecycle/model.py, a snapshot's capture and restore in snapshots/model.py, the
entities the control plane adds in entities.py, inSigner's request-id sequence in its backend.

Lock order, outermost first; a thread that holds one may take only those below it:
1. the store's transaction (`Store.transaction()`, one re-entrant lock for every table);
2. a `Tenants` registry's lock (one per API);
3. leaf locks, which call out to nothing while held: the clock's, the rate limits', the fault
   engine's, the journal's, the coverage's, the verifier's, inSigner's request-id sequence's, the
   deliveries' (webhooks/model.py; an API queues an event under it from inside the store's
   transaction) and the seed data's build lock (seeding.py; it calls only Faker).
A reset takes the store's transaction first, so it never waits for a registry lock while a
request that holds that lock waits for the store. A leaf lock is never held while calling into
another layer: a fault rule names its tenant by key or id, and the fault stage resolves those
through the registry before it takes the engine's lock (faults/stage.py); a one-tenant snapshot
filters the engine's rules after copying them out. Each order has a storm test in
tests/test_locks.py (the deliveries': tests/test_webhooks_deliveries.py).

Never a lock across a call out: a delivery attempt in flight holds no lock of the mock (its
sender thread takes the deliveries' lock only to pick it up and to record its outcome, then
reports that outcome to the API, taking the store's transaction, with nothing else held); an
advance or a settle waits on the deliveries' condition, which lets the lock go while it waits.
A reset, a snapshot's restore or an eviction, which hold the store's transaction, close the
sockets of attempts in flight after letting the deliveries' lock go: a close waits on no peer.
A delivery's name lookup (webhooks/transport.py) takes one of 8 slots of a semaphore, which
guards no state: the lookup thread holds its slot across `getaddrinfo` by design (that is the
bound), and the sender waits for a slot and for the lookup no longer than its attempt's
deadline, holding no lock of the mock. A scenario's all-or-nothing apply (entities.all_or_none)
holds the store's transaction, as a reset does, while it takes the registry's and the leaf locks
below it.

The event loop's thread and granian's thread that hands requests over (serving/bridge.py) take
these locks only for a request they answer themselves (granian's as it hands one with no body
over, or as it settles the read of a body), one such request at a time, and only while no view
thread is busy and no work runs beside the requests, so neither waits for one: every other
thread that takes them is a view thread, that work, or a delivery's sender. Should both pass
their checks at the same moment (each reads the other's count under the GIL, not under a lock),
one waits for the other's lock for the length of that request's own work; neither waits on
anything else while it holds one. The bridge's own two locks (the hook run after the next
answer, the count of work beside the requests) are leaves below all of these: each is held for a
swap or a count, and the hook is called after it is let go.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .clock import Clock, parse_instant
from .config import Settings
from .context import EXTENSION
from .coverage.model import Coverage
from .egress import EgressPolicy
from .emulated import BuildInputs
from .faults.engine import FaultEngine
from .faults.matching import DeliveryInfo
from .faults.rules import FaultRule
from .journal.model import Journal
from .ratelimits.model import RateLimits
from .seeding import fixture_files, fixtures_digest, new_faker
from .store import Store
from .tenants import Tenants
from .verification.model import Verifier
from .webhooks.model import Attempt, Deliveries, Delivery

if TYPE_CHECKING:
    from faker import Faker

    from .emulated import Backend, BackendType, EmulatedApi, PartType
    from .scenarios.model import Scenarios


class MockState:
    """Everything one app instance knows; two apps in one process share nothing."""

    def __init__(
        self,
        settings: Settings,
        apis: list[EmulatedApi],
        scenarios: Scenarios,
        startup_restore: Callable[[MockState], object] | None = None,
    ) -> None:
        self.settings = settings
        # What a reset returns to: a restored snapshot's options hold until then.
        self.startup_settings = settings
        self.seed = settings.seed
        self.apis = {api.name: api for api in apis}
        self.store = Store(settings.store, settings.db if settings.store == "tinydb" else None)
        frozen = parse_instant(settings.freeze_at) if settings.freeze_at else None
        self.clock = Clock(frozen)
        self.tenants: dict[str, Tenants] = {}
        self.backends: dict[str, Backend] = {}
        self.rate_limits = RateLimits()
        self.egress = EgressPolicy(
            settings.webhook_allow, strict=settings.webhook_strict_urls, host=settings.host, port=settings.port
        )
        self.deliveries = Deliveries(
            self.clock,
            self.egress,
            enabled=settings.webhooks == "on",
            timeout=settings.webhook_timeout,
            log_size=settings.deliveries_size,
            token_header=settings.collect_token_header,
        )
        self.deliveries.report = self._report_delivery
        self.deliveries.fault_for = self._delivery_fault
        self.faults = FaultEngine(self.seed)
        self.journal = Journal(settings.journal_size)
        # With --snapshot: restores that snapshot, the start-up state a reset returns to.
        self.startup_restore = startup_restore
        self.verifier = Verifier(self.journal)
        # Spans resets: only DELETE /__mock/coverage clears it.
        self.coverage = Coverage(self.clock.timestamp())
        self.scenarios = scenarios
        # What `part` answers: each concern's one model, by its class (the concerns name it, never MockState).
        self._parts: dict[type, object] = {
            type(part): part
            for part in (
                self.rate_limits,
                self.faults,
                self.journal,
                self.verifier,
                self.coverage,
                self.scenarios,
                self.deliveries,
            )
        }
        for api in apis:
            built = api.build(self.build_inputs())
            self.backends[api.name] = built.backend
            self.tenants[api.name] = Tenants(
                api.name,
                self.store,
                api.collections,
                built.snapshot,
                built.fixture_tenant_id,
                built.fixture_keys,
                self.seed,
                settings.max_tenants,
                settings.strict_auth,
                default_key=built.default_key,
                accepts=built.accepts,
            )
        for name, tenants in self.tenants.items():
            # An evicted tenant's deliveries go with it (the deliveries' lock is a leaf: see above).
            tenants.on_evict = functools.partial(self.deliveries.drop_tenant, name)
            tenants.start()
        if settings.insigner_async_seconds > 0:
            # Asynchronous bulk sends complete when the mock's clock reaches their time, read or not.
            self.deliveries.start_ticking(self.on_clock)

    def build_inputs(self) -> BuildInputs:
        """What each API's `build` stands on, as the state is now (the seed and options may change)."""
        return BuildInputs(
            self.settings, self.seed, self.clock, self.rate_limits, lambda: self.faker, self.egress, self.deliveries
        )

    def rebuild(self, name: str) -> None:
        """Build API `name`'s backend and seed data again (a new seed or new options); keep its tenants."""
        built = self.apis[name].build(self.build_inputs())
        self.backends[name] = built.backend
        self.tenants[name].snapshot = built.snapshot

    def backend(self, api: str, kind: type[BackendType]) -> BackendType:
        """Return the backend of `api`, as the class its views know it by."""
        found = self.backends[api]
        if not isinstance(found, kind):
            raise TypeError(f"the backend of {api} is a {type(found).__name__}, not a {kind.__name__}")
        return found

    def part(self, kind: type[PartType]) -> PartType:
        """Return the app's one `kind` (a concern's model: the journal, the fault engine, ...)."""
        found = self._parts.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"the state holds no {kind.__name__}")
        return found

    def api_for_path(self, path: str) -> EmulatedApi | None:
        """Return the emulated API whose prefix `path` is under, or None."""
        for api in self.apis.values():
            if api.owns(path):
                return api
        return None

    @cached_property
    def faker(self) -> Faker:
        """One Faker per app, made when seed data is first built: each API's seed data reseeds it."""
        return new_faker()

    def build_seed_data(self) -> None:
        """Build every API's seed data now (the warm-up thread of `serve` calls this once it listens)."""
        for tenants in self.tenants.values():
            tenants.snapshot.collections  # noqa: B018 - built on first use

    @cached_property
    def fixture_files(self) -> dict[str, str]:
        """Each seeding fixture file and its sha256: read when a snapshot first needs them, not at start-up."""
        return fixture_files(self.settings.fixtures_path)

    @cached_property
    def fixtures_digest(self) -> str:
        """The fixtures' digest a snapshot carries (`options.fixtures`)."""
        return fixtures_digest(self.settings.fixtures_path, self.fixture_files)

    def summary(self) -> dict[str, Any]:
        """Count entities per API, tenant and collection."""
        out: dict[str, Any] = {}
        with self.store.transaction():
            for name, tenants in self.tenants.items():
                out[name] = {tenant.id: {coll: tenant.size(coll) for coll in tenant.schema} for tenant in tenants.all()}
        return out

    def tenant_ids(self, value: str) -> dict[str, str | None]:
        """Return, per API, the id of the tenant that `value` (an API key or a tenant id) names; create none."""
        return {name: tenants.id_for(value) for name, tenants in self.tenants.items()}

    def on_clock(self) -> None:
        """Make what is due by the mock's now happen (asynchronous bulk sends complete, emitting their events)."""
        with self.store.transaction():
            now = self.clock.now()
            for name, backend in self.backends.items():
                backend.on_clock(self.tenants[name].all(), now)

    def _delivery_fault(self, delivery: Delivery, attempt: Attempt) -> FaultRule | None:
        """The delivery rule that fires on an attempt: its tenants resolved first, outside the engine's lock."""
        if not self.faults.active:
            return None
        tenants = self.tenants[delivery.api]
        resolved = {value: tenants.id_for(value) for value in self.faults.rule_tenants()}
        info = DeliveryInfo(
            delivery.api, delivery.tenant, delivery.webhook_id, delivery.event, attempt.number, resolved.get
        )
        return self.faults.decide_delivery(info)

    def _report_delivery(
        self, api: str, tenant_id: str, webhook_id: str, ok: bool, last: bool, generation: int
    ) -> str | None:
        """An attempt ended: the API counts it in its webhook (no lock of the deliveries is held here).

        A reset or a restore bumps the deliveries' generation inside the store's transaction, so an
        attempt of the state before is never counted in the state after.
        """
        with self.store.transaction():
            if generation != self.deliveries.generation:
                return None
            tenant = self.tenants[api].get(tenant_id)
            if tenant is None or tenant.dropped:
                return None
            return self.backends[api].record_delivery(tenant, webhook_id, ok, last)

    def stop(self) -> None:
        """The server is stopping: end every verification's wait and every delivery in flight now."""
        self.journal.stop()
        self.deliveries.stop()

    def close(self) -> None:
        """End waits, flush and close the store."""
        self.stop()
        self.store.close()


def mock_state(app: Flask | None = None) -> MockState:
    """Return the whole state of `app` (default: the current app): for the composition root's own calls.

    A reset, a restore, a scenario and the /__mock/state calls change every part at once; everything
    else reads the state as `emulated.AppState` (`context.get_state`).
    """
    found = (app or current_app).extensions[EXTENSION]
    if not isinstance(found, MockState):
        raise TypeError(f"the app's state is a {type(found).__name__}, not a MockState")
    return found
