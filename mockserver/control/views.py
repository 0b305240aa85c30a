"""Control calls: health, reset, clock and state (faults, journal and the rest build on these)."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import __version__
from ..apis import MAX_JSON_DEPTH, has_lone_surrogate, nests_deeper, over_limit
from ..clock import Clock, parse_instant
from ..responses import json_response
from ..state import MockState, get_state
from .errors import ControlError, control_error

control = Blueprint("control", __name__, url_prefix="/__mock")


@control.errorhandler(ControlError)
def _control_error(exc: ControlError) -> Response:
    return control_error(exc.status, exc.code, exc.message)


def control_body(required: bool = False) -> dict:
    """Return the JSON object body of a control call (empty when absent and optional)."""
    raw = request.get_data(cache=True)
    if over_limit(request, raw, get_state().settings.max_body_bytes):
        raise RequestEntityTooLarge()
    if not raw.strip():
        if required:
            raise ControlError(400, "bad-request", "a JSON object body is required")
        return {}
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ControlError(400, "bad-request", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "bad-request", "the body must be a JSON object")
    if nests_deeper(raw, body):
        raise ControlError(400, "bad-request", f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    if has_lone_surrogate(body):
        raise ControlError(400, "bad-request", "body: contains a lone UTF-16 surrogate escape")
    return body


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def reject_unknown(body: dict, allowed: set[str], code: str) -> None:
    """Raise a 400 naming the first key of `body` that a call does not take."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ControlError(400, code, f"{unknown[0]}: unknown field (expected {', '.join(sorted(allowed))})")


@control.get("/health")
def health() -> Response:
    """Say the server is up, with its version, APIs, store and seed."""
    state = get_state()
    return json_response({
        "status": "ok",
        "version": __version__,
        "apis": list(state.apis),
        "store": state.settings.store,
        "seed": state.seed,
    })


@control.post("/reset")
def reset() -> Response:
    """Return to the start-up state; `{"seed": N}` reseeds."""
    body = control_body()
    reject_unknown(body, {"seed"}, "invalid-reset")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ControlError(400, "invalid-reset", "seed: must be an integer")
    state = get_state()
    counts = state.reset(seed)
    return json_response({"reset": True, "seed": state.seed, "clock": state.clock.describe(),
                          "state": counts})


@control.get("/clock")
def clock() -> Response:
    """Show the mock's clock."""
    return json_response(get_state().clock.describe())


@control.post("/clock")
def set_clock() -> Response:
    """Freeze, advance or unfreeze the mock's clock."""
    clock = get_state().clock
    change_clock(clock, control_body(required=True))
    return json_response(clock.describe())


def change_clock(clock: Clock, body: dict) -> None:
    """Freeze, advance or unfreeze `clock` as a POST /__mock/clock body says (raise ControlError)."""
    actions = [k for k in ("freeze", "advance", "unfreeze") if k in body]
    if len(actions) != 1:
        raise ControlError(400, "invalid-clock", "give exactly one of freeze, advance, unfreeze")
    action = actions[0]
    value = body[action]
    if action == "freeze":
        if value is True:
            clock.freeze()
        elif isinstance(value, str):
            try:
                at = parse_instant(value)
            except ValueError:
                raise ControlError(400, "invalid-clock", "freeze: not an ISO 8601 instant") from None
            try:
                clock.freeze(at)
            except ValueError as exc:
                raise ControlError(400, "invalid-clock", f"freeze: {exc}") from None
        else:
            raise ControlError(400, "invalid-clock", "freeze: must be true or an ISO 8601 instant")
    elif action == "advance":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ControlError(400, "invalid-clock", "advance: must be a number of seconds")
        if abs(value) > 10 * 365 * 86400:
            raise ControlError(400, "invalid-clock", "advance: at most ten years at a time")
        try:
            clock.advance(float(value))
        except ValueError as exc:
            raise ControlError(400, "invalid-clock", f"advance: the clock {exc}") from None
    else:
        if value is not True:
            raise ControlError(400, "invalid-clock", "unfreeze: must be true")
        clock.unfreeze()


@control.get("/state")
def state_overview() -> Response:
    """Count entities per API, tenant and collection."""
    state = get_state()
    tenant = request.args.get("tenant")
    counts = state.summary()
    if tenant:
        wanted = {name: state.tenants[name].for_key(tenant) for name in state.tenants}
        counts = {name: {t.id: counts[name].get(t.id, {})} if t else {}
                  for name, t in wanted.items()}
    return json_response({"apis": counts})


def _collection_or_404(api: str, collection: str, state: MockState | None = None):
    state = state or get_state()
    if api not in state.apis:
        raise ControlError(404, "not-found", f"unknown api {api!r}")
    if collection not in state.apis[api].collections:
        raise ControlError(404, "not-found", f"unknown collection {collection!r} of {api}")
    return state, state.apis[api], state.tenants[api]


@control.get("/state/<api>/<collection>")
def state_collection(api: str, collection: str) -> Response:
    """List one collection, in the API's own shape, of one tenant or of all."""
    state, emulated, tenants = _collection_or_404(api, collection)
    key = request.args.get("tenant")
    chosen = [tenants.for_key(key)] if key else tenants.all()
    items: list[dict[str, Any]] = []
    with state.store.transaction():
        for tenant in chosen:
            if tenant is None:
                raise ControlError(404, "not-found", "unknown tenant (strict auth accepts fixture keys only)")
            items.extend(emulated.describe_entity(collection, doc) for doc in tenant.collection(collection).all())
    return json_response({"items": items})


@control.post("/state/<api>/<collection>")
def add_entity(api: str, collection: str) -> Response:
    """Add an entity to one collection (validated, with defaults)."""
    _collection_or_404(api, collection)
    created = create_entity(get_state(), api, collection, control_body(required=True), request.args.get("tenant"))
    return json_response(created, status=201)


def create_entity(state: MockState, api: str, collection: str, body: dict, key: str | None = None) -> dict:
    """Add an entity to the tenant of API key `key` (default: the fixture tenant); return it as listed."""
    state, emulated, tenants = _collection_or_404(api, collection, state)
    tenant = tenants.for_key(key) if key else tenants.fixture_tenant
    if tenant is None:
        raise ControlError(404, "not-found", "unknown tenant (strict auth accepts fixture keys only)")
    backend = state.backends[api]
    with state.store.transaction():
        try:
            created = backend.add_entity(tenant, collection, body)
        except ValueError as exc:
            raise ControlError(400, "invalid-entity", str(exc)) from None
        except KeyError as exc:
            # The store names the duplicate id; an API key is a credential, never shown in an error.
            detail = "that key exists already" if collection == "apiKeys" else exc.args[0]
            raise ControlError(409, "conflict", f"{collection}: {detail}") from None
    if collection == "apiKeys":
        tenants.register_key(tenant, created["key"])
    return emulated.describe_entity(collection, created)
