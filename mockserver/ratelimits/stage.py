"""The rate-limit stage: count an authenticated request in its key's window, refuse it past the limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import RateLimited
from .model import RATE_LIMITED_DETAIL

if TYPE_CHECKING:
    from ..context import RequestContext


def count_request(ctx: RequestContext) -> None:
    """Count the request in its key's window; over the limit, raise RateLimited with Retry-After."""
    key = ctx.key
    if ctx.tenant is None or key is None:
        return
    state = ctx.state
    decision = state.rate_limits.hit_request(ctx.api.name, ctx.tenant.id, key, state.clock.timestamp())
    if decision is None:
        return
    ctx.rate_limit = decision
    if not decision.allowed:
        raise RateLimited(RATE_LIMITED_DETAIL, headers={"Retry-After": str(decision.reset)})
