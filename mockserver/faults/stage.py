"""The one place that decides, before a view runs, whether a fault answers a request.

A request's own `Prefer: code=NNN` answers it first (rule counters do not move); `Prefer:
delay=MS` adds a wait. Otherwise the oldest live matching rule fires. An answered request
returns here, before the rate-limit stage and the view, so it changes no state and uses no
rate-limit window (inSigner's RateLimit-* headers show the window unused). Authentication
runs before this stage: a request with bad credentials gets its 401 whatever the rules say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BadRequest
from . import actions
from .engine import FaultEngine
from .matching import RequestInfo
from .rules import MAX_DELAY_MS, FaultRule

if TYPE_CHECKING:
    from flask import Response

    from ..context import RequestContext
    from ..emulated import AppState, Caller, EmulatedApi

PREFER_ID = "prefer"


def may_delay(state: AppState, prefer: str | None) -> bool:
    """Whether this stage may make a request wait: it says `Prefer` (a delay), or a rule has a `delayMs`."""
    return prefer is not None or state.part(FaultEngine).delays


def prefer_rule(values: list[str]) -> FaultRule | None:
    """Read `Prefer: code=NNN` and `Prefer: delay=MS` (RFC 7240; other preferences are ignored)."""
    found: dict[str, int] = {}
    for value in values:
        for preference in value.split(","):
            name, _, rest = preference.split(";", 1)[0].partition("=")
            name = name.strip().lower()
            if name not in ("code", "delay"):
                continue
            text = rest.strip().strip('"')
            limits = (400, 599) if name == "code" else (0, MAX_DELAY_MS)
            # ASCII digits only, and few of them: int() refuses "²" and very long numbers.
            if not (text.isascii() and text.isdigit() and len(text) <= 6) or not limits[0] <= int(text) <= limits[1]:
                message = f"Prefer: {name} must be a whole number from {limits[0]} to {limits[1]}"
                raise BadRequest(f"{message}.", field_errors=[{"field": "Prefer", "message": message}])
            found[name] = int(text)
    if not found:
        return None
    if "code" in found:
        return FaultRule(id=PREFER_ID, kind="error", status=found["code"], delay_ms=found.get("delay", 0))
    return FaultRule(id=PREFER_ID, kind="delay", delay_ms=found["delay"])


def decide_fault(ctx: RequestContext, caller: Caller) -> Response | None:
    """Answer the request with a fault if its Prefer header or a rule says so; else let it pass."""
    req = ctx.request
    prefer = prefer_rule(req.headers.getlist("Prefer"))
    if prefer is not None:
        ctx.fault = prefer.id
        if prefer.kind == "error":
            return perform(ctx, caller.api, prefer)
        actions.wait(prefer)
    faults = ctx.state.part(FaultEngine)
    if not faults.active:
        return None
    # Resolve the rules' tenants (keys or ids) before the engine's lock is taken: the registry has
    # locks of its own, and no lock is held while calling into another layer. A rule added between
    # the two steps is one added after this request arrived (its tenant resolves to none here).
    api = caller.api
    tenants = ctx.state.tenants[api.name]
    resolved = {value: tenants.id_for(value) for value in faults.rule_tenants()}
    rule = faults.decide(RequestInfo(api.name, req.method, req.path, caller.tenant.id, resolved.get))
    if rule is None:
        return None
    ctx.fault = rule.id
    return perform(ctx, api, rule)


def perform(ctx: RequestContext, api: EmulatedApi, rule: FaultRule) -> Response | None:
    """Do what the rule says; None lets the request go on (kind delay)."""
    actions.wait(rule)
    if rule.kind == "delay":
        return None
    ctx.injected = True
    if rule.kind == "malformed":
        return actions.malformed_answer(rule, api, ctx.request.method, ctx.request.path)
    if rule.kind == "drop":
        answer, ctx.dropped = actions.drop(rule, ctx.request.environ)
        return answer
    # The API's own after-stage adds what it puts on every answer (inSigner: X-Request-Id, RateLimit-*).
    return actions.error_answer(rule, api)
