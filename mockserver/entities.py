"""Entities added from outside the emulated APIs: the /__mock/state calls and the scenarios' `entities`.

A tenant is named by an API key or a tenant id; an API key no tenant has yet gets a fresh seeded
tenant, exactly as its first call would. Each API's backend validates and stores what it is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .errors import ControlError

if TYPE_CHECKING:
    from .emulated import AppState, EmulatedApi
    from .tenants import Tenant, Tenants


def tenants_named(state: AppState, value: str) -> dict[str, Tenant | None]:
    """Return, per API, the tenant that `value` names, creating an unseen key's where its format fits.

    A value that is a tenant's id in any API is an id, never a new key. Otherwise it is an API
    key: a key no tenant has yet gets a fresh seeded one, exactly as its first call would
    (lenient mode, an API that accepts its format).
    """
    by_id = {name: tenants.get(value) for name, tenants in state.tenants.items()}
    if any(tenant is not None for tenant in by_id.values()):
        return by_id
    return {name: tenants.for_key(value) for name, tenants in state.tenants.items()}


def collection(state: AppState, api: str, name: str) -> tuple[EmulatedApi, Tenants]:
    """Return the API and its tenants for `api`/`name`; raise ControlError 404 if either is unknown."""
    if api not in state.apis:
        raise ControlError(404, "not-found", f"unknown api {api!r}")
    if name not in state.apis[api].collections:
        raise ControlError(404, "not-found", f"unknown collection {name!r} of {api}")
    return state.apis[api], state.tenants[api]


def add_entity(state: AppState, api: str, name: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """Add an entity to the tenant of API key `key` (default: the fixture tenant); return it as listed."""
    emulated, tenants = collection(state, api, name)
    tenant: Tenant | None = tenants_named(state, key)[api] if key else tenants.fixture_tenant
    if tenant is None:
        raise ControlError(404, "not-found", "unknown tenant (strict auth accepts fixture keys only)")
    with state.store.transaction():
        try:
            created = state.backends[api].add_entity(tenant, name, body)
        except ValueError as exc:
            raise ControlError(400, "invalid-entity", str(exc)) from None
        except KeyError as exc:
            # The store names the duplicate id; an API key is a credential, never shown in an error.
            detail = "that key exists already" if name == "apiKeys" else exc.args[0]
            raise ControlError(409, "conflict", f"{name}: {detail}") from None
        if name == "apiKeys":
            tenants.register_key(tenant, created["key"])
    return emulated.describe_entity(name, created)


@contextmanager
def all_or_none(state: AppState) -> Iterator[None]:
    """Hold the store's transaction; if the block raises, every tenant is put back as it was before it.

    For a change made of several additions (a scenario's entities and webhooks): one refused
    leaves none of the others, nor a tenant its key created, nor an ID drawn.
    """
    with state.store.transaction():
        before = {name: tenants.export() for name, tenants in state.tenants.items()}
        try:
            yield
        except BaseException:
            replace_every_tenant(state, before)
            raise


def replace_every_tenant(state: AppState, exported: Mapping[str, dict[str, Any]]) -> None:
    """Make every API's tenants exactly `exported` (per API, as `Tenants.export()` gives them): the
    store is emptied and each API's tenants restored (a whole snapshot's restore, a rolled-back change)."""
    with state.store.transaction():
        state.store.drop_all()
        for name, tenants in state.tenants.items():
            tenants.restore(exported[name], replace_all=True)
