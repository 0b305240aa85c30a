"""/__mock/webhooks and /__mock/deliveries: the webhooks of both APIs, and what was delivered to them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from marshmallow import ValidationError

from ..clock import from_timestamp, iso_millis
from ..context import get_state
from ..control.body import control_body, reject_unknown
from ..control.calls import ControlCall
from ..errors import ControlError, describe_problems
from ..responses import json_response, no_content
from ..verification.model import Verifier
from .model import AttemptFilter, Deliveries
from .schemas import (
    AttemptSchema,
    AttemptsSchema,
    DeliveriesQuerySchema,
    DeliveriesVerificationFailedSchema,
    DeliveriesVerifiedSchema,
    DeliverySchema,
    SettleBodySchema,
    SettledSchema,
    TriggeredSchema,
    WebhooksQuerySchema,
    WebhooksSchema,
)
from .verify import DeliveryPatternSchema, load_pattern, verify

blueprint = Blueprint("webhooks", __name__, url_prefix="/__mock")
QUERY = WebhooksQuerySchema()
LIST = ControlCall(answer=WebhooksSchema, query=WebhooksQuerySchema, errors=(400,))
ATTEMPTS_QUERY = DeliveriesQuerySchema()
ATTEMPTS = ControlCall(answer=AttemptsSchema, query=DeliveriesQuerySchema, errors=(400,))
ONE = ControlCall(answer=DeliverySchema, errors=(404,))
VERIFY = ControlCall(
    answer=DeliveriesVerifiedSchema,
    body=DeliveryPatternSchema,
    body_required=False,
    errors=(400, 409, 429),
    special={409: DeliveriesVerificationFailedSchema},
)
TRIGGER = ControlCall(
    ok=202,
    answer=TriggeredSchema,
    body={"type": "object", "required": ["api", "tenant", "event"]},
    errors=(400, 404),
    example={"api": "insigner", "tenant": "org_abc123", "event": "bulk_send.completed", "bulkSendId": "bs_abc123"},
)
REDELIVER = ControlCall(ok=202, answer=AttemptSchema, body_required=False, errors=(404,))
SETTLE = ControlCall(answer=SettledSchema, body=SettleBodySchema, body_required=False, errors=(400, 409, 429))
SETTLE_DEFAULT_MS = 10_000
SETTLE_MAX_MS = 30_000


@blueprint.get("/webhooks")
@LIST
def list_webhooks() -> Response:
    """List the webhooks of both APIs (by API, then oldest first), filtered by api and tenant."""
    state = get_state()
    try:
        wanted = QUERY.load(request.args.to_dict())
    except ValidationError as exc:
        raise ControlError(400, "invalid-filter", describe_problems(exc.messages)) from None
    only = state.tenant_ids(wanted["tenant"]) if "tenant" in wanted else None
    found: list[dict[str, Any]] = []
    with state.store.transaction():
        for api, tenants in state.tenants.items():
            if wanted.get("api", api) != api or (only is not None and only.get(api) is None):
                continue
            backend = state.backends[api]
            for tenant in tenants.all():
                if only is None or tenant.id == only[api]:
                    found.extend(
                        {"api": api, "tenant": tenant.id, **hook} for hook in backend.registered_webhooks(tenant)
                    )
    return json_response(LIST.dump({"webhooks": found}))


@blueprint.get("/deliveries")
@ATTEMPTS
def list_deliveries() -> Response:
    """List delivery attempts, oldest first: the log's ended ones and every pending or sending one."""
    state = get_state()
    try:
        wanted = ATTEMPTS_QUERY.load(request.args.to_dict())
    except ValidationError as exc:
        raise ControlError(400, "invalid-filter", describe_problems(exc.messages)) from None
    limit = wanted.pop("limit", None)
    tenant = wanted.pop("tenant", None)
    chosen = AttemptFilter(**wanted, tenants=state.tenant_ids(tenant) if tenant is not None else None)
    return json_response(ATTEMPTS.dump(state.part(Deliveries).attempts(chosen, limit)))


@blueprint.delete("/deliveries")
@ControlCall(ok=204)
def clear_deliveries() -> Response:
    """Drop every ended attempt from the log (pending and sending ones stay listed)."""
    get_state().part(Deliveries).clear()
    return no_content()


@blueprint.post("/deliveries/settle")
@SETTLE
def settle() -> Response:
    """Wait until no attempt due by the mock's now is pending or in flight (real time, `withinMs`)."""
    body = control_body()
    reject_unknown(body, {"withinMs"}, "invalid-settle")
    within = body.get("withinMs", SETTLE_DEFAULT_MS)
    if isinstance(within, bool) or not isinstance(within, int) or not 0 <= within <= SETTLE_MAX_MS:
        raise ControlError(400, "invalid-settle", f"withinMs: must be a whole number of 0-{SETTLE_MAX_MS:,}")
    state = get_state()
    deliveries = state.part(Deliveries)
    verifier = state.part(Verifier)
    verifier.begin_wait()
    try:
        settled, _, _ = deliveries.settle(within / 1000)
    finally:
        verifier.end_wait()
    if not settled:
        raise ControlError(409, "not-settled", f"deliveries were still due or in flight after {within} ms")
    next_due = deliveries.next_due()
    return json_response(
        SETTLE.dump(
            {
                "pending": deliveries.pending_count(),
                "nextDueAt": iso_millis(from_timestamp(next_due)) if next_due is not None else None,
            }
        )
    )


@blueprint.post("/deliveries/verify")
@VERIFY
def verify_deliveries() -> Response:
    """Verify that attempts matching a pattern happened (waiting up to withinMs); 200, or 409 with near misses."""
    state = get_state()
    pattern = load_pattern(control_body())
    verifier = state.part(Verifier)
    outcome = verify(state.part(Deliveries), pattern, state.tenant_ids, verifier.begin_wait, verifier.end_wait)
    status = 200 if outcome.holds else 409
    return json_response(VERIFY.dump(outcome.answer(), status), status=status)


@blueprint.get("/deliveries/<delivery_id>")
@ONE
def one_delivery(delivery_id: str) -> Response:
    """One delivery (one event to one webhook) with its attempts, oldest first."""
    found = get_state().part(Deliveries).delivery(delivery_id)
    if found is None:
        raise ControlError(404, "not-found", f"no delivery {delivery_id!r}")
    return json_response(ONE.dump(found))


@blueprint.post("/deliveries/<delivery_id>/redeliver")
@REDELIVER
def redeliver(delivery_id: str) -> Response:
    """Send a delivery again now, with the same bytes and headers, outside its retry schedule (202)."""
    attempt = get_state().part(Deliveries).redeliver(delivery_id)
    if attempt is None:
        raise ControlError(404, "not-found", f"no delivery {delivery_id!r}")
    return json_response(REDELIVER.dump(attempt), status=202)


@blueprint.post("/webhooks/trigger")
@TRIGGER
def trigger() -> Response:
    """Emit a documented event of an entity now, to every active webhook of the tenant that subscribes (202)."""
    state = get_state()
    body = control_body(required=True)
    api = body.get("api")
    if not isinstance(api, str) or api not in state.apis:
        raise ControlError(400, "invalid-trigger", f"api: must be one of {', '.join(state.apis)}")
    for member in ("tenant", "event"):
        if not isinstance(body.get(member), str) or not body[member]:
            raise ControlError(400, "invalid-trigger", f"{member}: required (a string)")
    tenant_id = state.tenant_ids(body["tenant"]).get(api)
    tenant = state.tenants[api].get(tenant_id) if tenant_id else None
    if tenant is None:
        raise ControlError(404, "not-found", f"no {api} tenant {body['tenant']!r}")
    deliveries = state.part(Deliveries)
    with state.store.transaction():
        try:
            ready = state.backends[api].prepare_event(tenant, body["event"], body)
        except ValueError as exc:
            raise ControlError(400, "invalid-trigger", str(exc)) from None
        except LookupError as exc:
            raise ControlError(404, "not-found", str(exc.args[0])) from None
        event_id, created = deliveries.emit_event(
            api, tenant.id, ready.name, ready.payload, ready.at, ready.targets, ready.event_id
        )
    return json_response(TRIGGER.dump({"eventId": event_id, "deliveries": created}), status=202)
