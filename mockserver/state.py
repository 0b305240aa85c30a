"""Per-app state (settings, store, clock, tenants, limits, faults, journal, scenarios) in app.extensions."""
from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING, Any

from faker import Faker
from flask import Flask, current_app

from .clock import Clock, parse_instant
from .config import Settings
from .faults.engine import FaultEngine
from .ids import IdFactory
from .journal import Journal
from .pipeline import Pipeline
from .ratelimits import RateLimits
from .store import Store
from .tenants import Tenants

if TYPE_CHECKING:
    from .apis import EmulatedApi
    from .scenarios import Scenarios

EXTENSION = "mockserver"


class MockState:
    """Everything one app instance knows; two apps in one process share nothing."""

    def __init__(self, settings: Settings, apis: list["EmulatedApi"]) -> None:
        self.settings = settings
        self.seed = settings.seed
        self.apis = {api.name: api for api in apis}
        self.store = Store(settings.store, settings.db if settings.store == "tinydb" else None)
        frozen = parse_instant(settings.freeze_at) if settings.freeze_at else None
        self.clock = Clock(frozen)
        self.lock = threading.RLock()
        self.tenants: dict[str, Tenants] = {}
        self.backends: dict[str, Any] = {}
        self.request_ids = IdFactory(random.Random(f"{self.seed}/requests"))
        self.pipeline = Pipeline()
        self.faker = Faker("en_US")  # one per app: each API's seed data reseeds it
        self.rate_limits = RateLimits()
        self.faults = FaultEngine(self.seed)
        self.journal = Journal(settings.journal_size)
        # Read by create_app once the APIs are built (scenarios name their collections).
        self.scenarios: Scenarios | None = None
        for api in apis:
            self.backends[api.name] = api.build(self)
        for tenants in self.tenants.values():
            tenants.start()

    def api_for_path(self, path: str) -> "EmulatedApi | None":
        """Return the emulated API whose prefix `path` is under, or None."""
        for api in self.apis.values():
            if api.owns(path):
                return api
        return None

    def use_tenants(self, api: str, collections: dict, snapshot, fixture_tenant_id: str, fixture_keys: list[dict],
                    **options) -> None:
        """Create the tenants of one API, or give existing ones a new seed snapshot (a reseed).

        Called by each API's `build`; `options` go to Tenants (default_key, accepts).
        """
        if api in self.tenants:
            self.tenants[api].snapshot = snapshot
            return
        self.tenants[api] = Tenants(api, self.store, collections, snapshot, fixture_tenant_id, fixture_keys,
                                    self.seed, self.settings.max_tenants, self.settings.strict_auth, **options)

    def reset(self, seed: int | None = None) -> dict:
        """Return to the start-up state, optionally with a new seed."""
        with self.lock, self.store.transaction():
            if seed is not None:
                self.seed = seed
            self.store.drop_all()
            self.request_ids = IdFactory(random.Random(f"{self.seed}/requests"))
            for name, api in self.apis.items():
                if seed is not None:
                    self.backends[name] = api.build(self)
                self.tenants[name].reset(self.seed)
            self.clock.reset()
            self.rate_limits.reset()
            self.faults.reset(self.seed)
            self.journal.reset()
            self.apply_startup_scenario()
        return self.summary()

    def apply_startup_scenario(self) -> None:
        """Apply the scenario of --scenario, if any (the start-up state includes it)."""
        if self.scenarios is not None and self.settings.scenario:
            self.scenarios.apply(self, self.settings.scenario)

    def summary(self) -> dict:
        """Count entities per API, tenant and collection."""
        out: dict[str, Any] = {}
        for name, tenants in self.tenants.items():
            out[name] = {
                tenant.id: {coll: len(tenant.collection(coll)) for coll in tenant.schema}
                for tenant in tenants.all()
            }
        return out

    def close(self) -> None:
        """Flush and close the store."""
        self.store.close()


def get_state(app: Flask | None = None) -> MockState:
    """Return the state of `app` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]
