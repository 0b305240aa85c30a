"""The calls on the whole state: health, reset, clock and state (/__mock/state)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from marshmallow import ValidationError

from .. import __version__, entities
from ..clock import change_clock
from ..control.body import control_body, reject_unknown
from ..control.calls import ControlCall
from ..control.query import tenant_asked
from ..control.schemas import ClockSchema, TenantQuerySchema
from ..errors import ControlError
from ..responses import json_response
from ..state import mock_state
from . import model
from .schemas import (
    ClockChangedSchema,
    ClockChangeSchema,
    HealthSchema,
    ItemsSchema,
    ResetBodySchema,
    ResetSchema,
    StateSchema,
)

blueprint = Blueprint("control", __name__, url_prefix="/__mock")
HEALTH = ControlCall(answer=HealthSchema, secured=False)
RESET = ControlCall(answer=ResetSchema, body=ResetBodySchema, body_required=False, errors=(400,))
CLOCK = ControlCall(answer=ClockSchema)
SET_CLOCK = ControlCall(answer=ClockChangedSchema, body=ClockChangeSchema, errors=(400,))
STATE = ControlCall(answer=StateSchema, query=TenantQuerySchema)
COLLECTION = ControlCall(answer=ItemsSchema, query=TenantQuerySchema, errors=(404,))
# An entity in its API's own shape: the API's schema of that collection checks it.
ADD_ENTITY = ControlCall(
    ok=201, answer={"type": "object"}, body={"type": "object"}, query=TenantQuerySchema, errors=(400, 404, 409)
)
RESET_BODY = ResetBodySchema()
CLOCK_CHANGE = ClockChangeSchema()


@blueprint.get("/health")
@HEALTH
def health() -> Response:
    """Say the server is up, with its version, APIs, store and seed."""
    state = mock_state()
    return json_response(
        HEALTH.dump(
            {
                "status": "ok",
                "version": __version__,
                "apis": list(state.apis),
                "store": state.settings.store,
                "seed": state.seed,
            }
        )
    )


@blueprint.post("/reset")
@RESET
def reset() -> Response:
    """Return to the start-up state; `{"seed": N}` reseeds."""
    body = control_body()
    reject_unknown(body, set(RESET_BODY.fields), "invalid-reset")
    try:
        # A plain reset (no body, or `{}`) has no seed to load: the schema's load is a tenth of the call.
        seed = RESET_BODY.load(body).get("seed") if body else None
    except ValidationError:
        raise ControlError(400, "invalid-reset", "seed: must be an integer") from None
    state = mock_state()
    counts = model.reset(state, seed)
    return json_response(
        RESET.dump({"reset": True, "seed": state.seed, "clock": state.clock.describe(), "state": counts})
    )


@blueprint.get("/clock")
@CLOCK
def clock() -> Response:
    """Show the mock's clock."""
    return json_response(CLOCK.dump(mock_state().clock.describe()))


@blueprint.post("/clock")
@SET_CLOCK
def set_clock() -> Response:
    """Freeze, advance or unfreeze the mock's clock; moved on, it answers once the deliveries due have run."""
    state = mock_state()
    clock = state.clock
    change = CLOCK_CHANGE.load(control_body(required=True))
    start = clock.timestamp()
    try:
        change_clock(clock, change)
    except ValueError as exc:
        raise ControlError(400, "invalid-clock", str(exc)) from None
    end = clock.timestamp()
    answer: dict[str, Any] = clock.describe()
    # An advance, or a freeze at a later instant (which acts as one), runs the deliveries due.
    if "advance" in change or (isinstance(change.get("freeze"), str) and end > start):
        answer["deliveries"] = model.run_deliveries(state, start, end) if end > start else {"ran": 0, "running": 0}
    return json_response(SET_CLOCK.dump(answer))


@blueprint.get("/state")
@STATE
def state_overview() -> Response:
    """Count entities per API, tenant and collection."""
    state = mock_state()
    tenant = tenant_asked()
    if tenant is None:
        return json_response(STATE.dump({"apis": state.summary()}))
    named = entities.tenants_named(state, tenant)  # first: an unseen key's tenants exist before they are counted
    counts = state.summary()
    return json_response(
        STATE.dump({"apis": {api: {t.id: counts[api][t.id]} if t else {} for api, t in named.items()}})
    )


@blueprint.get("/state/<api>/<collection>")
@COLLECTION
def state_collection(api: str, collection: str) -> Response:
    """List one collection, in the API's own shape, of one tenant or of all."""
    state = mock_state()
    emulated, tenants = entities.collection(state, api, collection)
    key = tenant_asked()
    chosen = [entities.tenants_named(state, key)[api]] if key else tenants.all()
    items: list[dict[str, Any]] = []
    with state.store.transaction():
        for tenant in chosen:
            if tenant is None:
                raise ControlError(404, "not-found", "unknown tenant (strict auth accepts fixture keys only)")
            items.extend(emulated.describe_entity(collection, doc) for doc in tenant.collection(collection).all())
    return json_response(COLLECTION.dump({"items": items}))


@blueprint.post("/state/<api>/<collection>")
@ADD_ENTITY
def add_entity(api: str, collection: str) -> Response:
    """Add an entity to one collection (validated, with defaults)."""
    state = mock_state()
    entities.collection(state, api, collection)
    created = entities.add_entity(state, api, collection, control_body(required=True), tenant_asked())
    return json_response(created, status=201)
