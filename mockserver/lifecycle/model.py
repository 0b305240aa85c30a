"""A reset: the whole state back to what it was at start-up (POST /__mock/reset, the plugin between tests).

The start-up state is the fixtures' seed data under the start-up options, with the --scenario
applied, or the --snapshot's state when the server started from one. A reset holds the store's
transaction throughout (the lock order in state.py), so no request sees half of one.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..entities import add_entity

if TYPE_CHECKING:
    from ..state import MockState


def reset(state: MockState, seed: int | None = None) -> dict[str, Any]:
    """Return to the start-up state; `seed` reseeds for this reset only (a later plain one returns).

    Return the counts per API, tenant and collection.
    """
    if seed is None and state.startup_restore is not None:
        state.startup_restore(state)
        return state.summary()
    with state.store.transaction():
        wanted = state.startup_settings.seed if seed is None else seed
        options_back = state.settings != state.startup_settings
        state.settings = state.startup_settings
        reseed, state.seed = options_back or wanted != state.seed, wanted
        state.store.drop_all()
        for name in state.apis:
            if reseed:
                state.rebuild(name)
            else:
                state.backends[name].reset(state.seed)
            state.tenants[name].strict = state.settings.strict_auth
            state.tenants[name].reset(state.seed)
        state.clock.reset()
        state.rate_limits.reset()
        state.faults.reset(state.seed)
        state.journal.reset()
        apply_startup_scenario(state)
        return state.summary()


def apply_startup_scenario(state: MockState) -> None:
    """Apply the scenario of --scenario, if any (the start-up state includes it)."""
    if state.settings.scenario:
        state.scenarios.apply(state, state.settings.scenario, partial(add_entity, state))
