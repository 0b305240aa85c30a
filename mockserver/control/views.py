"""Control calls: health, reset, clock and state."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .. import __version__, entities, lifecycle
from ..clock import change_clock
from ..context import get_state
from ..errors import ControlError
from ..responses import json_response
from .body import control_body, reject_unknown

blueprint = Blueprint("control", __name__, url_prefix="/__mock")


@blueprint.get("/health")
def health() -> Response:
    """Say the server is up, with its version, APIs, store and seed."""
    state = get_state()
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "apis": list(state.apis),
            "store": state.settings.store,
            "seed": state.seed,
        }
    )


@blueprint.post("/reset")
def reset() -> Response:
    """Return to the start-up state; `{"seed": N}` reseeds."""
    body = control_body()
    reject_unknown(body, {"seed"}, "invalid-reset")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ControlError(400, "invalid-reset", "seed: must be an integer")
    state = get_state()
    counts = lifecycle.reset(state, seed)
    return json_response({"reset": True, "seed": state.seed, "clock": state.clock.describe(), "state": counts})


@blueprint.get("/clock")
def clock() -> Response:
    """Show the mock's clock."""
    return json_response(get_state().clock.describe())


@blueprint.post("/clock")
def set_clock() -> Response:
    """Freeze, advance or unfreeze the mock's clock."""
    clock = get_state().clock
    try:
        change_clock(clock, control_body(required=True))
    except ValueError as exc:
        raise ControlError(400, "invalid-clock", str(exc)) from None
    return json_response(clock.describe())


@blueprint.get("/state")
def state_overview() -> Response:
    """Count entities per API, tenant and collection."""
    state = get_state()
    tenant = request.args.get("tenant")
    if not tenant:
        return json_response({"apis": state.summary()})
    named = entities.tenants_named(state, tenant)  # first: an unseen key's tenants exist before they are counted
    counts = state.summary()
    return json_response({"apis": {api: {t.id: counts[api][t.id]} if t else {} for api, t in named.items()}})


@blueprint.get("/state/<api>/<collection>")
def state_collection(api: str, collection: str) -> Response:
    """List one collection, in the API's own shape, of one tenant or of all."""
    state = get_state()
    emulated, tenants = entities.collection(state, api, collection)
    key = request.args.get("tenant")
    chosen = [entities.tenants_named(state, key)[api]] if key else tenants.all()
    items: list[dict[str, Any]] = []
    with state.store.transaction():
        for tenant in chosen:
            if tenant is None:
                raise ControlError(404, "not-found", "unknown tenant (strict auth accepts fixture keys only)")
            items.extend(emulated.describe_entity(collection, doc) for doc in tenant.collection(collection).all())
    return json_response({"items": items})


@blueprint.post("/state/<api>/<collection>")
def add_entity(api: str, collection: str) -> Response:
    """Add an entity to one collection (validated, with defaults)."""
    state = get_state()
    entities.collection(state, api, collection)
    created = entities.add_entity(state, api, collection, control_body(required=True), request.args.get("tenant"))
    return json_response(created, status=201)
