"""API key -> tenant: fixture keys map to fixture tenants, unknown keys get fresh seeded tenants."""

from __future__ import annotations

import copy
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .clock import parse_instant
from .ids import IdFactory
from .seeding import Snapshot, tenant_random

if TYPE_CHECKING:
    from .store import Collection, Store

TENANTS_TABLE = "_tenants"
# What a 401 says of a revoked key; an injected 401 says the same (it stands for one).


class KeyRefused(Exception):
    """A key that may not be used; `reason` is revoked, expired or unknown (each API says it in its words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Tenant:
    """One Collect team or inSigner organization: its data, random source, IDs and counters."""

    id: str
    api: str
    store: Store
    schema: dict[str, tuple[str, tuple[str, ...]]]
    ids: IdFactory
    fixture: bool
    counters: dict[str, Any] = field(default_factory=dict)
    # Set when a reset or an eviction drops the tenant: a request that holds it must look again.
    dropped: bool = False
    # On the memory store, a collection's seed documents are stored when it is first used (a
    # request stores only what it touches): the collections not filled yet, what fills one, and
    # how many documents each will hold (a summary need not fill them).
    unfilled: set[str] = field(default_factory=set)
    fill: Callable[[str], None] | None = None
    seed_sizes: Callable[[], dict[str, int]] | None = None
    # Sequences of the tenant's own beside `ids` (webhooks' ids and secrets, ...): drawing from one
    # moves no ID of the bulk sends, requests or contacts. `sequence_source` seeds a new one by name.
    sequences: dict[str, IdFactory] = field(default_factory=dict)
    sequence_source: Callable[[str], IdFactory] | None = None

    def sequence(self, name: str) -> IdFactory:
        """Return the tenant's own ID sequence `name`, seeded on first use (call it in a store transaction)."""
        found = self.sequences.get(name)
        if found is None:
            source = self.sequence_source
            found = source(name) if source is not None else IdFactory(tenant_random(0, self.api, f"{self.id}/{name}"))
            self.sequences[name] = found
        return found

    def collection(self, name: str) -> Collection:
        """Return this tenant's collection `name` (its seed documents stored first, on first use)."""
        if name in self.unfilled:
            self._fill(name)
        key, lookups = self.schema[name][:2]
        return self.store.collection(f"{self.api}/{self.id}/{name}", key, lookups, *self.schema[name][2:])

    def size(self, name: str) -> int:
        """How many documents collection `name` holds, without storing its seed documents."""
        if name in self.unfilled and self.seed_sizes is not None:
            return self.seed_sizes().get(name, 0)
        return len(self.collection(name))

    def _fill(self, name: str) -> None:
        with self.store.transaction():
            if name in self.unfilled:
                self.unfilled.discard(name)
                if self.fill is not None and not self.dropped:
                    self.fill(name)

    def forget_seed(self) -> None:
        """Store no more seed documents (the tenant is dropped)."""
        self.unfilled = set()
        self.fill = None

    def table_names(self) -> list[str]:
        return [f"{self.api}/{self.id}/{name}" for name in self.schema]


def derived_tenant_id(api: str, key: str) -> str:
    """Name a tenant after a hash of its key, so the key itself never shows."""
    return "tenant-" + hashlib.sha256(f"{api}\0{key}".encode()).hexdigest()[:12]


class Tenants:
    """The tenants of one API, created on first use and bounded (least recently used go first)."""

    def __init__(
        self,
        api: str,
        store: Store,
        schema: dict[str, tuple[str, tuple[str, ...]]],
        snapshot: Snapshot,
        fixture_tenant_id: str,
        fixture_keys: list[dict[str, Any]],
        seed: int,
        max_tenants: int,
        strict: bool,
        default_key: Callable[[str], dict[str, Any]] | None = None,
        accepts: Callable[[str], bool] | None = None,
    ) -> None:
        self.api = api
        # The key entity of a tenant created on first use, and which keys may create one at all.
        self.default_key = default_key or (lambda key: {"key": key, "revoked": False, "expiresAt": None})
        self.accepts = accepts or (lambda key: True)
        self.store = store
        self.schema = schema
        self.snapshot = snapshot
        self.fixture_tenant_id = fixture_tenant_id
        self.fixture_keys = fixture_keys
        self.seed = seed
        self.max_tenants = max_tenants
        self.strict = strict
        self._lock = threading.RLock()
        # Told the id of each tenant the bound evicts (what else keeps per tenant drops its part).
        self.on_evict: Callable[[str], None] = lambda tenant_id: None
        self._tenants: OrderedDict[str, Tenant] = OrderedDict()
        self._keys: dict[str, str] = {}

    def _registry(self) -> Collection:
        return self.store.collection(TENANTS_TABLE, "id")

    # -- building -------------------------------------------------------------------------------
    def _new(self, tenant_id: str, fixture: bool) -> Tenant:
        rng = tenant_random(self.seed, self.api, tenant_id)
        ids = IdFactory(rng, self.snapshot.first_ids)
        return Tenant(
            tenant_id, self.api, self.store, self.schema, ids, fixture, sequence_source=self._sequences(tenant_id)
        )

    def _sequences(self, tenant_id: str) -> Callable[[str], IdFactory]:
        """What seeds a tenant's own sequences: the seed, the API, the tenant and the sequence's name."""
        seed, api = self.seed, self.api
        # The fixtures' first IDs of each kind come first here too (the examples' `wh_abc123`).
        return lambda name: IdFactory(tenant_random(seed, api, f"{tenant_id}/{name}"), self.snapshot.first_ids)

    def _seed(self, tenant: Tenant, own_key: str | None) -> None:
        """Give `tenant` its keys at once and its seed documents collection by collection, on first use.

        The memory store fills each collection when it is first used: a reset stores nothing, and
        a test's new tenant stores only what its calls touch (mock-defined; no answer differs). A
        file store fills them all at once: its file is there to be read.
        """
        if tenant.fixture:
            key_docs = [dict(k) for k in self.fixture_keys]
        else:
            key_docs = [self.default_key(own_key)] if own_key else []
        snapshot = self.snapshot

        skipped: frozenset[str] = frozenset() if tenant.fixture else snapshot.fixture_only

        def fill(name: str) -> None:
            if name in skipped:
                return
            docs = [dict(k) for k in key_docs] if name == "apiKeys" else snapshot.fresh_collection(name)
            if docs:
                tenant.collection(name).insert_many(docs)

        @functools.cache
        def seed_sizes() -> dict[str, int]:
            # Fixed for the tenant's life: its seed and keys do not change. Counted once, not once per
            # collection a state summary (every reset's answer) asks about.
            sizes = {**snapshot.sizes(), "apiKeys": len(key_docs)}
            return {name: 0 if name in skipped else size for name, size in sizes.items()}

        with self.store.transaction(), self._lock:
            tenant.fill = fill
            tenant.seed_sizes = seed_sizes
            tenant.unfilled = set(self.schema)
            for key_doc in key_docs:
                self._keys[key_doc["key"]] = tenant.id
            self._registry().insert(
                {"id": f"{self.api}/{tenant.id}", "api": self.api, "tenant": tenant.id, "fixture": tenant.fixture}
            )
            if self.store.kind != "memory":
                for name in self.schema:
                    tenant.collection(name)

    def _new_fixture_tenant(self) -> Tenant:
        """The fixture tenant, its keys known at once, its seed documents stored on first use."""
        tenant = self._new(self.fixture_tenant_id, True)
        self._tenants[tenant.id] = tenant
        self._seed(tenant, None)
        return tenant

    def start(self) -> None:
        """Create the fixture tenant, or reopen the tenants a file store already holds."""
        with self.store.transaction(), self._lock:
            known = [row for row in self._registry().all() if row.get("api") == self.api]
            for row in known:
                tenant = self._new(row["tenant"], bool(row.get("fixture")))
                self._tenants[tenant.id] = tenant
                for key_doc in tenant.collection("apiKeys").all():
                    self._keys[key_doc["key"]] = tenant.id
            if self.fixture_tenant_id not in self._tenants:  # a new store
                self._new_fixture_tenant()

    def reset(self, seed: int | None = None) -> None:
        """Drop every tenant and seed the fixture tenant again (the store is already emptied)."""
        with self.store.transaction(), self._lock:
            if seed is not None:
                self.seed = seed
            for tenant in self._tenants.values():
                tenant.dropped = True
                tenant.forget_seed()
            self._tenants.clear()
            self._keys.clear()
            self._new_fixture_tenant()

    # -- snapshots ------------------------------------------------------------------------------
    def export(self, only: set[str] | None = None) -> dict[str, Any]:
        """The tenants (those of `only`, when given), least recently used first, as stored, and the key map."""
        with self.store.transaction(), self._lock:
            tenants = [
                {
                    "id": tenant.id,
                    "fixture": tenant.fixture,
                    "ids": tenant.ids.export(),
                    "sequences": {name: ids.export() for name, ids in tenant.sequences.items()},
                    "collections": {name: tenant.collection(name).all() for name in self.schema},
                }
                for tenant in self._tenants.values()
                if only is None or tenant.id in only
            ]
            keys = {key: tid for key, tid in self._keys.items() if only is None or tid in only}
            return {"tenants": tenants, "keys": keys}

    def restore(self, data: dict[str, Any], replace_all: bool) -> None:
        """Take a snapshot's tenants: all of them (the store is emptied already), or replace those it holds."""
        with self.store.transaction(), self._lock:
            incoming = {row["id"] for row in data["tenants"]}
            for tenant in list(self._tenants.values()):
                if replace_all or tenant.id in incoming:
                    self._forget(tenant, drop_tables=not replace_all)
            if replace_all:
                self._keys.clear()
            for row in data["tenants"]:
                tenant = Tenant(
                    row["id"],
                    self.api,
                    self.store,
                    self.schema,
                    IdFactory.restored(row["ids"]),
                    row["fixture"],
                    sequences={name: IdFactory.restored(ids) for name, ids in (row.get("sequences") or {}).items()},
                    sequence_source=self._sequences(row["id"]),
                )
                for name, docs in row["collections"].items():
                    if docs:
                        # Copies: a snapshot kept for later resets (--snapshot) must not change with the store.
                        tenant.collection(name).insert_many(copy.deepcopy(docs))
                self._registry().insert(
                    {"id": f"{self.api}/{tenant.id}", "api": self.api, "tenant": tenant.id, "fixture": tenant.fixture}
                )
                self._tenants[tenant.id] = tenant
            self._keys.update(data["keys"])

    def _forget(self, tenant: Tenant, drop_tables: bool) -> None:
        tenant.dropped = True
        tenant.forget_seed()
        del self._tenants[tenant.id]
        self._keys = {k: v for k, v in self._keys.items() if v != tenant.id}
        if drop_tables:
            self.store.drop(tenant.table_names())
            self._registry().remove(f"{self.api}/{tenant.id}")

    # -- lookups --------------------------------------------------------------------------------
    def all(self) -> list[Tenant]:
        with self._lock:
            return list(self._tenants.values())

    def get(self, tenant_id: str) -> Tenant | None:
        return self._tenants.get(tenant_id)

    @property
    def fixture_tenant(self) -> Tenant:
        return self._tenants[self.fixture_tenant_id]

    def key_record(self, key: str) -> tuple[Tenant, dict[str, Any]] | None:
        """Return the tenant and the stored key entity for a known key."""
        tenant_id = self._keys.get(key)
        tenant = self._tenants.get(tenant_id) if tenant_id else None
        if tenant is None:
            return None
        record = tenant.collection("apiKeys").get(key)
        return (tenant, record) if record is not None else None

    def for_key(self, key: str, create: bool = True) -> Tenant | None:
        """Return the key's tenant, creating a fresh seeded one for an unknown key in lenient mode."""
        # The lock order of state.py: the store's transaction first, then this registry's lock.
        with self.store.transaction(), self._lock:
            tenant_id = self._keys.get(key)
            if tenant_id is not None and tenant_id in self._tenants:
                self._tenants.move_to_end(tenant_id)
                return self._tenants[tenant_id]
            if self.strict or not create or not self.accepts(key):
                return None
            tenant_id = derived_tenant_id(self.api, key)
            tenant = self._tenants.get(tenant_id)
            if tenant is None:
                tenant = self._new(tenant_id, False)
                self._tenants[tenant_id] = tenant
                self._seed(tenant, key)
                self._evict()
            else:
                self._keys[key] = tenant_id
            return tenant

    def id_for(self, value: str) -> str | None:
        """Return the id of the tenant that `value` (a tenant id or an API key) names, without creating it.

        An unseen key names the tenant a first call with it would create (lenient mode, a key the API
        accepts); otherwise it names none.
        """
        # The registry's lock alone (a look-up takes no store lock and marks no tenant as used).
        with self._lock:
            if value in self._tenants:
                return value
            tenant_id = self._keys.get(value)
            if tenant_id is not None and tenant_id in self._tenants:
                return tenant_id
        return None if self.strict or not self.accepts(value) else derived_tenant_id(self.api, value)

    def authenticate(self, key: str, now: datetime) -> tuple[Tenant, dict[str, Any]]:
        """Return the key's tenant and key entity; raise KeyRefused if the key may not be used.

        A revoked or expired key is refused; an unknown key gets a fresh tenant, unless auth is
        strict or the API does not accept its format.
        """
        with self.store.transaction():  # a reset running now must not drop the tenant under us
            known = self.key_record(key)
            if known is not None:
                tenant, record = known
                if record.get("revoked"):
                    raise KeyRefused("revoked")
                expires = record.get("expiresAt")
                if expires and parse_instant(expires) <= now:
                    raise KeyRefused("expired")
                self.for_key(key)  # marks the tenant as recently used
                return tenant, record
            found = self.for_key(key)
            if found is None:
                raise KeyRefused("unknown")
            return found, found.collection("apiKeys").get(key) or {}

    def register_key(self, tenant: Tenant, key: str) -> None:
        """Let `key` reach `tenant` (after the control plane added it)."""
        with self.store.transaction(), self._lock:
            self._keys[key] = tenant.id

    def _evict(self) -> None:
        while len(self._tenants) > self.max_tenants:
            victim = next((t for t in self._tenants.values() if not t.fixture), None)
            if victim is None:
                return
            self._forget(victim, drop_tables=True)
            self.on_evict(victim.id)
