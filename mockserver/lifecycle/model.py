"""A reset: the whole state back to what it was at start-up (POST /__mock/reset, the plugin between tests).

The start-up state is the fixtures' seed data under the start-up options, with the --scenario
applied, or the --snapshot's state when the server started from one. A reset holds the store's
transaction throughout (the lock order in state.py), so no request sees half of one.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..entities import add_entity
from ..webhooks.model import ADVANCE_WAIT_SECONDS

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
        state.deliveries.reset()
        apply_startup_scenario(state)
        return state.summary()


def apply_startup_scenario(state: MockState) -> None:
    """Apply the scenario of --scenario, if any (the start-up state includes it)."""
    if state.settings.scenario:
        state.scenarios.apply(state, state.settings.scenario, partial(add_entity, state))


def run_deliveries(state: MockState, start: float, end: float) -> dict[str, int]:
    """The clock moved on from `start` to `end`: run the delivery attempts due in the span, waiting for them.

    The wait is at most 30 s of real time and takes one of verification's wait slots; with none
    free it does not wait, and what is due counts as running (webhooks.md, section 3).
    """
    deliveries = state.deliveries
    deliveries.advanced(start, end)
    state.on_clock()  # what the span made due happens at its own instant, its deliveries within the span
    if deliveries.idle:
        return {"ran": 0, "running": 0}
    if not state.verifier.begin_wait(refuse=False):
        return {"ran": 0, "running": deliveries.settle(0)[2]}
    try:
        _, ran, running = deliveries.settle(ADVANCE_WAIT_SECONDS)
    finally:
        state.verifier.end_wait()
    return {"ran": ran, "running": running}
