"""Collect's HTTP face: judge the credentials, load with a schema, call the backend, dump with a schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response
from marshmallow import Schema, ValidationError

from ...context import current_context
from ...credentials import Credentials
from ...dumping import compile_dumper
from ...errors import BadRequest, Unauthorized, flatten_messages
from ...operations import instance
from ...responses import json_response
from ...tenants import KeyRefused
from .. import read_body
from ..routing import blueprint_for
from .backend import CollectBackend
from .errors import KEY_REFUSED
from .operations import OPERATIONS
from .schemas import send_multiple_requests_loader, send_multiple_requests_schema

if TYPE_CHECKING:
    from ...emulated import AppState
    from ...tenants import Tenant

SEND, ADD_WEBHOOK, MODIFY_WEBHOOK = OPERATIONS
dump_result = compile_dumper(instance(SEND.answer))
WEBHOOK_ARGS = instance(ADD_WEBHOOK.body)
WEBHOOK_CHANGE_ARGS = instance(MODIFY_WEBHOOK.body)
dump_webhook = compile_dumper(instance(ADD_WEBHOOK.answer))


def authenticate(state: AppState, credentials: Credentials | None) -> tuple[Tenant, Credentials]:
    """Return the team of `Authorization: Basic base64(":" + key)` (the username is ignored), or raise Unauthorized."""
    if credentials is None or credentials.scheme != "basic":
        raise Unauthorized("Send the API key as the password of HTTP Basic authentication.")
    if credentials.key is None:
        raise Unauthorized(credentials.problem)
    try:
        tenant, _ = state.tenants["collect"].authenticate(credentials.key, state.clock.now())
    except KeyRefused as refused:
        raise Unauthorized(KEY_REFUSED[refused.reason]) from None
    return tenant, credentials


# The view, by its operation's `endpoint`.
def send_multiple_requests() -> Response:
    """Load the body against the team's contact limit, create the contacts and requests, dump them."""
    ctx = current_context()
    payload = read_body(ctx)
    backend = ctx.state.backend("collect", CollectBackend)
    with ctx.transaction() as tenant:
        limit = int(backend.team(tenant).get("maxContactsPerCall", 50))
        data = send_multiple_requests_loader(limit)(payload)
        if data is None:  # refused, or a body the compiled loader leaves to marshmallow: it says why
            data = _load(send_multiple_requests_schema(limit), payload)
        result = backend.send_multiple_requests(tenant, data)
    return json_response(dump_result(result))


def _load(schema: Schema, payload: Any) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(payload)
    except ValidationError as exc:
        raise BadRequest("Invalid fields.", field_errors=flatten_messages(exc.messages)) from None
    return loaded


def add_webhook() -> Response:
    """Load the body, register the webhook, dump it."""
    ctx = current_context()
    data = _load(WEBHOOK_ARGS, read_body(ctx))
    with ctx.transaction() as tenant:
        created = ctx.state.backend("collect", CollectBackend).add_webhook(tenant, data)
    return json_response(dump_webhook(created))


def modify_webhook(id: str) -> Response:
    """Load the partial body, change the webhook, dump it."""
    ctx = current_context()
    data = _load(WEBHOOK_CHANGE_ARGS, read_body(ctx))
    with ctx.transaction() as tenant:
        changed = ctx.state.backend("collect", CollectBackend).modify_webhook(tenant, id, data)
    return json_response(dump_webhook(changed))


blueprint = blueprint_for("collect", OPERATIONS, globals())
