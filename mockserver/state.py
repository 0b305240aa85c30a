"""Per-app state (settings, store, clock, tenants, limits, faults, journal, scenarios) in app.extensions.

Lock order, outermost first; a thread that holds one may take only those below it:
1. the store's transaction (`Store.transaction()`, one re-entrant lock for every table);
2. a `Tenants` registry's lock (one per API);
3. leaf locks, which call out to nothing while held: the clock's, the rate limits', the fault
   engine's, the journal's, the coverage's, the verifier's, the request-id sequence's, and the
   seed data's build lock (seeding.py; it calls only Faker).
A reset takes the store's transaction first, so it never waits for a registry lock while a
request that holds that lock waits for the store. A leaf lock is never held while calling into
another layer: a fault rule names its tenant by key or id, and the fault stage resolves those
through the registry before it takes the engine's lock (faults/stage.py); a one-tenant snapshot
filters the engine's rules after copying them out. Each order has a storm test in
tests/test_locks.py.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .clock import Clock, parse_instant
from .config import Settings
from .coverage.model import Coverage
from .errors import ControlError
from .faults.engine import FaultEngine
from .ids import IdFactory
from .journal.model import Journal
from .ratelimits.model import RateLimits
from .seeding import fixture_files, fixtures_digest, new_faker
from .store import Store
from .tenants import Tenant, Tenants
from .verification.model import Verifier

if TYPE_CHECKING:
    from faker import Faker

    from .apis import Backend, BackendType, EmulatedApi
    from .scenarios.model import Scenarios
    from .seeding import Snapshot
    from .snapshots.model import Checked

REQUEST_ID_LENGTH = 20


class MockState:
    """Everything one app instance knows; two apps in one process share nothing."""

    def __init__(self, settings: Settings, apis: list[EmulatedApi], scenarios: Scenarios) -> None:
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
        self._request_ids_lock = threading.Lock()
        self._request_ids = IdFactory(random.Random(f"{self.seed}/requests"))
        self.rate_limits = RateLimits()
        self.faults = FaultEngine(self.seed)
        self.journal = Journal(settings.journal_size)
        # With --snapshot: restores that snapshot, the start-up state a reset returns to.
        self.startup_restore: Callable[[], Any] | None = None
        self.verifier = Verifier(self.journal)
        # Spans resets: only DELETE /__mock/coverage clears it.
        self.coverage = Coverage(self.clock.timestamp())
        self.scenarios = scenarios
        for api in apis:
            self.backends[api.name] = api.build(self)
        for tenants in self.tenants.values():
            tenants.start()

    def backend(self, api: str, kind: type[BackendType]) -> BackendType:
        """Return the backend of `api`, as the class its views know it by."""
        found = self.backends[api]
        if not isinstance(found, kind):
            raise TypeError(f"the backend of {api} is a {type(found).__name__}, not a {kind.__name__}")
        return found

    def api_for_path(self, path: str) -> EmulatedApi | None:
        """Return the emulated API whose prefix `path` is under, or None."""
        for api in self.apis.values():
            if api.owns(path):
                return api
        return None

    def use_tenants(
        self,
        api: str,
        collections: dict[str, Any],
        snapshot: Snapshot,
        fixture_tenant_id: str,
        fixture_keys: list[dict[str, Any]],
        **options: Any,
    ) -> None:
        """Create the tenants of one API, or give existing ones a new seed snapshot (a reseed).

        Called by each API's `build`; `options` go to Tenants (default_key, accepts).
        """
        if api in self.tenants:
            self.tenants[api].snapshot = snapshot
            return
        self.tenants[api] = Tenants(
            api,
            self.store,
            collections,
            snapshot,
            fixture_tenant_id,
            fixture_keys,
            self.seed,
            self.settings.max_tenants,
            self.settings.strict_auth,
            **options,
        )

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

    def request_ids_export(self) -> dict[str, Any]:
        with self._request_ids_lock:
            return self._request_ids.export()

    def next_request_id(self) -> str:
        """Return the next `req_...` id of the answers' X-Request-Id headers."""
        with self._request_ids_lock:
            return "req_" + self._request_ids.token(REQUEST_ID_LENGTH)

    # -- the control plane's operations -----------------------------------------------------------
    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """Return to the start-up state; `seed` reseeds for this reset only (a later plain one returns)."""
        if seed is None and self.startup_restore is not None:
            self.startup_restore()
            return self.summary()
        with self.store.transaction():
            wanted = self.startup_settings.seed if seed is None else seed
            options_back = self.settings != self.startup_settings
            self.settings = self.startup_settings
            reseed, self.seed = options_back or wanted != self.seed, wanted
            self.store.drop_all()
            with self._request_ids_lock:
                self._request_ids = IdFactory(random.Random(f"{self.seed}/requests"))
            for name, api in self.apis.items():
                if reseed:
                    self.backends[name] = api.build(self)
                self.tenants[name].strict = self.settings.strict_auth
                self.tenants[name].reset(self.seed)
            self.clock.reset()
            self.rate_limits.reset()
            self.faults.reset(self.seed)
            self.journal.reset()
            self.apply_startup_scenario()
            return self.summary()

    # -- snapshots (snapshots/model.py checks a document whole before these run) ----------------
    def use_options(self, options: dict[str, Any]) -> None:
        """Take a snapshot's options; rebuild the seed data when they change what it is."""
        seed, count = options["seed"], options["seedCount"]
        changed = (seed, count, options["insignerAsyncSeconds"]) != (
            self.seed,
            self.settings.seed_count,
            self.settings.insigner_async_seconds,
        )
        self.seed = seed
        self.settings = self.settings.with_values(
            seed_count=count, insigner_async_seconds=options["insignerAsyncSeconds"], strict_auth=options["strictAuth"]
        )
        for name, api in self.apis.items():
            if changed:
                self.backends[name] = api.build(self)
            self.tenants[name].seed = seed
            self.tenants[name].strict = options["strictAuth"]

    def restore_whole(self, checked: Checked) -> None:
        """Become exactly the snapshot's state (inside the store's transaction)."""
        doc, counters = checked.doc, checked.doc["counters"]
        self.use_options(checked.options)
        self.store.drop_all()
        for name, tenants in self.tenants.items():
            tenants.restore(doc["tenants"][name], replace_all=True)
        self.clock.restore(*checked.clock)
        self.rate_limits.restore(doc["rateLimits"])
        self.faults.restore(checked.rules, counters["faultNextId"], counters["faultRandom"])
        self.journal.restore(doc["journal"], counters["journalNextId"], counters["journalTruncated"])
        with self._request_ids_lock:
            self._request_ids = IdFactory.restored(counters["requestIds"])

    def restore_scoped(self, checked: Checked) -> None:
        """Replace the snapshot's tenant(s), their windows, rules and journal entries; set the clock."""
        doc = checked.doc
        wanted = {tid for tid in (checked.scope or {}).values() if tid}
        # The live rules' tenants (keys or ids) that name a replaced tenant, resolved before the
        # tenants change and outside the engine's lock.
        scoped_rules = {
            value
            for value in self.faults.rule_tenants()
            if value in wanted or any(tenants.id_for(value) in wanted for tenants in self.tenants.values())
        }
        for name, tenants in self.tenants.items():
            if name in doc["tenants"]:
                tenants.restore(doc["tenants"][name], replace_all=False)
        self.clock.restore(*checked.clock)
        self.rate_limits.restore(doc["rateLimits"], tenants=wanted)
        self.faults.replace_scoped(scoped_rules, checked.rules)
        self.journal.replace_scoped(wanted, doc["journal"])

    def apply_startup_scenario(self) -> None:
        """Apply the scenario of --scenario, if any (the start-up state includes it)."""
        if self.settings.scenario:
            self.scenarios.apply(self, self.settings.scenario)

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

    def tenants_named(self, value: str) -> dict[str, Tenant | None]:
        """Return, per API, the tenant that `value` names, creating an unseen key's where its format fits.

        A value that is a tenant's id in any API is an id, never a new key. Otherwise it is an API
        key: a key no tenant has yet gets a fresh seeded one, exactly as its first call would
        (lenient mode, an API that accepts its format). The state calls use this.
        """
        by_id = {name: tenants.get(value) for name, tenants in self.tenants.items()}
        if any(tenant is not None for tenant in by_id.values()):
            return by_id
        return {name: tenants.for_key(value) for name, tenants in self.tenants.items()}

    def collection(self, api: str, collection: str) -> tuple[EmulatedApi, Tenants]:
        """Return the API and its tenants for `api`/`collection`; raise ControlError 404 if either is unknown."""
        if api not in self.apis:
            raise ControlError(404, "not-found", f"unknown api {api!r}")
        if collection not in self.apis[api].collections:
            raise ControlError(404, "not-found", f"unknown collection {collection!r} of {api}")
        return self.apis[api], self.tenants[api]

    def add_entity(self, api: str, collection: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """Add an entity to the tenant of API key `key` (default: the fixture tenant); return it as listed."""
        emulated, tenants = self.collection(api, collection)
        tenant: Tenant | None = self.tenants_named(key)[api] if key else tenants.fixture_tenant
        if tenant is None:
            raise ControlError(404, "not-found", "unknown tenant (strict auth accepts fixture keys only)")
        with self.store.transaction():
            try:
                created = self.backends[api].add_entity(tenant, collection, body)
            except ValueError as exc:
                raise ControlError(400, "invalid-entity", str(exc)) from None
            except KeyError as exc:
                # The store names the duplicate id; an API key is a credential, never shown in an error.
                detail = "that key exists already" if collection == "apiKeys" else exc.args[0]
                raise ControlError(409, "conflict", f"{collection}: {detail}") from None
            if collection == "apiKeys":
                tenants.register_key(tenant, created["key"])
        return emulated.describe_entity(collection, created)

    def stop(self) -> None:
        """The server is stopping: end every verification's wait now."""
        self.journal.stop()

    def close(self) -> None:
        """End waits, flush and close the store."""
        self.stop()
        self.store.close()
