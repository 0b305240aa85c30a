"""inSigner's HTTP face: authenticate, check the scope, load with a schema, call the backend, dump."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Request, Response, g, request
from marshmallow import Schema, ValidationError

from ...apis import read_json_body
from ...errors import Forbidden, Unauthorized, ValidationFailed, flatten_messages
from ...ratelimits import headers_for
from ...responses import json_response
from ...state import MockState, get_state
from ...tenants import Tenant
from .backend import BODY_DETAIL, QUERY_DETAIL, has_scope, is_well_formed_key
from .schemas import (
    BulkSendCreateSchema,
    BulkSendCreatedSchema,
    BulkSendListArgsSchema,
    BulkSendListSchema,
    BulkSendSchema,
)

blueprint = Blueprint("insigner", __name__, url_prefix="/api/v1")
# Schemas hold no per-call state: one instance of each serves every request.
CREATE_ARGS = BulkSendCreateSchema()
LIST_ARGS = BulkSendListArgsSchema()
BULK_SEND = BulkSendSchema()
CREATED = BulkSendCreatedSchema()
LISTED = BulkSendListSchema()
REQUEST_ID_LENGTH = 20


def bearer_key(header: str | None) -> str:
    """Return the API key of `Authorization: Bearer isk_...`; anything malformed is refused unread."""
    scheme, _, value = (header or "").strip().partition(" ")
    if not header or not header.strip():
        raise Unauthorized("Missing API key")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Send the API key as `Authorization: Bearer isk_...`")
    key = value.strip()
    if not key.startswith("isk_"):
        raise Unauthorized("API keys start with isk_")
    if not is_well_formed_key(key):
        raise Unauthorized("Invalid API key format")
    return key


def authenticate(state: MockState, req: Request) -> Tenant:
    """Return the organization of the request's key, or raise Unauthorized; remember the key's scopes."""
    key = bearer_key(req.headers.get("Authorization"))
    tenant, record = state.tenants["insigner"].authenticate(key, state.clock.now())
    g.api_key = key
    g.api_scopes = list(record.get("scopes") or [])
    return tenant


def require_scope(scope: str) -> None:
    """Raise Forbidden naming `scope` unless the request's key has it."""
    if not has_scope(g.get("api_scopes") or [], scope):
        raise Forbidden(f"Missing required scope: {scope}")


def decorate(state: MockState, req: Request, response: Response) -> Response:
    """Add X-Request-Id to every answer, and the key's RateLimit-* headers to every authenticated one."""
    if "X-Request-Id" not in response.headers:
        with state.lock:
            response.headers["X-Request-Id"] = "req_" + state.request_ids.token(REQUEST_ID_LENGTH)
    tenant, key = g.get("tenant"), g.get("api_key")
    if tenant is not None and key is not None:
        decision = g.get("rate_limit")
        headers = decision.headers() if decision is not None else headers_for(state, tenant, key)
        for name, value in headers.items():
            if name not in response.headers:
                response.headers[name] = value
    return response


def load(schema: Schema, data: Any, detail: str) -> dict:
    """Load `data` with `schema`, or raise ValidationFailed (422) with dot-path field errors."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(detail, field_errors=flatten_messages(exc.messages)) from None


@blueprint.get("/bulk-sends")
def list_bulk_sends() -> Response:
    """List the organization's bulk sends, newest first, one page at a time."""
    require_scope("bulk_sends.read")
    state = get_state()
    args = load(LIST_ARGS, request.args.to_dict(), QUERY_DETAIL)
    with state.store.transaction():
        page = state.backends["insigner"].list_bulk_sends(g.tenant, args["limit"], args.get("cursor"),
                                                           args.get("status"))
    return json_response(LISTED.dump(page))


@blueprint.post("/bulk-sends")
def create_bulk_send() -> Response:
    """Send a template to up to 500 signers, one document each."""
    require_scope("bulk_sends.create")
    state = get_state()
    payload = read_json_body(request, state.settings.max_body_bytes, reject_lone_surrogates=False)
    data = load(CREATE_ARGS, payload, BODY_DETAIL)
    with state.store.transaction():
        created = state.backends["insigner"].create_bulk_send(g.tenant, data)
    return json_response({"data": CREATED.dump(created)}, status=201)


@blueprint.get("/bulk-sends/<bulk_send_id>")
def get_bulk_send(bulk_send_id: str) -> Response:
    """Return one bulk send with its progress."""
    require_scope("bulk_sends.read")
    state = get_state()
    with state.store.transaction():
        found = state.backends["insigner"].get_bulk_send(g.tenant, bulk_send_id)
    return json_response({"data": BULK_SEND.dump(found)})


@blueprint.delete("/bulk-sends/<bulk_send_id>")
def delete_bulk_send(bulk_send_id: str) -> Response:
    """Soft-delete a bulk send and its documents."""
    require_scope("bulk_sends.delete")
    state = get_state()
    with state.store.transaction():
        state.backends["insigner"].delete_bulk_send(g.tenant, bulk_send_id)
    return Response(status=204)
