"""Collect's HTTP face: parse, authenticate, call the backend, dump with the schemas."""
from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Request, Response, g, request
from marshmallow import ValidationError

from ...apis import read_json_body
from ...dumping import compile_dumper
from ...errors import BadRequest, Unauthorized, flatten_messages
from ...responses import json_response
from ...state import MockState, get_state
from ...tenants import Tenant
from .schemas import SendMultipleRequestsResultSchema, send_multiple_requests_schema

blueprint = Blueprint("collect", __name__, url_prefix="/v1")
RESULT_SCHEMA = SendMultipleRequestsResultSchema()
dump_result = compile_dumper(RESULT_SCHEMA)


def basic_auth_key(header: str | None) -> str:
    """Return the API key of `Authorization: Basic base64(":" + key)`; the username is ignored."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise Unauthorized("Send the API key as the password of HTTP Basic authentication.")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise Unauthorized("The Basic credentials are not valid base64 of user:password.") from None
    _, sep, key = decoded.partition(":")
    if not sep or not key:
        raise Unauthorized("The API key (the Basic password) is empty.")
    return key


def authenticate(state: MockState, req: Request) -> Tenant:
    """Return the tenant of the request's key, or raise Unauthorized."""
    key = basic_auth_key(req.headers.get("Authorization"))
    tenant, _ = state.tenants["collect"].authenticate(key, state.clock.now())
    return tenant


@blueprint.post("/requests")
def send_multiple_requests() -> Response:
    """Send a campaign's request to up to 50 new or existing contacts."""
    state = get_state()
    payload = read_json_body(request, state.settings.max_body_bytes)
    backend = state.backends["collect"]
    tenant: Tenant = g.tenant
    with state.store.transaction():
        team = backend.team(tenant)
        try:
            data = send_multiple_requests_schema(int(team.get("maxContactsPerCall", 50))).load(payload)
        except ValidationError as exc:
            raise BadRequest("Invalid fields.", field_errors=flatten_messages(exc.messages)) from None
        result = backend.send_multiple_requests(tenant, data)
    return json_response(dump_result(result))
