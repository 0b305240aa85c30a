"""inSigner's HTTP face: judge the key, check the scope, load with a schema, call the backend, dump."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, request
from marshmallow import Schema, ValidationError

from ...context import current_caller, current_context
from ...credentials import Credentials
from ...dumping import compile_dumper
from ...errors import Forbidden, Unauthorized, ValidationFailed, flatten_messages
from ...loading import Loader, compile_loader
from ...operations import instance
from ...responses import json_response, no_content
from ...tenants import KeyRefused
from .. import read_body
from ..routing import blueprint_for
from .backend import BODY_DETAIL, QUERY_DETAIL, InsignerBackend, has_scope, is_well_formed_key
from .errors import KEY_REFUSED
from .operations import OPERATIONS

if TYPE_CHECKING:
    from ...emulated import AnsweredRequest, AppState, Caller
    from ...tenants import Tenant

LIST, CREATE, GET, DELETE, LIST_WEBHOOKS, CREATE_WEBHOOK, GET_WEBHOOK, UPDATE_WEBHOOK, DELETE_WEBHOOK = OPERATIONS
# Schemas hold no per-call state: one instance of each serves every request.
LIST_ARGS = instance(LIST.query)
CREATE_ARGS = instance(CREATE.body)
WEBHOOK_LIST_ARGS = instance(LIST_WEBHOOKS.query)
WEBHOOK_CREATE_ARGS = instance(CREATE_WEBHOOK.body)
WEBHOOK_UPDATE_ARGS = instance(UPDATE_WEBHOOK.body)
dump_webhooks = compile_dumper(instance(LIST_WEBHOOKS.answer))
dump_webhook_created = compile_dumper(instance(CREATE_WEBHOOK.answer))
dump_webhook = compile_dumper(instance(GET_WEBHOOK.answer))
# The answers' schemas as compiled dumpers: the same output as their dump(), without marshmallow's
# per-field dispatch (py-spy: Schema.dump was ~8% of an inSigner GET's samples under load).
dump_listed = compile_dumper(instance(LIST.answer))
dump_created = compile_dumper(instance(CREATE.answer))
dump_got = compile_dumper(instance(GET.answer))


def authenticate(state: AppState, credentials: Credentials | None) -> tuple[Tenant, Credentials]:
    """Return the organization of `Authorization: Bearer isk_...` and the key's scopes, or raise Unauthorized.

    A malformed key is refused unread.
    """
    if credentials is None:
        raise Unauthorized("Missing API key")
    if credentials.scheme != "bearer" or credentials.key is None:
        raise Unauthorized("Send the API key as `Authorization: Bearer isk_...`")
    key = credentials.key
    if not key.startswith("isk_"):
        raise Unauthorized("API keys start with isk_")
    if not is_well_formed_key(key):
        raise Unauthorized("Invalid API key format")
    try:
        tenant, record = state.tenants["insigner"].authenticate(key, state.clock.now())
    except KeyRefused as refused:
        raise Unauthorized(KEY_REFUSED[refused.reason]) from None
    return tenant, Credentials(credentials.scheme, key, scopes=tuple(record.get("scopes") or ()))


def require_scope(caller: Caller, scope: str) -> None:
    """Raise Forbidden naming `scope` unless the request's key has it."""
    if not has_scope(caller.credentials.scopes, scope):
        raise Forbidden(f"Missing required scope: {scope}")


def decorate(ctx: AnsweredRequest, response: Response) -> Response:
    """Add X-Request-Id to every answer, and the key's RateLimit-* headers to every authenticated one but a 401."""
    state = ctx.state
    backend = state.backend("insigner", InsignerBackend)
    answer_headers = response.headers
    # The names already set, read once: werkzeug's `in` scans and lower-cases the list each time.
    present = {name.lower() for name, _ in answer_headers.items()}
    if "x-request-id" not in present:
        answer_headers.add("X-Request-Id", backend.next_request_id())
    caller = ctx.caller
    # A 401 has no key to count against, whether the key was refused or a fault stands for that.
    if caller is None or response.status_code == 401:
        return response
    # A request the rate-limit stage counted shows that count; one answered before it, the window unused.
    decision = ctx.rate_limit or backend.limits.peek_request(
        "insigner", caller.tenant.id, caller.key, state.clock.timestamp()
    )
    if decision is None:
        return response
    headers = decision.headers()
    if ctx.rate_limit is None and response.status_code == 429 and "retry-after" in present:
        # A 429 of a request no window counted is an injected one (a rule's or Prefer's). It looks like
        # the vendor's: nothing left, the window resets when it says to retry.
        headers.update({"RateLimit-Remaining": "0", "RateLimit-Reset": answer_headers["Retry-After"]})
    for name, value in headers.items():
        if name.lower() not in present:
            answer_headers.add(name, value)
    return response


# The create's body, the call's own work that profiled dearest, also has a compiled loader.
load_create_fast = compile_loader(CREATE_ARGS)


def load(schema: Schema, data: Any, detail: str, fast: Loader | None = None) -> dict[str, Any]:
    """Load `data` with `schema`, or raise ValidationFailed (422) with dot-path field errors.

    `fast`: the schema's compiled loader, tried first; marshmallow loads what it gives up on.
    """
    loaded = fast(data) if fast is not None else None
    if loaded is not None:
        return loaded
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(detail, field_errors=flatten_messages(exc.messages)) from None


# The views, by their operations' `endpoint`; each operation's scope is checked before its view runs.
def list_bulk_sends() -> Response:
    """Load the query, read one page of the tenant's bulk sends, dump it."""
    ctx = current_context()
    args = load(LIST_ARGS, request.args.to_dict(), QUERY_DETAIL)
    with ctx.transaction() as tenant:
        page = ctx.state.backend("insigner", InsignerBackend).list_bulk_sends(
            tenant, args["limit"], args.get("cursor"), args.get("status")
        )
    return json_response(dump_listed(page))


def create_bulk_send() -> Response:
    """Load the body, create the bulk send and its documents, dump it (201)."""
    ctx = current_context()
    data = load(CREATE_ARGS, read_body(ctx, reject_lone_surrogates=False), BODY_DETAIL, load_create_fast)
    with ctx.transaction() as tenant:
        created = ctx.state.backend("insigner", InsignerBackend).create_bulk_send(tenant, data)
    return json_response(dump_created({"data": created}), status=CREATE.success)


def get_bulk_send(id: str) -> Response:
    """Read the bulk send with its progress, dump it."""
    ctx = current_context()
    with ctx.transaction() as tenant:
        found = ctx.state.backend("insigner", InsignerBackend).get_bulk_send(tenant, id)
    return json_response(dump_got({"data": found}))


def delete_bulk_send(id: str) -> Response:
    """Soft-delete the bulk send and its documents (204)."""
    ctx = current_context()
    with ctx.transaction() as tenant:
        ctx.state.backend("insigner", InsignerBackend).delete_bulk_send(tenant, id)
    return no_content()


def list_webhooks() -> Response:
    """Load the query, read one page of the organization's webhooks, dump it."""
    ctx = current_context()
    args = load(WEBHOOK_LIST_ARGS, request.args.to_dict(), QUERY_DETAIL)
    with ctx.transaction() as tenant:
        page = ctx.state.backend("insigner", InsignerBackend).list_webhooks(tenant, args["limit"], args.get("cursor"))
    return json_response(dump_webhooks(page))


def create_webhook() -> Response:
    """Load the body, register the webhook, dump it with its secret (201)."""
    ctx = current_context()
    data = load(WEBHOOK_CREATE_ARGS, read_body(ctx, reject_lone_surrogates=False), BODY_DETAIL)
    with ctx.transaction() as tenant:
        created = ctx.state.backend("insigner", InsignerBackend).create_webhook(tenant, data, current_caller().key)
    return json_response(dump_webhook_created({"data": created}), status=CREATE_WEBHOOK.success)


def get_webhook(id: str) -> Response:
    """Read one webhook, dump it without its secret."""
    ctx = current_context()
    with ctx.transaction() as tenant:
        found = ctx.state.backend("insigner", InsignerBackend).get_webhook(tenant, id)
    return json_response(dump_webhook({"data": found}))


def update_webhook(id: str) -> Response:
    """Load the partial body, change the webhook, dump it as GET shows it."""
    ctx = current_context()
    data = load(WEBHOOK_UPDATE_ARGS, read_body(ctx, reject_lone_surrogates=False), BODY_DETAIL)
    with ctx.transaction() as tenant:
        changed = ctx.state.backend("insigner", InsignerBackend).update_webhook(tenant, id, data)
    return json_response(dump_webhook({"data": changed}))


def delete_webhook(id: str) -> Response:
    """Delete the webhook (204)."""
    ctx = current_context()
    with ctx.transaction() as tenant:
        ctx.state.backend("insigner", InsignerBackend).delete_webhook(tenant, id)
    return no_content()


blueprint = blueprint_for("insigner", OPERATIONS, globals(), require_scope)
