"""The rate-limit stage: count an authenticated request in its key's window, refuse it past the limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import RateLimited
from .model import RateLimits

if TYPE_CHECKING:
    from ..context import RequestContext
    from ..emulated import Caller


def count_request(ctx: RequestContext, caller: Caller) -> None:
    """Count the request in its key's window; over the limit, raise RateLimited with Retry-After."""
    state = ctx.state
    decision = state.part(RateLimits).hit_request(
        caller.api.name, caller.tenant.id, caller.key, state.clock.timestamp()
    )
    if decision is None:
        return
    ctx.rate_limit = decision
    if not decision.allowed:
        # Each API says its own documented 429 text.
        raise RateLimited(headers={"Retry-After": str(decision.reset)})
